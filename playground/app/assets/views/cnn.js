// The network view for image tasks (digits, shapes): a convolutional network.
//
// - The builder: the spec's layers as a left-to-right chain of blocks, from
//   the input image to the class probabilities; every block shows its kind,
//   its settings (as controls that work from the keyboard) and the shape of
//   what it hands on, computed here from the spec. "+ conv", "+ pool" and
//   "+ dense" insert a layer where it fits (conv and pool before the
//   flatten, dense after it). Python checks every edit; a refused one says
//   why on the page by itself.
// - The example the views look at: a drawing pad (mouse, touch, or the
//   keyboard) or a training image; the class probabilities as bars; the
//   saliency map (purple) over the image.
// - Inside: every conv and pool layer's feature maps and every conv layer's
//   filters for that image; a click on a filter asks the engine for the
//   training images that excite it most.

import { el, formatNumber, largest, legend, paintGrid, plural } from "./common.js";

const KERNELS = [1, 3, 5, 7];
const POOL_SIZES = [2, 3, 4];
const DROPOUT_RATES = [0.1, 0.2, 0.3, 0.4, 0.5];
const UNIT_STEPS = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32, 48, 64];
const TOP_COUNT = 8;
const SEND_DELAY_MS = 100; // the drawing goes to the engine once the pen rests this long
const PEN_SPREAD = 0.3; // how much a stroke raises the pixels beside it
const SHAPE_NAMES = { hbar: "horizontal bar", vbar: "vertical bar", cross: "cross", circle: "circle", triangle: "triangle" };
const TITLES = { conv2d: "conv", maxpool: "max pool", avgpool: "avg pool", flatten: "flatten", dense: "dense", dropout: "dropout" };

const CSS = `
.pg-cnn-view { display: flex; flex-direction: column; gap: 14px; padding-top: 4px; }
.pg-cnn-view p { margin: 0; }
.pg-cnn-intro { font-size: 13px; color: #343a40; max-width: 680px; line-height: 1.4; }
.pg-cnn-section { display: flex; flex-direction: column; gap: 6px; }
.pg-cnn-section-head { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.pg-cnn-chain { display: flex; flex-wrap: wrap; gap: 4px; align-items: stretch; }
.pg-cnn-arrow { align-self: center; color: #6c757d; font-size: 16px; }
.pg-cnn-block { display: flex; flex-direction: column; gap: 4px; min-width: 92px; padding: 5px 6px;
  border: 1px solid #adb5bd; border-radius: 6px; background: #fff; font-size: 12px; }
.pg-cnn-block[data-type="input"], .pg-cnn-block[data-type="output"] { background: #f8f9fa; }
.pg-cnn-block-title { display: flex; gap: 6px; align-items: center; justify-content: space-between; }
.pg-cnn-block-title strong { font-size: 13px; }
.pg-cnn-remove { border: 1px solid transparent; background: none; cursor: pointer; font-size: 15px; line-height: 16px;
  padding: 0 3px; color: #495057; border-radius: 3px; }
.pg-cnn-remove:hover { border-color: #868e96; background: #f1f3f5; }
.pg-cnn-remove:focus-visible { outline: 3px solid #212529; outline-offset: 1px; }
.pg-cnn-field { display: flex; gap: 4px; align-items: center; justify-content: space-between; white-space: nowrap; }
.pg-cnn-field select { font: inherit; font-size: 12px; max-width: 84px; }
.pg-cnn-field .pg-small { padding: 0 5px; font-size: 14px; line-height: 17px; }
.pg-cnn-value { min-width: 18px; text-align: center; font-variant-numeric: tabular-nums; font-weight: 600; }
.pg-cnn-shape { color: #343a40; font-variant-numeric: tabular-nums; border-top: 1px solid #e9ecef; padding-top: 3px; }
.pg-cnn-thumb { width: 40px; height: 40px; image-rendering: pixelated; border: 1px solid #adb5bd; align-self: center; }
.pg-cnn-adders { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.pg-cnn-example { display: flex; gap: 22px; align-items: flex-start; flex-wrap: wrap; }
.pg-cnn-column { display: flex; flex-direction: column; gap: 6px; align-items: flex-start; max-width: 215px; }
.pg-cnn-column .pg-legend { width: 170px; }
.pg-cnn-pad { border: 1px solid #495057; touch-action: none; cursor: crosshair; background: #fff; }
.pg-cnn-pad:focus-visible { outline: 3px solid #212529; outline-offset: 2px; }
.pg-cnn-buttons { display: flex; gap: 6px; flex-wrap: wrap; }
.pg-cnn-buttons .pg-button { padding: 2px 8px; font-size: 13px; }
.pg-cnn-caption { font-size: 13px; min-height: 18px; }
.pg-cnn-bars { display: grid; grid-template-columns: max-content minmax(50px, 1fr) 34px; width: 215px; gap: 2px 6px; align-items: center; font-size: 13px;
  font-variant-numeric: tabular-nums; }
.pg-cnn-bar-label { text-align: right; white-space: nowrap; }
.pg-cnn-bar-track { height: 13px; background: #f1f3f5; border: 1px solid #dee2e6; position: relative; }
.pg-cnn-bar-fill { position: absolute; left: 0; top: 0; bottom: 0; width: 0; background: #9e9ac8; }
.pg-cnn-predicted { font-weight: 700; }
.pg-cnn-predicted .pg-cnn-bar-fill { background: #3f007d; }
.pg-cnn-prediction-text { font-size: 15px; }
.pg-cnn-saliency { border: 1px solid #495057; }
.pg-cnn-narrow { max-width: 200px; }
.pg-cnn-layer { display: flex; flex-direction: column; gap: 4px; padding: 6px 0; border-top: 1px solid #e9ecef; }
.pg-cnn-layer-title { font-size: 13px; }
.pg-cnn-row { display: flex; gap: 8px; align-items: center; }
.pg-cnn-row-label { flex: 0 0 112px; font-size: 12px; color: #5c636a; }
.pg-cnn-pictures { display: flex; gap: 5px; flex-wrap: wrap; align-items: center; }
.pg-cnn-map, .pg-cnn-filter-canvas, .pg-cnn-units { image-rendering: pixelated; border: 1px solid #adb5bd; display: block; }
.pg-cnn-filter { padding: 2px; border: 1px solid transparent; background: none; cursor: pointer; border-radius: 4px; }
.pg-cnn-filter:hover { border-color: #868e96; background: #f1f3f5; }
.pg-cnn-filter[aria-pressed="true"] { border-color: #212529; background: #e9ecef; }
.pg-cnn-filter:focus-visible { outline: 3px solid #212529; outline-offset: 1px; }
.pg-cnn-kernel-editor { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; padding: 6px 8px; background: #f8f9fa; border-radius: 6px; }
.pg-cnn-kernel { border-collapse: collapse; }
.pg-cnn-kernel td { padding: 1px; }
.pg-cnn-kernel input { width: 58px; font: inherit; font-size: 12px; font-variant-numeric: tabular-nums; }
.pg-cnn-top { display: flex; flex-direction: column; gap: 4px; padding: 6px 8px; background: #f8f9fa; border-radius: 6px; }
.pg-cnn-top[hidden] { display: none; }
.pg-cnn-top-images { display: flex; gap: 6px; flex-wrap: wrap; }
.pg-cnn-top-image { display: flex; flex-direction: column; align-items: center; gap: 2px; padding: 3px; font: inherit;
  font-size: 12px; border: 1px solid #ced4da; background: #fff; border-radius: 4px; cursor: pointer;
  font-variant-numeric: tabular-nums; }
.pg-cnn-top-image:hover { background: #e9ecef; }
.pg-cnn-top-image:focus-visible { outline: 3px solid #212529; outline-offset: 1px; }
.pg-cnn-top-image canvas { width: 44px; height: 44px; image-rendering: pixelated; border: 1px solid #adb5bd; }
.pg-cnn-legends { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.pg-cnn-legends .pg-legend { width: 100%; max-width: 640px; }
.pg-cnn-legends .pg-legend-bar { flex: 0 0 180px; }
.pg-cnn-scale { font: inherit; font-size: 12px; }
.pg-cnn-swatch { display: inline-block; width: 10px; height: 10px; vertical-align: middle; margin: 0 3px; border: 1px solid #495057; }
`;

// --- shapes from the spec ----------------------------------------------------------------

export function shapeText(shape) {
  if (!shape) return "?";
  if (shape.length === 3) return `${shape[0]}×${shape[1]}×${shape[2]}`;
  return `${shape[0]}`;
}

function shapeWords(shape) {
  if (!shape) return "";
  if (shape.length === 3) return `${plural(shape[0], "map")} of ${shape[1]}×${shape[2]}`;
  return plural(shape[0], "value");
}

// --- pictures ------------------------------------------------------------------------------

// An image (channels averaged) in grey: white paper, black ink.
function paintImage(canvas, values, offset, channels, height, width) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const plane = height * width;
  for (let k = 0; k < plane; k++) {
    let v = 0;
    for (let c = 0; c < channels; c++) v += values[offset + c * plane + k];
    v = Math.max(0, Math.min(1, v / channels));
    const grey = Math.round(255 * (1 - v));
    image.data.set([grey, grey, grey, 255], 4 * k);
  }
  context.putImageData(image, 0, 0);
}

function pictureSize(cells, per, low, high) {
  return Math.max(low, Math.min(high, cells * per));
}

export default class CnnView {
  constructor(host) {
    this.host = host;
    this.model = host.model;
    this.colours = host.colours;
    this.spec = null;
    this.custom = false; // the pad holds the learner's drawing (not a training image)
    this.index = 0; // the training image looked at
    this.pad = null; // C×H×W values in [0, 1]
    this.padShape = null;
    this.cursor = [0, 0]; // the keyboard's pixel on the pad
    this.pen = null; // the pointer's last pixel while drawing
    this.perMap = true; // scale feature maps per map (else per layer)
    this.chosen = null; // {position, unit} of the filter whose top images show
    this.element = el("div", { class: "pg-cnn-view", "data-role": "cnn-view" }, el("style", { text: CSS }));
    this.buildIntro();
    this.buildBuilder();
    this.buildExample();
    this.buildInside();
  }

  needs() {
    return ["cnn"];
  }

  destroy() {
    clearTimeout(this.sendTimer);
  }

  // --- the page's structure ------------------------------------------------------------------

  buildIntro() {
    this.element.append(el("p", { class: "pg-cnn-intro", text:
      "A filter is a small grid of weights that slides over the image; at every place it gives one number, large " +
      "where the patch below looks like its pattern. Those numbers form the filter's feature map: where in the image " +
      "it found its pattern. Pooling shrinks each map; later layers combine the maps into the class probabilities." }));
  }

  buildBuilder() {
    this.chain = el("div", { class: "pg-cnn-chain", "data-role": "cnn-chain" });
    this.adders = el("div", { class: "pg-cnn-adders" },
      el("button", { type: "button", class: "pg-button", "data-role": "add-conv", title: "Add a convolution layer before the flatten",
        onclick: () => this.addLayer("conv") }, "+ conv"),
      el("button", { type: "button", class: "pg-button", "data-role": "add-pool", title: "Add a max-pooling layer before the flatten",
        onclick: () => this.addLayer("pool") }, "+ pool"),
      el("button", { type: "button", class: "pg-button", "data-role": "add-dense", title: "Add a dense layer after the flatten",
        onclick: () => this.addLayer("dense") }, "+ dense"),
      el("span", { class: "pg-hint", text: "conv and pool go before the flatten, dense after it. Each block shows the shape it hands on: maps × height × width." }));
    this.element.append(el("section", { class: "pg-cnn-section", "aria-label": "The model" },
      el("h3", { class: "pg-heading", text: "The model" }), this.chain, this.adders));
  }

  buildExample() {
    this.padCanvas = el("canvas", { class: "pg-cnn-pad", tabindex: "0", "data-role": "cnn-pad", role: "img",
      "aria-label": "Drawing pad: draw with the mouse or a finger. From the keyboard: arrow keys move, Space inks a pixel, Delete erases it." });
    this.padCanvas.addEventListener("pointerdown", (event) => this.penDown(event));
    this.padCanvas.addEventListener("pointermove", (event) => this.penMove(event));
    this.padCanvas.addEventListener("pointerup", (event) => this.penUp(event));
    this.padCanvas.addEventListener("pointercancel", (event) => this.penUp(event));
    this.padCanvas.addEventListener("keydown", (event) => this.padKeys(event));
    this.padCanvas.addEventListener("focus", () => this.paintPad());
    this.padCanvas.addEventListener("blur", () => this.paintPad());
    this.caption = el("div", { class: "pg-cnn-caption", "data-role": "cnn-caption", "aria-live": "polite" });
    const buttons = el("div", { class: "pg-cnn-buttons" },
      el("button", { type: "button", class: "pg-button", "data-role": "cnn-clear", title: "Clear the pad and draw your own image", onclick: () => this.clearPad() }, "clear"),
      el("button", { type: "button", class: "pg-button", "data-role": "cnn-previous", title: "Look at the previous training image",
        onclick: () => this.useTraining(-1) }, "◀ training image"),
      el("button", { type: "button", class: "pg-button", "data-role": "cnn-next", title: "Look at the next training image",
        onclick: () => this.useTraining(1) }, "training image ▶"));
    const pad = el("div", { class: "pg-cnn-column" },
      el("h3", { class: "pg-heading", text: "Draw an image" }), this.padCanvas, this.caption, buttons,
      el("p", { class: "pg-hint pg-cnn-narrow", text: "Grey: the image (black is ink). Draw on the pad, or pick a training image. Keyboard: Tab to the pad; arrows move the pink square, Space inks, Delete erases." }));

    this.predictionText = el("div", { class: "pg-cnn-prediction-text", "data-role": "cnn-prediction-text", "aria-live": "polite" });
    this.bars = el("div", { class: "pg-cnn-bars", "data-role": "cnn-prediction" });
    const prediction = el("div", { class: "pg-cnn-column" },
      el("h3", { class: "pg-heading", text: "What the network says" }), this.predictionText, this.bars,
      el("p", { class: "pg-hint pg-cnn-narrow", text: "Bar length: the probability the network gives each class for this image; the darkest bar, in bold, is its prediction." }));

    this.saliency = el("canvas", { class: "pg-cnn-saliency", "data-role": "cnn-saliency", role: "img",
      "aria-label": "Saliency map: where a change of the pixel would change the score of the predicted class the most" });
    this.saliency.addEventListener("mousemove", (event) => this.hoverSaliency(event));
    this.saliency.addEventListener("mouseleave", () => this.host.hideTooltip());
    const saliency = el("div", { class: "pg-cnn-column" },
      el("h3", { class: "pg-heading", text: "Where it looks" }), this.saliency,
      el("p", { class: "pg-hint pg-cnn-narrow", text: "Purple: where a change of the pixel would change the score of the predicted class the most (darker: more). Grey dots: the image's ink." }),
      legend(this.colours, { kind: "magnitude", low: "0", high: "most", text: "" }));
    this.element.append(el("section", { class: "pg-cnn-section", "aria-label": "The image and the prediction" },
      el("div", { class: "pg-cnn-example" }, pad, prediction, saliency)));
  }

  buildInside() {
    const scale = el("select", { class: "pg-cnn-scale", "data-role": "cnn-scale", "aria-label": "How the feature maps are scaled",
      onchange: (event) => { this.perMap = event.target.value === "map"; this.updateLegend(); this.host.requestDraw(); } },
    el("option", { value: "map", text: "each map to its own largest value", selected: true }),
    el("option", { value: "layer", text: "each layer's maps to the layer's largest value" }));
    this.mapsLegend = el("div", { class: "pg-cnn-legends" });
    this.layersBox = el("div", { class: "pg-cnn-layers", "data-role": "cnn-layers" });
    this.element.append(el("section", { class: "pg-cnn-section", "aria-label": "Inside the network" },
      el("div", { class: "pg-cnn-section-head" }, el("h3", { class: "pg-heading", text: "Inside, for this image" }),
        el("label", { class: "pg-hint" }, "Scale ", scale)),
      this.mapsLegend, this.layersBox));
    this.updateLegend();
  }

  updateLegend() {
    const maps = this.perMap ? "each feature map is scaled to its own largest |value| (its pattern shows, not its strength)"
      : "the feature maps of a layer share one scale, its largest |value| (compare their strength)";
    const channels = this.inShape && this.inShape[0] > 1 ? " Filters on several input channels show the average over the channels." : "";
    this.mapsLegend.replaceChildren(legend(this.colours, { low: "−largest", high: "+largest",
      text: `Filters and feature maps: orange negative, blue positive, near-white zero; ${maps}; each layer's filters share the scale of their largest |weight|.${channels} Hover for values.` }));
  }

  // --- the spec --------------------------------------------------------------------------------

  setSpec(spec) {
    const taskChanged = !this.spec || JSON.stringify(spec.task) !== JSON.stringify(this.spec.task);
    this.spec = spec;
    // Shapes as validation inferred them (the page's plan): the input, then each layer's output.
    const plan = this.model.plan || [];
    this.inShape = plan.length ? plan[0].input.slice() : [1, 8, 8];
    this.shapes = spec.layers.map((_, i) => ({ shape: plan[i] ? plan[i].output : null, error: null }));
    if (taskChanged || !sameShape(this.inShape, this.padShape)) {
      this.custom = false;
      this.index = 0;
      this.pendingIndex = null;
      this.setPadShape(this.inShape);
    }
    const key = JSON.stringify([spec.layers, spec.output, this.inShape, this.classNames()]);
    if (key === this.structureKey) return;
    this.structureKey = key;
    if (this.chosen && (!spec.layers[this.chosen.position] || spec.layers[this.chosen.position].type !== "conv2d"
      || this.chosen.unit >= spec.layers[this.chosen.position].filters)) this.chosen = null;
    this.rebuildChain();
    this.rebuildBars();
    this.rebuildLayers();
    this.updateLegend();
    if (this.host.frame) this.draw(this.host.frame);
  }

  classNames() {
    const spec = this.spec;
    const count = Math.max(this.model.classes || 0, 2);
    if (spec.task.dataset === "digits") return Array.from({ length: 10 }, (_, i) => String(i));
    if (spec.task.dataset === "shapes") {
      const kinds = (spec.task.options && spec.task.options.kinds) || this.model.catalogue.shape_kinds;
      return kinds.map((kind) => SHAPE_NAMES[kind] || kind);
    }
    return Array.from({ length: count }, (_, i) => `class ${i + 1}`);
  }

  // --- the builder -------------------------------------------------------------------------------

  rebuildChain() {
    const spec = this.spec;
    const arrow = () => el("span", { class: "pg-cnn-arrow", "aria-hidden": "true", text: "→" });
    this.inputThumb = el("canvas", { class: "pg-cnn-thumb", "aria-hidden": "true" });
    const [c, h, w] = this.inShape;
    const blocks = [el("div", { class: "pg-cnn-block", "data-type": "input", role: "group", "aria-label": "Input image" },
      el("div", { class: "pg-cnn-block-title" }, el("strong", { text: "input" })),
      this.inputThumb,
      el("div", { class: "pg-cnn-shape", title: `${plural(c, "channel")} of ${h}×${w} pixels`, text: `→ ${shapeText(this.inShape)}` }))];
    spec.layers.forEach((layer, index) => blocks.push(arrow(), this.layerBlock(layer, index)));
    const classes = this.classNames().length;
    this.outputLabel = el("div", { class: "pg-cnn-field", "data-role": "cnn-output-prediction" });
    blocks.push(arrow(), el("div", { class: "pg-cnn-block", "data-type": "output", role: "group", "aria-label": "Output layer" },
      el("div", { class: "pg-cnn-block-title" }, el("strong", { text: "output" })),
      el("div", { class: "pg-cnn-field", text: `dense, ${spec.output.activation}` }),
      this.outputLabel,
      el("div", { class: "pg-cnn-shape", title: "one probability per class", text: `→ ${classes} ${classes === 1 ? "class" : "classes"}` })));
    this.chain.replaceChildren(...blocks);
    this.chain.dataset.blocks = String(spec.layers.length);
    this.chain.dataset.layers = spec.layers.map((layer) => layer.type).join(",");
    this.paintThumb();
  }

  layerBlock(layer, index) {
    const name = `layer ${index + 1}`;
    const inShape = index === 0 ? this.inShape : this.shapes[index - 1].shape;
    const { shape, error } = this.shapes[index];
    const set = (fields) => this.host.edit("set_layer", { layer: index, ...fields });
    const fields = [];
    if (layer.type === "conv2d") {
      fields.push(this.stepper("filters", layer.filters, `${name}: filters`,
        layer.filters > 1 ? () => set({ filters: layer.filters - 1 }) : null,
        layer.filters < this.model.catalogue.limits.filters ? () => set({ filters: layer.filters + 1 }) : null, `filters-${index}`));
      const side = inShape && inShape.length === 3 ? Math.min(inShape[1], inShape[2]) : Infinity;
      const kernels = KERNELS.includes(layer.kernel) ? KERNELS : [...KERNELS, layer.kernel].sort((a, b) => a - b);
      fields.push(this.select("kernel", `${name}: kernel size`, layer.kernel,
        kernels.map((k) => [k, k > side ? `${k}×${k} (too large)` : `${k}×${k}`]), (value) => set({ kernel: Number(value) }), `kernel-${index}`));
      fields.push(this.select("padding", `${name}: padding`, layer.padding,
        [["same", "same"], ["valid", "valid"]], (value) => set({ padding: value }), `padding-${index}`));
      fields.push(this.select("act.", `${name}: activation`, layer.activation,
        this.model.activations.map((a) => [a, a]), (value) => set({ activation: value }), `activation-${index}`));
      if ((layer.stride || 1) !== 1) fields.push(el("div", { class: "pg-cnn-field", text: `stride ${layer.stride}` }));
    } else if (layer.type === "maxpool" || layer.type === "avgpool") {
      fields.push(this.select("kind", `${name}: pooling kind`, layer.type,
        [["maxpool", "max"], ["avgpool", "average"]], (value) => set({ type: value, size: layer.size }), `pool-kind-${index}`));
      const sizes = POOL_SIZES.includes(layer.size) ? POOL_SIZES : [...POOL_SIZES, layer.size].sort((a, b) => a - b);
      fields.push(this.select("size", `${name}: pooling window`, layer.size,
        sizes.map((s) => [s, `${s}×${s}`]), (value) => set({ size: Number(value) }), `pool-size-${index}`));
      if (layer.stride && layer.stride !== layer.size) fields.push(el("div", { class: "pg-cnn-field", text: `stride ${layer.stride}` }));
    } else if (layer.type === "dense") {
      const smaller = [...UNIT_STEPS].reverse().find((u) => u < layer.units);
      const larger = UNIT_STEPS.find((u) => u > layer.units);
      fields.push(this.stepper("units", layer.units, `${name}: units`,
        smaller ? () => set({ units: smaller }) : null, larger ? () => set({ units: larger }) : null, `units-${index}`));
      fields.push(this.select("act.", `${name}: activation`, layer.activation,
        this.model.activations.map((a) => [a, a]), (value) => set({ activation: value }), `activation-${index}`));
    } else if (layer.type === "dropout") {
      const rates = DROPOUT_RATES.includes(layer.rate) ? DROPOUT_RATES : [...DROPOUT_RATES, layer.rate].sort((a, b) => a - b);
      fields.push(this.select("rate", `${name}: dropout rate`, layer.rate,
        rates.map((r) => [r, `${Math.round(r * 100)} %`]), (value) => set({ rate: Number(value) }), `rate-${index}`));
    } else if (layer.type === "flatten") {
      fields.push(el("div", { class: "pg-cnn-field pg-hint", text: "maps → one list" }));
    }
    const title = layer.type === "conv2d" ? `conv ${layer.kernel}×${layer.kernel}` : TITLES[layer.type] || layer.type;
    return el("div", { class: "pg-cnn-block", "data-type": layer.type, "data-index": index, "data-role": "cnn-block",
      role: "group", "aria-label": `Layer ${index + 1}: ${TITLES[layer.type] || layer.type}` },
    el("div", { class: "pg-cnn-block-title" }, el("strong", { text: title }),
      el("button", { type: "button", class: "pg-cnn-remove", "aria-label": `Remove layer ${index + 1} (${TITLES[layer.type] || layer.type})`,
        title: "Remove this layer", "data-role": `remove-layer-${index}`, onclick: () => this.host.edit("remove_layer", { index }) }, "×")),
    ...fields,
    el("div", { class: "pg-cnn-shape", "data-role": `shape-${index}`, title: error || shapeWords(shape),
      text: error ? `✕ ${error}` : `→ ${shapeText(shape)}` }));
  }

  stepper(label, value, aria, minus, plus, role) {
    return el("div", { class: "pg-cnn-field" }, el("span", { text: label }),
      el("span", { class: "pg-plus-minus" },
        el("button", { type: "button", class: "pg-small", "aria-label": `${aria}: fewer`, "data-role": `fewer-${role}`,
          disabled: !minus, onclick: () => minus && minus() }, "−"),
        el("span", { class: "pg-cnn-value", "data-role": `value-${role}`, text: String(value) }),
        el("button", { type: "button", class: "pg-small", "aria-label": `${aria}: more`, "data-role": `more-${role}`,
          disabled: !plus, onclick: () => plus && plus() }, "+")));
  }

  // A select shows the spec's value; a change asks Python, and the select
  // goes back to the spec's value until the new spec arrives (a refused
  // edit leaves it as it was).
  select(label, aria, current, options, onChange, role) {
    const node = el("select", { "aria-label": aria, "data-role": role });
    for (const [value, text] of options) node.append(el("option", { value, text, selected: String(value) === String(current) }));
    node.addEventListener("change", () => {
      const value = node.value;
      node.value = String(current);
      onChange(value);
    });
    return el("label", { class: "pg-cnn-field" }, el("span", { text: label }), node);
  }

  addLayer(kind) {
    const layers = this.spec.layers;
    const flatten = layers.findIndex((layer) => layer.type === "flatten");
    const firstDense = layers.findIndex((layer) => layer.type === "dense");
    const beforeFlat = flatten >= 0 ? flatten : firstDense >= 0 ? firstDense : layers.length;
    if (kind === "conv") {
      this.host.edit("insert_layer", { index: beforeFlat, layer: { type: "conv2d", filters: 4, kernel: 3 } });
    } else if (kind === "pool") {
      this.host.edit("insert_layer", { index: beforeFlat, layer: { type: "maxpool", size: 2 } });
    } else {
      let index = layers.length;
      if (flatten < 0 && (!this.shapes.length || (this.shapes[layers.length - 1].shape || []).length !== 1)) {
        this.host.edit("insert_layer", { index, layer: { type: "flatten" } }); // a dense layer needs a flat input
        index += 1;
      }
      this.host.edit("insert_layer", { index, layer: { type: "dense", units: 16, activation: "relu" } });
    }
  }

  // --- the class probabilities ---------------------------------------------------------------

  rebuildBars() {
    const names = this.classNames();
    this.barRows = names.map((name, i) => {
      const fill = el("span", { class: "pg-cnn-bar-fill" });
      const value = el("span", { class: "pg-cnn-bar-value", text: "—" });
      const label = el("span", { class: "pg-cnn-bar-label", text: name });
      const track = el("span", { class: "pg-cnn-bar-track", role: "meter", "aria-label": `probability of ${name}`,
        "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": "0" }, fill);
      return { name, fill, value, label, track, class: i };
    });
    this.bars.replaceChildren(...this.barRows.flatMap((row) => [row.label, row.track, row.value]));
    this.shownProbabilities = null;
  }

  drawPrediction(header, arrays) {
    const output = arrays["cnn/output"];
    if (!output || !this.barRows) return;
    let probabilities = Array.from(output.data);
    if (probabilities.length === 1) probabilities = [1 - probabilities[0], probabilities[0]];
    if (probabilities.length !== this.barRows.length) return;
    const predicted = header.cnn_prediction ?? probabilities.indexOf(Math.max(...probabilities));
    const key = probabilities.map((p) => p.toFixed(3)).join() + predicted;
    if (key === this.shownProbabilities) return;
    this.shownProbabilities = key;
    this.barRows.forEach((row, i) => {
      const p = probabilities[i];
      row.fill.style.width = `${(100 * Math.max(0, Math.min(1, p))).toFixed(1)}%`;
      row.value.textContent = p.toFixed(2);
      row.track.setAttribute("aria-valuenow", p.toFixed(3));
      const on = i === predicted;
      for (const node of [row.label, row.track, row.value]) node.classList.toggle("pg-cnn-predicted", on);
    });
    const name = this.barRows[predicted] ? this.barRows[predicted].name : String(predicted);
    const p = probabilities[predicted];
    this.predictionText.textContent = `It says: ${name} (probability ${p.toFixed(2)})`;
    this.bars.dataset.predicted = String(predicted);
    this.bars.dataset.probability = p.toFixed(4);
    if (this.outputLabel) this.outputLabel.textContent = `says ${name}`;
  }

  // --- the layers inside -------------------------------------------------------------------------

  rebuildLayers() {
    const spec = this.spec;
    this.panels = [];
    const sections = [];
    spec.layers.forEach((layer, position) => {
      const { shape, error } = this.shapes[position];
      const inShape = position === 0 ? this.inShape : this.shapes[position - 1].shape;
      if (error || !shape) return;
      const title = el("div", { class: "pg-cnn-layer-title" });
      const section = el("div", { class: "pg-cnn-layer", "data-position": position, "data-type": layer.type }, title);
      const panel = { position, layer, shape, inShape, section, maps: [], filters: [] };
      if (layer.type === "conv2d") {
        title.append(el("strong", { text: `Layer ${position + 1} · conv ${layer.kernel}×${layer.kernel}` }),
          ` — ${plural(layer.filters, "filter")}, ${layer.activation}: ${plural(layer.filters, "feature map")} of ${shape[1]}×${shape[2]}`);
        const side = pictureSize(layer.kernel, 10, 26, 48);
        const buttons = Array.from({ length: layer.filters }, (_, unit) => {
          const canvas = el("canvas", { class: "pg-cnn-filter-canvas", width: layer.kernel, height: layer.kernel,
            style: { width: `${side}px`, height: `${side}px` } });
          const button = el("button", { type: "button", class: "pg-cnn-filter", "data-role": "cnn-filter",
            "data-position": position, "data-unit": unit, "aria-pressed": "false",
            "aria-label": `Filter ${unit + 1} of layer ${position + 1}: show the training images that excite it most`,
            onclick: () => this.chooseFilter(position, unit) }, canvas);
          button.addEventListener("mouseenter", (event) => this.host.showTooltip(event, this.filterText(position, unit)));
          button.addEventListener("mouseleave", () => this.host.hideTooltip());
          panel.filters.push({ canvas, button });
          return button;
        });
        section.append(el("div", { class: "pg-cnn-row" },
          el("span", { class: "pg-cnn-row-label", text: inShape[0] > 1 ? `filters (mean of ${inShape[0]} channels) — click one` : "filters — click one" }),
          el("div", { class: "pg-cnn-pictures" }, ...buttons)));
      } else if (layer.type === "maxpool" || layer.type === "avgpool") {
        title.append(el("strong", { text: `Layer ${position + 1} · ${layer.type === "maxpool" ? "max" : "average"} pool ${layer.size}×${layer.size}` }),
          ` — keeps the ${layer.type === "maxpool" ? "largest" : "average"} value of each ${layer.size}×${layer.size} window: ${plural(shape[0], "map")} of ${shape[1]}×${shape[2]}`);
      } else if (layer.type === "flatten") {
        title.append(el("strong", { text: `Layer ${position + 1} · flatten` }),
          inShape && inShape.length === 3
            ? ` — lays the ${plural(inShape[0], "map")} of ${inShape[1]}×${inShape[2]} out in one list of ${shape[0]} values for the layers after it`
            : ` — one list of ${shape[0]} values`);
        sections.push(section);
        return;
      } else if (layer.type === "dense") {
        title.append(el("strong", { text: `Layer ${position + 1} · dense` }), ` — ${plural(layer.units, "unit")}, ${layer.activation}: their outputs for this image`);
        const canvas = el("canvas", { class: "pg-cnn-units", width: layer.units, height: 1, "data-role": `cnn-units-${position}`,
          style: { width: `${Math.min(560, layer.units * 22)}px`, height: "22px" } });
        canvas.addEventListener("mousemove", (event) => this.hoverUnits(event, panel));
        canvas.addEventListener("mouseleave", () => this.host.hideTooltip());
        panel.units = canvas;
        section.append(el("div", { class: "pg-cnn-row" }, el("span", { class: "pg-cnn-row-label", text: "outputs" }), canvas));
      } else if (layer.type === "dropout") {
        title.append(el("strong", { text: `Layer ${position + 1} · dropout ${Math.round(layer.rate * 100)} %` }),
          " — in training, drops that share of the values at random; looking at an image, it changes nothing");
        sections.push(section);
        return;
      }
      if (layer.type === "conv2d" || layer.type === "maxpool" || layer.type === "avgpool") {
        const side = pictureSize(shape[1], 6, 26, 56);
        const maps = Array.from({ length: shape[0] }, (_, unit) => {
          const canvas = el("canvas", { class: "pg-cnn-map", width: shape[2], height: shape[1], "data-unit": unit,
            style: { width: `${Math.round((side * shape[2]) / shape[1])}px`, height: `${side}px` } });
          canvas.addEventListener("mousemove", (event) => this.hoverMap(event, panel, unit));
          canvas.addEventListener("mouseleave", () => this.host.hideTooltip());
          panel.maps.push(canvas);
          return canvas;
        });
        section.append(el("div", { class: "pg-cnn-row" },
          el("span", { class: "pg-cnn-row-label", text: "feature maps" }),
          el("div", { class: "pg-cnn-pictures", "data-role": `cnn-maps-${position}` }, ...maps)));
      }
      if (layer.type === "conv2d") {
        panel.editor = el("div", { class: "pg-cnn-kernel-editor", "data-role": "cnn-kernel-editor", hidden: true });
        panel.top = el("div", { class: "pg-cnn-top", "data-role": "cnn-top", hidden: true, "aria-live": "polite" });
        section.append(panel.editor, panel.top);
      }
      this.panels.push(panel);
      sections.push(section);
    });
    if (!sections.length) sections.push(el("p", { class: "pg-placeholder", text: "This model has no hidden layers: add a conv layer to see filters and feature maps." }));
    this.layersBox.replaceChildren(...sections);
    if (this.chosen) this.chooseFilter(this.chosen.position, this.chosen.unit);
  }

  drawLayers(arrays) {
    for (const panel of this.panels || []) {
      const { position, shape } = panel;
      if (panel.editor && !panel.editor.hidden) { // training moves the weights: show where they are now
        for (const input of panel.editor.querySelectorAll("input[data-param]")) {
          const values = arrays[`param/${position}/${input.dataset.param}`];
          if (values && input !== document.activeElement && input.getRootNode().activeElement !== input) {
            input.value = Number(values.data[Number(input.dataset.index)]).toFixed(3);
          }
        }
      }
      const maps = arrays[`cnn/maps/${position}`];
      if (maps && panel.maps.length && sameShape(maps.shape, shape)) {
        const plane = shape[1] * shape[2];
        const layerTop = largest(maps.data) || 1;
        panel.mapTops = [];
        panel.maps.forEach((canvas, unit) => {
          const top = largest(maps.data, unit * plane, plane);
          panel.mapTops.push(top);
          const scale = 1 / (this.perMap ? top || 1 : layerTop);
          paintGrid(canvas, maps.data, unit * plane, shape[2], shape[1], this.colours, { scale });
        });
        panel.layerTop = layerTop;
      }
      const filters = arrays[`cnn/filters/${position}`];
      if (filters && panel.filters.length && filters.shape[0] === panel.filters.length) {
        const [count, channels, k] = filters.shape;
        const size = k * k;
        const averaged = new Float32Array(count * size);
        for (let f = 0; f < count; f++) {
          for (let c = 0; c < channels; c++) {
            const from = (f * channels + c) * size;
            for (let i = 0; i < size; i++) averaged[f * size + i] += filters.data[from + i] / channels;
          }
        }
        const top = largest(averaged) || 1;
        panel.filterTop = top;
        panel.filters.forEach(({ canvas }, f) => paintGrid(canvas, averaged, f * size, k, k, this.colours, { scale: 1 / top }));
      }
      const units = arrays[`cnn/units/${position}`];
      if (panel.units && units && units.data.length === panel.layer.units) {
        const top = largest(units.data) || 1;
        panel.unitTop = top;
        paintGrid(panel.units, units.data, 0, units.data.length, 1, this.colours, { scale: 1 / top });
      }
    }
  }

  // --- "what excites this filter" --------------------------------------------------------------

  // The chosen filter's weights as numbers to type: one k×k grid per input
  // channel (at most three), and its bias. A typed weight goes to the engine
  // at once, so the feature maps show what the new filter finds.
  editFilter(panel, unit) {
    const { position, layer } = panel;
    const frame = this.host.frame;
    const weights = frame && frame.arrays[`param/${position}/W`];
    const editor = panel.editor;
    if (!weights || weights.shape[0] !== layer.filters) {
      editor.hidden = true;
      return;
    }
    const [, channels, k] = weights.shape;
    const grids = [];
    for (let c = 0; c < Math.min(channels, 3); c++) {
      const rows = [];
      for (let r = 0; r < k; r++) {
        const cells = [];
        for (let col = 0; col < k; col++) {
          const index = ((unit * channels + c) * k + r) * k + col;
          const where = `row ${r + 1}, column ${col + 1}${channels > 1 ? `, channel ${c + 1}` : ""}`;
          cells.push(el("td", {}, this.weightInput(position, "W", index, weights.data,
            `Filter ${unit + 1} of layer ${position + 1}: weight at ${where}`, `filter-weight-${c}-${r}-${col}`)));
        }
        rows.push(el("tr", {}, ...cells));
      }
      grids.push(el("div", {}, el("div", { class: "pg-hint", text: channels > 1 ? `channel ${c + 1}` : "weights" }),
        el("table", { class: "pg-cnn-kernel" }, el("tbody", {}, ...rows))));
    }
    const biases = this.host.frame.arrays[`param/${position}/b`];
    const bias = el("label", { class: "pg-hint" }, "bias ", this.weightInput(position, "b", unit,
      biases ? biases.data : [0], `Filter ${unit + 1} of layer ${position + 1}: bias`, "filter-bias"));
    editor.replaceChildren(
      el("div", { class: "pg-cnn-layer-title" }, el("strong", { text: `Filter ${unit + 1} of layer ${position + 1}: its weights` }),
        " — type a number and press Enter; the feature maps above follow at once." +
        (channels > 3 ? ` (Only the first 3 of its ${channels} channels are shown.)` : "")),
      ...grids, bias);
    editor.dataset.unit = String(unit);
    editor.hidden = false;
  }

  weightInput(position, name, index, values, label, role) {
    const input = el("input", { type: "number", step: "0.1", value: Number(values[index]).toFixed(3), "aria-label": label,
      "data-role": role, "data-control": "weights", "data-param": name, "data-index": index });
    const send = () => {
      const number = Number(input.value);
      if (this.host.isLocked("weights")) return;
      if (input.value === "" || !Number.isFinite(number)) {
        this.host.showNotice(`“${input.value}” is not a number; the weight was not changed.`, "error");
        return;
      }
      this.host.post("set_weight", { layer: position, name, index, value: number });
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        send();
      }
    });
    input.addEventListener("change", send);
    return input;
  }

  async chooseFilter(position, unit) {
    const panel = (this.panels || []).find((p) => p.position === position);
    if (!panel || !panel.top) return;
    this.chosen = { position, unit };
    for (const other of this.panels) {
      other.filters.forEach(({ button }, f) => button.setAttribute("aria-pressed", String(other === panel && f === unit)));
      if (other !== panel && other.top) other.top.hidden = true;
      if (other !== panel && other.editor) other.editor.hidden = true;
    }
    this.editFilter(panel, unit);
    const top = panel.top;
    const title = el("div", { class: "pg-cnn-layer-title" },
      el("strong", { text: `What excites filter ${unit + 1} of layer ${position + 1}` }),
      ` — the ${TOP_COUNT} training images where its feature map reaches the largest values (the score below each).`);
    top.hidden = false;
    delete top.dataset.count;
    const request = (this.request = (this.request || 0) + 1);
    top.replaceChildren(title, el("p", { class: "pg-hint", text: "Looking through the training images…" }));
    let result;
    try {
      result = await this.host.probe("top_inputs", { layer: position, unit, count: TOP_COUNT });
    } catch (error) {
      if (request !== this.request) return;
      top.replaceChildren(title, el("p", { class: "pg-hint", "data-role": "cnn-top-error", text: `It cannot look now: ${error.message}.` }));
      return;
    }
    if (request !== this.request) return; // another filter was chosen meanwhile
    const inputs = result.arrays["top/inputs"], scores = result.arrays["top/scores"];
    const indices = result.header.indices || [];
    const [count, channels, height, width] = inputs.shape;
    const labels = this.host.data && this.host.data.labelsTrain ? this.host.data.labelsTrain.data : null;
    const names = this.classNames();
    const images = [];
    for (let i = 0; i < count; i++) {
      const canvas = el("canvas", { width, height });
      paintImage(canvas, inputs.data, i * channels * height * width, channels, height, width);
      const label = labels && indices[i] !== undefined ? names[labels[indices[i]]] : null;
      const text = `score ${formatNumber(scores.data[i], 2)}`;
      images.push(el("button", { type: "button", class: "pg-cnn-top-image", "data-role": "cnn-top-image",
        "data-score": scores.data[i], "data-index": indices[i], "aria-label": `Training image ${indices[i] + 1}${label ? ` (${label})` : ""}, ${text}: look at it`,
        title: `${label ? `A ${label}; ` : ""}the filter's largest value on it: ${formatNumber(scores.data[i])}. Click to look at this image.`,
        onclick: () => this.useTraining(0, indices[i]) }, canvas, el("span", { text }), label ? el("span", { class: "pg-hint", text: label }) : null));
    }
    top.replaceChildren(title, el("div", { class: "pg-cnn-top-images" }, ...images),
      el("p", { class: "pg-hint", text: "Grey: the images (black is ink). Click one to look at it above. Training moves the filters: click the filter again to look again." }));
    top.dataset.count = String(count);
  }

  filterText(position, unit) {
    const panel = (this.panels || []).find((p) => p.position === position);
    const arrays = this.host.frame ? this.host.frame.arrays : {};
    const bias = arrays[`param/${position}/b`];
    const b = bias && unit < bias.data.length ? formatNumber(bias.data[unit]) : "…";
    const channels = panel && panel.inShape[0] > 1 ? `, averaged over its ${panel.inShape[0]} input channels` : "";
    const scale = panel && panel.filterTop ? ` (scale: ±${formatNumber(panel.filterTop)})` : "";
    return `Filter ${unit + 1} of layer ${position + 1}: its weights${channels}, orange negative, blue positive${scale}; bias ${b}. ` +
      "Click: the training images that excite it most.";
  }

  hoverMap(event, panel, unit) {
    const arrays = this.host.frame ? this.host.frame.arrays : {};
    const maps = arrays[`cnn/maps/${panel.position}`];
    if (!maps || !sameShape(maps.shape, panel.shape)) return;
    const [, h, w] = panel.shape;
    const box = event.target.getBoundingClientRect();
    const col = Math.min(w - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * w)));
    const row = Math.min(h - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * h)));
    const value = maps.data[unit * h * w + row * w + col];
    const what = panel.layer.type === "conv2d" ? `filter ${unit + 1}'s feature map` : `map ${unit + 1}, pooled`;
    const scale = this.perMap ? `this map's largest |value| ${formatNumber(panel.mapTops ? panel.mapTops[unit] : 0)}`
      : `the layer's largest |value| ${formatNumber(panel.layerTop || 0)}`;
    this.host.showTooltip(event, `Layer ${panel.position + 1}, ${what}: ${formatNumber(value)} at row ${row + 1}, column ${col + 1} ` +
      `(orange negative, blue positive; scaled to ${scale}).`);
  }

  hoverUnits(event, panel) {
    const arrays = this.host.frame ? this.host.frame.arrays : {};
    const units = arrays[`cnn/units/${panel.position}`];
    if (!units) return;
    const box = event.target.getBoundingClientRect();
    const i = Math.min(units.data.length - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * units.data.length)));
    this.host.showTooltip(event, `Layer ${panel.position + 1}, unit ${i + 1}: ${formatNumber(units.data[i])} ` +
      `(orange negative, blue positive; scaled to the layer's largest |value| ${formatNumber(panel.unitTop || 0)}).`);
  }

  // --- the drawing pad --------------------------------------------------------------------------

  setPadShape(shape) {
    const [c, h, w] = shape;
    this.padShape = [c, h, w];
    this.pad = new Float32Array(c * h * w);
    this.cell = Math.max(8, Math.min(20, Math.floor(168 / Math.max(h, w))));
    this.padCanvas.width = w * this.cell;
    this.padCanvas.height = h * this.cell;
    this.saliency.width = w * this.cell;
    this.saliency.height = h * this.cell;
    this.cursor = [Math.floor(h / 2), Math.floor(w / 2)];
    this.padCanvas.setAttribute("aria-label", `Drawing pad of ${h}×${w} pixels: draw with the mouse or a finger. ` +
      "From the keyboard: arrow keys move, Space inks a pixel, Delete erases it.");
    this.paintPad();
  }

  padCell(event) {
    const [, h, w] = this.padShape;
    const box = this.padCanvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * w);
    const row = Math.floor(((event.clientY - box.top) / box.height) * h);
    return [Math.min(h - 1, Math.max(0, row)), Math.min(w - 1, Math.max(0, col))];
  }

  penDown(event) {
    if (!this.pad || event.button > 0) return;
    event.preventDefault();
    this.padCanvas.setPointerCapture(event.pointerId);
    this.pen = null;
    this.drawing = true;
    this.strokeTo(this.padCell(event));
  }

  penMove(event) {
    if (!this.drawing) return;
    event.preventDefault();
    this.strokeTo(this.padCell(event));
  }

  penUp(event) {
    if (!this.drawing) return;
    this.drawing = false;
    this.pen = null;
    if (this.padCanvas.hasPointerCapture(event.pointerId)) this.padCanvas.releasePointerCapture(event.pointerId);
  }

  // A stroke from the last pixel to this one: every pixel on the way.
  strokeTo([row, col]) {
    const from = this.pen || [row, col];
    if (this.pen && from[0] === row && from[1] === col) return;
    const steps = Math.max(Math.abs(row - from[0]), Math.abs(col - from[1]));
    for (let s = this.pen ? 1 : 0; s <= steps; s++) {
      const t = steps ? s / steps : 0;
      this.ink(Math.round(from[0] + (row - from[0]) * t), Math.round(from[1] + (col - from[1]) * t), 1);
    }
    this.pen = [row, col];
    this.changed();
  }

  // A pen: the pixel becomes full ink, its four neighbours a little darker.
  // With value 0 an eraser: the pixel only.
  ink(row, col, value) {
    const [c, h, w] = this.padShape;
    for (let ch = 0; ch < c; ch++) {
      const base = ch * h * w;
      this.pad[base + row * w + col] = value;
      if (!value) continue;
      for (const [dr, dc] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) {
        const r = row + dr, q = col + dc;
        if (r < 0 || r >= h || q < 0 || q >= w) continue;
        const k = base + r * w + q;
        this.pad[k] = Math.min(1, this.pad[k] + PEN_SPREAD);
      }
    }
  }

  padKeys(event) {
    if (!this.padShape) return;
    const [, h, w] = this.padShape;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[event.key]) {
      const [dr, dc] = moves[event.key];
      this.cursor = [Math.min(h - 1, Math.max(0, this.cursor[0] + dr)), Math.min(w - 1, Math.max(0, this.cursor[1] + dc))];
      this.paintPad();
    } else if (event.key === " " || event.key === "Enter") {
      this.ink(this.cursor[0], this.cursor[1], 1);
      this.changed();
    } else if (event.key === "Delete" || event.key === "Backspace") {
      this.ink(this.cursor[0], this.cursor[1], 0);
      this.changed();
    } else {
      return;
    }
    event.preventDefault();
  }

  clearPad() {
    if (!this.pad) return;
    this.pad.fill(0);
    this.changed();
  }

  // The pad changed: show it, and send it to the engine once the pen rests.
  changed() {
    this.custom = true;
    this.pendingIndex = null;
    this.element.dataset.shows = "waiting";
    this.paintPad();
    this.paintThumb();
    this.updateCaption();
    clearTimeout(this.sendTimer);
    this.sendTimer = setTimeout(() => this.sendPad(), SEND_DELAY_MS);
  }

  sendPad() {
    if (!this.custom || !this.pad) return;
    if (!this.host.ready) { // the engine is still starting: send it with the first frame after
      this.unsent = true;
      return;
    }
    this.unsent = false;
    const [c, h, w] = this.padShape;
    const values = Array.from({ length: c }, (_, ch) => Array.from({ length: h }, (_, r) =>
      Array.from(this.pad.subarray(ch * h * w + r * w, ch * h * w + (r + 1) * w), (v) => Math.round(v * 1000) / 1000)));
    this.host.select({ values });
  }

  useTraining(step, index = null) {
    if (!this.host.ready) return; // the engine is still starting; it shows the first training image then
    const count = this.host.data && this.host.data.labelsTrain ? this.host.data.labelsTrain.data.length : null;
    let next = index !== null ? index : this.index + step;
    if (count) next = ((next % count) + count) % count;
    else next = Math.max(0, next);
    clearTimeout(this.sendTimer);
    this.custom = false;
    this.unsent = false;
    this.index = next;
    this.pendingIndex = next; // until a frame shows it
    this.element.dataset.shows = "waiting";
    this.host.select({ index: next });
    this.updateCaption();
  }

  updateCaption() {
    let text = "Your drawing";
    if (!this.custom) {
      const labels = this.host.data && this.host.data.labelsTrain ? this.host.data.labelsTrain.data : null;
      const label = labels && this.index < labels.length ? this.classNames()[labels[this.index]] : undefined;
      const count = labels ? ` of ${labels.length.toLocaleString("en")}` : "";
      text = `Training image ${this.index + 1}${count}${label !== undefined ? `: ${label}` : ""}`;
    }
    if (this.caption.textContent !== text) this.caption.textContent = text;
  }

  paintPad() {
    if (!this.pad) return;
    const [c, h, w] = this.padShape;
    const cell = this.cell;
    const context = this.padCanvas.getContext("2d");
    const plane = h * w;
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        let v = 0;
        for (let ch = 0; ch < c; ch++) v += this.pad[ch * plane + r * w + q];
        const grey = Math.round(255 * (1 - Math.max(0, Math.min(1, v / c))));
        context.fillStyle = `rgb(${grey},${grey},${grey})`;
        context.fillRect(q * cell, r * cell, cell, cell);
      }
    }
    context.strokeStyle = "rgba(134, 142, 150, 0.35)";
    context.lineWidth = 1;
    context.beginPath();
    for (let i = 1; i < w; i++) { context.moveTo(i * cell + 0.5, 0); context.lineTo(i * cell + 0.5, h * cell); }
    for (let i = 1; i < h; i++) { context.moveTo(0, i * cell + 0.5); context.lineTo(w * cell, i * cell + 0.5); }
    context.stroke();
    if (this.padCanvas.matches(":focus")) {
      const [r, q] = this.cursor;
      context.strokeStyle = this.model.palette.alert;
      context.lineWidth = 2;
      context.strokeRect(q * cell + 1, r * cell + 1, cell - 2, cell - 2);
    }
  }

  paintThumb() {
    if (!this.inputThumb || !this.pad) return;
    const [c, h, w] = this.padShape;
    paintImage(this.inputThumb, this.pad, 0, c, h, w);
  }

  // The saliency in purple over the image, whose ink shows as grey dots.
  drawSaliency(arrays) {
    const saliency = arrays["cnn/saliency"], input = arrays["cnn/input"];
    if (!saliency || !input || !this.padShape) return;
    const [c, h, w] = input.shape;
    if (saliency.shape[0] !== h || saliency.shape[1] !== w || h !== this.padShape[1] || w !== this.padShape[2]) return;
    const cell = this.cell, context = this.saliency.getContext("2d");
    const plane = h * w;
    for (let k = 0; k < plane; k++) {
      const r = Math.floor(k / w), q = k % w;
      context.fillStyle = this.colours.size(saliency.data[k]);
      context.fillRect(q * cell, r * cell, cell, cell);
      let v = 0;
      for (let ch = 0; ch < c; ch++) v += input.data[ch * plane + k];
      v = Math.max(0, Math.min(1, v / c));
      if (v > 0.05) {
        const side = Math.max(2, Math.round(cell * 0.55 * Math.sqrt(v)));
        context.fillStyle = "rgba(73, 80, 87, 0.9)";
        context.fillRect(q * cell + (cell - side) / 2, r * cell + (cell - side) / 2, side, side);
      }
    }
    this.saliencyValues = saliency.data;
  }

  hoverSaliency(event) {
    const arrays = this.host.frame ? this.host.frame.arrays : {};
    const saliency = arrays["cnn/saliency"];
    if (!saliency || !this.padShape) return;
    const [row, col] = (() => {
      const [, h, w] = this.padShape;
      const box = this.saliency.getBoundingClientRect();
      return [Math.min(h - 1, Math.floor(((event.clientY - box.top) / box.height) * h)),
        Math.min(w - 1, Math.floor(((event.clientX - box.left) / box.width) * w))];
    })();
    const value = saliency.data[row * saliency.shape[1] + col];
    this.host.showTooltip(event, `Pixel at row ${row + 1}, column ${col + 1}: saliency ${formatNumber(value, 2)} ` +
      "(1 = the pixel where a change would change the predicted class's score the most).");
  }

  // --- every frame ---------------------------------------------------------------------------

  frameArray(name) {
    const frame = this.host.frame;
    return frame && frame.arrays[name] ? frame.arrays[name] : null;
  }

  draw(frame) {
    if (!this.spec) return;
    const { header, arrays } = frame;
    if (this.unsent && this.host.ready) this.sendPad();
    let input = arrays["cnn/input"];
    if (input && input.shape.length === 3 && !sameShape(input.shape, this.padShape)) {
      input = null; // a frame from before the task changed
    }
    const selected = header.selected ?? null;
    if (this.pendingIndex !== null && this.pendingIndex !== undefined && selected === this.pendingIndex) this.pendingIndex = null;
    const settled = this.pendingIndex === null || this.pendingIndex === undefined;
    if (selected !== null && !this.custom && settled) this.index = selected;
    if (input && this.pad) {
      if (!this.custom && !this.drawing && settled) {
        if (!sameValues(this.pad, input.data)) {
          this.pad.set(input.data);
          this.paintPad();
          this.paintThumb();
        }
        this.element.dataset.shows = header.selected === null ? "waiting" : `training-${header.selected}`;
      } else if (this.custom) {
        this.element.dataset.shows = !this.drawing && header.selected === null && sameValues(this.pad, input.data) ? "drawing" : "waiting";
      }
    }
    this.updateCaption();
    this.element.dataset.step = String(header.step);
    if (!arrays["cnn/output"]) return; // a diverged model, or the frame from before this view showed
    this.drawPrediction(header, arrays);
    this.drawSaliency(arrays);
    this.drawLayers(arrays);
  }
}

function sameShape(a, b) {
  return Boolean(a && b) && a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameValues(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 2e-3) return false;
  return true;
}
