// The live network view (the ESM of playground.app.network_view.NetworkView).
//
// The shell: it starts the training worker, receives its frames, and shows
// them through the views — tabs whose code lives in views/*.js (the network
// itself, gradient flow, activations, the loss landscape) — plus the output
// panel (losses, the decision surface with the data, the confusion matrix,
// snapshots) and the coach's advice. Python owns the spec: edits go to
// Python as messages and come back as a new `spec_json`; weight edits,
// selections and probes go straight to the engine.
//
// The engine is the browser's worker, or a training job on the server for
// models too big for the browser (Python decides: `backend`). Both speak
// the same messages; the server's travel through Python over the page's
// websocket, frames as binary. Switching carries the weights over as a
// snapshot.
//
// The ESM is loaded from a blob: URL, so the views, the decoder and the
// worker are loaded from absolute URLs that Python passes in (assets_url…).

const SUMMARY_INTERVAL_MS = 200; // summaries to Python, about 5 a second
const THUMBNAIL = 16; // the side of the decision-surface thumbnail a classroom shows
const KEEP_INTERVAL_MS = 2000; // the run is kept for a reload at most this often (more for big models)
const PING_INTERVAL_MS = 1000; // the browser's engine is asked this often whether it still answers
const MAX_FAULTS_A_MINUTE = 3; // more, and the engine is not restarted again
const TABS = [
  { id: "network", title: "Network" },
  { id: "gradients", title: "Gradient flow" },
  { id: "activations", title: "Activations" },
  { id: "landscape", title: "Loss landscape" },
];
const NETWORK_VIEW = { points: "graph", image: "cnn", sequence: "rnn" };
// The views' builder controls by their data-role, and the lesson control
// (playground.lessons.CONTROLS) each belongs to; elements may also name
// theirs with data-control.
const ROLE_CONTROLS = [
  [/^(add-(layer|conv|pool|dense|recurrent)|remove-layer.*|kernel-.*|padding-.*|pool-(kind|size)-.*|rate-.*|cell-.*|try-(sigmoid|relu))$/, "layers"],
  [/^(add|remove)-neuron-.*|^(fewer|more)-(filters|units)-.*$/, "neurons"],
  [/^activation-.*$/, "activation"],
];

function controlOf(element) {
  if (element.dataset.control) return element.dataset.control;
  const role = element.dataset.role;
  const found = ROLE_CONTROLS.find(([pattern]) => pattern.test(role));
  return found ? found[1] : null;
}

function absolute(url) {
  return new URL(url, document.baseURI).href;
}

class NetworkView {
  constructor(model, common) {
    this.model = model;
    this.common = common;
    const { el, Colours } = common;
    this.el = el;
    this.colours = new Colours(model.palette);
    this.spec = JSON.parse(model.spec_json);
    this.sentRun = null; // the tag of the run last given to the engine
    this.freshSince = 0; // the latest fresh start it made
    this.engineSpec = null; // the spec the engine trains
    this.frame = null;
    this.drawRequested = false;
    this.lastSummary = 0;
    this.showTest = false;
    this.discretize = false;
    this.tab = "network";
    this.views = {}; // module name -> view instance
    this.probes = new Map(); // id -> {resolve, reject}
    this.probeId = 0;
    this.dataVersion = -1;
    this.stats = { frames: 0, drawn: 0, drawMs: 0 };
    this.backend = "browser"; // where the engine that trains now runs
    this.engineReady = { browser: false, server: false };
    this.serverOpen = false;
    this.root = el("div", { class: "pg-view" });
    this.buildSkeleton();
    this.codec = import(absolute(model.assets_url + "frame_codec.js"));
    // The run this tab kept before a reload (run_store.js): a promise until read.
    this.history = []; // the loss curve of the run, kept with it
    this.keptAt = -Infinity;
    this.keepInterval = KEEP_INTERVAL_MS;
    this.resumable = import(absolute(model.assets_url + "run_store.js"))
      .then((store) => { this.store = store; return store.keptRun(); })
      .catch(() => null);
    model.on("spec_json", () => this.onSpec());
    model.on("run", () => this.sendRun());
    model.on("share_query", () => this.updateAddress());
    model.on("playing", () => this.onPlaying());
    model.on("msg:custom", (message) => (message.engine ? this.fromEngine("server", message.engine) : this.onCommand(message)));
    model.on("backend", () => this.switchBackend());
    model.on("route_reason", () => this.showWhere());
    model.on(["locked", "hidden_controls"], () => this.applyLocks());
    model.on("views", () => this.applyViews());
    // Views rebuild their controls as the model changes: lock the new ones too.
    this.lockObserver = new MutationObserver(() => this.applyLocks());
    this.lockObserver.observe(this.root, { childList: true, subtree: true });
    this.updateAddress();
    (window.playgroundViews = window.playgroundViews || []).push(this);
    // Chromium can leave a busy worker running after a reload or navigation,
    // training for nobody: end it with the page.
    this.onPageHide = () => this.destroy();
    window.addEventListener("pagehide", this.onPageHide);
    this.startWorker();
    this.showTab("network");
    this.showWhere();
    this.applyViews();
    if (model.backend !== this.backend) this.switchBackend();
  }

  get ready() {
    return this.engineReady[this.backend];
  }

  destroy() {
    window.removeEventListener("pagehide", this.onPageHide);
    this.lockObserver.disconnect();
    clearTimeout(this.bootTimer);
    clearInterval(this.clock);
    clearInterval(this.watchdog);
    for (const view of Object.values(this.views)) if (view.destroy) view.destroy();
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this.closeServerJob();
    const views = window.playgroundViews || [];
    if (views.includes(this)) views.splice(views.indexOf(this), 1);
  }

  get kind() {
    return this.model.dataset_kinds[this.spec.task.dataset] || "points";
  }

  // --- the page's structure --------------------------------------------------------

  buildSkeleton() {
    const el = this.el;
    this.statusText = el("span", { class: "pg-status-text" });
    this.statusBar = el("span", { class: "pg-progress" }, el("span", { class: "pg-progress-fill" }));
    this.status = el("div", { class: "pg-status", role: "status", "aria-live": "polite" },
      this.statusText, this.statusBar);
    this.notice = el("div", { class: "pg-notice", role: "alert", hidden: true });
    this.coach = el("div", { class: "pg-coach", "aria-live": "polite", "data-role": "coach" });

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
      el("label", { class: "pg-counter pg-label" }, "Speed ", speed),
      this.whereBadge = el("span", { class: "pg-where", "data-role": "where", tabindex: 0 }),
      this.cancelButton = el("button", { type: "button", class: "pg-button", "data-role": "cancel-job", hidden: true,
        title: "End this model's training job on the server (save a snapshot first to keep it)",
        onclick: () => this.cancelServerJob() }, "End server job"));
    this.speed = speed;

    this.tabs = el("div", { class: "pg-tabs", role: "tablist", "aria-label": "Views" });
    this.tabButtons = {};
    for (const tab of TABS) {
      const button = el("button", { type: "button", role: "tab", class: "pg-tab", "data-tab": tab.id,
        "aria-selected": "false", onclick: () => this.showTab(tab.id) }, tab.title);
      button.addEventListener("keydown", (event) => this.tabKeys(event, tab.id));
      this.tabButtons[tab.id] = button;
      this.tabs.append(button);
    }
    this.viewArea = el("div", { class: "pg-view-area", role: "tabpanel" });

    this.loss = {
      test: el("span", { class: "pg-loss-value", "data-role": "test-loss", text: "—" }),
      train: el("span", { class: "pg-loss-value", "data-role": "train-loss", text: "—" }),
      accuracy: el("span", { class: "pg-loss-value", "data-role": "accuracy", text: "" }),
    };
    this.surface = el("canvas", { class: "pg-surface", width: 100, height: 100, "data-role": "surface",
      role: "img", "aria-label": "Decision surface: the network's output over the input plane" });
    this.pointsLayer = el("canvas", { class: "pg-points", width: 600, height: 600, "aria-hidden": "true" });
    this.surfaceBox = el("div", { class: "pg-surface-box" }, this.surface, this.pointsLayer,
      el("span", { class: "pg-axis pg-axis-x-min", text: "−6" }), el("span", { class: "pg-axis pg-axis-x-max", text: "6" }),
      el("span", { class: "pg-axis pg-axis-y-min", text: "−6" }), el("span", { class: "pg-axis pg-axis-y-max", text: "6" }));
    this.surfaceBox.addEventListener("mousemove", (event) => this.hoverSurface(event));
    this.surfaceBox.addEventListener("mouseleave", () => this.hideTooltip());
    this.surfaceBox.addEventListener("click", (event) => this.clickSurface(event));
    this.legend = el("div", { class: "pg-legend-box" });
    this.toggles = el("div", { class: "pg-toggles" },
      this.checkbox("Show test data", (on) => { this.showTest = on; this.drawPoints(); }),
      this.checkbox("Discretize output", (on) => { this.discretize = on; this.requestDraw(); }));
    this.confusion = el("div", { class: "pg-confusion", "data-role": "confusion" });
    const fileInput = el("input", { type: "file", accept: ".json,application/json", class: "pg-file",
      "aria-label": "Load a snapshot file", "data-control": "load", onchange: (event) => this.loadSnapshotFile(event) });
    const files = el("div", { class: "pg-files" },
      el("button", { type: "button", class: "pg-button", "data-role": "save-snapshot",
        onclick: () => this.requestSnapshot() }, "Save snapshot"),
      el("label", { class: "pg-button pg-file-label" }, "Load snapshot…", fileInput),
      el("button", { type: "button", class: "pg-button", "data-role": "export",
        title: "Download this model as a PyTorch script with its weights and data",
        onclick: () => this.requestExport() }, "Export to PyTorch"));
    this.output = el("div", { class: "pg-output" },
      el("h3", { class: "pg-heading", text: "Output" }),
      el("div", { class: "pg-losses" },
        el("div", {}, el("span", { class: "pg-label", text: "Test loss " }), this.loss.test),
        el("div", {}, el("span", { class: "pg-label", text: "Training loss " }), this.loss.train),
        el("div", {}, this.loss.accuracy)),
      this.surfaceBox, this.legend, this.toggles, this.confusion, files);

    this.tooltip = el("div", { class: "pg-tooltip", role: "tooltip", hidden: true });
    this.root.append(this.status, this.notice, this.coach, counters, this.tabs,
      el("div", { class: "pg-main" }, this.viewArea, this.output), this.tooltip);
  }

  checkbox(label, onChange) {
    const el = this.el;
    const input = el("input", { type: "checkbox", onchange: (event) => onChange(event.target.checked) });
    return el("label", { class: "pg-check" }, input, label);
  }

  // --- what a lesson keeps fixed ------------------------------------------------------

  // A control (see playground.lessons.CONTROLS) a lesson locks or hides;
  // loading a whole snapshot would change them all, so any lock holds it.
  isLocked(control) {
    const { locked, hidden_controls: hidden } = this.model;
    if (control === "load") return locked.length > 0 || hidden.length > 0;
    return locked.includes(control) || hidden.includes(control);
  }

  // Every element with data-control follows the lesson's locks: disabled
  // when locked, gone when hidden. Python refuses locked edits as well.
  applyLocks() {
    // Called on every change to the views' elements: without a lesson's
    // locks now or before, there is nothing to set or undo.
    const active = this.model.locked.length > 0 || this.model.hidden_controls.length > 0;
    if (!active && !this.locksApplied) return;
    this.locksApplied = active;
    for (const element of this.root.querySelectorAll("[data-control], button[data-role], select[data-role]")) {
      const control = controlOf(element);
      if (!control) continue;
      const hide = this.model.hidden_controls.includes(control);
      const lock = this.isLocked(control);
      if (lock && !element.disabled) {
        element.disabled = true;
        element.dataset.lockedBy = "lesson";
      } else if (!lock && element.dataset.lockedBy) {
        element.disabled = false;
        delete element.dataset.lockedBy;
      }
      if (lock) element.title = "A lesson step keeps this fixed";
      else if (element.title === "A lesson step keeps this fixed") element.removeAttribute("title");
      if (hide !== Boolean(element.dataset.hiddenBy)) {
        element.style.visibility = hide ? "hidden" : "";
        if (hide) element.dataset.hiddenBy = "lesson";
        else delete element.dataset.hiddenBy;
      }
    }
  }

  // The view tabs a lesson shows (all when it names none).
  applyViews() {
    const shown = this.model.views;
    for (const [id, button] of Object.entries(this.tabButtons)) button.hidden = shown.length > 0 && !shown.includes(id);
    if (this.tabButtons[this.tab].hidden) this.showTab("network");
  }

  // --- views ------------------------------------------------------------------------

  get host() {
    return this;
  }

  async loadView(name) {
    if (this.views[name]) return this.views[name];
    const module = await import(absolute(`${this.model.assets_url}views/${name}.js`));
    if (!this.views[name]) this.views[name] = new module.default(this);
    return this.views[name];
  }

  viewFor(tab) {
    return tab === "network" ? NETWORK_VIEW[this.kind] : tab;
  }

  async showTab(tab) {
    this.tab = tab;
    for (const [id, button] of Object.entries(this.tabButtons)) {
      const selected = id === tab;
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
    }
    const name = this.viewFor(tab);
    const view = await this.loadView(name);
    if (this.viewFor(this.tab) !== name) return; // another tab was chosen meanwhile
    this.activeView = view;
    this.viewArea.replaceChildren(view.element);
    this.viewArea.dataset.view = name;
    this.drawPoints(); // the ring on the example the views look at shows in the activations tab
    if (view.setSpec) view.setSpec(this.spec);
    this.sendViews();
    this.requestDraw();
  }

  tabKeys(event, id) {
    const ids = TABS.map((tab) => tab.id);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = ids[(ids.indexOf(id) + step + ids.length) % ids.length];
    this.tabButtons[next].focus();
    this.showTab(next);
  }

  // The worker computes only what the visible view needs.
  sendViews() {
    const view = this.activeView;
    const needs = view && view.needs ? view.needs() : [];
    this.post("views", { views: needs, pca_layer: view && view.pcaLayer !== undefined ? view.pcaLayer : null });
  }

  // --- the worker -------------------------------------------------------------------

  startWorker() {
    this.engineReady.browser = false;
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
    this.worker.onmessage = (event) => this.fromEngine("browser", event.data);
    this.worker.onerror = (event) => (this.engineReady.browser
      ? this.engineFault("it crashed", event.message)
      : this.bootFailed(`the worker script failed (${event.message || "it could not be loaded"})`));
    this.postTo("browser", "boot", { pyodideUrl: absolute(this.model.pyodide_url), bundleUrl: absolute(this.model.bundle_url),
      faults: this.model.fault_hooks });
    if (this.backend !== "browser") return; // it waits, ready for a switch back
    this.startRun();
  }

  // What a fresh engine needs to know: the speed, the run, the views, whether to train.
  startRun() {
    this.sentRun = null;
    this.engineSpec = null;
    this.post("mode", { epochPerFrame: this.model.benchmark, epochsPerFrame: Number(this.speed.value) });
    this.sendRun();
    this.sendViews();
    if (this.model.playing) this.post("play");
  }

  post(type, fields = {}) {
    this.postTo(this.backend, type, fields);
  }

  postTo(backend, type, fields = {}) {
    if (backend === "server") {
      if (this.serverOpen) this.model.send_msg({ type: "job", message: { type, ...fields } });
    } else if (this.worker) {
      this.worker.postMessage({ type, ...fields });
    }
  }

  // --- where the model trains ---------------------------------------------------------

  openServerJob() {
    this.serverOpen = true;
    this.engineReady.server = false;
    this.setStatus("Starting a training job on the server", 0.1);
    this.model.send_msg({ type: "job_open" });
    this.showWhere();
  }

  closeServerJob() {
    if (!this.serverOpen) return;
    this.serverOpen = false;
    this.engineReady.server = false;
    this.model.send_msg({ type: "job_close" });
  }

  // The learner (or the model's size) moved the run: take the weights along.
  async switchBackend() {
    if (this.switching) return; // the loop below follows the latest choice
    this.switching = true;
    try {
      while (this.model.backend !== this.backend) {
        const from = this.backend;
        const to = this.model.backend;
        this.postTo(from, "pause");
        const snapshot = this.engineReady[from] && this.frame ? await this.snapshotFrom(from) : null;
        if (from === "server") this.closeServerJob();
        this.backend = to;
        if (to === "server") this.openServerJob();
        else if (this.engineReady.browser) this.status.hidden = true;
        else if (!this.failed) this.setStatus("Starting the training engine", 0.05);
        else this.showNotice(`${this.model.engine_error} Models of this size train in the browser.`, "error");
        if (snapshot) this.post("load_snapshot", { id: "switch", text: snapshot });
        this.startRun();
        this.showWhere();
      }
    } finally {
      this.switching = false;
    }
  }

  snapshotFrom(source) {
    return new Promise((resolve) => {
      const finish = (text) => {
        clearTimeout(timer);
        this.switchSnapshot = null;
        resolve(text);
      };
      const timer = setTimeout(() => finish(null), 10000);
      this.switchSnapshot = finish;
      this.postTo(source, "snapshot", { id: "switch" });
    });
  }

  cancelServerJob() {
    if (this.model.playing) this.model.playing = false;
    this.post("cancel");
  }

  showWhere() {
    if (!this.whereBadge) return;
    this.cancelButton.hidden = !(this.backend === "server" && this.serverOpen);
    const server = this.backend === "server";
    this.whereBadge.textContent = server ? `On the server (${this.model.server_where})` : "In this browser";
    this.whereBadge.dataset.where = this.backend;
    this.whereBadge.title = this.model.route_reason;
  }

  // Every engine message comes here; only the engine that trains now is heard,
  // except for what a switch waits for.
  fromEngine(source, message) {
    if (message.type === "snapshot" && message.id === "switch") {
      if (this.switchSnapshot) this.switchSnapshot(message.text);
      return;
    }
    if (message.type === "failed" && message.request === "snapshot" && this.switchSnapshot) {
      this.switchSnapshot(null);
      return;
    }
    if (source === "browser" && message.type === "ready") this.engineReady.browser = true;
    if (source !== this.backend) {
      if (source === "browser" && message.type === "error") this.bootFailed(message.message, message.stage, true);
      return;
    }
    if (source === "server") this.fromServer(message);
    else this.onWorker(message);
  }

  fromServer(message) {
    switch (message.type) {
      case "ready":
        this.engineReady.server = true;
        this.status.hidden = true;
        this.model.engine_status = "ready";
        this.model.engine_ready = true;
        break;
      case "error": // the server could not start a job
        this.serverOpen = false;
        this.showWhere();
        this.status.hidden = true;
        this.showNotice(`The server cannot train this model: ${message.message}.`, "error");
        if (this.model.playing) this.model.playing = false;
        break;
      case "ended":
        this.serverOpen = false;
        this.engineReady.server = false;
        this.showWhere();
        this.showNotice(`The training job on the server ended: ${message.reason}. Press Train to start another.`, "info");
        if (this.model.playing) this.model.playing = false;
        break;
      default:
        this.onWorker(message);
    }
  }

  // The run Python wants (model.run) to the engine, with its tag. Python may
  // change the run several times in one go (a lesson step: its spec, a reset,
  // its weights) and the view may see only the last: "fresh_since" keeps the
  // reset. A run on the spec the engine has already (a loaded snapshot's)
  // only needs the tag.
  sendRun() {
    const run = this.model.run;
    if (!run || !run.spec || run.tag === this.sentRun) return;
    if (this.resumable instanceof Promise) { // the kept run is still being read (a few milliseconds)
      this.resumable.then((kept) => { this.resumable = kept; this.sendRun(); });
      return;
    }
    const fresh = run.fresh_since > this.freshSince;
    this.sentRun = run.tag;
    this.freshSince = Math.max(this.freshSince, run.fresh_since);
    const kept = this.resumable;
    this.resumable = null; // a kept run resumes at the first run or never
    if (kept && !fresh && kept.key === this.store.specKey(run.spec)) {
      this.resume(kept, run);
      return;
    }
    if (!fresh && run.spec === this.engineSpec) {
      this.post("tag", { tag: run.tag });
      return;
    }
    this.engineSpec = run.spec;
    this.post("setup", { spec: run.spec, tag: run.tag, fresh });
  }

  // A reload comes back with the run the tab kept: weights, optimiser state,
  // step, the loss curve so far, and training if it was.
  resume(kept, run) {
    this.engineSpec = run.spec;
    this.history = kept.history;
    this.resumeNotice = kept.notice === undefined ? `Welcome back: your run goes on from step ${kept.step}.` : kept.notice;
    this.post("load_snapshot", { id: "resume", text: kept.snapshot, tag: run.tag });
    this.model.send_msg({ type: "resumed", history: kept.history });
    if (kept.playing && !this.model.playing) this.model.playing = true;
  }

  // The run into the tab's store every few seconds while it changes, from a
  // frame of the latest run (see run_store.js).
  keepRun() {
    if (!this.store || !this.ready || !this.frame || this.keeping) return;
    if (this.frameTag !== this.model.run.tag) return;
    if (this.frame.header.step === this.keptStep && this.frameTag === this.keptTag) return; // kept already
    if (performance.now() - this.keptAt < this.keepInterval) return;
    this.keeping = true;
    this.keptAt = performance.now();
    this.keepingTag = this.frameTag;
    this.post("snapshot", { id: "keep" });
  }

  async kept(text, step) {
    const cost = performance.now() - this.keptAt;
    this.keepInterval = Math.max(KEEP_INTERVAL_MS, 20 * cost); // keeping costs the run at most 5 %
    const key = this.store.specKey(this.model.spec_json);
    this.lastGood = { key, snapshot: text, history: [...this.history], step }; // a broken engine restarts here
    await this.store.keepRun({ key, snapshot: text, history: this.history, step, playing: this.model.playing });
    this.keptStep = step;
    this.keptTag = this.keepingTag;
    this.keeping = false;
    if (!this.model.playing && this.frame && this.frame.header.step > step) { // a paused run's last frame came meanwhile
      this.keptAt = -Infinity;
      this.keepRun();
    }
  }

  // --- when the engine breaks ------------------------------------------------------

  // The browser's engine must answer a ping now and then; one that does not
  // (a hang, a crash without an error) is replaced.
  watchEngine() {
    clearInterval(this.watchdog);
    this.lastPong = performance.now();
    this.watchdog = setInterval(() => {
      if (!this.worker || !this.engineReady.browser) return;
      if (performance.now() - this.lastPong > this.model.hang_timeout * 1000) {
        this.engineFault("it stopped answering");
        return;
      }
      this.postTo("browser", "ping");
    }, PING_INTERVAL_MS);
  }

  // The engine broke after it started (a fault inside it, a crash, no
  // answer): a new one takes over from the run's last kept state, and the
  // learner reads what happened in plain words. An engine that keeps
  // breaking is left stopped, with the advice to reload.
  engineFault(reason, detail = "") {
    if (!this.worker) return;
    if (detail) console.warn(`The training engine stopped: ${detail}`); // for whoever looks into it
    const now = performance.now();
    this.faultTimes = (this.faultTimes || []).filter((time) => now - time < 60000).concat([now]);
    clearInterval(this.watchdog);
    this.worker.terminate();
    this.worker = null;
    this.engineReady.browser = false;
    this.keeping = false;
    this.probes.forEach((waiting) => waiting.reject(new Error("the engine was restarted")));
    this.probes.clear();
    if (this.model.playing) this.model.playing = false;
    const why = reason;
    if (this.faultTimes.length > MAX_FAULTS_A_MINUTE) {
      this.showNotice(`The training engine keeps stopping (${why}). Save what you need and reload the page.`, "error");
      return;
    }
    const good = this.lastGood;
    this.showNotice(`The training engine stopped (${why}) and was started again` +
      (good ? `, from step ${good.step}.` : ".") + " Your network is as it was; press Train to go on.", "info");
    this.resumable = good ? { ...good, playing: false, notice: null } : null;
    this.startWorker(); // (while the server trains, it waits for a switch back)
  }

  // Something a view asks the engine for on demand; resolves to {header, arrays}.
  probe(name, args = {}) {
    if (!this.ready) return Promise.reject(new Error("the engine is still starting"));
    const id = ++this.probeId;
    return new Promise((resolve, reject) => {
      this.probes.set(id, { resolve, reject });
      this.post("probe", { id, name, arguments: JSON.stringify(args) });
    });
  }

  // Look at a training example ({index}) or one the learner made ({values}).
  select(selection) {
    this.selection = selection;
    this.post("select", selection.values === undefined ? { index: selection.index } : { values: JSON.stringify(selection.values) });
    this.drawPoints();
  }

  edit(op, fields = {}) {
    // The fields travel apart: a layer's "type" must not overwrite the message's.
    this.model.send_msg({ type: "edit", op, fields });
  }

  bootFailed(reason, stage = "runtime", quietly = false) {
    if (this.engineReady.browser || this.failed) return;
    this.failed = true;
    clearTimeout(this.bootTimer);
    clearInterval(this.clock);
    if (this.worker) this.worker.terminate();
    this.worker = null;
    const el = this.el;
    const text = `The training engine could not start: ${reason}.`;
    const advice = stage === "engine"
      ? "This is a fault in the playground's server, not in your computer: tell whoever runs it. The rest of the page still works."
      : "The server's Pyodide files may be missing or damaged — whoever runs the server can check and " +
        "repair them with “playground pyodide fetch”. The rest of the page still works.";
    if (quietly || this.backend !== "browser") { // the server trains now; say so if the run comes back here
      this.model.engine_error = text;
      return;
    }
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

  async onWorker(message) {
    switch (message.type) {
      case "status":
        this.setStatus(message.stage, message.progress);
        break;
      case "ready":
        clearTimeout(this.bootTimer);
        clearInterval(this.clock);
        this.stats.readyMs = performance.now(); // since the page started loading
        this.status.hidden = true;
        this.model.engine_status = "ready";
        this.model.engine_ready = true;
        this.model.send_msg({ type: "ready", seconds: message.seconds });
        this.watchEngine();
        break;
      case "error":
        this.bootFailed(message.message, message.stage);
        break;
      case "frame":
        this.stats.workerTrainMs = (this.stats.workerTrainMs || 0) + message.trainMs;
        this.stats.workerFrameMs = (this.stats.workerFrameMs || 0) + message.frameMs;
        this.onFrame(message.buffer, message.tag);
        break;
      case "probe": {
        const waiting = this.probes.get(message.id);
        this.probes.delete(message.id);
        if (waiting) waiting.resolve((await this.codec).decodeFrame(message.buffer));
        break;
      }
      case "snapshot":
        if (message.id === "keep") this.kept(message.text, message.step);
        else this.downloadSnapshot(message.text, message.id);
        break;
      case "loaded":
        if (message.id === "switch") break; // the run moved here; the page's spec follows
        if (message.id === "resume") {
          if (this.resumeNotice) this.showNotice(this.resumeNotice, "info");
          break;
        }
        this.engineSpec = message.spec; // Python's run on this spec only brings the tag
        this.model.send_msg({ type: "loaded_spec", spec: message.spec });
        this.showNotice("Snapshot loaded: training resumes where it was saved.", "info");
        break;
      case "pong":
        this.lastPong = performance.now();
        break;
      case "fault":
        if (message.id === "resume") { // the kept run broke the engine: it is not kept any more
          this.store.forgetRun();
          this.lastGood = null;
        }
        this.engineFault("an error inside it", message.message);
        break;
      case "failed":
        if (message.id === "resume") { // a kept run this engine cannot take: a normal start, quietly
          this.store.forgetRun();
          this.sentRun = null;
          this.engineSpec = null;
          this.sendRun();
          break;
        }
        if (message.id === "keep") {
          this.keeping = false;
          break;
        }
        if (message.request === "probe" && this.probes.has(message.id)) {
          this.probes.get(message.id).reject(new Error(message.message));
          this.probes.delete(message.id);
          break;
        }
        this.showNotice(message.request === "load_snapshot"
          ? `This snapshot cannot be loaded — ${message.message}. Nothing was changed.`
          : `The engine refused that: ${message.message}`, "error");
        if (this.model.playing) this.model.playing = false;
        break;
    }
  }

  showNotice(text, kind) {
    const el = this.el;
    this.notice.replaceChildren(el("span", { text }),
      el("button", { type: "button", class: "pg-close", "aria-label": "Dismiss", onclick: () => { this.notice.hidden = true; } }, "×"));
    this.notice.dataset.kind = kind;
    this.notice.hidden = false;
  }

  async onFrame(buffer, tag) {
    const { decodeFrame } = await this.codec;
    this.frame = decodeFrame(buffer);
    this.frameTag = tag; // the latest change to the run the engine had made
    this.takeData(this.frame);
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
    this.sendSummary();
    const header = this.frame.header;
    const stop = (header.coach || []).find((advice) => advice.severity === "stop");
    if ((header.diverged || stop) && this.model.playing) this.model.playing = false;
  }

  // About five summaries a second, and always the latest: a frame that
  // comes too soon after the last summary is summarised a little later, so
  // that Python sees where a paused run stands.
  sendSummary() {
    const wait = this.lastSummary + SUMMARY_INTERVAL_MS - performance.now();
    if (wait > 0) {
      if (!this.summaryTimer) this.summaryTimer = setTimeout(() => { this.summaryTimer = null; this.sendSummary(); }, wait);
      return;
    }
    this.lastSummary = performance.now();
    if (!this.frame) return;
    const header = this.frame.header;
    const summary = { type: "summary", ...header, tag: this.frameTag ?? null };
    if (this.model.want_thumbnail) summary.thumbnail = this.thumbnail(); // (Bokeh cannot send undefined)
    this.model.send_msg(summary);
    if (this.store && this.frameTag === this.model.run.tag) {
      this.store.addPoint(this.history, { step: header.step, train: header.train_loss ?? null,
        test: header.test_loss ?? null });
      this.keepRun();
    }
  }

  // The decision surface shrunk to THUMBNAIL × THUMBNAIL values in [-1, 1]
  // (a classroom's roster shows it); null without a two-class or regression surface.
  thumbnail() {
    const surface = this.frame.arrays.surface;
    if (!surface || this.frame.arrays.surface_class || surface.shape.length !== 2) return null;
    const [rows, cols] = surface.shape;
    const values = [];
    for (let r = 0; r < THUMBNAIL; r++) {
      for (let c = 0; c < THUMBNAIL; c++) {
        const v = surface.data[Math.floor(((r + 0.5) * rows) / THUMBNAIL) * cols + Math.floor(((c + 0.5) * cols) / THUMBNAIL)];
        values.push(Number.isFinite(v) ? Math.round(Math.max(-1, Math.min(1, v)) * 100) / 100 : 0);
      }
    }
    return values;
  }

  // The data arrays come once, with the first frame after the data changed:
  // take them from every frame, drawn or not (a later frame may replace it
  // before the next drawing).
  takeData({ header, arrays }) {
    if (header.data_version === this.dataVersion || !arrays["data/labels_train"]) return;
    this.dataVersion = header.data_version;
    this.data = { train: arrays["data/points_train"], test: arrays["data/points_test"],
      labelsTrain: arrays["data/labels_train"], labelsTest: arrays["data/labels_test"],
      features: arrays["data/feature_maps"], featureNames: header.feature_names };
    this.selection = null;
    this.drawPoints();
  }

  onSpec() {
    const before = this.kind;
    this.spec = JSON.parse(this.model.spec_json);
    if (this.kind !== before) this.showTab(this.tab); // another kind of data: another network view
    else if (this.activeView && this.activeView.setSpec) this.activeView.setSpec(this.spec);
    this.requestDraw();
  }

  // The address bar always holds a link that reproduces this run; replacing
  // (not pushing) keeps the browser's history free of every small edit.
  updateAddress() {
    if (this.model.share_query && window.location.search !== this.model.share_query) {
      window.history.replaceState(window.history.state, "", window.location.pathname + this.model.share_query);
    }
  }

  onPlaying() {
    if (this.model.playing && this.backend === "server" && !this.serverOpen) {
      this.openServerJob(); // the last job ended: start another
      this.startRun();
      return;
    }
    this.post(this.model.playing ? "play" : "pause");
    if (!this.model.playing) { // keep where the run stopped
      this.keptAt = -Infinity;
      this.keepRun();
    }
  }

  onCommand(message) {
    if (message.download) {
      this.download(new Blob([message.buffer], { type: "application/zip" }), message.download);
      this.showNotice("The PyTorch project is downloading: run “python model.py” in it.", "info");
      return;
    }
    if (message.export_failed) {
      this.showNotice(`The model could not be exported: ${message.export_failed}.`, "error");
      return;
    }
    if (message.command === "step") this.post("step");
    else if (message.command === "submit") {
      if (this.ready) this.post("snapshot", { id: "submit" });
      else this.model.send_msg({ type: "submit", text: "" });
    }
  }

  // --- snapshots --------------------------------------------------------------------

  requestSnapshot() {
    if (!this.ready) {
      this.showNotice("The engine is still starting; save the snapshot once it runs.", "info");
      return;
    }
    this.post("snapshot", { id: Date.now() });
  }

  requestExport() {
    if (!this.ready) {
      this.showNotice("The engine is still starting; export the model once it runs.", "info");
      return;
    }
    this.post("snapshot", { id: "export" });
  }

  downloadSnapshot(text, id) {
    if (id === "submit") { // the run goes to Python, which hands it to the class
      this.model.send_msg({ type: "submit", text });
      return;
    }
    if (id === "export") { // the weights go to Python, which writes the PyTorch project
      this.showNotice("Writing the PyTorch project…", "info");
      this.model.send_msg({ type: "export", text });
      return;
    }
    const step = this.frame ? this.frame.header.step : 0;
    this.download(new Blob([text], { type: "application/json" }), `playground-${this.spec.task.dataset}-step-${step}.json`);
  }

  download(blob, name) {
    const link = this.el("a", { href: URL.createObjectURL(blob), download: name });
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

  // --- drawing ----------------------------------------------------------------------

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
    const { formatNumber } = this.common;
    this.counters.epoch.textContent = Math.floor(header.epoch).toLocaleString("en").padStart(3, "0");
    this.counters.step.textContent = header.step.toLocaleString("en");
    this.loss.test.textContent = formatNumber(header.test_loss);
    this.loss.train.textContent = formatNumber(header.train_loss);
    this.loss.accuracy.textContent = header.test_accuracy === null || header.test_accuracy === undefined ? ""
      : `Test accuracy ${(100 * header.test_accuracy).toFixed(1)} %`;
    const surface = Boolean(arrays.surface);
    this.surfaceBox.hidden = !surface;
    this.toggles.hidden = !surface;
    if (surface) {
      this.drawSurface(header, arrays);
      this.surface.dataset.step = header.step;
      this.surface.dataset.dataset = header.dataset;
    }
    this.drawLegend(header);
    this.drawConfusion(header);
    this.drawCoach(header);
    if (this.activeView && this.activeView.draw) this.activeView.draw(this.frame);
    if (this.received) {
      this.post("ack", { count: this.received }); // every frame since the last drawing
      this.received = 0;
    }
    this.root.dataset.step = header.step; // a frame is on the page (tests and tools wait for it)
    this.stats.drawn += 1;
    this.stats.drawMs += performance.now() - started;
  }

  drawSurface(header, arrays) {
    const size = header.surface_size;
    this.surfaceValues = arrays.surface.data;
    this.surfaceClasses = arrays.surface_class ? arrays.surface_class.data : null;
    if (header.surface_kind !== "classes") {
      this.common.paintGrid(this.surface, arrays.surface.data, 0, size, size, this.colours, { discretize: this.discretize });
      return;
    }
    // Several classes: the winning class's colour, paler where the model is unsure.
    if (this.surface.width !== size) this.surface.width = this.surface.height = size;
    const context = this.surface.getContext("2d");
    const image = context.createImageData(size, size);
    const classes = arrays.surface_class.data, confidence = arrays.surface.data;
    const count = this.outputUnits(), white = [255, 255, 255];
    for (let k = 0; k < size * size; k++) {
      const sure = this.discretize ? 1 : Math.max(0, (confidence[k] - 1 / count) / (1 - 1 / count));
      const colour = this.common.mix(white, this.colours.classes[classes[k] % this.colours.classes.length], 0.15 + 0.85 * sure);
      image.data.set([colour[0], colour[1], colour[2], 255], 4 * k);
    }
    context.putImageData(image, 0, 0);
  }

  outputUnits() {
    const spec = this.spec;
    if (spec.output.activation !== "softmax") return 1;
    return this.model.classes;
  }

  drawPoints() {
    const context = this.pointsLayer.getContext("2d");
    const size = this.pointsLayer.width;
    context.clearRect(0, 0, size, size);
    if (!this.data || !this.data.train) return;
    const regression = this.data.labelsTrain.data instanceof Float32Array;
    const place = (points, k) => [((points.data[2 * k] + 6) / 12) * size, ((6 - points.data[2 * k + 1]) / 12) * size];
    const draw = (points, labels, test) => {
      for (let k = 0; k < labels.data.length; k++) {
        const [x, y] = place(points, k);
        const label = labels.data[k];
        context.beginPath();
        context.arc(x, y, size / 90, 0, 2 * Math.PI);
        context.fillStyle = regression ? this.colours.value(label) : this.classColor(label);
        context.fill();
        context.lineWidth = size / 250;
        context.strokeStyle = test ? "#000000" : "#ffffff";
        context.stroke();
      }
    };
    draw(this.data.train, this.data.labelsTrain, false);
    if (this.showTest) draw(this.data.test, this.data.labelsTest, true);
    const looked = this.frame && this.tab === "activations" && Number.isInteger(this.frame.header.selected)
      ? { index: this.frame.header.selected } : null;
    const selection = this.selection || looked;
    if (selection) { // the example the views look at: a ring
      const [x, y] = selection.values ? [((selection.values[0] + 6) / 12) * size, ((6 - selection.values[1]) / 12) * size]
        : place(this.data.train, selection.index);
      context.beginPath();
      context.arc(x, y, size / 35, 0, 2 * Math.PI);
      context.lineWidth = size / 120;
      context.strokeStyle = this.model.palette.alert;
      context.stroke();
    }
  }

  classColor(label) {
    if (this.outputUnits() > 1) return this.colours.classColour(label);
    return label > 0 ? this.model.palette.positive : this.model.palette.negative;
  }

  drawLegend(header) {
    const el = this.el;
    const kind = header.surface_kind || "none";
    const key = `${kind}-${this.outputUnits()}-${this.spec.task.dataset}`;
    if (this.legendKey === key) return;
    this.legendKey = key;
    if (kind === "none") {
      this.legend.replaceChildren();
      return;
    }
    if (kind === "classes") {
      const items = Array.from({ length: this.outputUnits() }, (_, i) =>
        el("span", { class: "pg-legend-item" }, el("span", { class: "pg-swatch", style: { background: this.model.palette.classes[i] } }), `class ${i + 1}`));
      this.legend.replaceChildren(el("div", { class: "pg-legend-classes" }, ...items),
        el("p", { class: "pg-hint", text: "Each region takes the colour of the class the network picks there; paler means less sure. Points are the data, coloured by their class; outlined in black: test data." }));
      return;
    }
    this.legend.replaceChildren(this.common.legend(this.colours, { text: "Colours show values: orange negative, blue positive, pale near zero — in every map, edge and point. Edges: thicker means a larger weight. Points are the data (white outline: training, black: test)." }));
  }

  drawConfusion(header) {
    const el = this.el;
    const matrix = header.confusion;
    const classes = matrix ? matrix.length : 0;
    if (!matrix || classes > 12) {
      this.confusion.replaceChildren();
      return;
    }
    const top = Math.max(1, ...matrix.flat());
    const names = classes === 2 && this.outputUnits() === 1 ? ["−", "+"]
      : Array.from({ length: classes }, (_, i) => String(this.spec.task.dataset === "digits" ? i : i + 1));
    const rows = matrix.map((row, t) => el("tr", {}, el("th", { scope: "row", text: names[t] }),
      ...row.map((count, p) => el("td", { text: String(count), "data-true": t, "data-predicted": p,
        title: `${count} test example${count === 1 ? "" : "s"} of class ${names[t]} predicted as ${names[p]}`,
        style: { background: this.colours.size(count / top), color: count / top > 0.55 ? "#fff" : "#212529" } }))));
    // The explanation is a paragraph, not a caption: a caption is as narrow as its table.
    this.confusion.replaceChildren(
      el("p", { class: "pg-hint", id: "pg-confusion-about",
        text: "Confusion on the test data: rows are the true classes, columns the predicted ones (darker: more examples)" }),
      el("table", { class: "pg-confusion-table", "aria-describedby": "pg-confusion-about" },
        el("thead", {}, el("tr", {}, el("th", { text: "" }), ...names.map((name) => el("th", { scope: "col", text: name })))),
        el("tbody", {}, ...rows)));
  }

  drawCoach(header) {
    const el = this.el;
    const advice = header.coach || [];
    const key = JSON.stringify(advice.map((a) => [a.kind, a.title]));
    if (key === this.coachKey) return;
    this.coachKey = key;
    this.coach.replaceChildren(...advice.map((a) => el("div", { class: "pg-advice", "data-kind": a.kind, "data-severity": a.severity },
      el("strong", { text: a.title + ". " }), el("span", { text: a.text }))));
  }

  // --- the surface: hover and click ---------------------------------------------------

  surfacePoint(event) {
    const box = this.surface.getBoundingClientRect();
    const size = this.surface.width;
    const col = Math.min(size - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * size)));
    const row = Math.min(size - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * size)));
    const x1 = -6 + ((event.clientX - box.left) / box.width) * 12, x2 = 6 - ((event.clientY - box.top) / box.height) * 12;
    return { col, row, x1, x2, size };
  }

  hoverSurface(event) {
    if (!this.surfaceValues) return;
    const { col, row, x1, x2, size } = this.surfacePoint(event);
    const value = this.surfaceValues[row * size + col];
    let text = `x₁ = ${x1.toFixed(2)}, x₂ = ${x2.toFixed(2)}: `;
    if (this.surfaceClasses) text += `class ${this.surfaceClasses[row * size + col] + 1}, probability ${value.toFixed(2)}`;
    else text += `output ${value.toFixed(3)} (${value >= 0 ? "blue, positive" : "orange, negative"})`;
    if (this.tab === "activations") text += ". Click to look inside the network at this point.";
    this.showTooltip(event, text);
  }

  // In the activations view a click picks the nearest training point, or
  // places a new one, for the view to look at.
  clickSurface(event) {
    if (this.tab !== "activations" || !this.data || !this.data.train) return;
    const { x1, x2 } = this.surfacePoint(event);
    const points = this.data.train.data;
    let best = -1, distance = 0.25; // within a quarter unit of the plane
    for (let k = 0; k < points.length / 2; k++) {
      const d = Math.hypot(points[2 * k] - x1, points[2 * k + 1] - x2);
      if (d < distance) { distance = d; best = k; }
    }
    this.select(best >= 0 ? { index: best } : { values: [x1, x2] });
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
}

export async function render({ model, el: container }) {
  const common = await import(absolute(model.assets_url + "views/common.js"));
  const view = new NetworkView(model, common);
  model.on("remove", () => view.destroy());
  container.append(view.root);
}
