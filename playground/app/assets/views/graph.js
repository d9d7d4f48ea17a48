// The network view for the 2-D tasks: the features column, a column per
// hidden layer, the output; every neuron shows its output over the input
// plane, every edge its weight (colour by sign, width by size). Buttons add
// layers and neurons, selects choose activations, clicks on features switch
// them; a click on an edge or a neuron opens its weights for editing.
//
// With "Show gradients" the edges and neurons take the colour of their
// gradient's size instead (purple, darker is larger) — where learning happens
// and where it fades. Units the coach flags (dead, saturated) are outlined.
//
// The graph is drawn on one canvas each frame: restyling hundreds of SVG
// paths per frame costs the browser far more. Invisible SVG paths over it
// catch hovers and clicks on edges, and a button over each neuron takes
// focus, clicks and keys.

import { el, formatNumber, paintGrid, plural, svg } from "./common.js";

export default class GraphView {
  constructor(host) {
    this.host = host;
    this.model = host.model;
    this.colours = host.colours;
    this.overlay = false;
    this.element = el("div", { class: "pg-graph-view" });
    const overlay = el("input", { type: "checkbox", "data-role": "gradient-overlay",
      onchange: (event) => { this.overlay = event.target.checked; host.sendViews(); host.requestDraw(); } });
    this.overlayLegend = el("span", { class: "pg-hint" });
    this.element.append(el("div", { class: "pg-graph-options" },
      el("label", { class: "pg-check" }, overlay, "Show gradients"), this.overlayLegend));
    this.graph = el("div", { class: "pg-graph" });
    this.graphCanvas = el("canvas", { class: "pg-graph-canvas", "aria-hidden": "true" });
    this.edgesLayer = svg("svg", { class: "pg-edges", "aria-hidden": "true" });
    this.mapScratch = el("canvas", { width: this.model.map_size, height: this.model.map_size });
    this.graph.append(this.graphCanvas, this.edgesLayer);
    this.editor = el("div", { class: "pg-editor", role: "dialog", "aria-label": "Edit weights", hidden: true });
    this.element.append(this.graph, this.editor);
    this.element.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.closeEditor();
    });
    this.resizeObserver = new ResizeObserver(() => this.rebuildGraph());
    this.resizeObserver.observe(this.graph);
  }

  needs() {
    return this.overlay ? ["gradients"] : [];
  }

  destroy() {
    this.resizeObserver.disconnect();
  }

  setSpec(spec) {
    this.spec = spec;
    this.rebuildGraph();
  }

  // --- layout -------------------------------------------------------------------

  describeColumns() {
    const spec = this.spec;
    if (!spec) return null;
    const features = Object.keys(this.model.feature_labels);
    const columns = [{ kind: "features", nodes: features.map((name) => ({ name, enabled: spec.task.features.includes(name) })) }];
    let units = spec.task.features.length;
    for (const [index, layer] of spec.layers.entries()) {
      if (layer.type === "dense") units = layer.units;
      else if (layer.type !== "dropout") return null;
      columns.push({ kind: layer.type, index, layer, nodes: Array.from({ length: units }, (_, i) => ({ i })) });
    }
    columns.push({ kind: "output", index: spec.layers.length,
      nodes: Array.from({ length: this.host.outputUnits() }, (_, i) => ({ i })) });
    return columns;
  }

  rebuildGraph() {
    const columns = this.describeColumns();
    const width = this.graph.clientWidth;
    const key = JSON.stringify([columns, width, this.graph.clientHeight]);
    if (key === this.layoutKey || !width) return;
    this.layoutKey = key;
    this.closeEditor();
    for (const child of [...this.graph.children]) {
      if (child !== this.edgesLayer && child !== this.graphCanvas) child.remove();
    }
    this.edgesLayer.replaceChildren();
    if (!columns) {
      this.layout = null;
      this.graph.append(el("p", { class: "pg-placeholder", text: "This model's layers are not dense layers on 2-D points." }));
      return;
    }
    const height = Math.max(this.graph.clientHeight, 320);
    const longest = Math.max(...columns.map((c) => c.nodes.length));
    const top = 100;
    const size = Math.max(16, Math.min(40, Math.floor((height - top - 10) / longest) - 8));
    const gap = size + 8;
    const left = 62, right = Math.max(width - size - 20, left + 200); // room for the feature labels
    const step = (right - left) / (columns.length - 1);
    this.layout = { columns, size, nodes: [] };
    columns.forEach((column, c) => {
      const x = left + c * step;
      column.x = x;
      column.nodes.forEach((node, i) => {
        node.x = x;
        node.y = top + i * gap;
      });
      this.graph.append(this.columnHeader(column, x, size, step));
      column.nodes.forEach((node, i) => this.graph.append(this.nodeElement(column, node, i, size)));
    });
    this.graph.append(this.layersHeader(columns, size));
    const graphHeight = top + longest * gap + 10;
    this.graph.style.minHeight = `${graphHeight}px`;
    this.edgesLayer.setAttribute("width", width);
    this.edgesLayer.setAttribute("height", graphHeight);
    const ratio = window.devicePixelRatio || 1;
    this.graphCanvas.width = Math.round(width * ratio);
    this.graphCanvas.height = Math.round(graphHeight * ratio);
    this.graphCanvas.style.width = `${width}px`;
    this.graphCanvas.style.height = `${graphHeight}px`;
    this.graphContext = this.graphCanvas.getContext("2d");
    this.graphContext.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.buildEdges(size);
    if (this.host.frame) this.draw(this.host.frame);
  }

  layersHeader(columns, size) {
    const hidden = columns.filter((c) => c.kind !== "features" && c.kind !== "output");
    const count = this.spec.layers.length;
    const header = el("div", { class: "pg-layers-header" },
      el("button", { type: "button", class: "pg-small", "aria-label": "Add a hidden layer", "data-role": "add-layer", "data-control": "layers",
        onclick: () => this.host.edit("add_layer") }, "+"),
      el("button", { type: "button", class: "pg-small", "aria-label": "Remove the last hidden layer",
        "data-role": "remove-layer", "data-control": "layers", onclick: () => this.host.edit("remove_layer") }, "−"),
      el("span", { class: "pg-heading", text: `${plural(count, "hidden layer")}` }));
    const first = hidden.length ? hidden[0].x : columns[0].x + 120;
    const last = hidden.length ? hidden[hidden.length - 1].x : first;
    header.style.left = `${(first + last) / 2 + size / 2}px`;
    return header;
  }

  columnHeader(column, x, size, step) {
    const header = el("div", { class: "pg-column-header" });
    // A header never spreads past half the way to its neighbours.
    const width = Math.max(44, Math.min(120, step - 6));
    const compact = width < 96;
    header.style.left = `${x + size / 2}px`;
    header.style.width = `${width}px`;
    header.classList.toggle("pg-compact", compact);
    if (column.kind === "features") {
      header.classList.add("pg-features-header");
      header.style.left = "0px";
      header.style.width = `${x + size + 4}px`;
      header.append(el("span", { class: "pg-heading", text: "Features" }),
        el("span", { class: "pg-hint", text: "click: on/off" }));
    } else if (column.kind === "output") {
      header.append(el("span", { class: "pg-hint", text: "output" }));
    } else if (column.kind === "dense") {
      const index = column.index;
      const select = el("select", { class: "pg-activation", "aria-label": `Activation of layer ${index + 1}`, "data-control": "activation",
        onchange: (event) => this.host.edit("set_activation", { layer: index, activation: event.target.value }) });
      for (const name of this.model.activations) {
        select.append(el("option", { value: name, text: name, selected: name === column.layer.activation }));
      }
      header.append(
        el("div", { class: "pg-plus-minus" },
          el("button", { type: "button", class: "pg-small", "aria-label": `Add a neuron to layer ${index + 1}`,
            "data-role": `add-neuron-${index}`, "data-control": "neurons", onclick: () => this.host.edit("add_neuron", { layer: index }) }, "+"),
          el("button", { type: "button", class: "pg-small", "aria-label": `Remove a neuron from layer ${index + 1}`,
            "data-role": `remove-neuron-${index}`, "data-control": "neurons", onclick: () => this.host.edit("remove_neuron", { layer: index }) }, "−")),
        el("span", { class: "pg-hint", text: compact ? String(column.layer.units) : plural(column.layer.units, "neuron"),
          title: plural(column.layer.units, "neuron") }), select);
    } else {
      header.append(el("span", { class: "pg-hint", text: `${column.kind} ${column.layer.rate ?? ""}` }));
    }
    return header;
  }

  nodeElement(column, node, i, size) {
    const labels = this.model.feature_labels;
    let label, description;
    const outputs = this.host.outputUnits();
    if (column.kind === "features") {
      label = labels[node.name];
      description = node.enabled ? `Input ${label}: on (click to switch off)` : `Input ${label}: off (click to switch on)`;
    } else if (column.kind === "output") {
      description = `Output ${outputs > 1 ? `for class ${i + 1}` : ""}: open its weights`;
    } else {
      label = `${column.index + 1}.${i + 1}`;
      description = `Neuron ${label}: open its weights`;
    }
    const button = el("button", { type: "button", class: `pg-node pg-node-${column.kind}`, "aria-label": description,
      "data-node": column.kind === "features" ? `feature-${node.name}` : `${column.index}-${i}` });
    button.style.left = `${node.x}px`;
    button.style.top = `${node.y}px`;
    button.style.width = button.style.height = `${size}px`;
    node.element = button;
    if (column.kind === "features") {
      button.setAttribute("aria-pressed", node.enabled ? "true" : "false");
      button.dataset.control = "features";
      button.classList.toggle("pg-off", !node.enabled);
      button.append(el("span", { class: "pg-feature-label", text: label }));
      button.addEventListener("click", () => this.host.edit("toggle_feature", { feature: node.name }));
      button.addEventListener("mouseenter", (event) => this.host.showTooltip(event,
        `${label}: ${node.enabled ? "fed to the network" : "not used"}. Its map shows the value over the plane (orange low, blue high).`));
    } else if (column.kind !== "dropout") {
      node.hasBias = true;
      button.addEventListener("click", () => this.openEditor(column, i));
      button.addEventListener("mouseenter", (event) => this.host.showTooltip(event, this.neuronText(column, i)));
    }
    button.addEventListener("mouseleave", () => this.host.hideTooltip());
    return button;
  }

  buildEdges(size) {
    const { columns } = this.layout;
    this.layout.edges = [];
    this.layout.passes = [];
    for (let c = 1; c < columns.length; c++) {
      const column = columns[c];
      const sources = c === 1 ? columns[0].nodes.filter((node) => node.enabled) : columns[c - 1].nodes;
      if (column.kind === "dropout") {
        column.nodes.forEach((node, i) => this.addEdge(sources[i], node, size, null));
        continue;
      }
      column.nodes.forEach((target, j) => sources.forEach((source, i) =>
        this.addEdge(source, target, size, { column, row: i, col: j, units: column.nodes.length })));
    }
  }

  addEdge(source, target, size, weight) {
    const x1 = source.x + size, y1 = source.y + size / 2, x2 = target.x, y2 = target.y + size / 2;
    const dx = (x2 - x1) / 2;
    const edge = { weight, source, target, x1, y1, x2, y2, dx, value: 0, gradient: 0 };
    if (!weight) {
      this.layout.passes.push(edge); // dropout: one neuron to its own copy
      return;
    }
    const d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
    const hit = svg("path", { d, class: "pg-edge-hit" });
    hit.addEventListener("mouseenter", (event) => this.host.showTooltip(event, this.edgeText(edge)));
    hit.addEventListener("mousemove", (event) => this.host.moveTooltip(event));
    hit.addEventListener("mouseleave", () => this.host.hideTooltip());
    hit.addEventListener("click", (event) => this.openEditor(weight.column, weight.col, weight.row, event));
    this.edgesLayer.append(hit);
    this.layout.edges.push(edge);
  }

  // --- drawing ------------------------------------------------------------------

  draw(frame) {
    if (!this.layout) return;
    const { arrays, header } = frame;
    const context = this.graphContext, size = this.model.map_size, box = this.layout.size;
    const overlay = this.overlay && arrays["grad/0/W"] !== undefined;
    this.overlayLegend.textContent = overlay
      ? "Edges and squares: how large each gradient is (purple, darker is larger; scaled to the largest)."
      : "";
    context.clearRect(0, 0, this.graphCanvas.width, this.graphCanvas.height);
    // Edges first, under the neurons: weights by sign and size, or gradient sizes.
    const top = overlay ? this.largestGradient(arrays) : 1;
    context.lineCap = "round";
    for (const edge of this.layout.edges) {
      const { column, row, col, units } = edge.weight;
      const weights = arrays[`param/${column.index}/W`];
      if (weights && weights.shape[1] === units && row < weights.shape[0]) edge.value = weights.data[row * units + col];
      const grads = arrays[`grad/${column.index}/W`];
      if (grads && grads.shape[1] === units && row < grads.shape[0]) edge.gradient = grads.data[row * units + col];
      if (overlay) {
        const share = Math.abs(edge.gradient) / top;
        context.strokeStyle = this.colours.size(Math.sqrt(share)); // square root: small gradients stay visible
        context.lineWidth = 0.6 + 4 * Math.sqrt(share);
      } else {
        context.strokeStyle = edge.value >= 0 ? this.model.palette.positive : this.model.palette.negative;
        context.lineWidth = Math.min(8, 0.4 + Math.abs(edge.value) * 2.2);
      }
      context.globalAlpha = 0.85;
      context.beginPath();
      context.moveTo(edge.x1, edge.y1);
      context.bezierCurveTo(edge.x1 + edge.dx, edge.y1, edge.x2 - edge.dx, edge.y2, edge.x2, edge.y2);
      context.stroke();
    }
    context.globalAlpha = 1;
    context.setLineDash([3, 3]);
    context.strokeStyle = "#adb5bd";
    context.lineWidth = 1;
    for (const edge of this.layout.passes) {
      context.beginPath();
      context.moveTo(edge.x1, edge.y1);
      context.lineTo(edge.x2, edge.y2);
      context.stroke();
    }
    context.setLineDash([]);
    // Then every neuron's map, scaled up from its small grid.
    const flagged = this.flaggedUnits(header);
    context.imageSmoothingEnabled = true;
    for (const column of this.layout.columns) {
      let values = null, offsetOf = null;
      const data = this.host.data;
      if (column.kind === "features") {
        if (data && data.features) {
          values = data.features.data;
          offsetOf = (node) => data.featureNames.indexOf(node.name) * size * size;
        }
      } else {
        const map = arrays[`map/${column.index}`];
        if (map && map.shape[0] === column.nodes.length) {
          values = map.data;
          offsetOf = (node, i) => i * size * size;
        }
      }
      const bias = arrays[`param/${column.index}/b`];
      const unitGrad = overlay ? arrays[`unitgrad/${column.index}`] : null;
      column.nodes.forEach((node, i) => {
        if (values) {
          paintGrid(this.mapScratch, values, offsetOf(node, i), size, size, this.colours, { discretize: this.host.discretize });
          context.globalAlpha = node.enabled === false ? 0.35 : 1;
          context.drawImage(this.mapScratch, node.x, node.y, box, box);
          context.globalAlpha = 1;
        }
        if (unitGrad && unitGrad.shape[0] === column.nodes.length) {
          const share = Math.sqrt(unitGrad.data[i] / this.largestUnitGradient(arrays));
          context.fillStyle = this.colours.size(share);
          context.fillRect(node.x, node.y, box, box);
        }
        if (node.hasBias && bias && bias.shape[0] === column.nodes.length) {
          context.fillStyle = this.colours.value(Math.tanh(bias.data[i]));
          context.fillRect(node.x - 5, node.y + box - 3, 8, 8);
          context.strokeStyle = "#495057";
          context.strokeRect(node.x - 5, node.y + box - 3, 8, 8);
        }
        const flag = column.kind !== "features" && flagged.get(`${column.index}-${i}`);
        if (node.element) node.element.classList.toggle("pg-flagged", Boolean(flag));
        if (node.element) node.element.dataset.flag = flag || "";
      });
    }
  }

  largestGradient(arrays) {
    let top = 1e-12;
    for (const edge of this.layout.edges) {
      const grads = arrays[`grad/${edge.weight.column.index}/W`];
      if (!grads) continue;
      for (const g of grads.data) top = Math.max(top, Math.abs(g));
    }
    return top;
  }

  largestUnitGradient(arrays) {
    let top = 1e-12;
    for (const column of this.layout.columns) {
      const unitGrad = arrays[`unitgrad/${column.index}`];
      if (unitGrad) for (const g of unitGrad.data) top = Math.max(top, g);
    }
    return top;
  }

  flaggedUnits(header) {
    const flagged = new Map();
    for (const advice of header.coach || []) {
      for (const [layer, unit] of advice.units || []) flagged.set(`${layer}-${unit}`, advice.kind);
    }
    return flagged;
  }

  // --- hovering and editing -----------------------------------------------------

  neuronText(column, i) {
    const arrays = this.host.frame ? this.host.frame.arrays : {};
    const bias = arrays[`param/${column.index}/b`];
    const activation = column.kind === "output" ? this.spec.output.activation : column.layer.activation;
    const name = column.kind === "output" ? "Output" : `Neuron ${column.index + 1}.${i + 1}`;
    const b = bias ? formatNumber(bias.data[i]) : "…";
    const element = column.nodes[i].element;
    const flag = element && element.dataset.flag ? ` The coach flags it: ${element.dataset.flag.replace("_", " ")}.` : "";
    return `${name} = ${activation}(Σ wᵢ·xᵢ + b), bias b = ${b}. Its map shows its output over the plane (orange negative, blue positive). Click to edit its weights and bias.${flag}`;
  }

  edgeText(edge) {
    const source = edge.source.name ? this.model.feature_labels[edge.source.name] : `neuron ${edge.weight.column.index}.${edge.weight.row + 1}`;
    const target = edge.weight.column.kind === "output" ? "the output" : `neuron ${edge.weight.column.index + 1}.${edge.weight.col + 1}`;
    const gradient = this.overlay ? `; its gradient ${formatNumber(edge.gradient)}` : "";
    return `Weight ${formatNumber(edge.value)} from ${source} to ${target} (${edge.value >= 0 ? "blue: positive" : "orange: negative"})${gradient}. Click to edit.`;
  }

  // The editor lists a neuron's bias and incoming weights; clicking an edge
  // focuses that weight. Enter applies, Escape closes.
  openEditor(column, unit, row = null, event = null) {
    const frame = this.host.frame;
    if (!frame || !this.host.ready) return;
    const weights = frame.arrays[`param/${column.index}/W`];
    const bias = frame.arrays[`param/${column.index}/b`];
    if (!weights || !bias) return;
    const units = weights.shape[1];
    const sources = column.index === 0 ? this.layout.columns[0].nodes.filter((n) => n.enabled) : null;
    const sourceName = (r) => sources ? this.model.feature_labels[sources[r].name] : `neuron ${column.index}.${r + 1}`;
    const title = column.kind === "output" ? "Output" : `Neuron ${column.index + 1}.${unit + 1}`;
    const fields = [];
    let focus = null;
    const field = (label, name, index, value, focusHere) => {
      const input = el("input", { type: "number", step: "0.01", value: Number(value).toFixed(4), "aria-label": label,
        "data-param": `${name}-${index}`, "data-control": "weights", class: "pg-weight-input" });
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          this.setWeight(column.index, name, index, input.value);
        }
      });
      input.addEventListener("change", () => this.setWeight(column.index, name, index, input.value));
      fields.push(el("label", { class: "pg-weight" }, el("span", { text: label }), input));
      if (focusHere) focus = input;
    };
    field("bias", "b", unit, bias.data[unit], row === null);
    for (let r = 0; r < weights.shape[0]; r++) {
      field(`weight from ${sourceName(r)}`, "W", r * units + unit, weights.data[r * units + unit], r === row);
    }
    this.editor.replaceChildren(
      el("div", { class: "pg-editor-title" }, el("strong", { text: title }),
        el("button", { type: "button", class: "pg-close", "aria-label": "Close", onclick: () => this.closeEditor() }, "×")),
      el("p", { class: "pg-hint", text: "Type a value and press Enter: the surface follows at once." }), ...fields);
    const box = this.element.getBoundingClientRect();
    const anchor = event ? { x: event.clientX - box.left, y: event.clientY - box.top }
      : { x: parseFloat(column.nodes[unit].element.style.left) + 50, y: parseFloat(column.nodes[unit].element.style.top) + 60 };
    this.editor.style.left = `${Math.min(anchor.x + 10, box.width - 280)}px`;
    this.editor.style.top = `${anchor.y + 10}px`;
    this.editor.hidden = false;
    (focus || this.editor.querySelector("input")).focus();
    this.host.hideTooltip();
  }

  closeEditor() {
    this.editor.hidden = true;
  }

  setWeight(layer, name, index, text) {
    if (this.host.isLocked("weights")) return;
    const value = Number(text);
    if (text === "" || !Number.isFinite(value)) {
      this.host.showNotice(`“${text}” is not a number; the weight was not changed.`, "error");
      return;
    }
    this.host.post("set_weight", { layer, name, index, value });
  }
}
