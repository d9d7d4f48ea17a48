// The "Gradient flow" tab: how large each layer's gradient is, now and over
// the training so far. Backpropagation multiplies the gradient by every
// layer's weights and activation slopes on its way back, so in a deep stack
// of sigmoid layers it shrinks layer after layer and the first layers hardly
// learn; this view makes that visible (and the cure: ReLU).
//
// The frame's header brings, per layer of the model (the spec's hidden layers
// and then the output layer), the L2 norm of its parameters' gradient over up
// to 256 training examples (`gradient_flow`, null for a layer without
// parameters) and a flag (`gradient_flags`). The history of those norms is
// kept here, in the page: the worker sends only the latest ones.

import { el } from "./common.js";

const HISTORY = 1200; // recorded steps kept; past that every other one is dropped (the chart keeps its span)
const CHART_HEIGHT = 250;
const MARGIN = { left: 58, right: 14, top: 12, bottom: 36 };
const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
const FLAG_MARKS = { vanishing: "▼", exploding: "▲", ok: "✓" };

const CSS = `
.pg-gradients-view { display: flex; flex-direction: column; gap: 10px; padding-top: 6px; }
.pg-gradients-view p { margin: 0; }
.pg-gradients-ratio { font-size: 16px; line-height: 1.35; }
.pg-gradients-chart-box { position: relative; }
.pg-gradients-chart { display: block; width: 100%; height: ${CHART_HEIGHT}px; cursor: crosshair; }
.pg-gradients-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; }
.pg-gradients-key { display: inline-flex; align-items: center; gap: 5px; }
.pg-gradients-line { display: inline-block; width: 20px; height: 4px; border-radius: 2px; }
.pg-gradients-table { border-collapse: collapse; font-size: 14px; }
.pg-gradients-table th, .pg-gradients-table td { padding: 3px 10px 3px 0; text-align: left; white-space: nowrap; }
.pg-gradients-table thead th { font-size: 12px; font-weight: 600; color: #5c636a; border-bottom: 1px solid #dee2e6; }
.pg-gradients-table tbody th { font-weight: normal; }
.pg-gradients-norm { font-variant-numeric: tabular-nums; text-align: right !important; min-width: 92px; }
.pg-gradients-bar { width: 200px; height: 12px; background: #f1f3f5; border: 1px solid #dee2e6; }
.pg-gradients-fill { height: 100%; }
.pg-gradients-flag[data-flag="vanishing"], .pg-gradients-flag[data-flag="exploding"] { color: var(--pg-alert); font-weight: 600; }
.pg-gradients-flag[data-flag="ok"] { color: #5c636a; }
.pg-gradients-about { display: flex; flex-direction: column; gap: 6px; max-width: 660px; }
.pg-gradients-try { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.pg-gradients-try[hidden] { display: none; }
.pg-gradients-waiting { color: #5c636a; }
`;

// 3.2 × 10⁻⁵: the norms span many decades, so a fixed number of decimals would hide most of them.
export function scientific(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return "∞";
  if (value === 0) return "0";
  let exponent = Math.floor(Math.log10(Math.abs(value)));
  if (Math.abs(Number((value / 10 ** exponent).toFixed(digits))) >= 10) exponent += 1; // 9.999 shows as 1.00 × 10¹
  const mantissa = value / 10 ** exponent;
  if (exponent === 0) return mantissa.toFixed(digits);
  return `${mantissa.toFixed(digits)} × ${power(exponent)}`;
}

function power(exponent) {
  return "10" + String(exponent).split("").map((c) => SUPERSCRIPT[c]).join("");
}

// "1/340", "1/24,000", "3.2×": a ratio as a learner says it.
function ratioWords(ratio) {
  const round = (n) => {
    const digits = Math.max(0, Math.floor(Math.log10(n)) - 1);
    return Math.round(n / 10 ** digits) * 10 ** digits;
  };
  if (ratio < 1) return `1/${round(1 / ratio).toLocaleString("en")}`;
  return `${ratio < 10 ? ratio.toFixed(1) : round(ratio).toLocaleString("en")}×`;
}

export default class GradientsView {
  constructor(host) {
    this.host = host;
    this.colours = host.colours;
    this.labels = [];
    this.positions = []; // the model layers with parameters: one line, one row each
    this.clear();
    this.element = el("div", { class: "pg-gradients-view", "data-role": "gradients-view" });
    this.element.style.setProperty("--pg-alert", host.model.palette.alert);
    this.element.append(el("style", { text: CSS }));

    this.ratio = el("p", { class: "pg-gradients-ratio", "data-role": "gradient-ratio", "aria-live": "polite" });
    this.waiting = el("p", { class: "pg-gradients-waiting", text: "Waiting for the first gradients…" });
    this.canvas = el("canvas", { class: "pg-gradients-chart", "data-role": "gradient-chart", "data-points": "0",
      role: "img", "aria-label": "Each layer's gradient norm over the training steps, on a log scale" });
    this.canvas.addEventListener("mousemove", (event) => this.hover(event));
    this.canvas.addEventListener("mouseleave", () => this.unhover());
    this.legend = el("div", { class: "pg-gradients-legend" });
    this.rows = el("tbody");
    this.table = el("table", { class: "pg-gradients-table", "data-role": "gradient-table" },
      el("caption", { class: "pg-heading", style: { textAlign: "left", paddingBottom: "4px" }, text: "Now" }),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: "Layer" }), el("th", { scope: "col", class: "pg-gradients-norm", text: "Gradient norm" }),
        el("th", { scope: "col", text: "Size (log scale, as on the chart)" }), el("th", { scope: "col", text: "Flag" }))),
      this.rows);
    this.omitted = el("p", { class: "pg-hint" });

    this.element.append(
      el("h3", { class: "pg-heading", text: "Gradient flow: how much each layer learns" }),
      this.ratio, this.waiting,
      el("div", { class: "pg-gradients-chart-box" }, this.canvas),
      this.legend,
      el("p", { class: "pg-hint", text: "Each line is one layer's gradient norm (the size of the step training gives its weights) " +
        "over the training steps, on a log scale: equal gaps mean equal ratios. Light purple: the first layer; dark: the output layer. " +
        "Hover the chart for the values." }),
      this.table, this.omitted,
      this.about());
  }

  about() {
    const sigmoid = el("button", { type: "button", class: "pg-button", "data-role": "try-sigmoid",
      onclick: () => this.tryDeep("sigmoid") }, "Try it: 8 sigmoid layers");
    const relu = el("button", { type: "button", class: "pg-button", "data-role": "try-relu",
      onclick: () => this.tryDeep("relu") }, "Then: 8 relu layers");
    this.experiment = el("p");
    this.tryRow = el("div", { class: "pg-gradients-try" }, sigmoid, relu,
      el("span", { class: "pg-hint", text: "then press Reset and Train" }));
    return el("div", { class: "pg-gradients-about" },
      el("h3", { class: "pg-heading", text: "What you see" }),
      el("p", { text: "Backpropagation carries the error from the output back to the first layer, multiplying it on the way " +
        "by each layer's weights and by the slope of its activation. A sigmoid's slope is at most 0.25, so through many " +
        "sigmoid layers the gradient shrinks again and again: the first layers get tiny updates and barely learn. " +
        "That is the vanishing gradient. ReLU's slope is 1 wherever it is active, so its gradient keeps its size; " +
        "large weights can instead make it grow from layer to layer (exploding). In a recurrent layer the gradient " +
        "also travels back through time, and shrinks or grows at every step the same way." }),
      el("p", { class: "pg-hint", text: `Flags: ${FLAG_MARKS.vanishing} vanishing — under 1/100 of the largest layer's gradient; ` +
        `${FLAG_MARKS.exploding} exploding — over 1000; ${FLAG_MARKS.ok} ok.` }),
      this.experiment,
      this.tryRow);
  }

  needs() {
    return ["gradients"];
  }

  // The experiment, as the learner could build it by hand: every hidden
  // layer out, then 8 dense layers of 8 units in.
  tryDeep(activation) {
    const host = this.host;
    for (let i = 0; i < host.spec.layers.length; i++) host.edit("remove_layer");
    for (let i = 0; i < 8; i++) host.edit("insert_layer", { index: i, layer: { type: "dense", units: 8, activation } });
  }

  setSpec(spec) {
    const points = this.host.kind === "points"; // the builder's dense stacks are for the 2-D data
    this.tryRow.hidden = !points;
    this.experiment.textContent = points
      ? "The classic experiment: 8 hidden layers of 8 sigmoid units, then the same with relu. Watch the gap between the lightest and the darkest line."
      : "The classic experiment is on the 2-D data (choose the circle, say): 8 hidden layers of 8 sigmoid units against 8 of relu.";
    const key = JSON.stringify([spec.layers, spec.output, spec.task.dataset, spec.task.features]);
    if (key === this.specKey) return;
    this.specKey = key;
    // Another architecture: the old lines would not mean the same layers.
    this.labels = [...spec.layers.map((layer, i) => `layer ${i + 1} (${layer.type})`), "output"];
    this.clear();
    this.structureKey = null;
  }

  clear() {
    this.steps = [];
    this.norms = []; // per recorded step: a Float64Array with a norm per model layer (NaN: none)
    this.lastFrame = null;
    this.hoverIndex = null;
    this.chartDirty = true;
  }

  // --- recording -----------------------------------------------------------------

  record(header) {
    const flow = header.gradient_flow;
    const norms = Float64Array.from(flow, (v) => (v === null ? NaN : v));
    const last = this.steps.length - 1;
    if (last >= 0 && header.step < this.steps[last]) this.clear(); // Reset (or a loaded snapshot)
    if (this.steps.length && header.step === this.steps[this.steps.length - 1]) {
      this.norms[this.norms.length - 1] = norms; // paused: a weight edit changes the gradients, not the step
    } else {
      this.steps.push(header.step);
      this.norms.push(norms);
    }
    if (this.steps.length > HISTORY) {
      const keep = (_, k) => k % 2 === 0 || k === this.steps.length - 1;
      this.steps = this.steps.filter(keep);
      this.norms = this.norms.filter(keep);
    }
    this.chartDirty = true;
  }

  draw(frame) {
    const header = frame.header;
    const flow = header.gradient_flow;
    const usable = Array.isArray(flow) && flow.length === this.labels.length; // a frame of the old model is skipped
    if (frame !== this.lastFrame && usable) this.record(header);
    this.lastFrame = frame;
    // Record every frame, repaint at most ten times a second: a chart of
    // thousands of points redrawn 60 times a second costs more than training.
    const now = performance.now();
    if (usable && this.norms.length > 1 && now - (this.paintedAt || 0) < 100) return;
    this.paintedAt = now;
    this.waiting.hidden = usable;
    if (!usable) {
      this.waiting.textContent = header.diverged
        ? "The training diverged (the loss is not a number): there are no gradients to show. Press Reset."
        : "Waiting for the first gradients…";
    }
    if (!this.norms.length) {
      this.ratio.textContent = "";
      this.table.hidden = true;
      this.drawChart();
      return;
    }
    this.table.hidden = false;
    this.buildStructure();
    const current = this.norms[this.norms.length - 1];
    this.updateTable(current, usable ? header.gradient_flags || [] : []);
    this.updateRatio(current);
    if (this.chartDirty || this.canvas.width !== this.pixelWidth()) this.drawChart();
  }

  // --- the table and the sentence ----------------------------------------------------

  // Rows and legend change only with the architecture; every frame only updates their text and bars.
  buildStructure() {
    const current = this.norms[this.norms.length - 1];
    const positions = [];
    current.forEach((norm, position) => { if (!Number.isNaN(norm)) positions.push(position); });
    const key = JSON.stringify([positions, this.labels]);
    if (key === this.structureKey) return;
    this.structureKey = key;
    this.positions = positions;
    this.cells = [];
    this.legend.replaceChildren(...positions.map((position, rank) => el("span", { class: "pg-gradients-key" },
      el("span", { class: "pg-gradients-line", style: { background: this.lineColour(rank) } }), this.labels[position])));
    this.rows.replaceChildren(...positions.map((position, rank) => {
      const norm = el("td", { class: "pg-gradients-norm" });
      const fill = el("div", { class: "pg-gradients-fill", style: { background: this.lineColour(rank) } });
      const flag = el("td", { class: "pg-gradients-flag" });
      const row = el("tr", { "data-layer": position },
        el("th", { scope: "row" }, el("span", { class: "pg-gradients-key" },
          el("span", { class: "pg-gradients-line", style: { background: this.lineColour(rank) } }), this.labels[position])),
        norm, el("td", {}, el("div", { class: "pg-gradients-bar" }, fill)), flag);
      this.cells.push({ row, norm, fill, flag });
      return row;
    }));
    const without = this.labels.filter((_, position) => Number.isNaN(current[position]));
    this.omitted.textContent = without.length
      ? `Not listed: ${without.join(", ")} — ${without.length === 1 ? "it has" : "they have"} no weights, so no gradient of ${without.length === 1 ? "its" : "their"} own.`
      : "";
  }

  updateTable(current, flags) {
    const { low, high } = this.range();
    this.positions.forEach((position, rank) => {
      const { row, norm, fill, flag } = this.cells[rank];
      const value = current[position];
      row.dataset.norm = String(value);
      norm.textContent = scientific(value);
      const share = value > 0 ? (Math.log10(value) - low) / (high - low) : 0;
      fill.style.width = `${Math.round(100 * Math.min(1, Math.max(0, share)))}%`;
      const word = flags[position] || null;
      row.dataset.flag = word || "";
      flag.dataset.flag = word || "";
      flag.textContent = word ? `${FLAG_MARKS[word]} ${word}` : "";
    });
  }

  updateRatio(current) {
    const positions = this.positions;
    const output = this.labels.length - 1;
    const hidden = positions.filter((p) => p !== output);
    let text, ratio = null;
    if (!hidden.length) {
      text = "Only the output layer has weights: the gradient has no layers to pass through, so it cannot vanish.";
    } else {
      const first = hidden[0];
      const last = hidden.length > 1 ? hidden[hidden.length - 1] : output;
      const name = last === output ? "the output layer's" : "the last hidden layer's";
      ratio = current[first] / current[last];
      if (!Number.isFinite(ratio) || ratio === 0) {
        text = current[first] === 0
          ? `The first layer's gradient is 0: it does not learn at all (dead units, or the signal never reaches it).`
          : "The gradients are not finite: the training has diverged.";
      } else if (ratio > 0.5 && ratio < 2) {
        text = `The first layer's gradient is about as large as ${name} (${ratioWords(ratio)}): the gradient reaches the first layer in good health.`;
      } else {
        const verdict = ratio <= 0.01 ? "the gradient vanishes on its way back."
          : ratio < 1 ? "the gradient shrinks on its way back, but the first layer still learns."
          : ratio >= 100 ? "the gradient grows on its way back — it may explode." : "the gradient grows a little on its way back.";
        text = `The first layer's gradient is ${ratioWords(ratio)} ${ratio < 1 ? "of" : ""} ${name}: ${verdict}`.replace("  ", " ");
      }
    }
    this.ratio.textContent = text;
    this.ratio.dataset.ratio = ratio === null ? "" : String(ratio);
  }

  // --- the chart -------------------------------------------------------------------

  lineColour(rank) {
    const count = this.positions.length;
    return this.colours.size(count <= 1 ? 1 : 0.28 + 0.72 * rank / (count - 1)); // the lightest purple would vanish on white
  }

  // The log axis in whole decades around every recorded norm.
  range() {
    let min = Infinity, max = -Infinity;
    for (const norms of this.norms) {
      for (const position of this.positions) {
        const v = norms[position];
        if (v > 0 && Number.isFinite(v)) { min = Math.min(min, v); max = Math.max(max, v); }
      }
    }
    if (min === Infinity) return { low: -3, high: 0 };
    let low = Math.floor(Math.log10(min)), high = Math.ceil(Math.log10(max));
    if (high <= low) high = low + 1;
    return { low, high };
  }

  pixelWidth() {
    return Math.round((this.canvas.clientWidth || 640) * (window.devicePixelRatio || 1));
  }

  drawChart() {
    this.chartDirty = false;
    const canvas = this.canvas, ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 640, height = CHART_HEIGHT;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    canvas.dataset.points = String(this.steps.length);
    canvas.dataset.step = this.steps.length ? String(this.steps[this.steps.length - 1]) : "";
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const plot = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
    this.plot = plot;
    context.font = "12px system-ui, sans-serif";
    context.fillStyle = "#5c636a";
    context.strokeStyle = "#adb5bd";
    context.lineWidth = 1;
    context.strokeRect(plot.x + 0.5, plot.y + 0.5, plot.w, plot.h);
    if (!this.steps.length) {
      context.textAlign = "center";
      context.fillText("The chart fills in as the network trains.", plot.x + plot.w / 2, plot.y + plot.h / 2);
      return;
    }
    const { low, high } = this.range();
    const first = this.steps[0], last = this.steps[this.steps.length - 1];
    const span = Math.max(1, last - first);
    const x = (step) => plot.x + ((step - first) / span) * plot.w;
    const y = (value) => plot.y + plot.h - ((Math.log10(value) - low) / (high - low)) * plot.h;
    this.scale = { x, first, span };

    // Axes: a line per decade, a handful of step ticks.
    context.textAlign = "right";
    context.textBaseline = "middle";
    const every = Math.ceil((high - low) / 7);
    for (let e = low; e <= high; e += every) {
      const py = Math.round(y(10 ** e)) + 0.5;
      context.strokeStyle = "#e9ecef";
      context.beginPath(); context.moveTo(plot.x + 1, py); context.lineTo(plot.x + plot.w, py); context.stroke();
      context.fillText(power(e), plot.x - 6, py);
    }
    context.textAlign = "center";
    context.textBaseline = "top";
    for (const step of niceTicks(first, last, Math.max(2, Math.floor(plot.w / 110)))) {
      const px = Math.round(x(step)) + 0.5;
      context.strokeStyle = "#adb5bd";
      context.beginPath(); context.moveTo(px, plot.y + plot.h); context.lineTo(px, plot.y + plot.h + 4); context.stroke();
      context.fillText(step.toLocaleString("en"), px, plot.y + plot.h + 6);
    }
    context.fillText("training step", plot.x + plot.w / 2, plot.y + plot.h + 21);
    context.save();
    context.translate(13, plot.y + plot.h / 2);
    context.rotate(-Math.PI / 2);
    context.textBaseline = "middle";
    context.fillText("gradient norm", 0, 0);
    context.restore();

    // One line per layer; a norm of 0 (or not finite) has no place on a log scale: a gap.
    context.lineWidth = 2;
    context.lineJoin = "round";
    this.positions.forEach((position, rank) => {
      context.strokeStyle = context.fillStyle = this.lineColour(rank);
      context.beginPath();
      let drawing = false;
      for (let k = 0; k < this.steps.length; k++) {
        const v = this.norms[k][position];
        if (!(v > 0) || !Number.isFinite(v)) { drawing = false; continue; }
        if (drawing) context.lineTo(x(this.steps[k]), y(v));
        else context.moveTo(x(this.steps[k]), y(v));
        drawing = true;
      }
      context.stroke();
      if (this.steps.length === 1 && this.norms[0][position] > 0) { // one point is no line yet
        context.beginPath(); context.arc(x(first), y(this.norms[0][position]), 3, 0, 2 * Math.PI); context.fill();
      }
    });

    if (this.hoverIndex !== null && this.hoverIndex < this.steps.length) {
      const k = this.hoverIndex, px = Math.round(x(this.steps[k])) + 0.5;
      context.strokeStyle = "#495057";
      context.lineWidth = 1;
      context.setLineDash([3, 3]);
      context.beginPath(); context.moveTo(px, plot.y); context.lineTo(px, plot.y + plot.h); context.stroke();
      context.setLineDash([]);
      this.positions.forEach((position, rank) => {
        const v = this.norms[k][position];
        if (!(v > 0) || !Number.isFinite(v)) return;
        context.fillStyle = this.lineColour(rank);
        context.strokeStyle = "#212529";
        context.beginPath(); context.arc(px, y(v), 3.5, 0, 2 * Math.PI); context.fill(); context.stroke();
      });
    }
  }

  // --- hover -------------------------------------------------------------------------

  hover(event) {
    if (!this.steps.length || !this.scale) return;
    const box = this.canvas.getBoundingClientRect();
    const { first, span } = this.scale;
    const target = first + ((event.clientX - box.left - this.plot.x) / this.plot.w) * span;
    let lo = 0, hi = this.steps.length - 1; // the recorded step nearest the pointer
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.steps[mid] < target) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && target - this.steps[lo - 1] < this.steps[lo] - target) lo -= 1;
    if (lo !== this.hoverIndex) {
      this.hoverIndex = lo;
      this.drawChart();
    }
    const values = this.positions.map((position) => `${this.labels[position]} ${scientific(this.norms[lo][position], 1)}`);
    this.host.showTooltip(event, `Step ${this.steps[lo].toLocaleString("en")} — gradient norms: ${values.join("; ")}`);
  }

  unhover() {
    this.host.hideTooltip();
    this.hoverIndex = null;
    this.drawChart();
  }
}

// About `count` round step numbers between first and last.
function niceTicks(first, last, count) {
  if (last <= first) return [first];
  const rough = (last - first) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) || 10 * magnitude;
  const ticks = [];
  for (let t = Math.ceil(first / step) * step; t <= last; t += step) ticks.push(t);
  return ticks;
}
