// The live network view (the ESM of playground.app.network_view.NetworkView).
//
// It starts the training worker, draws the worker's frames — the network
// graph with a map of every neuron's output, the edges, the decision surface
// with the data — and turns clicks into edits. Python owns the spec: layer,
// neuron, activation and feature edits go to Python as messages and come
// back as a new `spec_json`; weight edits go straight to the worker.
//
// The ESM is loaded from a blob: URL, so other modules and the worker are
// loaded from absolute URLs that Python passes in (assets_url, ...).

const SVG = "http://www.w3.org/2000/svg";
const SUMMARY_INTERVAL_MS = 200; // summaries to Python, about 5 a second

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function absolute(url) {
  return new URL(url, document.baseURI).href;
}

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

// 256 colours from -1 (negative) through 0 to +1 (positive).
function divergingTable(palette) {
  const negative = hexToRgb(palette.negative), zero = hexToRgb(palette.zero), positive = hexToRgb(palette.positive);
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const rgb = t < 0.5 ? mix(negative, zero, t * 2) : mix(zero, positive, (t - 0.5) * 2);
    table.set(rgb, i * 3);
  }
  return table;
}

function tableIndex(value) {
  const v = value > 1 ? 1 : value < -1 ? -1 : value;
  return Number.isFinite(v) ? Math.round((v + 1) * 127.5) : 128;
}

function formatNumber(value, digits = 3) {
  if (value === null || value === undefined) return "—";
  if (!Number.isFinite(value)) return String(value);
  return value.toFixed(digits);
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

class NetworkView {
  constructor(model) {
    this.model = model;
    this.palette = model.palette;
    this.table = divergingTable(this.palette);
    this.classColors = this.palette.classes.map(hexToRgb);
    this.spec = JSON.parse(model.spec_json);
    this.sentSpec = null;
    this.frame = null;
    this.drawRequested = false;
    this.lastSummary = 0;
    this.showTest = false;
    this.discretize = false;
    this.layout = null;
    this.dataVersion = -1;
    this.stats = { frames: 0, drawn: 0, drawMs: 0 };
    this.root = el("div", { class: "pg-view" });
    this.buildSkeleton();
    this.codec = import(absolute(model.assets_url + "frame_codec.js"));
    model.on("spec_json", () => this.onSpec());
    model.on("share_query", () => this.updateAddress());
    this.updateAddress();
    model.on("playing", () => this.onPlaying());
    model.on("msg:custom", (message) => this.onCommand(message));
    this.resizeObserver = new ResizeObserver(() => this.rebuildGraph());
    this.resizeObserver.observe(this.graph);
    (window.playgroundViews = window.playgroundViews || []).push(this);
    // Chromium can leave a busy worker running after a reload or navigation,
    // training for nobody: end it with the page.
    this.onPageHide = () => this.destroy();
    window.addEventListener("pagehide", this.onPageHide);
    this.startWorker();
  }

  destroy() {
    window.removeEventListener("pagehide", this.onPageHide);
    clearTimeout(this.bootTimer);
    clearInterval(this.clock);
    this.resizeObserver.disconnect();
    if (this.worker) this.worker.terminate();
    this.worker = null;
    const views = window.playgroundViews || [];
    if (views.includes(this)) views.splice(views.indexOf(this), 1);
  }

  // --- the page's structure --------------------------------------------------------

  buildSkeleton() {
    this.statusText = el("span", { class: "pg-status-text" });
    this.statusBar = el("span", { class: "pg-progress" }, el("span", { class: "pg-progress-fill" }));
    this.status = el("div", { class: "pg-status", role: "status", "aria-live": "polite" },
      this.statusText, this.statusBar);
    this.notice = el("div", { class: "pg-notice", role: "alert", hidden: true });

    this.counters = {
      epoch: el("span", { class: "pg-counter-value", "data-role": "epoch", text: "0" }),
      step: el("span", { class: "pg-counter-value", "data-role": "step", text: "0" }),
    };
    const speed = el("select", { class: "pg-speed", "aria-label": "Training speed",
      onchange: (event) => this.post("mode", { epochsPerFrame: Number(event.target.value) }) });
    for (const [label, value] of [["slow: one step per frame", 0], ["normal: an epoch per frame", 1],
      ["fast: 10 epochs per frame", 10]]) {
      speed.append(el("option", { value, text: label, selected: value === 1 }));
    }
    const counters = el("div", { class: "pg-counters" },
      el("span", { class: "pg-counter" }, el("span", { class: "pg-label", text: "Epoch" }), this.counters.epoch),
      el("span", { class: "pg-counter" }, el("span", { class: "pg-label", text: "Step" }), this.counters.step),
      el("label", { class: "pg-counter pg-label" }, "Speed ", speed));

    // The graph is drawn on one canvas each frame (edges, neuron maps, biases):
    // restyling hundreds of SVG paths per frame costs the browser far more.
    // Invisible SVG paths over it catch hovers and clicks on edges, and a
    // button over each neuron takes focus, clicks and keys.
    this.graph = el("div", { class: "pg-graph" });
    this.graphCanvas = el("canvas", { class: "pg-graph-canvas", "aria-hidden": "true" });
    this.edgesLayer = svg("svg", { class: "pg-edges", "aria-hidden": "true" });
    this.mapScratch = el("canvas", { width: this.model.map_size, height: this.model.map_size });
    this.graph.append(this.graphCanvas, this.edgesLayer);

    this.loss = {
      test: el("span", { class: "pg-loss-value", "data-role": "test-loss", text: "—" }),
      train: el("span", { class: "pg-loss-value", "data-role": "train-loss", text: "—" }),
      accuracy: el("span", { class: "pg-loss-value", "data-role": "accuracy", text: "" }),
    };
    this.surface = el("canvas", { class: "pg-surface", width: 100, height: 100, "data-role": "surface",
      role: "img", "aria-label": "Decision surface: the network's output over the input plane" });
    this.pointsLayer = el("canvas", { class: "pg-points", width: 600, height: 600, "aria-hidden": "true" });
    const surfaceBox = el("div", { class: "pg-surface-box" }, this.surface, this.pointsLayer,
      el("span", { class: "pg-axis pg-axis-x-min", text: "−6" }), el("span", { class: "pg-axis pg-axis-x-max", text: "6" }),
      el("span", { class: "pg-axis pg-axis-y-min", text: "−6" }), el("span", { class: "pg-axis pg-axis-y-max", text: "6" }));
    surfaceBox.addEventListener("mousemove", (event) => this.hoverSurface(event));
    surfaceBox.addEventListener("mouseleave", () => this.hideTooltip());
    this.legend = el("div", { class: "pg-legend" });
    const toggles = el("div", { class: "pg-toggles" },
      this.checkbox("Show test data", (on) => { this.showTest = on; this.drawPoints(); }),
      this.checkbox("Discretize output", (on) => { this.discretize = on; this.requestDraw(); }));
    const fileInput = el("input", { type: "file", accept: ".json,application/json", class: "pg-file",
      "aria-label": "Load a snapshot file", onchange: (event) => this.loadSnapshotFile(event) });
    const files = el("div", { class: "pg-files" },
      el("button", { type: "button", class: "pg-button", "data-role": "save-snapshot",
        onclick: () => this.requestSnapshot() }, "Save snapshot"),
      el("label", { class: "pg-button pg-file-label" }, "Load snapshot…", fileInput));
    this.output = el("div", { class: "pg-output" },
      el("h3", { class: "pg-heading", text: "Output" }),
      el("div", { class: "pg-losses" },
        el("div", {}, el("span", { class: "pg-label", text: "Test loss " }), this.loss.test),
        el("div", {}, el("span", { class: "pg-label", text: "Training loss " }), this.loss.train),
        el("div", {}, this.loss.accuracy)),
      surfaceBox, this.legend, toggles, files);

    this.tooltip = el("div", { class: "pg-tooltip", role: "tooltip", hidden: true });
    this.editor = el("div", { class: "pg-editor", role: "dialog", "aria-label": "Edit weights", hidden: true });
    this.root.append(this.status, this.notice, counters,
      el("div", { class: "pg-main" }, this.graph, this.output), this.tooltip, this.editor);
    this.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.closeEditor();
    });
  }

  checkbox(label, onChange) {
    const input = el("input", { type: "checkbox", onchange: (event) => onChange(event.target.checked) });
    return el("label", { class: "pg-check" }, input, label);
  }

  // --- the worker -----------------------------------------------------------------------

  startWorker() {
    this.ready = false;
    this.setStatus("Starting the training engine", 0.02);
    const seconds = this.model.boot_timeout;
    const started = performance.now();
    this.clock = setInterval(() => {
      const elapsed = ((performance.now() - started) / 1000).toFixed(0);
      this.statusText.dataset.elapsed = ` (${elapsed} s)`;
    }, 500);
    this.bootTimer = setTimeout(() => this.bootFailed(`it did not start within ${seconds} s`), seconds * 1000);
    try {
      this.worker = new Worker(absolute(this.model.assets_url + "worker.js"));
    } catch (error) {
      this.bootFailed(`the worker script could not start (${error.message})`);
      return;
    }
    this.worker.onmessage = (event) => this.onWorker(event.data);
    this.worker.onerror = (event) => this.bootFailed(`the worker script failed (${event.message || "it could not be loaded"})`);
    this.post("boot", { pyodideUrl: absolute(this.model.pyodide_url), bundleUrl: absolute(this.model.bundle_url) });
    this.post("mode", { epochPerFrame: this.model.benchmark });
    this.sendSpec();
    if (this.model.playing) this.post("play");
  }

  post(type, fields = {}) {
    if (this.worker) this.worker.postMessage({ type, ...fields });
  }

  sendSpec() {
    if (this.sentSpec === this.model.spec_json) return;
    this.sentSpec = this.model.spec_json;
    this.post("setup", { spec: this.model.spec_json });
  }

  bootFailed(reason) {
    if (this.ready || this.failed) return;
    this.failed = true;
    clearTimeout(this.bootTimer);
    clearInterval(this.clock);
    if (this.worker) this.worker.terminate();
    this.worker = null;
    const text = `The training engine could not start: ${reason}.`;
    const advice = "The server's Pyodide files may be missing or damaged — whoever runs the server can check and " +
      "repair them with “playground pyodide fetch”. The rest of the page still works.";
    this.status.hidden = true;
    this.notice.replaceChildren(el("strong", { text }), el("span", { text: " " + advice + " " }),
      el("button", { type: "button", class: "pg-button", onclick: () => this.retry() }, "Try again"));
    this.notice.hidden = false;
    this.notice.dataset.kind = "error";
    this.model.engine_error = text;
    this.model.engine_status = "failed";
  }

  retry() {
    this.failed = false;
    this.sentSpec = null;
    this.notice.hidden = true;
    this.model.engine_error = "";
    this.startWorker();
  }

  setStatus(stage, progress) {
    this.status.hidden = false;
    this.statusText.textContent = stage + "…";
    this.statusBar.firstChild.style.width = `${Math.round(progress * 100)}%`;
    this.model.engine_status = stage;
  }

  onWorker(message) {
    switch (message.type) {
      case "status":
        this.setStatus(message.stage, message.progress);
        break;
      case "ready":
        clearTimeout(this.bootTimer);
        clearInterval(this.clock);
        this.ready = true;
        this.stats.readyMs = performance.now(); // since the page started loading
        this.status.hidden = true;
        this.model.engine_status = "ready";
        this.model.engine_ready = true;
        this.model.send_msg({ type: "ready", seconds: message.seconds });
        break;
      case "error":
        this.bootFailed(message.message);
        break;
      case "frame":
        this.stats.workerTrainMs = (this.stats.workerTrainMs || 0) + message.trainMs;
        this.stats.workerFrameMs = (this.stats.workerFrameMs || 0) + message.frameMs;
        this.onFrame(message.buffer);
        break;
      case "snapshot":
        this.downloadSnapshot(message.text);
        break;
      case "loaded":
        this.sentSpec = message.spec;
        this.model.send_msg({ type: "loaded_spec", spec: message.spec });
        this.showNotice("Snapshot loaded: training resumes where it was saved.", "info");
        break;
      case "failed":
        this.showNotice(message.request === "load_snapshot"
          ? `This snapshot cannot be loaded — ${message.message}. Nothing was changed.`
          : `The engine refused that: ${message.message}`, "error");
        if (this.model.playing) this.model.playing = false;
        break;
    }
  }

  showNotice(text, kind) {
    this.notice.replaceChildren(el("span", { text }),
      el("button", { type: "button", class: "pg-close", "aria-label": "Dismiss", onclick: () => { this.notice.hidden = true; } }, "×"));
    this.notice.dataset.kind = kind;
    this.notice.hidden = false;
  }

  async onFrame(buffer) {
    const { decodeFrame } = await this.codec;
    this.frame = decodeFrame(buffer);
    this.stats.frames += 1;
    this.received = (this.received || 0) + 1;
    // Acknowledging after drawing paces training to the display; the
    // benchmark acknowledges first (the worker trains on while the page
    // draws) and draws every frame as it comes.
    if (this.model.benchmark) {
      this.post("ack", { count: this.received });
      this.received = 0;
      this.draw();
    } else {
      this.requestDraw();
    }
    const header = this.frame.header;
    const now = performance.now();
    if (now - this.lastSummary >= SUMMARY_INTERVAL_MS) {
      this.lastSummary = now;
      this.model.send_msg({ type: "summary", ...header });
    }
    if (header.diverged && this.model.playing) {
      this.model.playing = false;
      this.showNotice("Training diverged: the loss is no longer a number. Lower the learning rate, then press Reset.", "error");
    }
  }

  onSpec() {
    this.spec = JSON.parse(this.model.spec_json);
    this.sendSpec();
    this.rebuildGraph();
  }

  // The address bar always holds a link that reproduces this run; replacing
  // (not pushing) keeps the browser's history free of every small edit.
  updateAddress() {
    if (this.model.share_query && window.location.search !== this.model.share_query) {
      window.history.replaceState(window.history.state, "", window.location.pathname + this.model.share_query);
    }
  }

  onPlaying() {
    this.post(this.model.playing ? "play" : "pause");
  }

  onCommand(message) {
    if (message.command === "step") this.post("step");
    else if (message.command === "reset") this.post("reset");
  }

  edit(op, fields = {}) {
    this.model.send_msg({ type: "edit", op, ...fields });
  }

  // --- snapshots --------------------------------------------------------------------

  requestSnapshot() {
    if (!this.ready) {
      this.showNotice("The engine is still starting; save the snapshot once it runs.", "info");
      return;
    }
    this.post("snapshot", { id: Date.now() });
  }

  downloadSnapshot(text) {
    const blob = new Blob([text], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(blob), download: `playground-${this.spec.task.dataset}-step-${this.frame ? this.frame.header.step : 0}.json` });
    this.root.append(link);
    link.click();
    setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  }

  async loadSnapshotFile(event) {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    if (!this.ready) {
      this.showNotice("The engine is still starting; load the snapshot once it runs.", "info");
      return;
    }
    if (file.size > 50 * 1024 * 1024) {
      this.showNotice(`This file is ${(file.size / 1e6).toFixed(0)} MB, too large to be a snapshot. Nothing was changed.`, "error");
      return;
    }
    if (this.model.playing) this.model.playing = false;
    this.post("load_snapshot", { id: Date.now(), text: await file.text() });
  }

  // --- the graph's layout -------------------------------------------------------------

  // What the graph shows: the features column, a column per hidden layer, the
  // output column. Rebuilt when the architecture or the size changes.
  describeColumns() {
    const spec = this.spec;
    const features = Object.keys(this.model.feature_labels);
    const points = spec.task.features && spec.task.features.length > 0;
    if (!points) return null;
    const columns = [{ kind: "features", nodes: features.map((name) => ({ name, enabled: spec.task.features.includes(name) })) }];
    let units = spec.task.features.length;
    for (const [index, layer] of spec.layers.entries()) {
      if (layer.type === "dense") units = layer.units;
      else if (layer.type !== "dropout") return null; // CNN and RNN layers have their own views
      columns.push({ kind: layer.type, index, layer, nodes: Array.from({ length: units }, (_, i) => ({ i })) });
    }
    const outputs = this.outputUnits();
    columns.push({ kind: "output", index: spec.layers.length, nodes: Array.from({ length: outputs }, (_, i) => ({ i })) });
    return columns;
  }

  outputUnits() {
    const spec = this.spec;
    const classes = spec.task.dataset === "blobs" ? spec.task.options.classes : 2;
    if (spec.output.activation === "softmax") return classes;
    return 1;
  }

  rebuildGraph() {
    const columns = this.describeColumns();
    const width = this.graph.clientWidth;
    const key = JSON.stringify([columns, width, this.graph.clientHeight]);
    if (key === this.layoutKey) return;
    this.layoutKey = key;
    this.closeEditor();
    for (const child of [...this.graph.children]) {
      if (child !== this.edgesLayer && child !== this.graphCanvas) child.remove();
    }
    this.edgesLayer.replaceChildren();
    if (!columns) {
      this.layout = null;
      this.graph.append(el("p", { class: "pg-placeholder",
        text: "This model's layers (convolutional or recurrent) are shown by their own views; training and the loss work as usual." }));
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
    this.requestDraw();
  }

  layersHeader(columns, size) {
    const hidden = columns.filter((c) => c.kind !== "features" && c.kind !== "output");
    const count = this.spec.layers.length;
    const header = el("div", { class: "pg-layers-header" },
      el("button", { type: "button", class: "pg-small", "aria-label": "Add a hidden layer", "data-role": "add-layer",
        onclick: () => this.edit("add_layer") }, "+"),
      el("button", { type: "button", class: "pg-small", "aria-label": "Remove the last hidden layer",
        "data-role": "remove-layer", onclick: () => this.edit("remove_layer") }, "−"),
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
      const select = el("select", { class: "pg-activation", "aria-label": `Activation of layer ${index + 1}`,
        onchange: (event) => this.edit("set_activation", { layer: index, activation: event.target.value }) });
      for (const name of this.model.activations) {
        const option = el("option", { value: name, text: name });
        if (name === column.layer.activation) option.selected = true;
        select.append(option);
      }
      header.append(
        el("div", { class: "pg-plus-minus" },
          el("button", { type: "button", class: "pg-small", "aria-label": `Add a neuron to layer ${index + 1}`,
            "data-role": `add-neuron-${index}`, onclick: () => this.edit("add_neuron", { layer: index }) }, "+"),
          el("button", { type: "button", class: "pg-small", "aria-label": `Remove a neuron from layer ${index + 1}`,
            "data-role": `remove-neuron-${index}`, onclick: () => this.edit("remove_neuron", { layer: index }) }, "−")),
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
    if (column.kind === "features") {
      label = labels[node.name];
      description = node.enabled ? `Input ${label}: on (click to switch off)` : `Input ${label}: off (click to switch on)`;
    } else if (column.kind === "output") {
      label = this.outputUnits() > 1 ? `class ${i + 1}` : "output";
      description = `Output ${this.outputUnits() > 1 ? `for class ${i + 1}` : ""}: open its weights`;
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
      button.classList.toggle("pg-off", !node.enabled);
      button.append(el("span", { class: "pg-feature-label", text: label }));
      button.addEventListener("click", () => this.edit("toggle_feature", { feature: node.name }));
      button.addEventListener("mouseenter", (event) => this.showTooltip(event,
        `${label}: ${node.enabled ? "fed to the network" : "not used"}. Its map shows the value over the plane (orange low, blue high).`));
    } else if (column.kind !== "dropout") {
      node.hasBias = true;
      button.addEventListener("click", () => this.openEditor(column, i));
      button.addEventListener("mouseenter", (event) => this.showTooltip(event, this.neuronText(column, i)));
    }
    button.addEventListener("mouseleave", () => this.hideTooltip());
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
    const edge = { weight, source, target, x1, y1, x2, y2, dx, value: 0 };
    if (!weight) {
      this.layout.passes.push(edge); // dropout: one neuron to its own copy
      return;
    }
    const d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
    const hit = svg("path", { d, class: "pg-edge-hit" });
    hit.addEventListener("mouseenter", (event) => this.showTooltip(event, this.edgeText(edge)));
    hit.addEventListener("mousemove", (event) => this.moveTooltip(event));
    hit.addEventListener("mouseleave", () => this.hideTooltip());
    hit.addEventListener("click", (event) => this.openEditor(weight.column, weight.col, weight.row, event));
    this.edgesLayer.append(hit);
    this.layout.edges.push(edge);
  }

  // --- drawing ------------------------------------------------------------------------

  requestDraw() {
    if (this.drawRequested) return;
    this.drawRequested = true;
    requestAnimationFrame(() => {
      this.drawRequested = false;
      this.draw();
    });
  }

  draw() {
    if (!this.frame) return;
    const started = performance.now();
    const { header, arrays } = this.frame;
    this.counters.epoch.textContent = Math.floor(header.epoch).toLocaleString("en").padStart(3, "0");
    this.counters.step.textContent = header.step.toLocaleString("en");
    this.loss.test.textContent = formatNumber(header.test_loss);
    this.loss.train.textContent = formatNumber(header.train_loss);
    this.loss.accuracy.textContent = header.test_accuracy === null || header.test_accuracy === undefined ? ""
      : `Test accuracy ${(100 * header.test_accuracy).toFixed(1)} %`;
    if (header.data_version !== this.dataVersion && arrays["data/labels_train"]) {
      this.dataVersion = header.data_version;
      this.data = { train: arrays["data/points_train"], test: arrays["data/points_test"],
        labelsTrain: arrays["data/labels_train"], labelsTest: arrays["data/labels_test"],
        features: arrays["data/feature_maps"], featureNames: header.feature_names };
      this.drawPoints();
    }
    if (arrays.surface) {
      this.drawSurface(header, arrays);
      this.surface.dataset.step = header.step;
      this.surface.dataset.dataset = header.dataset;
    }
    if (this.layout) this.drawGraph(arrays);
    this.drawLegend(header);
    if (this.received) {
      this.post("ack", { count: this.received }); // every frame since the last drawing
      this.received = 0;
    }
    this.stats.drawn += 1;
    this.stats.drawMs += performance.now() - started;
  }

  paintMap(canvas, values, offset, size) {
    const context = canvas.getContext("2d");
    const image = context.createImageData(size, size);
    const pixels = image.data, table = this.table;
    for (let k = 0, n = size * size; k < n; k++) {
      let v = values[offset + k];
      if (this.discretize) v = v > 0 ? 1 : -1;
      const t = tableIndex(v) * 3;
      pixels[4 * k] = table[t];
      pixels[4 * k + 1] = table[t + 1];
      pixels[4 * k + 2] = table[t + 2];
      pixels[4 * k + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }

  drawSurface(header, arrays) {
    const size = header.surface_size;
    if (this.surface.width !== size) this.surface.width = this.surface.height = size;
    this.surfaceValues = arrays.surface.data;
    this.surfaceClasses = arrays.surface_class ? arrays.surface_class.data : null;
    if (header.surface_kind !== "classes") {
      this.paintMap(this.surface, arrays.surface.data, 0, size);
      return;
    }
    // Several classes: the winning class's colour, paler where the model is unsure.
    const context = this.surface.getContext("2d");
    const image = context.createImageData(size, size);
    const classes = arrays.surface_class.data, confidence = arrays.surface.data;
    const count = this.outputUnits(), white = [255, 255, 255];
    for (let k = 0; k < size * size; k++) {
      const sure = this.discretize ? 1 : Math.max(0, (confidence[k] - 1 / count) / (1 - 1 / count));
      const rgb = mix(white, this.classColors[classes[k] % this.classColors.length], 0.15 + 0.85 * sure);
      image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * k);
    }
    context.putImageData(image, 0, 0);
  }

  classColor(label) {
    if (this.outputUnits() > 1) return this.palette.classes[label % this.palette.classes.length];
    return label > 0 ? this.palette.positive : this.palette.negative;
  }

  drawPoints() {
    const context = this.pointsLayer.getContext("2d");
    const size = this.pointsLayer.width;
    context.clearRect(0, 0, size, size);
    if (!this.data || !this.data.train) return;
    const regression = this.data.labelsTrain.data instanceof Float32Array;
    const draw = (points, labels, test) => {
      for (let k = 0; k < labels.data.length; k++) {
        const x = ((points.data[2 * k] + 6) / 12) * size, y = ((6 - points.data[2 * k + 1]) / 12) * size;
        const label = labels.data[k];
        context.beginPath();
        context.arc(x, y, size / 90, 0, 2 * Math.PI);
        context.fillStyle = regression ? this.valueColor(label) : this.classColor(label);
        context.fill();
        context.lineWidth = size / 250;
        context.strokeStyle = test ? "#000000" : "#ffffff";
        context.stroke();
      }
    };
    draw(this.data.train, this.data.labelsTrain, false);
    if (this.showTest) draw(this.data.test, this.data.labelsTest, true);
  }

  // The palette's colour for a value in [-1, 1] (regression targets, biases).
  valueColor(value) {
    const t = tableIndex(value) * 3;
    return `rgb(${this.table[t]},${this.table[t + 1]},${this.table[t + 2]})`;
  }

  drawGraph(arrays) {
    const context = this.graphContext, size = this.model.map_size, box = this.layout.size;
    context.clearRect(0, 0, this.graphCanvas.width, this.graphCanvas.height);
    // Edges first, under the neurons: colour by sign, width by size.
    context.lineCap = "round";
    for (const edge of this.layout.edges) {
      const { column, row, col, units } = edge.weight;
      const weights = arrays[`param/${column.index}/W`];
      if (weights && weights.shape[1] === units && row < weights.shape[0]) edge.value = weights.data[row * units + col];
      const w = edge.value;
      context.strokeStyle = w >= 0 ? this.palette.positive : this.palette.negative;
      context.globalAlpha = 0.85;
      context.lineWidth = Math.min(8, 0.4 + Math.abs(w) * 2.2);
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
    context.imageSmoothingEnabled = true;
    for (const column of this.layout.columns) {
      let values = null, offsetOf = null;
      if (column.kind === "features") {
        if (this.data && this.data.features) {
          values = this.data.features.data;
          const names = this.data.featureNames;
          offsetOf = (node) => names.indexOf(node.name) * size * size;
        }
      } else {
        const map = arrays[`map/${column.index}`];
        if (map && map.shape[0] === column.nodes.length) {
          values = map.data;
          offsetOf = (node, i) => i * size * size;
        }
      }
      const bias = arrays[`param/${column.index}/b`];
      column.nodes.forEach((node, i) => {
        if (values) {
          this.paintMap(this.mapScratch, values, offsetOf(node, i), size);
          context.globalAlpha = node.enabled === false ? 0.35 : 1;
          context.drawImage(this.mapScratch, node.x, node.y, box, box);
          context.globalAlpha = 1;
        }
        if (node.hasBias && bias && bias.shape[0] === column.nodes.length) {
          context.fillStyle = this.valueColor(Math.tanh(bias.data[i]));
          context.fillRect(node.x - 5, node.y + box - 3, 8, 8);
          context.strokeStyle = "#495057";
          context.strokeRect(node.x - 5, node.y + box - 3, 8, 8);
        }
      });
    }
  }

  drawLegend(header) {
    const kind = header.surface_kind || "none";
    const key = `${kind}-${this.outputUnits()}-${this.spec.task.dataset}`;
    if (this.legendKey === key) return;
    this.legendKey = key;
    if (kind === "classes") {
      const items = Array.from({ length: this.outputUnits() }, (_, i) =>
        el("span", { class: "pg-legend-item" }, el("span", { class: "pg-swatch", style: `background:${this.palette.classes[i]}` }), `class ${i + 1}`));
      this.legend.replaceChildren(el("div", { class: "pg-legend-classes" }, ...items),
        el("p", { class: "pg-hint", text: "Each region takes the colour of the class the network picks there; paler means less sure. Points are the data, coloured by their class; outlined in black: test data." }));
      return;
    }
    const bar = el("div", { class: "pg-legend-bar", style: `background:linear-gradient(to right, ${this.palette.negative}, ${this.palette.zero}, ${this.palette.positive})` });
    this.legend.replaceChildren(
      el("div", { class: "pg-legend-scale" }, el("span", { text: "−1" }), bar, el("span", { text: "+1" })),
      el("p", { class: "pg-hint", text: "Colours show values: orange negative, blue positive, pale near zero — in every map, edge and point. Edges: thicker means a larger weight. Points are the data (white outline: training, black: test)." }));
  }

  // --- hovering and editing -----------------------------------------------------------

  neuronText(column, i) {
    const arrays = this.frame ? this.frame.arrays : {};
    const bias = arrays[`param/${column.index}/b`];
    const activation = column.kind === "output" ? this.spec.output.activation : column.layer.activation;
    const name = column.kind === "output" ? "Output" : `Neuron ${column.index + 1}.${i + 1}`;
    const b = bias ? formatNumber(bias.data[i]) : "…";
    return `${name} = ${activation}(Σ wᵢ·xᵢ + b), bias b = ${b}. Its map shows its output over the plane (orange negative, blue positive). Click to edit its weights and bias.`;
  }

  edgeText(edge) {
    const source = edge.source.name ? this.model.feature_labels[edge.source.name] : `neuron ${edge.weight.column.index}.${edge.weight.row + 1}`;
    const target = edge.weight.column.kind === "output" ? "the output" : `neuron ${edge.weight.column.index + 1}.${edge.weight.col + 1}`;
    return `Weight ${formatNumber(edge.value)} from ${source} to ${target} (${edge.value >= 0 ? "blue: positive" : "orange: negative"}). Click to edit.`;
  }

  showTooltip(event, text) {
    this.tooltip.textContent = text;
    this.tooltip.hidden = false;
    this.moveTooltip(event);
  }

  moveTooltip(event) {
    const box = this.root.getBoundingClientRect();
    this.tooltip.style.left = `${Math.min(event.clientX - box.left + 14, box.width - 260)}px`;
    this.tooltip.style.top = `${event.clientY - box.top + 14}px`;
  }

  hideTooltip() {
    this.tooltip.hidden = true;
  }

  hoverSurface(event) {
    if (!this.surfaceValues) return;
    const box = this.surface.getBoundingClientRect();
    const size = this.surface.width;
    const col = Math.min(size - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * size)));
    const row = Math.min(size - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * size)));
    const x1 = -6 + ((col + 0.5) / size) * 12, x2 = 6 - ((row + 0.5) / size) * 12;
    const value = this.surfaceValues[row * size + col];
    let text = `x₁ = ${x1.toFixed(2)}, x₂ = ${x2.toFixed(2)}: `;
    if (this.surfaceClasses) text += `class ${this.surfaceClasses[row * size + col] + 1}, probability ${value.toFixed(2)}`;
    else text += `output ${value.toFixed(3)} (${value >= 0 ? "blue, positive" : "orange, negative"})`;
    this.showTooltip(event, text);
  }

  // The editor lists a neuron's bias and incoming weights; clicking an edge
  // focuses that weight. Enter applies, Escape closes.
  openEditor(column, unit, row = null, event = null) {
    if (!this.frame || !this.ready) return;
    const weights = this.frame.arrays[`param/${column.index}/W`];
    const bias = this.frame.arrays[`param/${column.index}/b`];
    if (!weights || !bias) return;
    const units = weights.shape[1];
    const sources = column.index === 0 ? this.layout.columns[0].nodes.filter((n) => n.enabled) : null;
    const sourceName = (r) => sources ? this.model.feature_labels[sources[r].name] : `neuron ${column.index}.${r + 1}`;
    const title = column.kind === "output" ? "Output" : `Neuron ${column.index + 1}.${unit + 1}`;
    const fields = [];
    const field = (label, name, index, value, focus) => {
      const input = el("input", { type: "number", step: "0.01", value: Number(value).toFixed(4), "aria-label": label,
        "data-param": `${name}-${index}`, class: "pg-weight-input" });
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          this.setWeight(column.index, name, index, input.value);
        }
      });
      input.addEventListener("change", () => this.setWeight(column.index, name, index, input.value));
      fields.push(el("label", { class: "pg-weight" }, el("span", { text: label }), input));
      if (focus) this.editorFocus = input;
    };
    this.editorFocus = null;
    field("bias", "b", unit, bias.data[unit], row === null);
    for (let r = 0; r < weights.shape[0]; r++) {
      field(`weight from ${sourceName(r)}`, "W", r * units + unit, weights.data[r * units + unit], r === row);
    }
    this.editor.replaceChildren(
      el("div", { class: "pg-editor-title" }, el("strong", { text: title }),
        el("button", { type: "button", class: "pg-close", "aria-label": "Close", onclick: () => this.closeEditor() }, "×")),
      el("p", { class: "pg-hint", text: "Type a value and press Enter: the surface follows at once." }), ...fields);
    const box = this.root.getBoundingClientRect();
    const anchor = event ? { x: event.clientX - box.left, y: event.clientY - box.top }
      : { x: parseFloat(column.nodes[unit].element.style.left) + 50, y: parseFloat(column.nodes[unit].element.style.top) + 60 };
    this.editor.style.left = `${Math.min(anchor.x + 10, box.width - 280)}px`;
    this.editor.style.top = `${anchor.y + 10}px`;
    this.editor.hidden = false;
    (this.editorFocus || this.editor.querySelector("input")).focus();
    this.hideTooltip();
  }

  closeEditor() {
    this.editor.hidden = true;
  }

  setWeight(layer, name, index, text) {
    const value = Number(text);
    if (text === "" || !Number.isFinite(value)) {
      this.showNotice(`“${text}” is not a number; the weight was not changed.`, "error");
      return;
    }
    this.post("set_weight", { layer, name, index, value });
  }
}

export function render({ model, el: container }) {
  const view = new NetworkView(model);
  model.on("remove", () => view.destroy());
  container.append(view.root);
}
