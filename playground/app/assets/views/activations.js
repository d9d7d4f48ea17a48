// The activations view: what the hidden units do with the data.
//
// 1. This example: every layer's output for one example (a training example,
//    or a point the learner placed by clicking the output surface), a row of
//    coloured squares per layer.
// 2. The activation matrix: training examples (grouped by class) × every
//    hidden unit, or the mean per class; dead, always-on and saturated units
//    are marked above their columns and counted in words.
// 3. A PCA of one hidden layer: each example as a point, placed by the two
//    directions along which that layer's outputs vary the most.
//
// Everything is painted on canvases or updated in place; the DOM is rebuilt
// only when the network's structure changes.

import { el, formatNumber, legend, paintGrid, plural } from "./common.js";

const CELL_LIMIT = 64; // layers with more outputs are painted on a canvas, not as squares
const STATES = {
  1: { name: "dead", adjective: "dead", words: "never active for any of these examples: it passes nothing on and no longer learns" },
  2: { name: "always on", adjective: "always-on", words: "active for every one of these examples: it never bends, so it acts like a straight line (linear)" },
  3: { name: "saturated", adjective: "saturated", words: "stuck at a limit of its activation for nearly every example: its gradient is almost zero, so it learns very slowly" },
};

const CSS = `
.pg-activations-view { display: flex; flex-direction: column; gap: 14px; padding-top: 8px; position: relative; }
.pg-activations-section { display: flex; flex-direction: column; gap: 6px; }
.pg-activations-section p { margin: 0; }
.pg-activations-bar { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.pg-activations-which { font-size: 15px; font-weight: 600; }
.pg-activations-rows { display: flex; flex-direction: column; gap: 6px; }
.pg-activations-row { display: grid; grid-template-columns: 150px 1fr; gap: 8px; align-items: start; }
.pg-activations-row-label { font-size: 12px; color: #343a40; line-height: 1.25; padding-top: 2px; }
.pg-activations-row-label small { display: block; color: #5c636a; font-size: 11px; }
.pg-activations-cells { display: flex; flex-wrap: wrap; gap: 2px; }
.pg-activations-cell { width: 18px; height: 18px; border: 1px solid #adb5bd; box-sizing: border-box; }
.pg-activations-cell[data-state="dead"], .pg-activations-cell[data-state="always on"],
.pg-activations-cell[data-state="saturated"] { border: 2px solid var(--pg-alert); }
.pg-activations-strip { display: block; image-rendering: pixelated; border: 1px solid #adb5bd; }
.pg-activations-matrix-box { overflow-x: auto; position: relative; }
.pg-activations-matrix { display: block; }
.pg-activations-toggle { display: inline-flex; }
.pg-activations-toggle .pg-button { border-radius: 0; }
.pg-activations-toggle .pg-button:first-child { border-radius: 4px 0 0 4px; }
.pg-activations-toggle .pg-button:last-child { border-radius: 0 4px 4px 0; margin-left: -1px; }
.pg-activations-toggle .pg-button[aria-pressed="true"] { background: #495057; color: #fff; border-color: #495057; }
.pg-activations-marks { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; color: #343a40; }
.pg-activations-mark { display: inline-flex; gap: 5px; align-items: center; }
.pg-activations-flags { margin: 0; padding-left: 18px; font-size: 13px; }
.pg-activations-flags li { color: #343a40; }
.pg-activations-flags li strong { color: var(--pg-alert); }
.pg-activations-lower { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.pg-activations-pca-plot { display: grid; grid-template-columns: 18px auto; grid-template-rows: auto 18px; gap: 2px; }
.pg-activations-pca-y { writing-mode: vertical-rl; transform: rotate(180deg); text-align: center; font-size: 12px; color: #343a40; height: 300px; }
.pg-activations-pca-x { grid-column: 2; text-align: center; font-size: 12px; color: #343a40; }
.pg-activations-pca { border: 1px solid #adb5bd; background: #fff; }
.pg-activations-pca-side { flex: 1 1 220px; display: flex; flex-direction: column; gap: 8px; max-width: 340px; }
.pg-activations-select { font: inherit; }
.pg-activations-classes { display: flex; flex-wrap: wrap; gap: 4px 10px; font-size: 12px; }
.pg-activations-ring { width: 12px; height: 12px; border-radius: 50%; border: 3px solid var(--pg-alert); box-sizing: border-box; display: inline-block; }
.pg-activations-view [hidden] { display: none !important; }
`;

export default class ActivationsView {
  constructor(host) {
    this.host = host;
    this.model = host.model;
    this.colours = host.colours;
    this.alert = host.model.palette.alert;
    this.pcaLayer = undefined; // the layer the learner chose for the PCA (undefined: the last one)
    this.matrixMode = "inputs";
    this.pcaExtent = 1;
    this.element = el("div", { class: "pg-activations-view" });
    this.element.style.setProperty("--pg-alert", this.alert);
    this.element.append(el("style", { text: CSS }));
    this.status = el("p", { class: "pg-hint", "data-role": "activations-status", hidden: true });
    this.element.append(this.status, this.buildExample(), this.buildMatrix(), this.buildPca());
    this.resizeObserver = new ResizeObserver(() => {
      if (!this.element.isConnected) return;
      this.matrixKey = null;
      if (this.host.frame) this.draw(this.host.frame);
    });
    this.resizeObserver.observe(this.matrixBox);
  }

  needs() {
    return ["activations"];
  }

  destroy() {
    this.resizeObserver.disconnect();
  }

  setSpec(spec) {
    this.spec = spec;
    this.rowsKey = null;
    this.matrixKey = null;
    this.pcaOptionsKey = null;
    this.flagsText = null;
    this.classesKey = null;
    if (this.host.frame) this.draw(this.host.frame);
  }

  // --- building -------------------------------------------------------------------

  buildExample() {
    this.which = el("p", { class: "pg-activations-which", "data-role": "example", "aria-live": "polite", text: "…" });
    this.previous = el("button", { type: "button", class: "pg-button", "data-role": "previous-example",
      onclick: () => this.step(-1) }, "◀ Previous example");
    this.next = el("button", { type: "button", class: "pg-button", "data-role": "next-example",
      onclick: () => this.step(1) }, "Next example ▶");
    this.clickHint = el("p", { class: "pg-hint", "data-role": "click-hint",
      text: "Click in the output surface on the right to look at another training point, or anywhere away from the points to place a new point there (the pink ring marks it)." });
    this.rows = el("div", { class: "pg-activations-rows", "data-role": "example-rows" });
    this.rows.addEventListener("mousemove", (event) => this.hoverRow(event));
    this.rows.addEventListener("mouseleave", () => this.host.hideTooltip());
    this.rowsNote = el("p", { class: "pg-hint", hidden: true });
    return el("section", { class: "pg-activations-section", "aria-label": "This example" },
      el("h3", { class: "pg-heading", text: "This example" }),
      el("div", { class: "pg-activations-bar" }, this.which, this.previous, this.next),
      this.clickHint, this.rows, this.rowsNote,
      legend(this.colours, { low: "negative", high: "positive", text: "Each square is one unit's output for this example: orange negative, blue positive, pale near zero. A row whose values go past ±1 is scaled to its largest value (given under its name). A pink border marks a unit flagged below." }));
  }

  buildMatrix() {
    this.modeButtons = {
      inputs: el("button", { type: "button", class: "pg-button", "aria-pressed": "true", "data-mode": "inputs",
        onclick: () => this.setMode("inputs") }, "Every example"),
      classes: el("button", { type: "button", class: "pg-button", "aria-pressed": "false", "data-mode": "classes",
        onclick: () => this.setMode("classes") }, "Mean per class"),
    };
    this.toggle = el("div", { class: "pg-activations-toggle", role: "group", "aria-label": "Rows of the matrix",
      "data-role": "matrix-mode" }, this.modeButtons.inputs, this.modeButtons.classes);
    this.matrixHint = el("p", { class: "pg-hint" });
    this.matrixCanvas = el("canvas", { class: "pg-activations-matrix", "data-role": "matrix", role: "img",
      "aria-label": "Activation matrix: examples by hidden units" });
    this.matrixCanvas.addEventListener("mousemove", (event) => this.hoverMatrix(event));
    this.matrixCanvas.addEventListener("mouseleave", () => this.host.hideTooltip());
    this.matrixBox = el("div", { class: "pg-activations-matrix-box" }, this.matrixCanvas);
    this.matrixClasses = el("div", { class: "pg-activations-classes" });
    const mark = (state, text) => {
      const canvas = el("canvas", { width: 14, height: 14, "aria-hidden": "true" });
      drawMark(canvas.getContext("2d"), state, 7, 7, 12, this.alert);
      return el("span", { class: "pg-activations-mark" }, canvas, text);
    };
    this.marks = el("div", { class: "pg-activations-marks" },
      mark(1, "dead: never active (column hatched)"),
      mark(2, "always on: acts linearly (dashed outline)"),
      mark(3, "saturated: stuck at a limit (outlined)"));
    this.flags = el("ul", { class: "pg-activations-flags", "data-role": "unit-flags" });
    this.flagsNone = el("p", { class: "pg-hint", "data-role": "no-flags" });
    return el("section", { class: "pg-activations-section", "aria-label": "Activation matrix" },
      el("div", { class: "pg-activations-bar" }, el("h3", { class: "pg-heading", text: "Activation matrix" }), this.toggle),
      this.matrixHint, this.matrixBox, this.matrixClasses, this.marks, this.flags, this.flagsNone);
  }

  buildPca() {
    this.pcaSelect = el("select", { class: "pg-activations-select", "aria-label": "Hidden layer for the PCA",
      "data-role": "pca-layer-select", onchange: (event) => this.choosePcaLayer(Number(event.target.value)) });
    this.pcaCanvas = el("canvas", { class: "pg-activations-pca", "data-role": "pca", role: "img",
      "aria-label": "PCA scatter of a hidden layer's outputs", "data-points": "0" });
    this.pcaX = el("span", { class: "pg-activations-pca-x", text: "PC 1" });
    this.pcaY = el("span", { class: "pg-activations-pca-y", text: "PC 2" });
    this.pcaText = el("p", { "data-role": "pca-layer", text: "…" });
    this.pcaLegend = el("div", { class: "pg-activations-classes" });
    this.pcaLegendScale = el("div");
    this.pcaRing = el("span", { class: "pg-activations-mark pg-hint" }, el("span", { class: "pg-activations-ring" }),
      "the example shown above");
    this.pcaBody = el("div", { class: "pg-activations-lower" },
      el("div", { class: "pg-activations-pca-plot" }, this.pcaY, this.pcaCanvas, this.pcaX),
      el("div", { class: "pg-activations-pca-side" },
        el("label", { class: "pg-activations-bar" }, el("span", { text: "Layer" }), this.pcaSelect),
        this.pcaText,
        el("p", { class: "pg-hint", text: "Examples this layer treats alike land close together. Classes that separate here are easy for the layers after it to tell apart; classes that still overlap must be untangled by later layers — or cannot be." }),
        this.pcaLegend, this.pcaLegendScale, this.pcaRing));
    this.pcaEmpty = el("p", { class: "pg-placeholder", hidden: true,
      text: "This network has no hidden layer with units yet: add one to see how it arranges the examples." });
    this.pcaCanvas.addEventListener("mousemove", (event) => this.hoverPca(event));
    this.pcaCanvas.addEventListener("mouseleave", () => this.host.hideTooltip());
    return el("section", { class: "pg-activations-section", "aria-label": "PCA of a hidden layer" },
      el("h3", { class: "pg-heading", text: "How a layer arranges the examples (PCA)" }), this.pcaBody, this.pcaEmpty);
  }

  // --- actions ----------------------------------------------------------------------

  trainingCount() {
    const labels = this.host.data && this.host.data.labelsTrain;
    return labels ? labels.shape[0] : null;
  }

  step(direction) {
    const frame = this.host.frame;
    if (!frame) return;
    const count = this.trainingCount();
    // The newest choice, even when its frame has not come back yet (quick clicks).
    const chosen = this.host.selection;
    const current = chosen ? (chosen.values === undefined ? chosen.index : null) : frame.header.selected;
    let index = current === null || current === undefined ? (direction > 0 ? 0 : -1) : current + direction;
    if (count) index = (index + count) % count;
    else index = Math.max(0, index);
    this.host.select({ index });
  }

  setMode(mode) {
    this.matrixMode = mode;
    for (const [name, button] of Object.entries(this.modeButtons)) button.setAttribute("aria-pressed", String(name === mode));
    this.matrixKey = null;
    if (this.host.frame) this.draw(this.host.frame);
  }

  choosePcaLayer(position) {
    this.pcaLayer = position;
    this.host.sendViews();
  }

  // --- names ------------------------------------------------------------------------

  layerInfo(position) {
    const spec = this.spec || this.host.spec;
    if (position === "input") {
      return { title: "Input", detail: "the features fed to the network", unit: (i) => this.featureLabel(i) };
    }
    if (position >= spec.layers.length) {
      const activation = spec.output.activation;
      const multi = this.host.outputUnits() > 1;
      return { title: "Output", detail: activation,
        unit: (i) => multi ? `output for class ${this.className(i)}` : "the output" };
    }
    const layer = spec.layers[position];
    const n = position + 1;
    switch (layer.type) {
      case "dense":
        return { title: `Layer ${n}`, detail: `dense, ${plural(layer.units, "neuron")}, ${layer.activation}`,
          short: `layer ${n} · ${layer.activation}`, activation: layer.activation, unit: (i) => `neuron ${n}.${i + 1}` };
      case "conv2d":
        return { title: `Layer ${n}`, detail: `convolution, ${plural(layer.filters, "filter")}, ${layer.activation}`,
          short: `layer ${n} · conv`, activation: layer.activation, unit: (i) => `filter ${i + 1} of layer ${n}`,
          averaged: "the mean of its feature map" };
      case "rnn": case "gru": case "lstm": {
        const name = { rnn: "simple RNN", gru: "GRU", lstm: "LSTM" }[layer.type];
        return { title: `Layer ${n}`, detail: `${name}, ${plural(layer.units, "unit")}`, short: `layer ${n} · ${layer.type}`,
          activation: layer.activation || "tanh", unit: (i) => `unit ${n}.${i + 1}`,
          averaged: "the mean of its state over the steps", final: "its state after the last step" };
      }
      case "flatten":
        return { title: `Layer ${n}`, detail: "flatten: the feature maps in one row", unit: (i) => `value ${i + 1}` };
      default:
        return { title: `Layer ${n}`, detail: layer.type, unit: (i) => `value ${i + 1}` };
    }
  }

  inputFeatures() {
    const spec = this.spec || this.host.spec;
    const features = spec.task.features;
    return features && features.length ? features : ["x1", "x2"];
  }

  featureLabel(i) {
    const name = this.inputFeatures()[i];
    return (name && this.model.feature_labels[name]) || `input ${i + 1}`;
  }

  regression() {
    return !this.model.classes;
  }

  className(label) {
    const spec = this.spec || this.host.spec;
    if (this.host.outputUnits() === 1) return label > 0 ? "+" : "−";
    if (spec.task.dataset === "digits") return String(label);
    const kinds = spec.task.options && spec.task.options.kinds;
    if (kinds && kinds[label] !== undefined) return String(kinds[label]);
    return String(label + 1);
  }

  classColour(label) {
    if (this.host.outputUnits() === 1) return label > 0 ? this.model.palette.positive : this.model.palette.negative;
    return this.colours.classColour(label);
  }

  // Past the palette's colours, classes repeat a colour with another shape.
  classShape(label) {
    if (this.host.outputUnits() === 1) return 0;
    return Math.floor(label / this.model.palette.classes.length) % SHAPES;
  }

  classItem(label) {
    const canvas = el("canvas", { width: 14, height: 14, "aria-hidden": "true" });
    const context = canvas.getContext("2d");
    context.fillStyle = this.classColour(label);
    context.strokeStyle = "#495057";
    context.lineWidth = 1;
    drawShape(context, this.classShape(label), 7, 7, 6);
    return el("span", { class: "pg-legend-item" }, canvas, `class ${this.className(label)}`);
  }

  exampleWord() {
    return { points: "point", image: "image", sequence: "sequence" }[this.host.kind] || "example";
  }

  describeExample(header, arrays) {
    const word = this.exampleWord();
    const selected = header.selected;
    if (selected === null || selected === undefined) {
      const selection = this.host.selection;
      if (this.host.kind === "points") {
        let values = selection && selection.values;
        if (!values && arrays["act/input"]) values = Array.from(arrays["act/input"].data.slice(0, 2));
        return values ? `The point you placed at (${signed(values[0])}, ${signed(values[1])})` : "The point you placed";
      }
      return `The ${word} you made`;
    }
    const count = this.trainingCount();
    let text = `Training ${word} ${selected + 1}${count ? ` of ${count}` : ""}`;
    const labels = this.host.data && this.host.data.labelsTrain;
    if (labels && labels.shape.length === 1 && selected < labels.shape[0]) {
      const label = labels.data[selected];
      text += this.regression() ? ` (target ${signed(label)})` : ` (class ${this.className(label)})`;
    }
    return text;
  }

  // --- drawing ----------------------------------------------------------------------

  draw(frame) {
    if (!this.spec) this.spec = this.host.spec;
    const { header, arrays } = frame;
    const has = arrays["matrix/inputs"] !== undefined || (header.matrix_layers && !header.matrix_layers.length);
    if (!has) { // keep the last picture: a frame made before this view's needs reached the worker
      const text = header.diverged
        ? "The network has diverged (its numbers are no longer finite): there are no activations to show. Reset it or lower the learning rate."
        : this.drawnOnce ? "" : "Computing the activations…";
      setText(this.status, text);
      this.status.hidden = !text;
      return;
    }
    this.status.hidden = true;
    this.drawnOnce = true;
    const states = this.unitStates(header, arrays);
    this.drawExample(header, arrays, states);
    this.drawMatrix(header, arrays, states);
    this.drawFlags(header, states);
    this.drawPca(header, arrays);
  }

  unitStates(header, arrays) {
    const states = new Map(); // position -> Uint8Array
    for (const [position] of header.matrix_layers || []) {
      const array = arrays[`units/${position}`];
      if (array) states.set(position, array.data);
    }
    return states;
  }

  // 1. This example ------------------------------------------------------------------

  drawExample(header, arrays, states) {
    const points = this.host.kind === "points";
    this.clickHint.hidden = !points;
    setText(this.which, this.describeExample(header, arrays));
    this.which.dataset.selected = header.selected === null || header.selected === undefined ? "custom" : String(header.selected);
    const names = Object.keys(arrays).filter((name) => name.startsWith("act/"))
      .map((name) => name.slice(4))
      .filter((key) => key === "input" || this.isShownLayer(Number(key)))
      .sort((a, b) => (a === "input" ? -1 : b === "input" ? 1 : Number(a) - Number(b)));
    const key = JSON.stringify([names.map((n) => [n, arrays[`act/${n}`].data.length]), this.spec.layers, this.spec.output, this.spec.task.features]);
    if (key !== this.rowsKey) {
      this.rowsKey = key;
      this.buildRows(names, arrays);
    }
    if (!names.length && this.drawnOnce) {
      this.rowsNote.hidden = false;
      this.rowsNote.textContent = "In this task every layer gives one vector per time step, not one per example, so there is no single row per layer to show. The matrix below shows each unit's mean over the steps; the Network tab shows the states step by step.";
    } else {
      this.rowsNote.hidden = true;
    }
    for (const row of this.rowList) {
      const array = arrays[`act/${row.key}`];
      if (!array) continue;
      const values = array.data;
      let top = 0;
      for (const v of values) if (Number.isFinite(v)) top = Math.max(top, Math.abs(v));
      const scale = top > 1 ? 1 / top : 1;
      setText(row.scaleNote, scale !== 1 ? `scaled: largest ${formatNumber(top, 2)}` : "");
      row.values = values;
      if (row.cells) {
        const flags = row.key === "input" ? null : states.get(Number(row.key));
        row.cells.forEach((cell, i) => {
          const v = values[i];
          if (cell.last !== v) {
            cell.last = v;
            cell.element.style.background = this.colours.value(v * scale);
            cell.element.dataset.value = formatNumber(v, 4);
          }
          const state = flags && flags.length === row.cells.length && STATES[flags[i]] ? STATES[flags[i]].name : "";
          if (cell.state !== state) {
            cell.state = state;
            if (state) cell.element.dataset.state = state;
            else delete cell.element.dataset.state;
          }
        });
      } else {
        this.paintStrip(row, values, scale);
      }
    }
  }

  isShownLayer(position) {
    const layer = this.spec.layers[position];
    return !layer || layer.type !== "dropout"; // a dropout layer repeats the layer before it (no dropout when looking)
  }

  buildRows(names, arrays) {
    this.rowList = [];
    const rows = names.map((key) => {
      const info = this.layerInfo(key === "input" ? "input" : Number(key));
      const count = arrays[`act/${key}`].data.length;
      const scaleNote = el("small", { class: "pg-activations-scale" });
      let detail = info.detail;
      if (info.final) detail += `; ${info.final}`;
      const label = el("div", { class: "pg-activations-row-label" }, el("strong", { text: info.title }),
        el("small", { text: detail }), scaleNote);
      const row = { key, info, scaleNote, count };
      let body;
      if (count <= CELL_LIMIT) {
        row.cells = [];
        body = el("div", { class: "pg-activations-cells" });
        for (let i = 0; i < count; i++) {
          const cell = el("span", { class: "pg-activations-cell", "data-unit": i, "data-value": "" });
          row.cells.push({ element: cell, last: undefined, state: "" });
          body.append(cell);
        }
      } else {
        const perLine = 64, size = 9;
        row.strip = { perLine, size, lines: Math.ceil(count / perLine) };
        body = el("canvas", { class: "pg-activations-strip", width: perLine * size, height: row.strip.lines * size,
          "data-values": "" });
        row.canvas = body;
      }
      this.rowList.push(row);
      return el("div", { class: "pg-activations-row", "data-layer": key }, label, body);
    });
    this.rows.replaceChildren(...rows);
  }

  paintStrip(row, values, scale) {
    const { perLine, size } = row.strip;
    const context = row.canvas.getContext("2d");
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, row.canvas.width, row.canvas.height);
    for (let i = 0; i < values.length; i++) {
      context.fillStyle = this.colours.value(values[i] * scale);
      context.fillRect((i % perLine) * size, Math.floor(i / perLine) * size, size - 1, size - 1);
    }
    row.canvas.dataset.values = Array.from(values, (v) => formatNumber(v, 3)).join(" ");
  }

  hoverRow(event) {
    const rowElement = event.target.closest(".pg-activations-row");
    if (!rowElement) return this.host.hideTooltip();
    const row = this.rowList.find((r) => r.key === rowElement.dataset.layer);
    if (!row || !row.values) return this.host.hideTooltip();
    let unit = null;
    if (row.cells) {
      const cell = event.target.closest("[data-unit]");
      if (cell) unit = Number(cell.dataset.unit);
    } else if (event.target === row.canvas) {
      const box = row.canvas.getBoundingClientRect();
      const { perLine, size } = row.strip;
      const col = Math.floor(((event.clientX - box.left) / box.width) * row.canvas.width / size);
      const line = Math.floor(((event.clientY - box.top) / box.height) * row.canvas.height / size);
      const k = line * perLine + col;
      if (col < perLine && k < row.values.length) unit = k;
    }
    if (unit === null) return this.host.hideTooltip();
    const value = row.values[unit];
    let text = `${capitalise(row.info.unit(unit))}: ${formatNumber(value)} (${value > 0 ? "blue: positive" : value < 0 ? "orange: negative" : "zero"})`;
    if (row.cells && row.cells[unit].state) text += `. Flagged: ${row.cells[unit].state} (see below the matrix).`;
    this.host.showTooltip(event, text);
  }

  // 2. The activation matrix ---------------------------------------------------------

  drawMatrix(header, arrays, states) {
    const layers = header.matrix_layers || [];
    const inputs = arrays["matrix/inputs"];
    const classesArray = arrays["matrix/classes"];
    const labels = arrays["matrix/labels"];
    this.toggle.hidden = !classesArray;
    const mode = this.matrixMode === "classes" && classesArray ? "classes" : "inputs";
    const matrix = mode === "classes" ? classesArray : inputs;
    if (!layers.length || !matrix) {
      this.matrixBox.hidden = true;
      this.matrixClasses.hidden = true;
      setText(this.matrixHint, layers.length ? "" : "This network has no hidden layer with units yet: add one to see what its units do.");
      this.matrixLayout = null;
      return;
    }
    this.matrixBox.hidden = false;
    const [rows, columns] = matrix.shape;
    const rowLabels = mode === "classes" ? Array.from({ length: rows }, (_, i) => i) : labels ? labels.data : null;
    const perStep = !labels && !this.regression();
    setText(this.matrixHint, (mode === "classes"
      ? "Each row is one class: the mean of each unit's output over the examples of that class. A column that differs between rows responds to the class."
      : `Each row is one of ${rows} training examples${rowLabels ? ", grouped by class (the colour strip at the left)" : ""}; each column is one hidden unit.`)
      + " Colour: the unit's output, orange negative, blue positive, each column scaled to its largest size over these examples."
      + (mode === "inputs" ? " A column that looks the same in every row does not tell the examples apart." : "")
      + (perStep ? " In this task the labels belong to steps, not to whole examples: the rows are not grouped." : ""));

    const key = JSON.stringify([layers, rows, columns, mode, this.matrixBox.clientWidth, this.spec.layers]);
    if (key !== this.matrixKey) {
      this.matrixKey = key;
      this.layoutMatrix(layers, rows, columns, mode, rowLabels !== null);
    }
    const layout = this.matrixLayout;
    if (!layout) return;
    layout.matrix = matrix;
    layout.rowLabels = rowLabels;
    layout.states = states;
    const context = this.matrixContext;
    const ratio = layout.ratio;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, layout.width, layout.height);
    paintGrid(this.matrixScratch, matrix.data, 0, columns, rows, this.colours);
    context.imageSmoothingEnabled = false;
    const { top, cellW, cellH } = layout;
    const bottom = top + rows * cellH;
    context.font = "12px system-ui, sans-serif";
    context.textAlign = "center";
    context.textBaseline = "alphabetic";
    const dead = [];
    for (const group of layout.groups) {
      context.drawImage(this.matrixScratch, group.start, 0, group.units, rows, group.x, top, group.units * cellW, rows * cellH);
      context.fillStyle = "#343a40";
      const width = group.units * cellW;
      context.fillText(fitText(context, group.label, Math.max(width + 4, 24)), group.x + width / 2, 12);
      const flags = states.get(group.position);
      if (!flags || flags.length !== group.units) continue;
      for (let u = 0; u < group.units; u++) {
        const state = flags[u];
        if (!STATES[state]) continue;
        const x = group.x + u * cellW;
        drawMark(context, state, x + cellW / 2, layout.markY, Math.max(7, Math.min(12, cellW + 2)), this.alert);
        context.strokeStyle = this.alert;
        if (state === 1) {
          dead.push(`${group.position}-${u}`);
          hatch(context, x, top, cellW, rows * cellH, this.alert);
          context.lineWidth = 1.5;
          context.setLineDash([]);
        } else if (state === 2) {
          context.lineWidth = 2;
          context.setLineDash([4, 3]);
        } else {
          context.lineWidth = 2;
          context.setLineDash([]);
        }
        context.strokeRect(x + 1, top + 1, cellW - 2, rows * cellH - 2);
        context.setLineDash([]);
      }
    }
    // The class strip, and thin lines between the classes.
    if (rowLabels) {
      let start = 0;
      context.font = "bold 10px system-ui, sans-serif";
      context.textBaseline = "middle";
      for (let r = 1; r <= rows; r++) {
        if (r < rows && rowLabels[r] === rowLabels[start]) continue;
        const label = rowLabels[start];
        const y = top + start * cellH, height = (r - start) * cellH;
        context.fillStyle = this.classColour(label);
        context.fillRect(0, y, layout.strip, height);
        const name = this.className(label);
        if (height >= 12 && name.length <= 2) { // the class's name, where there is room
          context.fillStyle = "#ffffff";
          context.fillText(name, layout.strip / 2, y + height / 2);
        }
        if (start > 0) {
          context.fillStyle = "#ffffff";
          context.fillRect(0, y - 1, layout.width, 2);
        }
        start = r;
      }
    }
    context.strokeStyle = "#adb5bd";
    context.lineWidth = 1;
    for (const group of layout.groups) context.strokeRect(group.x - 0.5, top - 0.5, group.units * cellW + 1, bottom - top + 1);
    const canvas = this.matrixCanvas;
    canvas.dataset.mode = mode;
    canvas.dataset.rows = rows;
    canvas.dataset.columns = columns;
    canvas.dataset.dead = dead.join(" ");
    this.drawMatrixClasses(rowLabels !== null, rowLabels, mode);
  }

  layoutMatrix(layers, rows, columns, mode, strip) {
    const available = Math.max(300, (this.matrixBox.clientWidth || 640) - 4);
    const left = strip ? 18 : 0;
    const gap = 8;
    const cellW = Math.max(3, Math.min(28, Math.floor((available - left - gap * (layers.length - 1)) / Math.max(1, columns))));
    const cellH = mode === "classes" ? Math.max(10, Math.min(28, Math.floor(260 / rows))) : Math.max(4, Math.min(12, Math.floor(300 / rows)));
    const groups = [];
    let x = left, start = 0;
    for (const [position, units] of layers) {
      const info = this.layerInfo(position);
      groups.push({ position, units, x, start, info, label: info.short || info.title.toLowerCase() });
      x += units * cellW + gap;
      start += units;
    }
    const width = Math.max(x - gap + 2, 120);
    const top = 34;
    const height = top + rows * cellH + 2;
    const ratio = window.devicePixelRatio || 1;
    const canvas = this.matrixCanvas;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    this.matrixContext = canvas.getContext("2d");
    this.matrixScratch = this.matrixScratch || document.createElement("canvas");
    this.matrixLayout = { width, height, top, markY: 24, cellW, cellH, groups, strip: strip ? 14 : 0, left, rows, mode, ratio };
  }

  drawMatrixClasses(show, rowLabels, mode) {
    const key = show ? JSON.stringify([Array.from(new Set(rowLabels)), mode, this.host.outputUnits()]) : "";
    if (key === this.classesKey) return;
    this.classesKey = key;
    this.matrixClasses.hidden = !show;
    if (!show) return;
    const present = Array.from(new Set(rowLabels)).sort((a, b) => a - b);
    this.matrixClasses.replaceChildren(el("span", { class: "pg-hint", text: "Strip at the left, the class of each row:" }),
      ...present.map((label) => this.classItem(label)));
  }

  hoverMatrix(event) {
    const layout = this.matrixLayout;
    if (!layout || !layout.matrix) return;
    const box = this.matrixCanvas.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    const row = Math.floor((y - layout.top) / layout.cellH);
    const rowText = () => {
      const label = layout.rowLabels ? layout.rowLabels[row] : null;
      if (layout.mode === "classes") return `Class ${this.className(row)} (the mean over its examples)`;
      return `Example ${row + 1} of ${layout.rows} shown${label !== null && label !== undefined ? ` (class ${this.className(label)})` : ""}`;
    };
    if (row < 0 || row >= layout.rows) {
      const group = layout.groups.find((g) => x >= g.x && x < g.x + g.units * layout.cellW);
      if (!group) return this.host.hideTooltip();
      const u = Math.floor((x - group.x) / layout.cellW);
      const flags = layout.states.get(group.position);
      const state = flags && STATES[flags[u]];
      return this.host.showTooltip(event, `${capitalise(group.info.unit(u))} (${group.info.title}, ${group.info.detail})`
        + (state ? `: ${state.name} — ${state.words}.` : ": working normally."));
    }
    if (x < layout.left) {
      if (!layout.rowLabels) return this.host.hideTooltip();
      return this.host.showTooltip(event, `${rowText()}: the strip shows its class's colour.`);
    }
    const group = layout.groups.find((g) => x >= g.x && x < g.x + g.units * layout.cellW);
    if (!group) return this.host.hideTooltip();
    const u = Math.floor((x - group.x) / layout.cellW);
    const value = layout.matrix.data[row * layout.matrix.shape[1] + group.start + u];
    const flags = layout.states.get(group.position);
    const state = flags && STATES[flags[u]];
    const averaged = group.info.averaged ? ` (${group.info.averaged})` : "";
    this.host.showTooltip(event, `${rowText()} · ${group.info.unit(u)}${averaged}: ${formatNumber(value, 2)}, `
      + `where ±1 is this unit's largest output over these examples.${state ? ` This unit is ${state.name}: ${state.words}.` : ""}`);
  }

  drawFlags(header, states) {
    const items = [];
    for (const [position] of header.matrix_layers || []) {
      const flags = states.get(position);
      if (!flags) continue;
      const info = this.layerInfo(position);
      for (const [code, state] of Object.entries(STATES)) {
        const units = [];
        flags.forEach((f, i) => { if (f === Number(code)) units.push(i); });
        if (!units.length) continue;
        const activation = info.activation ? ` (${info.activation})` : "";
        const unitWord = units.length === 1 ? "unit" : "units";
        items.push({ position, state: state.name, units,
          head: `${units.length} ${state.adjective} ${unitWord} in ${info.title.toLowerCase()}${activation}`,
          tail: `: ${units.map((u) => info.unit(u)).join(", ")} — ${units.length === 1 ? "it is" : "each is"} ${state.words}.` });
      }
    }
    const text = JSON.stringify(items);
    if (text === this.flagsText) return;
    this.flagsText = text;
    this.flags.replaceChildren(...items.map((item) => el("li", { "data-state": item.state, "data-layer": item.position,
      "data-units": item.units.join(" ") }, el("strong", { text: item.head }), item.tail)));
    this.flagsNone.hidden = items.length > 0;
    this.flagsNone.textContent = (header.matrix_layers || []).length
      ? "No dead, always-on or saturated units right now: every hidden unit responds differently to different examples."
      : "";
  }

  // 3. The PCA scatter -------------------------------------------------------------------

  drawPca(header, arrays) {
    const layers = header.matrix_layers || [];
    const points = arrays["pca/points"];
    this.pcaBody.hidden = !layers.length || !points;
    this.pcaEmpty.hidden = layers.length > 0 || !this.drawnOnce;
    if (!layers.length || !points) return;
    const optionsKey = JSON.stringify([layers, this.spec.layers]);
    if (optionsKey !== this.pcaOptionsKey) {
      this.pcaOptionsKey = optionsKey;
      this.pcaSelect.replaceChildren(...layers.map(([position, units]) => {
        const info = this.layerInfo(position);
        return el("option", { value: position, text: `${info.title}: ${info.detail}` });
      }));
      if (this.pcaLayer !== undefined && !layers.some(([p]) => p === this.pcaLayer)) this.pcaLayer = undefined;
    }
    const shown = header.pca_layer;
    // While the worker has not yet answered a new choice, keep the select on it.
    const wanted = this.pcaLayer !== undefined ? this.pcaLayer : shown;
    if (document.activeElement !== this.pcaSelect && this.element.getRootNode().activeElement !== this.pcaSelect
      && String(wanted) !== this.pcaSelect.value) this.pcaSelect.value = String(wanted);
    const info = this.layerInfo(shown);
    const count = points.shape[0];
    const explained = header.pca_explained || [0, 0];
    const flat = explained[0] + explained[1] < 1e-6;
    setText(this.pcaText, `${info.title} (${info.detail}): each of ${count} training examples is a point, placed by the two directions along which this layer's outputs vary the most${info.averaged ? ` (each unit taken as ${info.averaged})` : ""}. `
      + (flat ? "Here every example lands on the same spot: the layer gives the same output for all of them (its units are dead or constant), so the layers after it cannot tell any examples apart."
        : `Together they hold ${percent(explained[0] + explained[1])} of the variation.`));
    this.pcaText.dataset.layer = shown;
    setText(this.pcaX, `PC 1 (${percent(explained[0])})`);
    setText(this.pcaY, `PC 2 (${percent(explained[1])})`);

    const size = 300, ratio = window.devicePixelRatio || 1;
    const canvas = this.pcaCanvas;
    if (canvas.width !== Math.round(size * ratio) || canvas.height !== Math.round(size * ratio)) {
      canvas.width = canvas.height = Math.round(size * ratio);
      canvas.style.width = canvas.style.height = `${size}px`;
    }
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, size, size);
    const data = points.data;
    let top = 1e-9;
    for (let k = 0; k < data.length; k++) if (Number.isFinite(data[k])) top = Math.max(top, Math.abs(data[k]));
    // Grow at once, shrink slowly: the picture does not jump from frame to frame.
    this.pcaExtent = top > this.pcaExtent || this.pcaShown !== shown ? top : Math.max(top, this.pcaExtent * 0.97);
    this.pcaShown = shown;
    const scale = (size / 2 - 10) / this.pcaExtent;
    const place = (k) => [size / 2 + data[2 * k] * scale, size / 2 - data[2 * k + 1] * scale];
    context.strokeStyle = "#dee2e6";
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(size / 2, 0); context.lineTo(size / 2, size);
    context.moveTo(0, size / 2); context.lineTo(size, size / 2);
    context.stroke();
    const labels = arrays["pca/labels"];
    const floatLabels = labels && labels.data instanceof Float32Array;
    const labelTop = floatLabels ? Math.max(1e-9, ...Array.from(labels.data, Math.abs)) : 1;
    context.lineWidth = 0.8;
    context.strokeStyle = "rgba(33, 37, 41, 0.55)";
    for (let k = 0; k < count; k++) {
      const [x, y] = place(k);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      let shape = 0;
      if (!labels) context.fillStyle = "#868e96";
      else if (floatLabels) context.fillStyle = this.colours.value(labels.data[k] / labelTop);
      else {
        context.fillStyle = this.classColour(labels.data[k]);
        shape = this.classShape(labels.data[k]);
      }
      drawShape(context, shape, x, y, 3.4);
    }
    const selected = header.selected;
    const ring = selected !== null && selected !== undefined && selected < count;
    if (ring) {
      const [x, y] = place(selected);
      context.beginPath();
      context.arc(x, y, 8, 0, 2 * Math.PI);
      context.lineWidth = 3;
      context.strokeStyle = this.alert;
      context.stroke();
    }
    this.pcaRing.hidden = !ring;
    this.pcaPlace = { place, count, labels, floatLabels };
    canvas.dataset.points = String(count);
    canvas.dataset.layer = String(shown);
    this.drawPcaLegend(labels, floatLabels, labelTop);
  }

  drawPcaLegend(labels, floatLabels, labelTop) {
    const key = !labels ? "none" : floatLabels ? `float-${formatNumber(labelTop, 1)}` : JSON.stringify([this.model.classes, this.host.outputUnits(), this.spec.task]);
    if (key === this.pcaLegendKey) return;
    this.pcaLegendKey = key;
    if (!labels) {
      this.pcaLegend.replaceChildren(el("span", { class: "pg-hint", text: "Grey points: the examples (this task has no single class per example)." }));
      this.pcaLegendScale.replaceChildren();
    } else if (floatLabels) {
      this.pcaLegend.replaceChildren();
      this.pcaLegendScale.replaceChildren(legend(this.colours, { low: `−${formatNumber(labelTop, 1)}`, high: `+${formatNumber(labelTop, 1)}`,
        text: "Points are coloured by their target value: orange low, blue high." }));
    } else {
      const count = Math.max(2, this.model.classes);
      this.pcaLegend.replaceChildren(el("span", { class: "pg-hint", text: "Points, coloured by class:" }),
        ...Array.from({ length: count }, (_, i) => this.classItem(i)));
      this.pcaLegendScale.replaceChildren();
    }
  }

  hoverPca(event) {
    const state = this.pcaPlace;
    if (!state) return;
    const box = this.pcaCanvas.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    let best = -1, distance = 8;
    for (let k = 0; k < state.count; k++) {
      const [px, py] = state.place(k);
      const d = Math.hypot(px - x, py - y);
      if (d < distance) { distance = d; best = k; }
    }
    if (best < 0) return this.host.hideTooltip();
    let text = `Training ${this.exampleWord()} ${best + 1}`;
    if (state.labels) text += state.floatLabels ? ` (target ${signed(state.labels.data[best])})` : ` (class ${this.className(state.labels.data[best])})`;
    this.host.showTooltip(event, `${text}. Close points are examples this layer treats alike.`);
  }
}

// --- helpers ------------------------------------------------------------------------

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function signed(value) {
  return value.toFixed(2).replace("-", "−");
}

function percent(share) {
  return `${Math.round(100 * (share || 0))} %`;
}

const SHAPES = 4;

// A filled, outlined class marker: circle, square, diamond, triangle.
function drawShape(context, shape, x, y, r) {
  context.beginPath();
  if (shape === 1) context.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
  else if (shape === 2) {
    context.moveTo(x, y - r * 1.1); context.lineTo(x + r * 1.1, y); context.lineTo(x, y + r * 1.1); context.lineTo(x - r * 1.1, y);
    context.closePath();
  } else if (shape === 3) {
    context.moveTo(x, y - r * 1.1); context.lineTo(x + r, y + r * 0.8); context.lineTo(x - r, y + r * 0.8);
    context.closePath();
  } else context.arc(x, y, r, 0, 2 * Math.PI);
  context.fill();
  context.stroke();
}

function fitText(context, text, width) {
  if (context.measureText(text).width <= width) return text;
  let shorter = text;
  while (shorter.length > 1 && context.measureText(`${shorter}…`).width > width) shorter = shorter.slice(0, -1);
  return `${shorter}…`;
}

// The marks for flagged units: dead ×, always on / (a straight line: it
// acts linearly), saturated ⌐ (a curve gone flat at its limit).
function drawMark(context, state, cx, cy, size, colour) {
  const h = size / 2;
  context.save();
  context.strokeStyle = colour;
  context.lineWidth = Math.max(1.6, size / 6);
  context.lineCap = "round";
  context.setLineDash([]);
  context.beginPath();
  if (state === 1) {
    context.moveTo(cx - h * 0.8, cy - h * 0.8); context.lineTo(cx + h * 0.8, cy + h * 0.8);
    context.moveTo(cx + h * 0.8, cy - h * 0.8); context.lineTo(cx - h * 0.8, cy + h * 0.8);
  } else if (state === 2) {
    context.moveTo(cx - h * 0.85, cy + h * 0.85); context.lineTo(cx + h * 0.85, cy - h * 0.85);
  } else {
    context.moveTo(cx - h * 0.9, cy + h * 0.6); context.lineTo(cx - h * 0.35, cy - h * 0.6);
    context.lineTo(cx + h * 0.9, cy - h * 0.6);
  }
  context.stroke();
  context.restore();
}

function hatch(context, x, y, width, height, colour) {
  context.save();
  context.beginPath();
  context.rect(x, y, width, height);
  context.clip();
  context.strokeStyle = colour;
  context.globalAlpha = 0.75;
  context.lineWidth = 1.2;
  context.beginPath();
  for (let k = -width; k < height + width; k += 5) {
    context.moveTo(x, y + k);
    context.lineTo(x + width, y + k + width);
  }
  context.stroke();
  context.restore();
}
