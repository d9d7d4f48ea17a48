// The browser's training engine: a Web Worker running Pyodide + numpy and the
// playground's own Python engine (playground/worker_api.py, shipped by the
// server as a zip of the package's sources).
//
// While playing it trains K optimiser steps, posts a frame (transferable
// bytes, see playground/frames.py), and repeats; K adapts so that training
// takes about FRAME_BUDGET_MS per frame. The page acknowledges frames as it
// draws them; at most maxInFlight wait, so nothing queues up without bound.
//
// Messages in:  boot, ping, setup, tag, play, pause, step, set_weight, ack,
//               views, select, probe, snapshot, load_snapshot, mode
// Messages out: status, ready, error, pong, frame, probe, snapshot, loaded,
//               failed (a request refused, in the learner's words), fault (the engine broke)

const FRAME_BUDGET_MS = 12;
let maxInFlight = 1; // one frame drawn for each frame trained; 2 in the benchmark, which overlaps them
const MAX_STEPS_PER_FRAME = 2000;

let api = null; // playground.worker_api, once booted
let runTag = null; // the page's tag of the latest change to the run, echoed in every frame
let playing = false;
let epochPerFrame = false; // benchmark mode: exactly one epoch per frame
let epochsPerFrame = 1; // the learner's speed: at most this many epochs between frames
let stepsPerFrame = 1;
let inFlight = 0;
let scheduled = false;
let pendingRun = null; // the run (a setup or a kept run to load) that arrived before the engine was ready
let pendingViews = null; // the same for the views on the page

const wake = new MessageChannel(); // zero-delay scheduling between frames
wake.port1.onmessage = () => {
  scheduled = false;
  guarded(trainOneFrame);
};

function post(type, fields = {}, transfer = []) {
  self.postMessage({ type, ...fields }, transfer);
}

function status(stage, progress) {
  post("status", { stage, progress });
}

// The Python exceptions whose message is written for the learner (a bad
// spec or snapshot, an example that does not fit); any other is a fault.
const LEARNER_ERRORS = /^(playground\.spec\.errors\.)?(SpecError|ValueError): /;

function pythonMessage(error) {
  // A Python exception arrives as a PythonError whose message ends with the
  // "Type: message" line; the learner needs that line, not the traceback.
  const text = String(error && error.message ? error.message : error);
  const lines = text.trim().split("\n");
  const last = lines[lines.length - 1];
  return last.replace(LEARNER_ERRORS, "");
}

function isLearnerError(error) {
  const lines = String(error && error.message ? error.message : error).trim().split("\n");
  return LEARNER_ERRORS.test(lines[lines.length - 1]);
}

function guarded(action, fields = {}) {
  try {
    action();
  } catch (error) {
    playing = false;
    if (isLearnerError(error)) post("failed", { ...fields, message: pythonMessage(error) });
    else post("fault", { ...fields, message: pythonMessage(error) }); // the page starts a new engine
  }
}

// Faults on purpose, for the tests of the page's recovery (the page turns
// them on only when its address asks for them: ?faults=1).
const FAULTS = {
  die() {
    setTimeout(() => { throw new Error("the engine crashed (a fault made on purpose)"); });
    setTimeout(() => self.close(), 10);
  },
  hang() {
    for (;;) { /* never answers again */ }
  },
  raise() {
    api.set_weight(null, "w", 0, 0); // a Python TypeError inside the engine
  },
};
let faultsAllowed = false;

class BootError extends Error {
  constructor(stage, message) {
    super(message);
    this.stage = stage; // "runtime" (Pyodide, numpy) or "engine" (the playground's own code)
  }
}

async function boot({ pyodideUrl, bundleUrl }) {
  const started = performance.now();
  status("Loading the Python runtime (Pyodide, about 12 MB)", 0.05);
  try {
    importScripts(pyodideUrl + "pyodide.js");
  } catch (error) {
    throw new BootError("runtime", `pyodide.js could not be loaded from ${pyodideUrl}`);
  }
  let pyodide;
  try {
    pyodide = await loadPyodide({ indexURL: pyodideUrl, stdout: () => {}, stderr: () => {} });
  } catch (error) {
    throw new BootError("runtime", `Pyodide failed to start (${pythonMessage(error)})`);
  }
  status("Loading numpy", 0.6);
  const failures = [];
  await pyodide.loadPackage("numpy", { errorCallback: (m) => failures.push(m), messageCallback: () => {} });
  if (failures.length) {
    throw new BootError("runtime", "numpy could not be loaded: " + failures.join("; "));
  }
  status("Loading the playground engine", 0.85);
  const response = await fetch(bundleUrl);
  if (!response.ok) {
    throw new BootError("engine", `the engine bundle could not be loaded (${response.status} ${response.statusText} from ${bundleUrl})`);
  }
  try {
    pyodide.unpackArchive(await response.arrayBuffer(), "zip", { extractDir: "/engine" });
    pyodide.runPython("import sys; sys.path.insert(0, '/engine')");
    api = pyodide.pyimport("playground.worker_api");
  } catch (error) {
    throw new BootError("engine", `the playground engine failed to load (${pythonMessage(error)})`);
  }
  post("ready", { seconds: (performance.now() - started) / 1000 });
  if (pendingRun !== null) {
    const run = pendingRun;
    pendingRun = null;
    guarded(() => handlers[run.type](run), { request: run.type, id: run.id });
  }
  if (pendingViews !== null) {
    const views = pendingViews;
    pendingViews = null;
    guarded(() => handlers.views(views), { request: "views" });
  }
  schedule();
}

function sendFrame(trainMs = 0) {
  const started = performance.now();
  const proxy = api.frame();
  const bytes = proxy.toJs();
  proxy.destroy();
  inFlight += 1;
  post("frame", { buffer: bytes.buffer, trainMs, frameMs: performance.now() - started, tag: runTag }, [bytes.buffer]);
}

function schedule() {
  if (playing && api && !scheduled && inFlight < maxInFlight) {
    scheduled = true;
    wake.port2.postMessage(null);
  }
}

function trainOneFrame() {
  if (!playing || !api || inFlight >= maxInFlight) return;
  const start = performance.now();
  if (epochPerFrame) {
    api.train_epoch();
  } else {
    api.train(stepsPerFrame);
    const elapsed = Math.max(performance.now() - start, 0.05);
    const ideal = (stepsPerFrame * FRAME_BUDGET_MS) / elapsed;
    // As many steps as fit the time budget, but no more than the speed asks for.
    const cap = Math.max(1, Math.round(epochsPerFrame * api.steps_per_epoch()));
    stepsPerFrame = Math.max(1, Math.min(MAX_STEPS_PER_FRAME, cap, Math.round(0.7 * stepsPerFrame + 0.3 * ideal)));
  }
  sendFrame(performance.now() - start);
  schedule();
}

const handlers = {
  setup(message) {
    const { spec, fresh = false } = message;
    if (!api) {
      pendingRun = message;
      return;
    }
    api.setup(spec, Boolean(fresh));
    sendFrame();
  },
  tag() {
    sendFrame(); // the run is the same: its frames carry the new tag from now on
  },
  play() {
    playing = true;
    schedule();
  },
  pause() {
    playing = false;
  },
  step() {
    api.train(api.steps_per_epoch()); // an epoch's worth of batches, wherever the run stands
    sendFrame();
  },
  set_weight({ layer, name, index, value }) {
    api.set_weight(layer, name, index, value);
    sendFrame();
  },
  ack({ count = 1 }) {
    inFlight = Math.max(0, inFlight - count);
    schedule();
  },
  mode({ epochPerFrame: exact, epochsPerFrame: speed }) {
    if (exact !== undefined) {
      epochPerFrame = Boolean(exact);
      maxInFlight = epochPerFrame ? 2 : 1;
    }
    if (speed !== undefined) epochsPerFrame = speed;
  },
  views({ views, pca_layer }) {
    api.set_views(JSON.stringify({ views, pca_layer }));
    if (!playing) sendFrame(); // show the view at once, even when paused
  },
  select({ index, values }) {
    if (values === undefined) api.select(index);
    else api.select(null, values);
    if (!playing) sendFrame();
  },
  probe({ id, name, arguments: args }) {
    const proxy = api.probe(name, args);
    const bytes = proxy.toJs();
    proxy.destroy();
    post("probe", { id, buffer: bytes.buffer }, [bytes.buffer]);
  },
  snapshot({ id }) {
    post("snapshot", { id, text: api.snapshot_json(), step: api.current_step() });
  },
  load_snapshot(message) {
    const { id, text } = message;
    if (!api) {
      pendingRun = message; // a kept run to resume once the engine is ready
      return;
    }
    const spec = api.load_snapshot(text);
    post("loaded", { id, spec });
    sendFrame();
  },
};

self.onmessage = async (event) => {
  const message = event.data;
  if (message.type === "ping") { // the page checks that the engine still answers
    post("pong", { id: message.id });
    return;
  }
  if (message.type === "fault" && faultsAllowed && FAULTS[message.kind]) {
    guarded(FAULTS[message.kind], { request: "fault" });
    return;
  }
  if (message.type === "boot") {
    faultsAllowed = Boolean(message.faults);
    try {
      await boot(message);
    } catch (error) {
      post("error", { message: String(error && error.message ? error.message : error), stage: error.stage || "runtime" });
    }
    return;
  }
  const handler = handlers[message.type];
  if (!handler) return;
  if (message.tag !== undefined) runTag = message.tag; // a change to the run (setup, tag): frames say which
  // Before the engine is ready only the settings are kept; the rest needs it.
  if (!api && !["setup", "load_snapshot", "play", "pause", "mode", "views"].includes(message.type)) {
    if (message.type === "probe") post("failed", { request: "probe", id: message.id, message: "the engine is still starting" });
    return;
  }
  if (!api && message.type === "views") {
    pendingViews = message;
    return;
  }
  guarded(() => handler(message), { request: message.type, id: message.id });
};
