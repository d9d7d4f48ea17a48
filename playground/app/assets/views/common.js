// Helpers shared by the views: DOM building, the palette's colour tables,
// painting value grids, number formatting. Every view draws with these so
// that one colour means one thing everywhere: orange negative, blue positive
// (pale near zero); purple for sizes that have no sign; the Okabe–Ito
// colours for classes.

export const SVG = "http://www.w3.org/2000/svg";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

export function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

export function rgb(colour) {
  return `rgb(${colour[0]},${colour[1]},${colour[2]})`;
}

// 256 colours through the given stops, evenly spaced.
function table(stops) {
  const colours = stops.map(hexToRgb);
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (colours.length - 1);
    const k = Math.min(Math.floor(t), colours.length - 2);
    out.set(mix(colours[k], colours[k + 1], t - k), i * 3);
  }
  return out;
}

// Colour tables for a palette: signed values in [-1, 1], magnitudes in [0, 1].
export class Colours {
  constructor(palette) {
    this.palette = palette;
    this.signed = table([palette.negative, palette.zero, palette.positive]);
    this.magnitude = table(palette.magnitude);
    this.classes = palette.classes.map(hexToRgb);
  }

  // The colour of a value in [-1, 1] (outside it, the nearest end).
  value(v) {
    const i = signedIndex(v) * 3;
    return `rgb(${this.signed[i]},${this.signed[i + 1]},${this.signed[i + 2]})`;
  }

  // The colour of a size in [0, 1].
  size(v) {
    const i = magnitudeIndex(v) * 3;
    return `rgb(${this.magnitude[i]},${this.magnitude[i + 1]},${this.magnitude[i + 2]})`;
  }

  classColour(label) {
    return this.palette.classes[label % this.palette.classes.length];
  }
}

export function signedIndex(value) {
  const v = value > 1 ? 1 : value < -1 ? -1 : value;
  return Number.isFinite(v) ? Math.round((v + 1) * 127.5) : 128;
}

export function magnitudeIndex(value) {
  const v = value > 1 ? 1 : value < 0 ? 0 : value;
  return Number.isFinite(v) ? Math.round(v * 255) : 0;
}

// Paint width × height values (from `offset` in `values`) into a canvas of
// that size; `scale` maps a value to [-1, 1] (signed) or [0, 1] (sizes).
export function paintGrid(canvas, values, offset, width, height, colours, { kind = "signed", scale = 1, discretize = false } = {}) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const pixels = image.data;
  const colourTable = kind === "signed" ? colours.signed : colours.magnitude;
  for (let k = 0, n = width * height; k < n; k++) {
    let v = values[offset + k] * scale;
    if (discretize) v = v > 0 ? 1 : -1;
    const t = (kind === "signed" ? signedIndex(v) : magnitudeIndex(v)) * 3;
    pixels[4 * k] = colourTable[t];
    pixels[4 * k + 1] = colourTable[t + 1];
    pixels[4 * k + 2] = colourTable[t + 2];
    pixels[4 * k + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

// The largest magnitude among values (for scaling a picture to [-1, 1]).
export function largest(values, offset = 0, count = values.length - offset) {
  let top = 0;
  for (let k = offset; k < offset + count; k++) {
    const v = Math.abs(values[k]);
    if (v > top && Number.isFinite(v)) top = v;
  }
  return top;
}

export function formatNumber(value, digits = 3) {
  if (value === null || value === undefined) return "—";
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(2);
  return value.toFixed(digits);
}

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// A small legend: a colour bar with its two ends labelled, and a sentence.
export function legend(colours, { kind = "signed", low = "−1", high = "+1", text = "" } = {}) {
  const stops = kind === "signed"
    ? [colours.palette.negative, colours.palette.zero, colours.palette.positive]
    : colours.palette.magnitude;
  return el("div", { class: "pg-legend" },
    el("div", { class: "pg-legend-scale" }, el("span", { text: low }),
      el("div", { class: "pg-legend-bar", style: { background: `linear-gradient(to right, ${stops.join(", ")})` } }),
      el("span", { text: high })),
    text ? el("p", { class: "pg-hint", text }) : null);
}
