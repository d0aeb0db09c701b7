// chart.js: a small SVG line chart, enough for learning curves.
//
//   MLChart.render(container, {title, xlabel, logY, series: [
//     {name, color, dash, points: [[x, y], ...]}, ...]})
//
// draws (or redraws) one chart in container: axes with round ticks, one
// polyline per series (long series are thinned to at most MAX points,
// keeping each bucket's extremes and the last point), a legend, and a
// readout of the nearest point under the pointer. Every polyline carries
// data-series and data-n (the number of points it was given).
"use strict";

const MLChart = (() => {
  const W = 520, H = 280, M = { l: 56, r: 12, t: 26, b: 34 };
  const MAX = 1500;
  const el = (t, a, ...k) => ML.el(t, a, ...k);

  // ticks returns about n round values covering [lo, hi].
  function ticks(lo, hi, n) {
    if (!(hi > lo)) { const d = Math.abs(lo) || 1; lo -= d / 2; hi += d / 2; }
    const raw = (hi - lo) / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  function fmt(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
    return String(Number(v.toPrecision(4)));
  }

  // thin keeps at most MAX points: per bucket the first, min, max and last.
  function thin(pts) {
    if (pts.length <= MAX) return pts;
    const per = Math.ceil(pts.length / (MAX / 4));
    const out = [];
    for (let i = 0; i < pts.length; i += per) {
      const b = pts.slice(i, i + per);
      let lo = b[0], hi = b[0];
      for (const p of b) { if (p[1] < lo[1]) lo = p; if (p[1] > hi[1]) hi = p; }
      const keep = [b[0], lo, hi, b[b.length - 1]].sort((p, q) => p[0] - q[0]);
      for (const p of keep) if (out[out.length - 1] !== p) out.push(p);
    }
    return out;
  }

  function render(container, opt) {
    const logY = !!opt.logY;
    const series = opt.series.map((s) => ({ ...s, points: s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!logY || p[1] > 0)) }));
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of series) for (const [x, y] of s.points) {
      const v = logY ? Math.log10(y) : y;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, v); y1 = Math.max(y1, v);
    }
    const empty = !Number.isFinite(x0);
    if (empty) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
    if (x1 === x0) { x1 = x0 + 1; }
    if (y1 === y0) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
    const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
    const px = (x) => M.l + (x - x0) / (x1 - x0) * (W - M.l - M.r);
    const py = (y) => H - M.b - ((logY ? Math.log10(y) : y) - y0) / (y1 - y0) * (H - M.t - M.b);

    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": opt.title, "data-title": opt.title });
    svg.append(el("text", { x: M.l, y: 16, class: "title", text: opt.title + (logY ? " (log scale)" : "") }));
    const axis = el("g", { class: "axis" });
    for (const t of ticks(x0, x1, 6)) {
      axis.append(el("line", { x1: px(t), x2: px(t), y1: M.t, y2: H - M.b, class: "grid" }));
      axis.append(el("text", { x: px(t), y: H - M.b + 14, "text-anchor": "middle", text: fmt(t) }));
    }
    for (const t of ticks(y0, y1, 5)) {
      const y = logY ? Math.pow(10, t) : t;
      axis.append(el("line", { x1: M.l, x2: W - M.r, y1: py(y), y2: py(y), class: "grid" }));
      axis.append(el("text", { x: M.l - 6, y: py(y) + 4, "text-anchor": "end", text: fmt(y) }));
    }
    axis.append(el("line", { x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, class: "frame" }));
    axis.append(el("line", { x1: M.l, x2: M.l, y1: M.t, y2: H - M.b, class: "frame" }));
    axis.append(el("text", { x: (M.l + W - M.r) / 2, y: H - 4, "text-anchor": "middle", class: "label", text: opt.xlabel || "step" }));
    svg.append(axis);
    for (const s of series) {
      const pts = thin(s.points).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
      svg.append(el("polyline", { points: pts, fill: "none", stroke: s.color, "stroke-width": 1.6, "stroke-dasharray": s.dash || null,
        "data-series": s.name, "data-n": s.points.length }));
    }
    if (empty) svg.append(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "label", text: "no data yet" }));
    const readout = el("text", { x: W - M.r, y: 16, "text-anchor": "end", class: "readout" });
    const dot = el("circle", { r: 3.5, class: "dot", visibility: "hidden" });
    svg.append(readout, dot);
    svg.addEventListener("pointermove", (e) => {
      const r = svg.getBoundingClientRect();
      const mx = (e.clientX - r.left) * W / r.width, my = (e.clientY - r.top) * H / r.height;
      let best = null, bd = Infinity;
      for (const s of series) for (const p of s.points) {
        const d = Math.hypot(px(p[0]) - mx, py(p[1]) - my);
        if (d < bd) { bd = d; best = [s, p]; }
      }
      if (!best || bd > 40) { readout.textContent = ""; dot.setAttribute("visibility", "hidden"); return; }
      readout.textContent = `${best[0].name}: ${fmt(best[1][1])} at ${fmt(best[1][0])}`;
      dot.setAttribute("cx", px(best[1][0])); dot.setAttribute("cy", py(best[1][1]));
      dot.setAttribute("fill", best[0].color); dot.setAttribute("visibility", "visible");
    });
    const legend = el("div", { class: "legend" });
    for (const s of series) {
      const sw = el("span", { class: "swatch" + (s.dash ? " dashed" : "") });
      sw.style.borderColor = s.color;
      legend.append(el("span", { class: "key" }, sw, s.name));
    }
    container.replaceChildren(svg, legend);
  }

  return { render, ticks };
})();
