// Sanity check for baseline_mlp.js under Node (no DOM): builds a circle
// dataset, runs 30 ticks without attach() and fails unless the training loss
// at least halves, so we know the baseline really learns.
//
//   node benchmarks/browser/baseline_check.mjs

import { createBaseline } from "./baseline_mlp.js";

const N_TRAIN = 250;
const N_TEST = 250;
const RADIUS = 2.5;
const EXTENT = 6; // points and grids cover [-6, 6]^2
const MAP_RESOLUTION = 20;
const TICKS = 30;

// Separate PRNG from the baseline's so the data does not depend on its seed.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writeFeatures(out, row, x1, x2) {
  const o = row * 7;
  out[o] = x1;
  out[o + 1] = x2;
  out[o + 2] = x1 * x1;
  out[o + 3] = x2 * x2;
  out[o + 4] = x1 * x2;
  out[o + 5] = Math.sin(x1);
  out[o + 6] = Math.sin(x2);
}

function circleSet(n, rng) {
  const x = new Float64Array(n * 7);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x1 = (rng() * 2 - 1) * EXTENT;
    const x2 = (rng() * 2 - 1) * EXTENT;
    writeFeatures(x, i, x1, x2);
    y[i] = Math.hypot(x1, x2) < RADIUS ? 1 : -1;
  }
  return { x, y };
}

// Cell centres, row-major with row 0 at the top (x2 = +6) like a canvas.
function gridFeatures(n) {
  const out = new Float64Array(n * n * 7);
  const step = (2 * EXTENT) / n;
  for (let r = 0; r < n; r++) {
    const x2 = EXTENT - (r + 0.5) * step;
    for (let c = 0; c < n; c++) {
      writeFeatures(out, r * n + c, -EXTENT + (c + 0.5) * step, x2);
    }
  }
  return out;
}

const rng = mulberry32(42);
const train = circleSet(N_TRAIN, rng);
const test = circleSet(N_TEST, rng);
const data = {
  xTrain: train.x,
  yTrain: train.y,
  xTest: test.x,
  yTest: test.y,
  gridFeatures: gridFeatures(100),
  mapFeatures: gridFeatures(MAP_RESOLUTION),
};

const baseline = createBaseline(data, {
  hidden: [8, 8, 8, 8, 8, 8],
  activation: "tanh",
  learningRate: 0.03,
  batchSize: 10,
  seed: 1,
  mapResolution: MAP_RESOLUTION,
});

const start = performance.now();
let first = null;
let last = null;
for (let i = 0; i < TICKS; i++) {
  last = baseline.tick();
  if (i === 0) first = last;
}
const seconds = (performance.now() - start) / 1000;

// The colouring must have run even without a DOM.
const px = baseline.surfaceImage.data;
const coloured = px[3] === 255 && px[px.length - 1] === 255;

console.log(`first tick: train loss ${first.trainLoss.toFixed(4)}, test loss ${first.testLoss.toFixed(4)}`);
console.log(`last tick:  train loss ${last.trainLoss.toFixed(4)}, test loss ${last.testLoss.toFixed(4)}`);
console.log(`${TICKS} ticks in ${seconds.toFixed(2)} s = ${(TICKS / seconds).toFixed(1)} ticks/s`);

if (!Number.isFinite(last.trainLoss) || last.trainLoss > first.trainLoss / 2) {
  console.error("FAIL: training loss did not fall by at least half");
  process.exit(1);
}
if (!coloured) {
  console.error("FAIL: surface ImageData buffer was not filled");
  process.exit(1);
}
console.log("OK");
