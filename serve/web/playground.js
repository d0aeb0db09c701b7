// playground.js: teach a served model new symbols by drawing them.
//
// Ink follows the training data (data/omniglot.go): Omniglot characters are
// binary 105x105 images, ink = 1 on background = 0, resized to the model's
// 28x28 by area averaging. The pad is that 105x105 grid: the pen sets whole
// cells (no anti-aliasing), and the 28x28 the model sees is computed here
// with the same area weights as data.ResizeArea and sent as a flat array of
// numbers, so the small preview is exactly the model's input. The pen is 5
// cells wide by default: the median stroke width of the Omniglot drawings
// (the shorter of the horizontal and vertical ink runs through each ink
// pixel, first drawer of 400 evaluation characters: median 5, quartiles 5
// and 7).
//
// Modes by the model's task (GET /v1/models): classification models with an
// image input get the drawing pad and a support set; regression models with
// one input value (sinusoid) get a plane to click K points on.
//
// Translation models (task "translation") get a text box translated through
// /v1/translate (one sentence per line), each translation editable with a
// "correct this" button that adds the (source, corrected target) pair to an
// adaptation set; "adapt" sends the set to /v1/adapt and later translations
// go through the returned id (the user's private adapted copy).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = ML.el;
  let models = [];
  let current = null; // ModelInfo
  let mode = null;

  function say(msg, isError) {
    const m = $("message");
    m.textContent = msg || "";
    m.classList.toggle("error", !!isError);
  }

  // ---- area resampling, as data/resize.go -------------------------------
  function areaTaps(n, out) {
    const taps = [];
    for (let j = 0; j < out; j++) {
      const lo = j * n, hi = (j + 1) * n; // in units of 1/out
      const first = Math.floor(lo / out), last = Math.floor((hi - 1) / out);
      const w = [];
      for (let i = first; i <= last; i++) {
        const a = Math.max(lo, i * out), b = Math.min(hi, (i + 1) * out);
        w.push((b - a) / n);
      }
      taps.push({ start: first, w });
    }
    return taps;
  }

  // resize resamples src (h x w, row-major) to oh x ow: the horizontal pass
  // first, then the vertical one, summed in the same order as the Go code.
  function resize(src, h, w, oh, ow) {
    const tx = areaTaps(w, ow), ty = areaTaps(h, oh);
    const tmp = new Float64Array(h * ow);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < ow; x++) {
        const t = tx[x];
        let s = 0;
        for (let k = 0; k < t.w.length; k++) s += t.w[k] * src[y * w + t.start + k];
        tmp[y * ow + x] = s;
      }
    }
    const dst = new Float32Array(oh * ow);
    for (let y = 0; y < oh; y++) {
      const t = ty[y];
      for (let x = 0; x < ow; x++) {
        let s = 0;
        for (let k = 0; k < t.w.length; k++) s += t.w[k] * tmp[(t.start + k) * ow + x];
        dst[y * ow + x] = s;
      }
    }
    return dst;
  }

  // ---- the drawing pad ----------------------------------------------------
  // Pad holds a g x g binary grid and the strokes that made it (for undo).
  class Pad {
    constructor(canvas, g) {
      this.canvas = canvas;
      this.g = g;
      this.grid = new Uint8Array(g * g);
      this.strokes = [];
      this.active = null;
      this.onchange = () => {};
      this.onstroke = () => {};
      canvas.width = g * Math.max(1, Math.round(420 / g));
      canvas.height = canvas.width;
      this.off = document.createElement("canvas");
      this.off.width = g;
      this.off.height = g;
      canvas.addEventListener("pointerdown", (e) => this.down(e));
      canvas.addEventListener("pointermove", (e) => this.move(e));
      canvas.addEventListener("pointerup", (e) => this.up(e));
      canvas.addEventListener("pointercancel", (e) => this.up(e));
      canvas.addEventListener("contextmenu", (e) => e.preventDefault());
      this.render();
    }
    width() { return Number($("pen").value) || 1; }
    at(e) {
      const r = this.canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * this.g / r.width, (e.clientY - r.top) * this.g / r.height];
    }
    down(e) {
      if (e.button !== 0) return;
      e.preventDefault();
      this.canvas.setPointerCapture(e.pointerId);
      this.active = { w: this.width(), points: [this.at(e)] };
      this.strokes.push(this.active);
      this.stamp(this.active.w, this.active.points[0]);
      this.render();
    }
    move(e) {
      if (!this.active) return;
      e.preventDefault();
      const evs = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
      for (const ce of (evs.length ? evs : [e])) {
        const p = this.at(ce);
        const q = this.active.points[this.active.points.length - 1];
        this.active.points.push(p);
        this.segment(this.active.w, q, p);
      }
      this.render();
    }
    up(e) {
      if (!this.active) return;
      this.move(e);
      this.active = null;
      this.onstroke();
    }
    // stamp sets the cells under a pen of width w centred at p: the one cell
    // holding p for w = 1, else the cells whose centres lie within w/2.
    stamp(w, p) {
      const g = this.g;
      if (w <= 1) {
        const x = Math.floor(p[0]), y = Math.floor(p[1]);
        if (x >= 0 && x < g && y >= 0 && y < g) this.grid[y * g + x] = 1;
        return;
      }
      const r = w / 2;
      for (let y = Math.floor(p[1] - r); y <= Math.ceil(p[1] + r); y++) {
        for (let x = Math.floor(p[0] - r); x <= Math.ceil(p[0] + r); x++) {
          if (x < 0 || x >= g || y < 0 || y >= g) continue;
          const dx = x + 0.5 - p[0], dy = y + 0.5 - p[1];
          if (dx * dx + dy * dy <= r * r) this.grid[y * g + x] = 1;
        }
      }
    }
    segment(w, a, b) {
      const n = Math.max(1, Math.ceil(2 * Math.hypot(b[0] - a[0], b[1] - a[1])));
      for (let i = 1; i <= n; i++) {
        this.stamp(w, [a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n]);
      }
    }
    redraw() {
      this.grid.fill(0);
      for (const s of this.strokes) {
        this.stamp(s.w, s.points[0]);
        for (let i = 1; i < s.points.length; i++) this.segment(s.w, s.points[i - 1], s.points[i]);
      }
      this.render();
    }
    undo() { this.strokes.pop(); this.redraw(); this.onstroke(); }
    clear() { this.strokes = []; this.redraw(); }
    empty() { return !this.grid.some((v) => v); }
    // render repaints at the next frame (once, however many pointer events
    // arrive before it).
    render() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => { this.frame = 0; this.paint(); });
    }
    paint() {
      const g = this.g;
      const ctx = this.off.getContext("2d");
      const img = ctx.createImageData(g, g);
      for (let i = 0; i < g * g; i++) {
        const v = this.grid[i] ? 20 : 255;
        img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
        img.data[4 * i + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      const c = this.canvas.getContext("2d");
      c.imageSmoothingEnabled = false;
      c.drawImage(this.off, 0, 0, this.canvas.width, this.canvas.height);
      this.onchange();
    }
  }

  // drawInk paints model-input ink (ink = 1 dark) into a canvas.
  function drawInk(canvas, ink, h, w) {
    const off = document.createElement("canvas");
    off.width = w;
    off.height = h;
    const ctx = off.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      const v = Math.round(255 * (1 - Math.min(1, Math.max(0, ink[i]))));
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    const c = canvas.getContext("2d");
    c.imageSmoothingEnabled = false;
    c.drawImage(off, 0, 0, canvas.width, canvas.height);
  }

  // ---- classification ------------------------------------------------------
  const classify = {
    section: "classify",
    pad: null,
    h: 28, w: 28,
    support: [], // {label, ink: Float32Array}
    ways: 5,
    adapted: null, // AdaptResponse
    seq: 0,

    start(m) {
      const shape = m.input_shape || [];
      const [h, w] = shape.length === 3 ? [shape[1], shape[2]] : [shape[0], shape[1]];
      this.h = h; this.w = w;
      // Omniglot models train on 105x105 binary drawings resized to the
      // input size; other image models are drawn at 4x their input size.
      const g = m.dataset === "omniglot" ? 105 : 4 * Math.max(h, w);
      this.pad = new Pad($("pad"), g);
      this.pad.onchange = () => drawInk($("ink"), this.ink(), this.h, this.w);
      this.pad.onstroke = () => this.predictSoon();
      this.pad.render();
      $("pad").dataset.grid = String(g);
      $("ink-caption").textContent = `what the model sees: ${h}x${w}, ink = 1 (dark), area-averaged from the ${g}x${g} pad`;
      const fixed = m.ways || 0;
      $("ways").disabled = fixed > 0;
      $("ways").value = String(fixed || this.ways);
      this.ways = Number($("ways").value);
      this.support = [];
      this.forget();
      this.renderSupport();
    },

    // ink is the current drawing as the model input (h*w values).
    ink() {
      const g = this.pad.g;
      const src = new Float64Array(g * g);
      for (let i = 0; i < g * g; i++) src[i] = this.pad.grid[i];
      return resize(src, g, g, this.h, this.w);
    },

    forget() {
      this.adapted = null;
      $("adapted").textContent = "not adapted yet";
      $("adapted").dataset.id = "";
      $("bars").replaceChildren();
      $("predicted").textContent = "";
      $("predicted").dataset.label = "";
    },

    add(label) {
      if (this.pad.empty()) { say("draw something first", true); return; }
      this.support.push({ label, ink: this.ink() });
      this.pad.clear();
      this.stale();
      this.renderSupport();
      say(`added to class ${label}`);
    },

    stale() {
      if (this.adapted) {
        this.forget();
        $("adapted").textContent = "support set changed: adapt again";
      }
    },

    renderSupport() {
      const box = $("classes");
      box.replaceChildren();
      for (let c = 0; c < this.ways; c++) {
        const row = el("div", { class: "class-row", "data-class": c });
        row.append(el("button", { class: "add", "data-class": c, text: `add to class ${c}`, on: { click: () => this.add(c) } }));
        const thumbs = el("div", { class: "thumbs" });
        this.support.forEach((ex, i) => {
          if (ex.label !== c) return;
          const cv = el("canvas", { width: 56, height: 56, class: "thumb", title: "click to remove" });
          drawInk(cv, ex.ink, this.h, this.w);
          cv.addEventListener("click", () => { this.support.splice(i, 1); this.stale(); this.renderSupport(); });
          thumbs.append(cv);
        });
        row.append(thumbs);
        box.append(row);
      }
      const counts = new Array(this.ways).fill(0);
      for (const ex of this.support) counts[ex.label]++;
      $("support-size").textContent = `${this.support.length} examples (${counts.join(" / ")} per class)`;
    },

    request() {
      return {
        model: current.name,
        support: {
          inputs: this.support.map((ex) => Array.from(ex.ink, (v) => Math.round(v * 1e6) / 1e6)),
          labels: this.support.map((ex) => ex.label),
        },
      };
    },

    async adapt() {
      if (!this.support.length) { say("add examples to the support set first", true); return; }
      $("adapt").disabled = true;
      try {
        const a = await ML.api("POST", "/v1/adapt", this.request());
        this.adapted = a;
        $("adapted").textContent = `adapted: ${a.ways || this.ways} classes, ${a.support_size} examples, ${a.steps} steps, ${a.elapsed_ms} ms`;
        $("adapted").dataset.id = a.id;
        say("adapted: draw a new symbol to classify it");
        if (!this.pad.empty()) this.predictSoon();
      } catch (e) {
        say("adapt: " + e.message, true);
      } finally {
        $("adapt").disabled = false;
      }
    },

    predictSoon() {
      if (!this.adapted) return;
      clearTimeout(this.timer);
      this.waiting = true;
      this.timer = setTimeout(() => { this.waiting = false; this.predict(); }, 60);
    },

    busy() { return this.waiting || this.inflight > 0; },

    async predict() {
      if (!this.adapted) return;
      this.inflight = (this.inflight || 0) + 1;
      try { await this.predictOnce(); } finally { this.inflight--; }
    },

    async predictOnce() {
      const bars = $("bars");
      if (this.pad.empty()) { bars.replaceChildren(); $("predicted").textContent = ""; return; }
      const seq = ++this.seq;
      $("predicted").dataset.state = "pending";
      try {
        const p = await ML.api("POST", "/v1/predict", { id: this.adapted.id, inputs: [Array.from(this.ink())] });
        if (seq !== this.seq) return; // a newer drawing is on its way
        const probs = p.probabilities[0];
        const label = p.labels[0];
        bars.replaceChildren();
        probs.forEach((v, c) => {
          const fill = el("span", { class: "fill" });
          fill.style.width = (100 * v).toFixed(1) + "%";
          bars.append(el("div", { class: "bar" + (c === label ? " top" : ""), "data-class": c, "data-p": v },
            el("span", { class: "name", text: `class ${c}` }),
            el("span", { class: "track" }, fill),
            el("span", { class: "value", text: (100 * v).toFixed(1) + "%" })));
        });
        $("predicted").textContent = `class ${label}`;
        $("predicted").dataset.label = String(label);
        $("predicted").dataset.state = "done";
        $("predicted").dataset.seq = String(seq);
      } catch (e) {
        $("predicted").dataset.state = "error";
        if (e.status === 404) { this.forget(); say("the adaptation expired on the server: adapt again", true); }
        else say("predict: " + e.message, true);
      }
    },

    export() {
      const blob = new Blob([JSON.stringify(this.request())], { type: "application/json" });
      const a = el("a", { href: URL.createObjectURL(blob), download: `support-${current.name}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    },

    // import reads an exported support set (the /v1/adapt request body).
    import(text) {
      let req;
      try { req = JSON.parse(text); } catch (e) { say("import: not JSON: " + e.message, true); return; }
      const n = this.h * this.w;
      const sup = req && req.support;
      if (!sup || !Array.isArray(sup.inputs) || !Array.isArray(sup.labels) || sup.inputs.length !== sup.labels.length) {
        say('import: want {"model": ..., "support": {"inputs": [...], "labels": [...]}} with one label per input', true);
        return;
      }
      const out = [];
      let ways = this.ways;
      for (let i = 0; i < sup.inputs.length; i++) {
        const x = sup.inputs[i], y = sup.labels[i];
        if (!Array.isArray(x) || x.length !== n || !x.every((v) => typeof v === "number" && v >= 0 && v <= 1)) {
          say(`import: support.inputs[${i}] is not ${n} numbers in [0, 1]`, true);
          return;
        }
        if (!Number.isInteger(y) || y < 0 || y >= 100) {
          say(`import: support.labels[${i}] = ${y}, want a class 0..99`, true);
          return;
        }
        ways = Math.max(ways, y + 1);
        out.push({ label: y, ink: Float32Array.from(x) });
      }
      if (current.ways && ways > current.ways) {
        say(`import: labels go up to ${ways - 1}, but ${current.name} has ${current.ways} classes`, true);
        return;
      }
      if (req.model && req.model !== current.name) say(`imported a support set made for ${req.model} into ${current.name}`);
      else say(`imported ${out.length} examples`);
      this.support = out;
      this.ways = ways;
      $("ways").value = String(ways);
      this.stale();
      this.renderSupport();
    },
  };

  // ---- regression (one input value, e.g. sinusoid) -----------------------
  const regress = {
    section: "regress",
    points: [],
    xr: [-5, 5], yr: [-6, 6],
    curves: { adapted: null, prior: null },
    seq: 0,

    start(m) {
      this.points = [];
      this.curves = { adapted: null, prior: null };
      const cv = $("plane");
      if (!cv.dataset.wired) {
        cv.dataset.wired = "1";
        cv.addEventListener("click", (e) => {
          const r = cv.getBoundingClientRect();
          const [x, y] = this.fromPx((e.clientX - r.left) * cv.width / r.width, (e.clientY - r.top) * cv.height / r.height);
          this.points.push([x, y]);
          this.update();
        });
      }
      $("regress-note").textContent = m.dataset === "sinusoid"
        ? "Click K points of a sine wave (x in [-5, 5]); the model adapts to them (/v1/adapt) and draws its curve (/v1/predict). Dashed: the meta-learned prior (0 steps)."
        : `Click points (x, y); the x range shown is [${this.xr}]`;
      this.draw();
    },

    toPx(x, y) {
      const cv = $("plane");
      return [(x - this.xr[0]) / (this.xr[1] - this.xr[0]) * cv.width, (this.yr[1] - y) / (this.yr[1] - this.yr[0]) * cv.height];
    },
    fromPx(px, py) {
      const cv = $("plane");
      return [this.xr[0] + px / cv.width * (this.xr[1] - this.xr[0]), this.yr[1] - py / cv.height * (this.yr[1] - this.yr[0])];
    },

    async update() {
      const seq = ++this.seq;
      this.draw();
      $("plane").dataset.state = "pending";
      if (!this.points.length) { this.curves = { adapted: null, prior: null }; this.draw(); return; }
      const xs = [];
      for (let i = 0; i <= 100; i++) xs.push(this.xr[0] + (this.xr[1] - this.xr[0]) * i / 100);
      const support = { inputs: this.points.map((p) => [p[0]]), targets: this.points.map((p) => p[1]) };
      try {
        const a = await ML.api("POST", "/v1/adapt", { model: current.name, support });
        const p = await ML.api("POST", "/v1/predict", { id: a.id, inputs: xs.map((x) => [x]) });
        let prior = null;
        if (current.kind === "gradient") {
          const q = await ML.api("POST", "/v1/predict", { model: current.name, support, steps: 0, inputs: xs.map((x) => [x]) });
          prior = xs.map((x, i) => [x, q.values[i][0]]);
        }
        if (seq !== this.seq) return;
        this.curves = { adapted: xs.map((x, i) => [x, p.values[i][0]]), prior };
        $("plane").dataset.state = "done";
        $("plane").dataset.points = String(this.points.length);
        $("regress-status").textContent = `adapted to ${this.points.length} points: ${a.steps} steps, ${a.elapsed_ms} ms`;
        this.draw();
      } catch (e) {
        $("plane").dataset.state = "error";
        say(e.message, true);
      }
    },

    draw() {
      const cv = $("plane");
      const c = cv.getContext("2d");
      c.fillStyle = "#fff";
      c.fillRect(0, 0, cv.width, cv.height);
      c.strokeStyle = "#ddd";
      c.lineWidth = 1;
      for (let x = Math.ceil(this.xr[0]); x <= this.xr[1]; x++) {
        const [px] = this.toPx(x, 0);
        c.beginPath(); c.moveTo(px, 0); c.lineTo(px, cv.height); c.stroke();
      }
      for (let y = Math.ceil(this.yr[0]); y <= this.yr[1]; y++) {
        const [, py] = this.toPx(0, y);
        c.beginPath(); c.moveTo(0, py); c.lineTo(cv.width, py); c.stroke();
      }
      c.strokeStyle = "#888";
      const [ox, oy] = this.toPx(0, 0);
      c.beginPath(); c.moveTo(0, oy); c.lineTo(cv.width, oy); c.moveTo(ox, 0); c.lineTo(ox, cv.height); c.stroke();
      const line = (pts, color, dash) => {
        if (!pts) return;
        c.strokeStyle = color; c.lineWidth = 2.5; c.setLineDash(dash);
        c.beginPath();
        pts.forEach(([x, y], i) => { const [px, py] = this.toPx(x, y); if (i) c.lineTo(px, py); else c.moveTo(px, py); });
        c.stroke();
        c.setLineDash([]);
      };
      line(this.curves.prior, "#999", [6, 5]);
      line(this.curves.adapted, "#1565c0", []);
      c.fillStyle = "#d84315";
      for (const [x, y] of this.points) {
        const [px, py] = this.toPx(x, y);
        c.beginPath(); c.arc(px, py, 5, 0, 2 * Math.PI); c.fill();
      }
    },
  };

  // ---- translation ---------------------------------------------------------
  const translate = {
    section: "translate",
    pairs: [],
    id: null,

    start(m) {
      this.pairs = [];
      this.id = null;
      const langs = m.languages || [];
      const opts = () => langs.map((l) => el("option", { value: l, text: l }));
      $("tr-from").replaceChildren(...opts());
      $("tr-to").replaceChildren(...opts());
      const from = langs.includes("en") ? "en" : langs[0];
      let to = langs.find((l) => l !== from) || from;
      for (const p of m.pairs || []) {
        const [s, t] = p.split("-");
        if (s === from && t) { to = t; break; }
      }
      $("tr-from").value = from;
      $("tr-to").value = to;
      $("tr-output").replaceChildren();
      delete $("tr-output").dataset.state;
      $("tr-status").textContent = "";
      this.renderPairs();
      this.renderAdapted();
    },

    async run() {
      const texts = $("tr-source").value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (!texts.length) { say("type a sentence to translate", true); return; }
      const from = $("tr-from").value, to = $("tr-to").value;
      const body = { texts, from, to, beam: Math.max(1, Math.floor(Number($("tr-beam").value)) || 1) };
      if (this.id) body.id = this.id; else body.model = current.name;
      const out = $("tr-output");
      out.dataset.state = "pending";
      try {
        const r = await ML.api("POST", "/v1/translate", body);
        out.replaceChildren(...texts.map((src, i) => {
          const box = el("input", { type: "text", class: "tr-text", value: r.translations[i], size: 48 });
          const fix = el("button", { type: "button", class: "tr-correct", text: "correct this",
            on: { click: () => this.correct({ src, tgt: box.value, from, to }) } });
          return el("li", {}, el("div", { class: "muted", text: src }), box, fix);
        }));
        out.dataset.state = "done";
        $("tr-status").textContent = `${texts.length} sentences, ${r.elapsed_ms} ms` + (this.id ? " (your adapted model)" : "");
        say("");
      } catch (e) {
        out.dataset.state = "error";
        say(e.message, true);
      }
    },

    correct(p) {
      if (!p.tgt.trim()) { say("the corrected translation is empty", true); return; }
      this.pairs.push({ src: p.src, tgt: p.tgt.trim(), from: p.from, to: p.to });
      this.renderPairs();
    },

    renderPairs() {
      $("tr-pairs").replaceChildren(...this.pairs.map((p) => el("li", { text: `${p.src} → ${p.tgt} (${p.from}→${p.to})` })));
      $("tr-pairs").dataset.count = String(this.pairs.length);
    },

    renderAdapted(a) {
      const p = $("tr-adapted");
      if (!this.id) { p.textContent = "not adapted yet"; delete p.dataset.id; return; }
      p.dataset.id = this.id;
      p.textContent = `adapted on ${a.support_size} pairs: ${a.steps} steps, ${a.elapsed_ms} ms; translations now use your copy`;
    },

    async adapt() {
      if (!this.pairs.length) { say("correct a translation first: the corrections are what the model adapts to", true); return; }
      try {
        const a = await ML.api("POST", "/v1/adapt", { model: current.name, pairs: this.pairs });
        this.id = a.id;
        this.renderAdapted(a);
        say("");
      } catch (e) {
        say(e.message, true);
      }
    },

    reset() {
      this.id = null;
      this.pairs = [];
      this.renderPairs();
      this.renderAdapted();
    },
  };

  const MODES = { classification: classify, regression: regress, translation: translate };

  function modeFor(m) {
    if (m.task === "translation") return translate;
    const s = m.input_shape || [];
    if (m.task === "regression" && s.length === 1 && s[0] === 1) return regress;
    const image = (s.length === 3 && s[0] === 1) || s.length === 2;
    if (m.task === "classification" && image) return classify;
    return null;
  }

  function choose(name) {
    current = models.find((m) => m.name === name) || null;
    say("");
    for (const s of ["classify", "regress", "translate", "unsupported"]) $(s).hidden = true;
    if (!current) return;
    $("model-info").textContent = [current.algorithm, current.dataset, current.kind, current.task,
      current.input_shape ? "input " + current.input_shape.join("x") : "", current.ways ? current.ways + " classes (fixed)" : "",
      current.languages ? "languages " + current.languages.join(", ") : ""]
      .filter(Boolean).join(" · ");
    mode = current.error ? null : modeFor(current);
    if (!mode) {
      $("unsupported").hidden = false;
      $("unsupported-note").textContent = current.error
        ? `${current.name} cannot be served: ${current.error}`
        : `No playground for ${current.name} (task ${current.task || "unknown"}, input ${current.input_shape}) yet; it is served through the JSON API.`;
      return;
    }
    $(mode.section).hidden = false;
    mode.start(current);
  }

  async function load() {
    try {
      const r = await ML.api("GET", "/v1/models");
      models = r.models || [];
      const sel = $("model");
      const keep = sel.value;
      sel.replaceChildren(...models.map((m) => el("option", { value: m.name, text: m.name })));
      if (!models.length) { say("the model directory holds no models"); return; }
      sel.value = models.some((m) => m.name === keep) ? keep : models[0].name;
      say("");
      choose(sel.value);
    } catch (e) {
      say(e.status === 401 ? "enter the server's token (top right) to use the playground" : "models: " + e.message, true);
    }
  }

  function wire() {
    ML.initAuth(load);
    $("model").addEventListener("change", (e) => choose(e.target.value));
    $("undo").addEventListener("click", () => classify.pad && classify.pad.undo());
    $("clear").addEventListener("click", () => { if (classify.pad) { classify.pad.clear(); classify.predict(); } });
    $("adapt").addEventListener("click", () => classify.adapt());
    $("export").addEventListener("click", () => classify.export());
    $("import").addEventListener("change", async (e) => {
      const f = e.target.files[0];
      if (f) classify.import(await f.text());
      e.target.value = "";
    });
    $("reset-support").addEventListener("click", () => { classify.support = []; classify.stale(); classify.renderSupport(); });
    $("ways").addEventListener("change", (e) => {
      const n = Math.max(2, Math.min(100, Math.floor(Number(e.target.value)) || 2));
      e.target.value = String(n);
      classify.ways = n;
      classify.support = classify.support.filter((ex) => ex.label < n);
      classify.stale();
      classify.renderSupport();
    });
    $("points-undo").addEventListener("click", () => { regress.points.pop(); regress.update(); });
    $("points-clear").addEventListener("click", () => { regress.points = []; regress.update(); });
    $("tr-go").addEventListener("click", () => translate.run());
    $("tr-adapt").addEventListener("click", () => translate.adapt());
    $("tr-reset").addEventListener("click", () => translate.reset());
    load();
  }

  // Exposed for the browser tests and the console: the ink the model sees,
  // and a promise that resolves once no prediction is pending or in flight.
  window.MLPlayground = {
    ink: () => Array.from(classify.ink()),
    resize,
    modes: MODES,
    settled: () => new Promise((resolve) => {
      const check = () => (classify.busy() ? setTimeout(check, 20) : resolve(true));
      check();
    }),
  };
  wire();
})();
