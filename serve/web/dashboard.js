// dashboard.js: the run dashboard. Lists the run folders (GET /v1/runs),
// plots the metrics.jsonl of the ticked runs (GET /v1/runs/NAME/metrics,
// read incrementally from the last byte offset, every 2 s, so curves grow
// while a run writes), and shows each run's config.yaml and summary.json
// side by side (GET /v1/runs/NAME).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = ML.el;
  const POLL_MS = 2000;
  const COLORS = ["#1565c0", "#d84315", "#2e7d32", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#c2185b"];
  const DASH = { train: null, val: "6 4", test: "2 3" };

  let runs = [];
  const selected = new Set((decodeURIComponent(location.hash.slice(1)) || "").split(",").filter(Boolean));
  const state = new Map(); // name -> {offset, series: Map("split\u0000metric" -> [[step, value, wall]]), detail, status}
  let timer = null;
  let dirty = true;

  function say(msg, isError) {
    $("message").textContent = msg || "";
    $("message").classList.toggle("error", !!isError);
  }

  function runState(name) {
    if (!state.has(name)) state.set(name, { offset: 0, series: new Map(), detail: null, status: "" });
    return state.get(name);
  }

  async function refreshList() {
    const r = await ML.api("GET", "/v1/runs");
    runs = r.runs || [];
    if (!selected.size && runs.length) {
      const latest = runs.reduce((a, b) => (new Date(b.modified) > new Date(a.modified) ? b : a));
      selected.add(latest.name);
    }
    for (const n of [...selected]) if (!runs.some((x) => x.name === n)) selected.delete(n);
    const ul = $("runs");
    ul.replaceChildren(...runs.map((ri) => {
      const box = el("input", { type: "checkbox", "data-run": ri.name, checked: selected.has(ri.name) });
      box.addEventListener("change", () => {
        if (box.checked) selected.add(ri.name); else selected.delete(ri.name);
        history.replaceState(null, "", "#" + encodeURIComponent([...selected].join(",")));
        dirty = true;
        tick();
      });
      return el("li", { "data-run": ri.name },
        el("label", {}, box, el("span", { class: "run-name", text: ri.name })),
        el("span", { class: "status " + ri.status, text: ri.status }),
        el("span", { class: "muted small", text: new Date(ri.modified).toLocaleString() }));
    }));
    if (!runs.length) say("no run folders here yet (a run folder holds config.yaml, metrics.jsonl, summary.json)");
  }

  async function refreshRun(name) {
    const st = runState(name);
    const info = runs.find((x) => x.name === name);
    for (let i = 0; i < 8; i++) {
      const c = await ML.api("GET", `/v1/runs/${encodeURIComponent(name)}/metrics?offset=${st.offset}`);
      if (c.reset) st.series.clear();
      for (const r of c.records) {
        const key = r.split + "\u0000" + r.metric;
        if (!st.series.has(key)) st.series.set(key, []);
        st.series.get(key).push([r.step, r.value, r.wall]);
      }
      if (c.records.length || c.reset) dirty = true;
      st.offset = c.next;
      if (!c.more) break;
    }
    if (!st.detail || (info && info.status !== st.status)) {
      st.detail = await ML.api("GET", `/v1/runs/${encodeURIComponent(name)}`);
      st.status = info ? info.status : st.detail.status;
      dirty = true;
    }
  }

  function metricOrder(a, b) {
    const rank = (m) => (m === "loss" ? 0 : /acc|mse|metric/.test(m) ? 1 : /lr|learning/.test(m) ? 3 : 2);
    return rank(a) - rank(b) || a.localeCompare(b);
  }

  function renderCharts() {
    const names = runs.map((r) => r.name).filter((n) => selected.has(n));
    const metrics = new Set();
    for (const n of names) for (const k of runState(n).series.keys()) metrics.add(k.split("\u0000")[1]);
    const box = $("charts");
    const want = [...metrics].sort(metricOrder);
    for (const div of [...box.children]) if (!want.includes(div.dataset.metric)) div.remove();
    const xi = $("xaxis").value === "wall" ? 2 : 0;
    for (const m of want) {
      let div = [...box.children].find((d) => d.dataset.metric === m);
      if (!div) { div = el("div", { class: "chart-box", "data-metric": m }); box.append(div); }
      const series = [];
      names.forEach((n) => {
        const color = COLORS[runs.findIndex((r) => r.name === n) % COLORS.length];
        for (const [k, pts] of runState(n).series) {
          const [split, metric] = k.split("\u0000");
          if (metric !== m) continue;
          series.push({ name: names.length > 1 ? `${n} · ${split}` : split, color, dash: DASH[split] === undefined ? "8 3 2 3" : DASH[split],
            points: pts.map((p) => [p[xi], p[1]]) });
        }
      });
      series.sort((a, b) => a.name.localeCompare(b.name));
      MLChart.render(div, { title: m, xlabel: xi ? "wall time (s)" : "step", logY: $("logy").checked && /loss/.test(m), series });
    }
    box.append(...[...box.children].sort((a, b) => want.indexOf(a.dataset.metric) - want.indexOf(b.dataset.metric)));
    if (!want.length) box.replaceChildren(el("p", { class: "muted", text: names.length ? "no metrics logged yet" : "tick a run to plot it" }));
  }

  // flatten turns nested JSON into [dotted key, value] rows; the copy of the
  // configuration inside a summary is left out (config.yaml is shown below)
  // and long lists are counted, not printed.
  function flatten(v, prefix, out) {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (!prefix && k === "config") continue;
        flatten(x, prefix ? prefix + "." + k : k, out);
      }
    } else if (Array.isArray(v)) {
      out.push([prefix, v.length > 3 ? `[${v.length} items]` : JSON.stringify(v)]);
    } else {
      out.push([prefix, typeof v === "number" ? String(Number(v.toPrecision(6))) : String(v)]);
    }
    return out;
  }

  function renderDetails() {
    const names = runs.map((r) => r.name).filter((n) => selected.has(n));
    const box = $("details");
    box.replaceChildren(...names.map((n) => {
      const st = runState(n);
      const d = st.detail || {};
      const col = el("section", { class: "panel detail", "data-run": n });
      col.append(el("h2", { text: n }), el("p", {}, el("span", { class: "status " + (d.status || ""), text: d.status || "" })));
      col.append(el("h3", { text: "summary.json" }));
      if (d.summary) {
        const t = el("table", { class: "kv" });
        for (const [k, v] of flatten(d.summary, "", [])) t.append(el("tr", {}, el("th", { text: k }), el("td", { text: v })));
        col.append(el("div", { class: "scroll" }, t));
      } else col.append(el("p", { class: "muted", text: "not written yet (the run is still going, or stopped early)" }));
      col.append(el("h3", { text: "config.yaml" }), el("pre", { class: "config", text: d.config || "(none)" }));
      return col;
    }));
  }

  async function tick() {
    clearTimeout(timer);
    try {
      await refreshList();
      for (const n of selected) await refreshRun(n);
      if (dirty) { renderCharts(); renderDetails(); dirty = false; }
      $("updated").textContent = "updated " + new Date().toLocaleTimeString();
      $("updated").dataset.polls = String(Number($("updated").dataset.polls || 0) + 1);
      if ($("message").classList.contains("error")) say("");
    } catch (e) {
      say(e.status === 401 ? "enter the server's token (top right) to see the runs" : "runs: " + e.message, true);
    }
    timer = setTimeout(tick, POLL_MS);
  }

  ML.initAuth(() => { dirty = true; tick(); });
  $("logy").addEventListener("change", () => renderCharts());
  $("xaxis").addEventListener("change", () => renderCharts());
  // A dashboard-only server (metalearn dash) has no playground: it serves
  // this page at / itself.
  if (location.pathname === "/") $("nav-playground").remove();
  tick();
})();
