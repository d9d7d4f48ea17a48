// The network view for the sequence tasks (echo, parity, sine, brackets,
// text): a recurrent network unrolled through time.
//
// 1. The builder: the layers as blocks (cell kind, units, activation,
//    remove), "+ recurrent" and "+ dense", the shapes between them and a line
//    on what the task asks.
// 2. The time line of the selected training sequence: one column per step —
//    the input at that step, every recurrent layer's hidden state (time ×
//    units, orange negative, blue positive), a GRU's or LSTM's gates (purple
//    from 0 = closed to 1 = open; candidate and cell input signed), and the
//    prediction after that step with its target where the task has one.
// 3. The gradient through time (the RNNbow view): for each recurrent layer,
//    how much of its weight update comes from k steps back, k = 0 … T−1,
//    and a sentence on what the bars say (the gradient vanishes through a
//    simple RNN; a GRU's gates let it reach further back).
//
// The frames carry (see playground/view_data.py rnn_data, rnn_gradient_bars):
// rnn/input (T×F), rnn/states/{p} (T×H), rnn/gates/{p}/{name} (T×H),
// rnn/predictions (T×units), rnn/bow/{p} (T).

import { el, formatNumber, largest, legend, paintGrid, plural } from "./common.js";

const RECURRENT = ["rnn", "gru", "lstm"];
const CELL_NAMES = { rnn: "simple RNN", gru: "GRU", lstm: "LSTM" };
const LABEL_WIDTH = 118; // px: the time line's row labels
const NON_NEGATIVE = new Set(["sigmoid", "relu", "softplus"]); // two-class outputs with 0/1 targets
const LOG_DECADES = 6; // the log scale shows values down to 10⁻⁶ of the largest

// How each gate is drawn: "gate" in [0, 1] (purple ramp), "signed" in [−1, 1],
// "scaled": signed, scaled to the largest magnitude.
const GATES = {
  reset: { kind: "gate", title: "reset gate r", text: "how much of the old state the candidate may use (0: none, 1: all)" },
  update: { kind: "gate", title: "update gate u", text: "how much of the old state is kept (1: keep the memory, 0: replace it by the candidate)" },
  candidate: { kind: "signed", title: "candidate n", text: "the new content the GRU proposes (−1 … +1)" },
  input: { kind: "gate", title: "input gate i", text: "how much of the new content is written into the cell (0: nothing, 1: all)" },
  forget: { kind: "gate", title: "forget gate f", text: "how much of the cell is kept (1: remember, 0: forget)" },
  cell_input: { kind: "signed", title: "cell input g", text: "the new content the LSTM proposes (−1 … +1)" },
  output: { kind: "gate", title: "output gate o", text: "how much of the cell is shown as the hidden state (0: none, 1: all)" },
  cell: { kind: "scaled", title: "cell c", text: "the LSTM's memory; unbounded, so scaled to its largest value" },
};

const CSS = `
.pg-rnn-view { display: flex; flex-direction: column; gap: 14px; }
.pg-rnn-section { display: flex; flex-direction: column; gap: 6px; }
.pg-rnn-task { margin: 0; font-size: 14px; }
.pg-rnn-task strong { font-weight: 600; }
.pg-rnn-builder { display: flex; flex-wrap: wrap; gap: 6px; align-items: stretch; }
.pg-rnn-block { display: flex; flex-direction: column; gap: 4px; padding: 6px 8px; border: 1px solid #adb5bd;
  border-radius: 6px; background: #fff; min-width: 92px; font-size: 13px; }
.pg-rnn-block[data-kind="input"], .pg-rnn-block[data-kind="output"] { background: #f1f3f5; }
.pg-rnn-block-title { display: flex; gap: 6px; align-items: center; justify-content: space-between; font-weight: 600; }
.pg-rnn-block select { font: inherit; font-size: 13px; }
.pg-rnn-units { display: flex; gap: 4px; align-items: center; }
.pg-rnn-units-value { min-width: 20px; text-align: center; font-variant-numeric: tabular-nums; font-weight: 600; }
.pg-rnn-shape { color: #495057; font-variant-numeric: tabular-nums; }
.pg-rnn-arrow { align-self: center; color: #868e96; font-size: 18px; }
.pg-rnn-remove { border: none; background: none; font-size: 16px; line-height: 16px; cursor: pointer; color: #495057; padding: 0 2px; }
.pg-rnn-remove:hover { color: #212529; }
.pg-rnn-remove:focus-visible { outline: 3px solid #212529; outline-offset: 1px; }
.pg-rnn-add { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.pg-rnn-nav { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.pg-rnn-nav-text { font-variant-numeric: tabular-nums; }
.pg-rnn-timeline { overflow-x: auto; padding-bottom: 4px; }
.pg-rnn-timeline:focus-visible { outline: 3px solid #212529; outline-offset: 2px; }
.pg-rnn-row { display: flex; align-items: stretch; margin-bottom: 3px; }
.pg-rnn-label { flex: 0 0 ${LABEL_WIDTH}px; width: ${LABEL_WIDTH}px; box-sizing: border-box; padding-right: 6px; font-size: 12px;
  color: #495057; display: flex; flex-direction: column; justify-content: center; text-align: right; line-height: 1.2;
  position: sticky; left: 0; z-index: 2; background: #fff; }
.pg-rnn-label small { color: #6c757d; font-size: 11px; }
.pg-rnn-cells { display: flex; flex: 0 0 auto; }
.pg-rnn-cell { box-sizing: border-box; display: flex; flex-direction: column; align-items: center; justify-content: center;
  font-variant-numeric: tabular-nums; overflow: hidden; white-space: nowrap; border-right: 1px solid #fff; }
.pg-rnn-step { font-size: 11px; color: #6c757d; height: 16px; }
.pg-rnn-token { font-size: 15px; font-weight: 600; height: 26px; background: #f1f3f5; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.pg-rnn-token.pg-rnn-number { font-size: 11px; font-family: inherit; }
.pg-rnn-prediction { height: 38px; background: #f8f9fa; }
.pg-rnn-prediction .pg-rnn-main { font-size: 15px; font-weight: 600; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.pg-rnn-prediction.pg-rnn-number .pg-rnn-main { font-size: 11px; font-family: inherit; }
.pg-rnn-prediction .pg-rnn-sure { font-size: 10px; color: #495057; }
.pg-rnn-prediction[data-final="false"] .pg-rnn-main { color: #868e96; font-weight: 400; }
.pg-rnn-prediction[data-final="true"] { background: #e9ecef; }
.pg-rnn-target { height: 26px; font-size: 15px; font-weight: 600; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.pg-rnn-target.pg-rnn-number { font-size: 11px; font-family: inherit; }
.pg-rnn-wrong { box-shadow: inset 0 0 0 2px var(--pg-alert); }
.pg-rnn-heatmap { display: block; image-rendering: pixelated; border: 1px solid #ced4da; box-sizing: content-box; cursor: crosshair; }
.pg-rnn-legends { display: flex; gap: 16px; flex-wrap: wrap; }
.pg-rnn-legends .pg-legend { flex: 1 1 260px; max-width: 330px; }
.pg-rnn-legends .pg-legend p { margin: 2px 0 0; }
.pg-rnn-bow-layer { display: flex; flex-direction: column; gap: 4px; }
.pg-rnn-bow-chart { position: relative; display: flex; align-items: flex-end; gap: 1px; height: 130px; padding: 0 2px;
  border-left: 1px solid #495057; border-bottom: 1px solid #495057; box-sizing: border-box; }
.pg-rnn-bow-chart[data-scale="log"] { background-image: repeating-linear-gradient(to top, transparent 0, transparent calc(100% / ${LOG_DECADES} - 1px),
  #dee2e6 calc(100% / ${LOG_DECADES} - 1px), #dee2e6 calc(100% / ${LOG_DECADES})); }
.pg-rnn-far { position: absolute; top: 0; bottom: 0; right: 0; background: rgba(73, 80, 87, 0.07); border-left: 1px dashed #868e96; pointer-events: none; }
.pg-rnn-far span { position: absolute; top: 2px; left: 4px; font-size: 11px; color: #495057; white-space: nowrap; }
.pg-rnn-bar { flex: 1 1 0; min-width: 2px; position: relative; z-index: 1; height: 0; }
.pg-rnn-bar-hit { flex: 1 1 0; display: flex; align-items: flex-end; height: 100%; z-index: 1; }
.pg-rnn-bow-axis { position: relative; height: 16px; font-size: 11px; color: #495057; margin: 0 2px; }
.pg-rnn-bow-axis span { position: absolute; transform: translateX(-50%); }
.pg-rnn-bow-caption { display: flex; justify-content: space-between; font-size: 12px; color: #495057; }
.pg-rnn-sentence { margin: 2px 0 0; font-size: 14px; max-width: 660px; }
.pg-rnn-note { margin: 0; }
`;

function pct(share) {
  if (!Number.isFinite(share)) return "—";
  if (share > 0 && share < 0.001) return "less than 0.1 %";
  if (share < 0.1) return `${(100 * share).toFixed(1)} %`;
  return `${Math.round(100 * share)} %`;
}

function signedText(value, digits = 2) {
  const text = Math.abs(value).toFixed(digits);
  return value < 0 && Number(text) !== 0 ? `−${text}` : text;
}

function showCharacter(character) {
  if (character === " ") return "␣";
  if (character === "\n") return "⏎";
  return character === undefined ? "?" : character;
}

function argmax(data, offset, count) {
  let best = 0;
  for (let i = 1; i < count; i++) if (data[offset + i] > data[offset + best]) best = i;
  return best;
}

export default class RnnView {
  constructor(host) {
    this.host = host;
    this.model = host.model;
    this.colours = host.colours;
    this.logScale = false;
    this.element = el("div", { class: "pg-rnn-view", "data-role": "rnn-view" });
    this.element.style.setProperty("--pg-alert", this.model.palette.alert);
    this.element.append(el("style", { text: CSS }));

    // 1. The builder.
    this.taskLine = el("p", { class: "pg-rnn-task", "data-role": "task" });
    this.builder = el("div", { class: "pg-rnn-builder", "data-role": "builder" });
    const addRecurrent = el("button", { type: "button", class: "pg-button", "data-role": "add-recurrent",
      onclick: () => this.addRecurrent() }, "+ recurrent");
    const addDense = el("button", { type: "button", class: "pg-button", "data-role": "add-dense",
      onclick: () => this.addDense() }, "+ dense");
    this.element.append(el("section", { class: "pg-rnn-section", "aria-label": "The recurrent network" },
      el("h3", { class: "pg-heading", text: "Recurrent network" }), this.taskLine, this.builder,
      el("div", { class: "pg-rnn-add" }, addRecurrent, addDense,
        el("span", { class: "pg-hint", text: "A recurrent layer reads the sequence one step at a time, keeping a hidden state from step to step." }))));

    // 2. The time line.
    this.navText = el("span", { class: "pg-rnn-nav-text", "data-role": "sequence-number" });
    this.previousButton = el("button", { type: "button", class: "pg-button", "data-role": "previous-sequence",
      onclick: () => this.move(-1) }, "◀ previous sequence");
    this.nextButton = el("button", { type: "button", class: "pg-button", "data-role": "next-sequence",
      onclick: () => this.move(1) }, "next sequence ▶");
    this.timeline = el("div", { class: "pg-rnn-timeline", "data-role": "timeline", tabindex: "0",
      "aria-label": "The selected sequence step by step (scrolls sideways when long)" });
    this.timelineNote = el("p", { class: "pg-hint pg-rnn-note", "data-role": "timeline-note" });
    this.legends = el("div", { class: "pg-rnn-legends" });
    this.element.append(el("section", { class: "pg-rnn-section", "aria-label": "The sequence, step by step" },
      el("h3", { class: "pg-heading", text: "Unrolled through time" }),
      el("div", { class: "pg-rnn-nav" }, this.previousButton, this.nextButton, this.navText),
      this.timeline, this.timelineNote, this.legends));

    // 3. The gradient through time.
    const log = el("input", { type: "checkbox", "data-role": "bow-log",
      onchange: (event) => { this.logScale = event.target.checked; this.bowRepaint = true; this.host.requestDraw(); } });
    this.bowLayers = el("div", { class: "pg-rnn-section", "data-role": "bow" });
    this.bowNote = el("p", { class: "pg-hint pg-rnn-note", "data-role": "bow-note" });
    this.element.append(el("section", { class: "pg-rnn-section", "aria-label": "Gradient through time" },
      el("h3", { class: "pg-heading", text: "Where the weight update comes from: gradient through time" }),
      el("p", { class: "pg-hint pg-rnn-note", text: "Each bar: how large the part of the layer's weight gradient is that comes from k steps back " +
        "(the loss at a step, traced back k steps through the recurrence), over 16 training sequences. " +
        "Bars are scaled to the largest; purple, since these sizes have no sign." }),
      el("label", { class: "pg-check" }, log, "log scale (each grey line: 10× smaller)"),
      this.bowLayers, this.bowNote));

    this.resizeObserver = new ResizeObserver(() => {
      const width = this.element.clientWidth;
      if (width && Math.abs(width - (this.width || 0)) > 8) {
        this.width = width;
        this.timelineKey = null;
        this.host.requestDraw();
      }
    });
    this.resizeObserver.observe(this.element);
  }

  needs() {
    return ["rnn"];
  }

  destroy() {
    this.resizeObserver.disconnect();
  }

  // --- the task and the builder ---------------------------------------------------

  get dataset() {
    return this.spec ? this.spec.task.dataset : "";
  }

  // The spec carries every option of its dataset (defaults written out).
  option(name) {
    return this.spec.task.options[name];
  }

  get catalogue() {
    return this.model.catalogue;
  }

  get textAlphabet() {
    return this.catalogue.text_alphabet;
  }

  // Shapes as validation inferred them (the page's plan).
  inputShape() {
    return this.model.plan[0].input;
  }

  get perStep() {
    return this.catalogue.datasets[this.dataset].per_step;
  }

  isClassification() {
    return this.dataset !== "sine";
  }

  taskText() {
    const d = this.dataset;
    if (d === "echo") {
      const symbols = this.option("symbols");
      return [`echo: after ${plural(this.option("delay"), "distracting step")}, repeat the first symbol`,
        ` — ${symbols} symbols (${this.symbol(0)}–${this.symbol(symbols - 1)}); one answer per sequence, read after the last step.`];
    }
    if (d === "parity") return [`parity: ${this.option("length")} bits — is the number of ones odd?`,
      " One answer per sequence after the last bit: 1 = odd, 0 = even."];
    if (d === "brackets") return [`brackets: is a string of ${this.option("length")} brackets balanced?`,
      " One answer per sequence after the last bracket: ✓ = balanced, ✗ = not."];
    if (d === "sine") return [`sine: predict the next value of a sine wave at every step`,
      ` (${this.option("length")} steps); no classes, a number each step.`];
    if (d === "text") return [`text: predict the next character at every step`,
      ` (${this.option("length")} characters a window, ${this.textAlphabet.length} possible characters; ␣ is a space, ⏎ a new line).`];
    return [d, ""];
  }

  // Every layer's output shape (and, for recurrent ones, whether it passes on every step).
  shapes() {
    const plan = this.model.plan;
    const layers = this.spec.layers.map((layer, index) => (RECURRENT.includes(layer.type)
      ? { shape: plan[index].output, sequences: plan[index].return_sequences } : { shape: plan[index].output }));
    return { layers, output: plan[plan.length - 1].output };
  }

  shapeText(shape) {
    return shape.length === 2 ? `${shape[0]} steps × ${shape[1]}` : plural(shape[0], "value");
  }

  setSpec(spec) {
    this.spec = spec;
    const key = JSON.stringify([spec.task, spec.layers, spec.output]);
    if (key === this.specKey) return;
    this.specKey = key;
    const [lead, rest] = this.taskText();
    this.taskLine.replaceChildren(el("strong", { text: lead }), rest);
    this.buildBuilder();
    this.timelineKey = null;
    this.bowKey = null;
    if (this.host.frame) this.host.requestDraw();
  }

  buildBuilder() {
    const spec = this.spec;
    const { layers: shapes, output } = this.shapes();
    const [steps, features] = this.inputShape();
    const what = { echo: "one-hot symbols", text: "one-hot characters", brackets: "one-hot brackets", parity: "bits", sine: "values" }[this.dataset] || "";
    const blocks = [el("div", { class: "pg-rnn-block", "data-kind": "input" },
      el("span", { class: "pg-rnn-block-title", text: "Input" }),
      el("span", { class: "pg-rnn-shape", "data-role": "input-shape", text: `${steps} steps × ${features}` }),
      el("span", { class: "pg-hint", text: what }))];
    spec.layers.forEach((layer, index) => {
      blocks.push(el("span", { class: "pg-rnn-arrow", "aria-hidden": "true", text: "→" }));
      blocks.push(this.layerBlock(layer, index, shapes[index]));
    });
    blocks.push(el("span", { class: "pg-rnn-arrow", "aria-hidden": "true", text: "→" }));
    blocks.push(el("div", { class: "pg-rnn-block", "data-kind": "output" },
      el("span", { class: "pg-rnn-block-title", text: "Output" }),
      el("span", { class: "pg-rnn-shape", "data-role": "output-shape", text: this.shapeText(output) }),
      el("span", { class: "pg-hint", text: `${spec.output.activation}${output.length === 2 ? ", every step" : ", one answer"}` })));
    this.builder.replaceChildren(...blocks);
  }

  layerBlock(layer, index, info) {
    const number = index + 1;
    const block = el("div", { class: "pg-rnn-block", "data-kind": layer.type, "data-layer": index });
    const remove = el("button", { type: "button", class: "pg-rnn-remove", "aria-label": `Remove layer ${number}`,
      "data-role": `remove-layer-${index}`, title: "Remove this layer", onclick: () => this.host.edit("remove_layer", { index }) }, "×");
    let title;
    if (RECURRENT.includes(layer.type)) {
      title = el("select", { "aria-label": `Cell of layer ${number}`, "data-role": `cell-${index}`,
        onchange: (event) => this.setCellKind(index, event.target.value) });
      for (const kind of RECURRENT) title.append(el("option", { value: kind, text: kind, selected: kind === layer.type }));
    } else {
      title = el("span", { text: layer.type });
    }
    block.append(el("span", { class: "pg-rnn-block-title" }, el("span", { text: `${number}` }), title, remove));
    if (layer.units !== undefined) {
      const units = layer.units;
      block.append(el("div", { class: "pg-rnn-units" },
        el("button", { type: "button", class: "pg-small", "aria-label": `Fewer units in layer ${number}`, "data-role": `fewer-units-${index}`,
          disabled: units <= 1, onclick: () => this.host.edit("set_layer", { layer: index, units: units - 1 }) }, "−"),
        el("span", { class: "pg-rnn-units-value", "data-role": `units-${index}`, text: String(units) }),
        el("button", { type: "button", class: "pg-small", "aria-label": `More units in layer ${number}`, "data-role": `more-units-${index}`,
          disabled: units >= this.catalogue.limits.recurrent_units, onclick: () => this.host.edit("set_layer", { layer: index, units: units + 1 }) }, "+"),
        el("span", { class: "pg-hint", text: "units" })));
    }
    if (layer.type === "rnn" || layer.type === "dense") {
      const select = el("select", { "aria-label": `Activation of layer ${number}`, "data-role": `activation-${index}`,
        onchange: (event) => this.host.edit("set_layer", { layer: index, activation: event.target.value }) });
      for (const name of this.model.activations) select.append(el("option", { value: name, text: name, selected: name === layer.activation }));
      block.append(select);
    } else if (layer.type === "dropout") {
      block.append(el("span", { class: "pg-hint", text: `rate ${layer.rate}` }));
    }
    if (info) {
      block.append(el("span", { class: "pg-rnn-shape", "data-role": `shape-${index}`, text: `→ ${this.shapeText(info.shape)}` }));
      if (info.sequences !== undefined) {
        block.append(el("span", { class: "pg-hint", text: info.sequences ? "passes on every step" : "passes on its last step" }));
      }
    }
    return block;
  }

  // Another kind of cell for a recurrent layer (its units and position stay).
  setCellKind(index, kind) {
    const layer = this.spec.layers[index];
    if (!layer || layer.type === kind) return;
    this.host.edit("set_layer", { layer: index, type: kind });
  }

  addRecurrent() {
    const layers = this.spec.layers;
    let last = -1;
    layers.forEach((layer, index) => { if (RECURRENT.includes(layer.type)) last = index; });
    const type = last >= 0 ? layers[last].type : "gru";
    this.host.edit("insert_layer", { index: last + 1, layer: { type, units: 16 } });
  }

  addDense() {
    this.host.edit("insert_layer", { index: this.spec.layers.length, layer: { type: "dense", units: 16, activation: "tanh" } });
  }

  // --- the selected sequence ---------------------------------------------------------

  sequenceCount() {
    const data = this.host.data;
    if (data && data.labelsTrain) return data.labelsTrain.shape[0];
    return null;
  }

  move(delta) {
    const count = this.sequenceCount();
    const current = Number.isInteger(this.selected) ? this.selected : 0;
    let next = current + delta;
    if (count) next = (next + count) % count;
    else next = Math.max(0, next);
    this.host.select({ index: next });
  }

  symbol(index) {
    switch (this.dataset) {
      case "echo": return String.fromCharCode(65 + index);
      case "text": return showCharacter(this.textAlphabet[index]);
      case "brackets": return index === 0 ? "(" : ")";
      default: return String(index);
    }
  }

  // A one-label task's answer (parity: 1 odd; brackets: 1 balanced).
  className(label) {
    if (this.dataset === "brackets") return label ? "✓" : "✗";
    if (this.dataset === "echo" || this.dataset === "text") return this.symbol(label);
    return String(label);
  }

  inputToken(input, t) {
    const features = input.shape[1];
    if (this.dataset === "sine") return { text: signedText(input.data[t * features], this.cell >= 34 ? 2 : 1), value: input.data[t * features] };
    if (this.dataset === "parity") return { text: input.data[t * features] > 0.5 ? "1" : "0" };
    return { text: this.symbol(argmax(input.data, t * features, features)) };
  }

  // The prediction after step t: {text, sure (probability of it), index, value}.
  prediction(predictions, t) {
    const units = predictions.shape[1];
    const data = predictions.data;
    if (!this.isClassification()) {
      const value = data[t * units];
      return { text: signedText(value, this.cell >= 34 ? 2 : 1), value };
    }
    if (units > 1) {
      const index = argmax(data, t * units, units);
      const text = this.perStep || this.dataset === "echo" ? this.symbol(index) : this.className(index);
      return { text, index, sure: data[t * units + index] };
    }
    const low = NON_NEGATIVE.has(this.spec.output.activation) ? 0 : -1;
    const a = data[t * units];
    const one = Math.min(1, Math.max(0, (a - low) / (1 - low)));
    const index = a > (low + 1) / 2 ? 1 : 0;
    return { text: this.className(index), index, sure: index ? one : 1 - one, raw: a };
  }

  // The target at step t of the selected training sequence, or null.
  target(t, steps) {
    const data = this.host.data;
    if (!data || !data.labelsTrain || !Number.isInteger(this.selected)) return null;
    const labels = data.labelsTrain;
    if (labels.shape.length === 1) {
      if (t !== steps - 1 || this.selected >= labels.shape[0]) return null;
      const label = labels.data[this.selected];
      return { text: this.className(label), index: label };
    }
    if (labels.shape[1] !== steps || this.selected >= labels.shape[0]) return null;
    const label = labels.data[this.selected * steps + t];
    if (!this.isClassification()) return { text: signedText(label, this.cell >= 34 ? 2 : 1), value: label };
    return { text: this.symbol(label), index: label };
  }

  // --- drawing ------------------------------------------------------------------------

  recurrentLayers(arrays) {
    const layers = [];
    for (const name of Object.keys(arrays)) {
      const match = /^rnn\/states\/(\d+)$/.exec(name);
      if (!match) continue;
      const position = Number(match[1]);
      const gates = Object.keys(arrays).filter((n) => n.startsWith(`rnn/gates/${position}/`)).map((n) => n.split("/")[3]);
      layers.push({ position, units: arrays[name].shape[1], gates });
    }
    return layers.sort((a, b) => a.position - b.position);
  }

  layerName(position) {
    const layer = this.spec && this.spec.layers[position];
    return layer ? (CELL_NAMES[layer.type] || layer.type) : "layer";
  }

  draw(frame) {
    if (!this.spec) return;
    const { header, arrays } = frame;
    this.element.dataset.step = header.step;
    this.selected = header.selected;
    this.element.dataset.selected = header.selected === null || header.selected === undefined ? "custom" : header.selected;
    const count = this.sequenceCount();
    this.navText.textContent = Number.isInteger(this.selected)
      ? `training sequence ${this.selected + 1}${count ? ` of ${count}` : ""}` : "a sequence of your own";
    const input = arrays["rnn/input"];
    if (!input) {
      if (!this.placeholder) {
        this.placeholder = true;
        this.timelineKey = null;
        this.timeline.replaceChildren(el("p", { class: "pg-placeholder",
          text: header.diverged ? "Training diverged: there are no states to show. Reset, or lower the learning rate." : "Waiting for the engine…" }));
      }
      return;
    }
    this.placeholder = false;
    this.drawTimeline(arrays);
    this.drawBow(header, arrays);
  }

  drawTimeline(arrays) {
    const input = arrays["rnn/input"];
    const steps = input.shape[0];
    const layers = this.recurrentLayers(arrays);
    const predictions = arrays["rnn/predictions"];
    const width = this.width || this.element.clientWidth || 680;
    const cell = Math.max(14, Math.min(40, Math.floor((width - LABEL_WIDTH - 8) / steps)));
    const key = JSON.stringify([this.dataset, steps, input.shape[1], layers, predictions ? predictions.shape[1] : 0, cell,
      this.spec.layers.map((l) => l.type)]);
    if (key !== this.timelineKey) {
      this.timelineKey = key;
      this.cell = cell;
      this.buildTimeline(steps, layers, Boolean(predictions));
      this.tokenKey = this.predictionKey = null;
    }
    // The input tokens, when the sequence changed.
    const tokens = Array.from({ length: steps }, (_, t) => this.inputToken(input, t));
    const tokenKey = tokens.map((token) => token.text).join("\u0001") + `|${this.selected}`;
    if (tokenKey !== this.tokenKey) {
      this.tokenKey = tokenKey;
      tokens.forEach((token, t) => {
        const node = this.rows.input[t];
        node.textContent = token.text;
        if (token.value !== undefined) this.colourCell(node, token.value);
      });
    }
    // Heatmaps: every frame (they change as the network learns); each is T × H pixels.
    this.current = arrays;
    for (const map of this.heatmaps) {
      const values = arrays[map.name];
      if (!values) continue;
      const [t, units] = values.shape;
      if (!map.scratch || map.scratch.length !== t * units) map.scratch = new Float32Array(t * units);
      for (let s = 0; s < t; s++) for (let u = 0; u < units; u++) map.scratch[u * t + s] = values.data[s * units + u];
      let scale = 1, kind = "signed";
      if (map.kind === "gate") kind = "magnitude";
      else if (map.kind === "scaled" || map.kind === "state") {
        const top = largest(values.data);
        map.top = map.kind === "scaled" ? top : Math.max(1, top);
        scale = map.top > 0 ? 1 / map.top : 1;
      }
      paintGrid(map.canvas, map.scratch, 0, t, units, this.colours, { kind, scale });
      if (map.scaleNote) {
        const note = map.kind === "scaled" || map.top > 1 ? `colours: ±${formatNumber(map.top, 2)}` : "";
        if (map.scaleNote.textContent !== note) map.scaleNote.textContent = note;
      }
      map.canvas.dataset.max = formatNumber(largest(values.data));
    }
    if (predictions) this.drawPredictions(predictions, steps);
  }

  colourCell(node, value) {
    node.style.background = this.colours.value(value);
    node.style.color = Math.abs(value) > 0.55 ? "#fff" : "#212529";
  }

  drawPredictions(predictions, steps) {
    const items = Array.from({ length: steps }, (_, t) => ({ p: this.prediction(predictions, t), target: this.target(t, steps) }));
    const key = items.map(({ p, target }) => `${p.text}:${p.sure === undefined ? "" : Math.round(100 * p.sure)}:${target ? target.text : ""}`).join("|");
    if (key === this.predictionKey) return;
    this.predictionKey = key;
    let right = 0, known = 0;
    items.forEach(({ p, target }, t) => {
      const node = this.rows.prediction[t];
      node.main.textContent = p.text;
      node.sure.textContent = p.sure !== undefined && this.cell >= 26 ? `${Math.round(100 * p.sure)}%` : "";
      if (p.value !== undefined) this.colourCell(node.cell, p.value);
      node.cell.dataset.prediction = p.text;
      const targetNode = this.rows.target[t];
      targetNode.textContent = target ? target.text : "";
      targetNode.dataset.target = target ? target.text : "";
      if (target && target.value !== undefined) this.colourCell(targetNode, target.value);
      const wrong = Boolean(target && target.index !== undefined && target.index !== p.index);
      node.cell.classList.toggle("pg-rnn-wrong", wrong);
      node.cell.dataset.correct = target && target.index !== undefined ? String(!wrong) : "";
      if (target && target.index !== undefined) { known += 1; if (!wrong) right += 1; }
    });
    this.predictionSummary = known ? `${right} of ${known} right` : "";
    this.updateTimelineNote();
  }

  updateTimelineNote() {
    let text;
    if (!this.hasPredictions) {
      text = "There is no prediction per step here: a layer after the recurrent ones mixes the steps (a flatten layer).";
    } else if (this.perStep) {
      text = `The network predicts after every step; the target row holds the true next ${this.dataset === "text" ? "character" : "value"}.`;
      if (this.isClassification()) text += " Under each prediction: how sure it is. Outlined: a wrong prediction.";
      else text += " Cells are coloured by value (orange negative, blue positive), so a good prediction takes its target's colour.";
    } else {
      text = "Only the answer after the last step counts (the shaded column, with its target); earlier columns show what the network " +
        "would answer if the sequence stopped there. Under each: how sure it is. Outlined: a wrong answer.";
    }
    if (this.predictionSummary) text += ` This sequence: ${this.predictionSummary}.`;
    this.timelineNote.textContent = text;
  }

  buildTimeline(steps, layers, hasPredictions) {
    const cell = this.cell;
    const number = this.dataset === "sine";
    this.hasPredictions = hasPredictions;
    this.heatmaps = [];
    this.rows = { input: [], prediction: [], target: [] };
    const rows = [];
    const row = (role, label, content) => {
      const node = el("div", { class: "pg-rnn-row", "data-row": role }, el("span", { class: "pg-rnn-label" }, ...label), content);
      rows.push(node);
      return node;
    };
    const cells = (cls, make) => {
      const box = el("div", { class: "pg-rnn-cells" });
      for (let t = 0; t < steps; t++) {
        const node = make(t);
        node.classList.add("pg-rnn-cell", ...cls.split(" ").filter(Boolean));
        node.style.width = `${cell}px`;
        node.dataset.t = t;
        box.append(node);
      }
      return box;
    };
    const every = cell >= 22 ? 1 : cell >= 16 ? 2 : 5;
    row("steps", ["step"], cells("pg-rnn-step", (t) => el("span", { text: t % every === 0 || t === steps - 1 ? String(t + 1) : "" })));
    const inputBox = cells(`pg-rnn-token${number ? " pg-rnn-number" : ""}`, (t) => {
      const node = el("span", {});
      this.rows.input.push(node);
      return node;
    });
    inputBox.setAttribute("data-role", "input-tokens");
    inputBox.addEventListener("mouseover", (event) => this.hoverToken(event, "input"));
    inputBox.addEventListener("mouseleave", () => this.host.hideTooltip());
    row("input", ["input"], inputBox);

    const stateRows = Math.max(2, Math.min(8, Math.floor(128 / Math.max(1, Math.max(...layers.map((l) => l.units), 1)))));
    for (const layer of layers) {
      const units = layer.units;
      const name = this.layerName(layer.position);
      this.addHeatmap(row, { name: `rnn/states/${layer.position}`, kind: "state", layer, rowHeight: stateRows, steps,
        label: [`layer ${layer.position + 1} · ${name}`, el("small", { text: `state, ${plural(units, "unit")}` })],
        role: `state-${layer.position}` });
      const gateRows = Math.max(1, Math.min(5, Math.floor(80 / Math.max(1, units))));
      for (const gate of layer.gates) {
        const info = GATES[gate] || { kind: "signed", title: gate, text: "" };
        this.addHeatmap(row, { name: `rnn/gates/${layer.position}/${gate}`, kind: info.kind, layer, gate, rowHeight: gateRows, steps,
          label: [info.title, el("small", { text: info.kind === "gate" ? "0 closed … 1 open" : info.kind === "signed" ? "−1 … +1" : "scaled to its largest" })],
          role: `gate-${layer.position}-${gate}` });
      }
    }
    if (hasPredictions) {
      const predictionBox = cells(`pg-rnn-prediction${number ? " pg-rnn-number" : ""}`, (t) => {
        const main = el("span", { class: "pg-rnn-main" });
        const sure = el("span", { class: "pg-rnn-sure" });
        const node = el("span", { "data-final": String(this.perStep || t === steps - 1) }, main, sure);
        this.rows.prediction.push({ cell: node, main, sure });
        return node;
      });
      predictionBox.setAttribute("data-role", "predictions");
      predictionBox.addEventListener("mouseover", (event) => this.hoverToken(event, "prediction"));
      predictionBox.addEventListener("mouseleave", () => this.host.hideTooltip());
      row("prediction", ["prediction", el("small", { text: this.perStep ? "after each step" : "after each step; last = answer" })], predictionBox);
      const targetBox = cells(`pg-rnn-target${number ? " pg-rnn-number" : ""}`, (t) => {
        const node = el("span", {});
        this.rows.target.push(node);
        return node;
      });
      targetBox.setAttribute("data-role", "targets");
      row("target", ["target", el("small", { text: this.perStep ? "the true next one" : "the true answer" })], targetBox);
    }
    this.timeline.replaceChildren(...rows);
    this.timeline.dataset.steps = steps;
    this.updateTimelineNote();
    this.buildLegends(layers);
  }

  addHeatmap(row, map) {
    const canvas = el("canvas", { class: "pg-rnn-heatmap", width: map.steps, height: map.layer.units, role: "img",
      "data-role": map.kind === "state" ? "state" : "gate", "data-layer": map.layer.position, "data-gate": map.gate || null,
      "aria-label": map.kind === "state" ? `Hidden state of layer ${map.layer.position + 1} at every step` : `${GATES[map.gate] ? GATES[map.gate].title : map.gate} of layer ${map.layer.position + 1} at every step` });
    canvas.style.width = `${map.steps * this.cell - 2}px`;
    canvas.style.height = `${map.layer.units * map.rowHeight}px`;
    if (map.kind === "state" || map.kind === "scaled") {
      map.scaleNote = el("small", { "data-role": "scale-note" });
      map.label.push(map.scaleNote);
    }
    canvas.addEventListener("mousemove", (event) => this.hoverHeatmap(event, map));
    canvas.addEventListener("mouseleave", () => this.host.hideTooltip());
    map.canvas = canvas;
    this.heatmaps.push(map);
    row(map.role, map.label, canvas);
  }

  buildLegends(layers) {
    const items = [legend(this.colours, { kind: "signed", low: "−1", high: "+1",
      text: "Hidden states (and a GRU's candidate, an LSTM's cell input): orange negative, blue positive, pale near 0. Rows are units, columns steps. Hover for values." })];
    const gates = new Set(layers.flatMap((layer) => layer.gates));
    if ([...gates].some((gate) => (GATES[gate] || {}).kind === "gate")) {
      items.push(legend(this.colours, { kind: "magnitude", low: "0 closed", high: "1 open",
        text: "Gates, between 0 and 1: pale = closed, dark purple = open." +
          (gates.has("cell") ? " An LSTM's cell is unbounded: drawn in orange/blue scaled to its largest value (hover)." : "") }));
    }
    this.legends.replaceChildren(...items);
  }

  hoverHeatmap(event, map) {
    const values = this.current && this.current[map.name];
    if (!values) return;
    const box = map.canvas.getBoundingClientRect();
    const [steps, units] = values.shape;
    const t = Math.min(steps - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * steps)));
    const u = Math.min(units - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * units)));
    const value = values.data[t * units + u];
    let text;
    if (map.kind === "state") {
      text = `Step ${t + 1}, unit ${u + 1}: state ${signedText(value, 3)} (${value >= 0 ? "blue, positive" : "orange, negative"}).`;
    } else {
      const info = GATES[map.gate] || { title: map.gate, text: "" };
      text = `Step ${t + 1}, unit ${u + 1}: ${info.title} = ${signedText(value, 3)} — ${info.text}.`;
      if (map.kind === "scaled") text += ` Largest here: ${formatNumber(map.top)}.`;
    }
    this.host.showTooltip(event, text);
  }

  hoverToken(event, row) {
    const node = event.target.closest("[data-t]");
    if (!node || !this.current) return;
    const t = Number(node.dataset.t);
    const input = this.current["rnn/input"];
    if (!input || t >= input.shape[0]) return;
    const steps = input.shape[0];
    let text;
    if (row === "input") {
      const token = this.inputToken(input, t);
      text = `Step ${t + 1}: input ${this.dataset === "sine" ? signedText(token.value, 3) : token.text}`;
      if (this.dataset === "echo") text += t === 0 ? " — the symbol to remember" : " — a distracting symbol";
      text += ".";
    } else {
      const predictions = this.current["rnn/predictions"];
      if (!predictions) return;
      const p = this.prediction(predictions, t);
      const target = this.target(t, steps);
      text = `After step ${t + 1}: the network predicts ${this.dataset === "sine" ? signedText(p.value, 3) : p.text}`;
      if (p.sure !== undefined) text += ` (probability ${(100 * p.sure).toFixed(1)} %)`;
      if (target) text += `; the target is ${this.dataset === "sine" ? signedText(target.value, 3) : target.text}`;
      else if (!this.perStep) text += "; only the answer after the last step is scored";
      text += ".";
    }
    this.host.showTooltip(event, text);
  }

  // --- gradient through time ------------------------------------------------------------

  drawBow(header, arrays) {
    const names = Object.keys(arrays).filter((name) => name.startsWith("rnn/bow/"))
      .sort((a, b) => Number(a.split("/")[2]) - Number(b.split("/")[2]));
    const key = JSON.stringify([names.map((name) => [name, arrays[name].shape[0]]), this.spec.layers.map((l) => l.type)]);
    if (key !== this.bowKey) {
      this.bowKey = key;
      this.bowRepaint = true;
      this.buildBow(names.map((name) => ({ name, position: Number(name.split("/")[2]), steps: arrays[name].shape[0] })));
    }
    // The bars change about once a second: restyle them only then.
    const values = names.map((name) => Array.from(arrays[name].data));
    const signature = JSON.stringify(values);
    const changed = signature !== this.bowSignature;
    if (!changed && !this.bowRepaint) return;
    if (changed) {
      this.bowSignature = signature;
      this.bowStep = header.step;
    }
    this.bowRepaint = false;
    this.bowLayers.dataset.step = this.bowStep;
    this.bowCharts.forEach((chart, i) => this.paintBow(chart, values[i]));
    this.bowNote.textContent = `Measured on 16 training sequences at step ${this.bowStep.toLocaleString("en")}, about once a second while training.`;
  }

  buildBow(layers) {
    this.bowCharts = [];
    if (!layers.length) {
      this.bowLayers.replaceChildren(el("p", { class: "pg-placeholder", text: "This model has no recurrent layer: nothing is carried through time." }));
      return;
    }
    const blocks = layers.map(({ position, steps }) => {
      const type = this.spec.layers[position] ? this.spec.layers[position].type : "";
      const farFrom = Math.ceil(steps / 2);
      const chart = el("div", { class: "pg-rnn-bow-chart", "data-role": "bow-chart", "data-layer": position, "data-cell": type,
        "data-steps": steps, role: "img", "aria-label": `Gradient by steps back for layer ${position + 1}` });
      const far = el("div", { class: "pg-rnn-far" }, el("span", { text: `far half: ${farFrom}+ steps back` }));
      far.style.left = `${(100 * farFrom) / steps}%`;
      chart.append(far);
      const bars = [];
      for (let k = 0; k < steps; k++) {
        const bar = el("div", { class: "pg-rnn-bar", "data-k": k, "data-value": "0" });
        bar.style.background = this.colours.size(0.8);
        const hit = el("div", { class: "pg-rnn-bar-hit" }, bar);
        hit.addEventListener("mouseenter", (event) => this.hoverBar(event, chart, k));
        hit.addEventListener("mouseleave", () => this.host.hideTooltip());
        chart.append(hit);
        bars.push(bar);
      }
      const axis = el("div", { class: "pg-rnn-bow-axis", "aria-hidden": "true" });
      const tick = steps <= 12 ? 1 : steps <= 30 ? 2 : 5;
      for (let k = 0; k < steps; k += tick) {
        axis.append(el("span", { text: String(k), style: { left: `${(100 * (k + 0.5)) / steps}%` } }));
      }
      const sentence = el("p", { class: "pg-rnn-sentence", "data-role": "bow-sentence", "data-layer": position });
      const caption = el("span", {});
      const entry = { chart, bars, sentence, caption, position, steps, type };
      this.bowCharts.push(entry);
      return el("div", { class: "pg-rnn-bow-layer", "data-layer": position },
        el("span", { class: "pg-rnn-bow-caption" },
          el("strong", { text: `Layer ${position + 1} · ${CELL_NAMES[type] || type}` }),
          caption),
        chart, axis,
        el("span", { class: "pg-rnn-bow-caption" }, el("span", { text: "k = 0: the step of the loss itself" }),
          el("span", { text: "steps back (k) →" })),
        sentence);
    });
    this.bowLayers.replaceChildren(...blocks);
  }

  paintBow(entry, values) {
    const top = Math.max(...values.map((v) => (Number.isFinite(v) ? v : 0)), 0);
    entry.values = values;
    entry.top = top;
    entry.bars.forEach((bar, k) => {
      const v = values[k] || 0;
      let height = top > 0 ? v / top : 0;
      if (this.logScale) height = top > 0 && v > 0 ? Math.max(0, 1 + Math.log10(v / top) / LOG_DECADES) : 0;
      bar.style.height = `${(100 * height).toFixed(2)}%`;
      bar.dataset.value = String(v);
    });
    entry.chart.dataset.scale = this.logScale ? "log" : "linear";
    entry.caption.textContent = this.logScale ? `log scale: top = largest bar, bottom = 10⁻${LOG_DECADES} of it`
      : "bar height: share of the largest bar";
    entry.sentence.textContent = this.bowSentence(entry, values);
  }

  bowSentence(entry, values) {
    const steps = values.length;
    const total = values.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    if (!(total > 0)) return "No gradient reaches this layer yet.";
    const farFrom = Math.ceil(steps / 2);
    const recent = Math.min(3, steps);
    const near = values.slice(0, recent).reduce((a, b) => a + b, 0) / total;
    const far = values.slice(farFrom).reduce((a, b) => a + b, 0) / total;
    const peak = argmax(values, 0, steps);
    entry.chart.dataset.farShare = far.toFixed(4);
    let text;
    if (far < 0.1) {
      text = `Most of this layer's update comes from the last few steps (${pct(near)} from the last ${recent}); ` +
        `what happened ${farFrom} or more steps back adds ${far < 0.001 ? "almost nothing (under 0.1 %)" : `only ${pct(far)}`} — ` +
        "the gradient vanishes through time, " +
        "so this layer can hardly learn to use anything that far back.";
    } else if (far < 0.3) {
      text = `The update fades with distance: ${pct(near)} comes from the last ${recent} steps, only ${pct(far)} from ${farFrom} or more steps back.`;
    } else {
      text = `${pct(far)} of the update comes from ${farFrom} or more steps back: the gradient still reaches far into the past, ` +
        "so this layer can learn from what happened long ago.";
      if (peak >= farFrom) text += ` The largest part comes from ${plural(peak, "step")} back${this.dataset === "echo" && peak === steps - 1 ? " — the first symbol, the one to repeat" : ""}.`;
    }
    const compare = {
      rnn: " A simple RNN multiplies the gradient by its recurrent weights and the activation's slope at every step back, so it tends to shrink (or blow up). Switch the cell to gru to compare.",
      gru: " A GRU whose update gate stays near 1 keeps its state — and passes the gradient back — almost unchanged. At the start its gates are half open and the bars fall quickly too; watch them as it learns. Switch the cell to rnn to compare.",
      lstm: " An LSTM's cell passes the gradient back through its forget gate; near 1, it reaches many steps. Switch the cell to rnn to compare.",
    }[entry.type] || "";
    return text + compare;
  }

  hoverBar(event, chart, k) {
    const entry = this.bowCharts.find((item) => item.chart === chart);
    if (!entry || !entry.values) return;
    const v = entry.values[k];
    const share = entry.top > 0 ? v / entry.top : 0;
    const back = k === 0 ? "at the step of the loss itself" : `${plural(k, "step")} back from the step of the loss`;
    this.host.showTooltip(event, `k = ${k} (${back}): gradient part ${formatNumber(v)}, ${pct(share)} of the largest bar.`);
  }
}
