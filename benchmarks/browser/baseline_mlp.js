// Plain-JavaScript baseline for the browser benchmark.
//
// A per-sample multilayer perceptron in the style of the classic TensorFlow
// Playground: every neuron is a Node object, every weight a Link object, and
// all work is done by loops over samples and over links. Nothing is
// vectorised on purpose: this is the yardstick our numpy-in-Pyodide engine is
// compared against, so it must do the same amount of work the "classic" way.
//
// One tick() = one SGD epoch + train/test loss + 100x100 output surface +
// one RxR map per neuron + colouring/drawing all of them.

const N_FEATURES = 7;
const SURFACE_SIZE = 100;

// --- seeded PRNG ------------------------------------------------------------

// mulberry32: tiny, fast and good enough for weight initialisation; seeded so
// both the baseline and the engine under test start from a reproducible net.
function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- activations --------------------------------------------------------------

const ACTIVATIONS = {
  tanh: {
    output: (x) => Math.tanh(x),
    der: (x) => {
      const t = Math.tanh(x);
      return 1 - t * t;
    },
  },
  relu: {
    output: (x) => Math.max(0, x),
    der: (x) => (x <= 0 ? 0 : 1),
  },
  sigmoid: {
    output: (x) => 1 / (1 + Math.exp(-x)),
    der: (x) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 - s);
    },
  },
  linear: {
    output: (x) => x,
    der: () => 1,
  },
};

// --- network objects ------------------------------------------------------------

class Neuron {
  constructor(id, activation) {
    this.id = id;
    this.activation = activation; // null for input neurons
    this.inputLinks = [];
    this.outputs = [];
    this.bias = 0.1;
    this.totalInput = 0;
    this.output = 0;
    // Derivatives of the loss w.r.t. this neuron's output and total input,
    // plus the accumulator used for mini-batch bias updates.
    this.outputDer = 0;
    this.inputDer = 0;
    this.accInputDer = 0;
    this.numAccumulatedDers = 0;
  }

  updateOutput() {
    let total = this.bias;
    const links = this.inputLinks;
    for (let j = 0; j < links.length; j++) {
      const link = links[j];
      total += link.weight * link.source.output;
    }
    this.totalInput = total;
    this.output = this.activation.output(total);
    return this.output;
  }
}

class Connection {
  constructor(source, dest, weight) {
    this.source = source;
    this.dest = dest;
    this.weight = weight;
    this.errorDer = 0;
    this.accErrorDer = 0;
    this.numAccumulatedDers = 0;
  }
}

// layers[0] are the input neurons; the last layer holds the single output.
function buildNetwork(hidden, activationName, rng) {
  const activation = ACTIVATIONS[activationName];
  if (!activation) throw new Error(`unknown activation: ${activationName}`);
  const shape = [N_FEATURES, ...hidden, 1];
  const layers = [];
  let id = 0;
  for (let l = 0; l < shape.length; l++) {
    const layer = [];
    for (let i = 0; i < shape[l]; i++) {
      const neuron = new Neuron(id++, l === 0 ? null : activation);
      if (l > 0) {
        for (const source of layers[l - 1]) {
          const link = new Connection(source, neuron, rng() - 0.5);
          source.outputs.push(link);
          neuron.inputLinks.push(link);
        }
      }
      layer.push(neuron);
    }
    layers.push(layer);
  }
  return layers;
}

// Feed one 7-feature row (features[offset .. offset+6]) through the net.
function forwardProp(layers, features, offset) {
  const inputs = layers[0];
  for (let i = 0; i < inputs.length; i++) inputs[i].output = features[offset + i];
  for (let l = 1; l < layers.length; l++) {
    const layer = layers[l];
    for (let i = 0; i < layer.length; i++) layer[i].updateOutput();
  }
  return layers[layers.length - 1][0].output;
}

// Backpropagate the squared-error loss 0.5*(out - target)^2 for the sample
// last passed through forwardProp, accumulating into the batch sums.
function backProp(layers, target) {
  const outNeuron = layers[layers.length - 1][0];
  outNeuron.outputDer = outNeuron.output - target;

  for (let l = layers.length - 1; l >= 1; l--) {
    const layer = layers[l];
    for (let i = 0; i < layer.length; i++) {
      const neuron = layer[i];
      neuron.inputDer = neuron.outputDer * neuron.activation.der(neuron.totalInput);
      neuron.accInputDer += neuron.inputDer;
      neuron.numAccumulatedDers++;
    }
    for (let i = 0; i < layer.length; i++) {
      const neuron = layer[i];
      const links = neuron.inputLinks;
      for (let j = 0; j < links.length; j++) {
        const link = links[j];
        link.errorDer = neuron.inputDer * link.source.output;
        link.accErrorDer += link.errorDer;
        link.numAccumulatedDers++;
      }
    }
    if (l === 1) continue; // input neurons need no outputDer
    const prev = layers[l - 1];
    for (let i = 0; i < prev.length; i++) {
      const neuron = prev[i];
      let der = 0;
      const outs = neuron.outputs;
      for (let j = 0; j < outs.length; j++) {
        const link = outs[j];
        der += link.weight * link.dest.inputDer;
      }
      neuron.outputDer = der;
    }
  }
}

// Apply the averaged accumulated derivatives and reset the accumulators.
function updateWeights(layers, learningRate) {
  for (let l = 1; l < layers.length; l++) {
    const layer = layers[l];
    for (let i = 0; i < layer.length; i++) {
      const neuron = layer[i];
      if (neuron.numAccumulatedDers > 0) {
        neuron.bias -= (learningRate * neuron.accInputDer) / neuron.numAccumulatedDers;
        neuron.accInputDer = 0;
        neuron.numAccumulatedDers = 0;
      }
      const links = neuron.inputLinks;
      for (let j = 0; j < links.length; j++) {
        const link = links[j];
        if (link.numAccumulatedDers > 0) {
          link.weight -= (learningRate * link.accErrorDer) / link.numAccumulatedDers;
          link.accErrorDer = 0;
          link.numAccumulatedDers = 0;
        }
      }
    }
  }
}

function meanLoss(layers, x, y) {
  const n = y.length;
  let sum = 0;
  for (let s = 0; s < n; s++) {
    const d = forwardProp(layers, x, s * N_FEATURES) - y[s];
    sum += 0.5 * d * d;
  }
  return n > 0 ? sum / n : 0;
}

// --- colouring ------------------------------------------------------------------

// Diverging palette shared with our renderer: #e66101 -> #f7f7f7 -> #1f78b4,
// linear in sRGB. Computed per pixel (no lookup table) so the baseline pays
// the full colouring cost each tick.
const LOW = [0xe6, 0x61, 0x01];
const MID = [0xf7, 0xf7, 0xf7];
const HIGH = [0x1f, 0x78, 0xb4];

function colourInto(values, pixels) {
  for (let p = 0, q = 0; p < values.length; p++, q += 4) {
    let v = values[p];
    if (!(v >= -1)) v = -1; // also maps NaN to the low end
    else if (v > 1) v = 1;
    const t = (v + 1) / 2;
    let a, b, u;
    if (t <= 0.5) {
      a = LOW; b = MID; u = t * 2;
    } else {
      a = MID; b = HIGH; u = (t - 0.5) * 2;
    }
    pixels[q] = a[0] + (b[0] - a[0]) * u;     // Uint8ClampedArray rounds
    pixels[q + 1] = a[1] + (b[1] - a[1]) * u;
    pixels[q + 2] = a[2] + (b[2] - a[2]) * u;
    pixels[q + 3] = 255;
  }
}

// ImageData when a DOM is present; otherwise (e.g. Node) a look-alike so the
// colouring work is still done without any canvas.
function makeImageData(width, height) {
  if (typeof ImageData !== "undefined") return new ImageData(width, height);
  return { width, height, data: new Uint8ClampedArray(width * height * 4) };
}

// --- public API -------------------------------------------------------------------

class Baseline {
  constructor(data, options) {
    const opts = {
      hidden: [8, 8, 8, 8, 8, 8],
      activation: "tanh",
      learningRate: 0.03,
      batchSize: 10,
      seed: 1,
      mapResolution: 20,
      ...options,
    };
    this.data = data;
    this.options = opts;
    this.resolution = opts.mapResolution;
    this.layers = buildNetwork(opts.hidden, opts.activation, mulberry32(opts.seed));
    // Every neuron except the inputs gets a map: 48 hidden + 1 output.
    this.mappedNeurons = this.layers.slice(1).flat();

    const R = this.resolution;
    this.surfaceImage = makeImageData(SURFACE_SIZE, SURFACE_SIZE);
    this.neuronImages = this.mappedNeurons.map(() => makeImageData(R, R));
    this.canvases = null; // set by attach()
  }

  attach(container) {
    const doc = container.ownerDocument || document;
    const R = this.resolution;
    const make = (size, className) => {
      const canvas = doc.createElement("canvas");
      canvas.width = size;
      canvas.height = size;
      canvas.className = className;
      container.appendChild(canvas);
      return canvas.getContext("2d");
    };
    this.canvases = {
      surface: make(SURFACE_SIZE, "baseline-surface"),
      neurons: this.mappedNeurons.map(() => make(R, "baseline-neuron")),
    };
    return this.canvases;
  }

  tick() {
    const { layers, data } = this;
    const { learningRate, batchSize } = this.options;

    // (1) One epoch of per-sample SGD in the given order.
    const nTrain = data.yTrain.length;
    for (let s = 0; s < nTrain; s++) {
      forwardProp(layers, data.xTrain, s * N_FEATURES);
      backProp(layers, data.yTrain[s]);
      if ((s + 1) % batchSize === 0) updateWeights(layers, learningRate);
    }
    // Flush a trailing partial batch so no sample is carried into the next epoch.
    if (nTrain % batchSize !== 0) updateWeights(layers, learningRate);

    // (2) Losses.
    const trainLoss = meanLoss(layers, data.xTrain, data.yTrain);
    const testLoss = meanLoss(layers, data.xTest, data.yTest);

    // (3) Output surface on the 100x100 grid.
    const outNeuron = layers[layers.length - 1][0];
    const nSurface = SURFACE_SIZE * SURFACE_SIZE;
    const surface = new Float64Array(nSurface);
    for (let c = 0; c < nSurface; c++) {
      forwardProp(layers, data.gridFeatures, c * N_FEATURES);
      surface[c] = outNeuron.output;
    }

    // (4) Every neuron's output on the RxR grid.
    const R = this.resolution;
    const nMap = R * R;
    const neurons = this.mappedNeurons;
    const maps = neurons.map(() => new Float64Array(nMap));
    for (let c = 0; c < nMap; c++) {
      forwardProp(layers, data.mapFeatures, c * N_FEATURES);
      for (let k = 0; k < neurons.length; k++) maps[k][c] = neurons[k].output;
    }

    // (5) Colour and draw.
    colourInto(surface, this.surfaceImage.data);
    for (let k = 0; k < maps.length; k++) colourInto(maps[k], this.neuronImages[k].data);
    if (this.canvases) {
      this.canvases.surface.putImageData(this.surfaceImage, 0, 0);
      for (let k = 0; k < maps.length; k++) {
        this.canvases.neurons[k].putImageData(this.neuronImages[k], 0, 0);
      }
    }

    return { trainLoss, testLoss };
  }
}

export function createBaseline(data, options = {}) {
  return new Baseline(data, options);
}
