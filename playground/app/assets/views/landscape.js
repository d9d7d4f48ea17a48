// The "Loss landscape" tab: a slice of the loss surface around the current
// weights, and the optimiser's path seen from above.
//
// The network has hundreds of weights, so its loss surface cannot be drawn
// whole. The engine picks two directions in weight space (the two along
// which the weights moved most while this tab was open, or two random ones),
// computes the training loss on a grid of weight settings in the plane they
// span, centred on the current weights, and projects the recorded weights
// onto the same plane. It is on demand (a probe): 21 × 21 forward passes
// take a second or more in the browser, far too slow for every frame.

import { el, formatNumber, legend } from "./common.js";

const SIZE = 21; // cells along each direction
const AUTO_MS = 3000;
const PROBE_TIMEOUT_MS = 60000;
const PLOT = 400; // the map's side, in CSS pixels
const MARGIN = { left: 62, right: 18, top: 14, bottom: 50 };
const CONTOURS = 8; // contour levels, evenly spaced in the colour scale

const CSS = `
.pg-landscape-view { display: flex; flex-direction: column; gap: 10px; padding-top: 6px; }
.pg-landscape-view p { margin: 0; }
.pg-landscape-intro { max-width: 660px; line-height: 1.4; }
.pg-landscape-controls { display: flex; gap: 14px; align-items: center; flex-wrap: wrap; }
.pg-landscape-status { font-size: 13px; color: #495057; }
.pg-landscape-status[data-kind="busy"]::before { content: ""; display: inline-block; width: 10px; height: 10px;
  margin-right: 6px; border: 2px solid #adb5bd; border-top-color: #212529; border-radius: 50%;
  animation: pg-landscape-spin 0.9s linear infinite; vertical-align: -1px; }
@keyframes pg-landscape-spin { to { transform: rotate(360deg); } }
.pg-landscape-status[data-kind="error"] { color: #842029; background: #fdecea; border: 1px solid #f1aeb5;
  border-radius: 4px; padding: 4px 8px; }
.pg-landscape-body { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
.pg-landscape-canvas { display: block; width: ${PLOT + MARGIN.left + MARGIN.right}px;
  height: ${PLOT + MARGIN.top + MARGIN.bottom}px; cursor: crosshair; }
.pg-landscape-canvas:focus-visible { outline: 3px solid #212529; outline-offset: 2px; }
.pg-landscape-side { flex: 1 1 170px; display: flex; flex-direction: column; gap: 10px; min-width: 170px; max-width: 220px; }
.pg-landscape-readout { font-size: 14px; font-variant-numeric: tabular-nums; min-height: 3.6em; }
.pg-landscape-marks { display: flex; flex-direction: column; gap: 4px; font-size: 13px; }
.pg-landscape-mark { display: inline-flex; gap: 6px; align-items: center; }
.pg-landscape-icon { display: inline-block; width: 22px; text-align: center; font-weight: 700; }
`;

export default class LandscapeView {
  constructor(host) {
    this.host = host;
    this.colours = host.colours;
    this.result = null; // the last computed landscape
    this.computing = false;
    this.cursor = null; // the cell the pointer or the arrow keys are on: [row from the bottom, column]
    this.element = el("div", { class: "pg-landscape-view", "data-role": "landscape-view" });
    this.element.append(el("style", { text: CSS }));

    this.button = el("button", { type: "button", class: "pg-button", "data-role": "compute-landscape",
      onclick: () => this.compute() }, "Compute landscape");
    this.auto = el("input", { type: "checkbox", "data-role": "landscape-auto", onchange: () => this.setAuto() });
    this.status = el("span", { class: "pg-landscape-status", role: "status", "aria-live": "polite",
      "data-role": "landscape-status" });
    this.canvas = el("canvas", { class: "pg-landscape-canvas", "data-role": "landscape-canvas", tabindex: "0",
      role: "img", "aria-label": "Loss landscape: the loss around the current weights and the optimiser's path; arrow keys read the loss cell by cell" });
    this.canvas.addEventListener("mousemove", (event) => this.hover(event));
    this.canvas.addEventListener("mouseleave", () => { this.host.hideTooltip(); this.setCursor(null); });
    this.canvas.addEventListener("keydown", (event) => this.keys(event));
    this.readout = el("p", { class: "pg-landscape-readout", "data-role": "landscape-readout" });
    this.legendBox = el("div", {});
    this.directions = el("p", { class: "pg-hint", "data-role": "landscape-directions" });
    this.age = el("p", { class: "pg-hint" });

    const mark = (icon, text) => el("span", { class: "pg-landscape-mark" }, el("span", { class: "pg-landscape-icon", text: icon }), text);
    this.element.append(
      el("h3", { class: "pg-heading", text: "Loss landscape" }),
      el("p", { class: "pg-landscape-intro", text: "A slice of the loss surface around the current weights: each cell is the " +
        "training loss the network would have if its weights moved that far along two directions. The line is the path the " +
        "optimiser took to get here, seen from above — training rolls downhill into the light valleys." }),
      el("div", { class: "pg-landscape-controls" }, this.button,
        el("label", { class: "pg-check" }, this.auto, "auto-refresh every 3 s"), this.status),
      el("div", { class: "pg-landscape-body" }, this.canvas,
        el("div", { class: "pg-landscape-side" }, this.readout, this.legendBox,
          el("div", { class: "pg-landscape-marks" },
            mark("○", "start of the recorded path"), mark("—", "the optimiser's path"),
            mark("●", "the current weights (the centre)"),
            mark("┈", "contour lines: equal loss")),
          this.age)),
      this.directions);
    this.showEmpty();
  }

  needs() {
    return ["landscape"]; // the worker records the weights' path only while this is asked for
  }

  setSpec(spec) {
    const key = JSON.stringify([spec.layers, spec.output, spec.task]);
    if (this.specKey !== undefined && key !== this.specKey && this.result) {
      this.result = null; // another model: the old picture is of other weights
      this.showEmpty("The model changed: compute the landscape again.");
    }
    this.specKey = key;
  }

  destroy() {
    clearInterval(this.timer);
  }

  // Only the "computed at step" line follows the frames; the picture changes when computed.
  draw(frame) {
    if (!this.result) return;
    const step = frame.header.step;
    const text = step === this.result.step ? `Computed at step ${step.toLocaleString("en")}.`
      : `Computed at step ${this.result.step.toLocaleString("en")}; training is now at step ${step.toLocaleString("en")}` +
        (this.auto.checked ? "." : " — compute again to see where it went.");
    if (this.age.textContent !== text) this.age.textContent = text;
  }

  // --- computing -----------------------------------------------------------------

  setAuto() {
    clearInterval(this.timer);
    if (!this.auto.checked) return;
    this.compute();
    // Only while the tab is on the page: a hidden view's element is detached.
    this.timer = setInterval(() => {
      if (this.element.isConnected && !this.computing && this.host.ready) this.compute();
    }, AUTO_MS);
  }

  async compute() {
    if (this.computing) return;
    this.computing = true;
    this.button.disabled = true;
    this.setStatus(`Computing the loss at ${SIZE} × ${SIZE} = ${SIZE * SIZE} points around the current weights…`, "busy");
    const step = this.host.frame ? this.host.frame.header.step : 0;
    let timeout;
    try {
      const answer = await Promise.race([
        this.host.probe("landscape", { size: SIZE }),
        new Promise((_, reject) => { timeout = setTimeout(() => reject(new Error("the engine did not answer within a minute")), PROBE_TIMEOUT_MS); }),
      ]);
      this.show(answer, step);
      this.setStatus("", "");
    } catch (error) {
      this.setStatus(`The landscape could not be computed: ${error.message}.`, "error");
    } finally {
      clearTimeout(timeout);
      this.computing = false;
      this.button.disabled = false;
    }
  }

  setStatus(text, kind) {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  show({ header, arrays }, step) {
    const loss = arrays["landscape/loss"], axis = arrays["landscape/axis"], path = arrays["landscape/path"];
    if (!loss || !axis) throw new Error("the engine's answer holds no landscape");
    const n = axis.data.length;
    const values = loss.data;
    let min = Infinity, max = -Infinity;
    for (const v of values) if (Number.isFinite(v)) { min = Math.min(min, v); max = Math.max(max, v); }
    // A log scale shows the valley's floor, which a linear one flattens into one colour; it needs losses above 0.
    const log = min > 0;
    const scale = (v) => (log ? Math.log10(v) : v);
    const low = Number.isFinite(min) ? scale(min) : 0, high = Number.isFinite(max) ? scale(max) : 1;
    const shares = Float32Array.from(values, (v) => (Number.isFinite(v) ? (high > low ? (scale(v) - low) / (high - low) : 0) : NaN));
    this.result = { n, values, shares, axis: axis.data, path: path ? path.data : new Float32Array(0),
      points: path ? path.shape[0] : 0, directions: header.landscape_directions, step, min, max, log };
    this.cursor = null;
    this.canvas.dataset.pathPoints = String(this.result.points);
    this.canvas.dataset.directions = this.result.directions || "";
    this.canvas.dataset.step = String(step);
    this.canvas.dataset.size = String(n);
    this.legendBox.replaceChildren(legend(this.colours, { kind: "magnitude", low: formatNumber(min), high: formatNumber(max),
      text: log ? "Colour: the training loss on a log scale (light: low, dark: high), so that the valley's floor shows."
        : "Colour: the training loss (light: low, dark: high)." }));
    this.directions.textContent = this.result.directions === "path"
      ? `Directions: the two along which the weights moved most while this tab was open (${this.result.points} recorded points), ` +
        "so the path lies nearly flat in the picture. Distances are in weight space (the length of the change of all weights together)."
      : "Directions: two random ones (scaled to each layer's weights), because no path was recorded yet — train a few seconds " +
        "with this tab open, then compute again to see the optimiser's path.";
    this.readout.textContent = "Hover the map (or focus it and use the arrow keys) to read the loss at a point.";
    this.paint();
    if (this.host.frame) this.draw(this.host.frame);
  }

  // --- drawing -------------------------------------------------------------------

  showEmpty(message = "Press “Compute landscape” (it takes a second or more). Training with this tab open records the optimiser's path.") {
    this.canvas.dataset.pathPoints = "0";
    this.canvas.dataset.size = "0";
    const context = this.prepareCanvas();
    context.fillStyle = "#f8f9fa";
    context.fillRect(MARGIN.left, MARGIN.top, PLOT, PLOT);
    context.strokeStyle = "#adb5bd";
    context.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, PLOT, PLOT);
    context.fillStyle = "#5c636a";
    context.font = "14px system-ui, sans-serif";
    context.textAlign = "center";
    wrap(context, message, MARGIN.left + PLOT / 2, MARGIN.top + PLOT / 2 - 20, PLOT - 60, 20);
    this.readout.textContent = "";
    this.legendBox.replaceChildren();
    this.directions.textContent = "";
    this.age.textContent = "";
  }

  prepareCanvas() {
    const ratio = window.devicePixelRatio || 1;
    const width = PLOT + MARGIN.left + MARGIN.right, height = PLOT + MARGIN.top + MARGIN.bottom;
    if (this.canvas.width !== Math.round(width * ratio)) this.canvas.width = Math.round(width * ratio);
    if (this.canvas.height !== Math.round(height * ratio)) this.canvas.height = Math.round(height * ratio);
    const context = this.canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    return context;
  }

  // Cell (row from the bottom, column) ↔ canvas position; the cells are centred on the axis values.
  place(a, b) {
    const { axis, n } = this.result;
    const d = n > 1 ? axis[1] - axis[0] : 1, start = axis[0] - d / 2, extent = n * d;
    return [MARGIN.left + ((a - start) / extent) * PLOT, MARGIN.top + PLOT - ((b - start) / extent) * PLOT];
  }

  paint() {
    const { n, shares, path, points, axis } = this.result;
    const context = this.prepareCanvas();
    // The cells: a tiny image, scaled up without smoothing so that each cell reads as one value.
    const cells = document.createElement("canvas");
    cells.width = cells.height = n;
    const cellContext = cells.getContext("2d");
    const image = cellContext.createImageData(n, n);
    const table = this.colours.magnitude;
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < n; col++) {
        const share = shares[row * n + col];
        const pixel = 4 * ((n - 1 - row) * n + col); // row 0 is the bottom of the picture
        if (Number.isNaN(share)) {
          image.data.set([173, 181, 189, 255], pixel); // grey: the loss is not a number there
        } else {
          const t = Math.round(Math.min(1, Math.max(0, share)) * 255) * 3;
          image.data.set([table[t], table[t + 1], table[t + 2], 255], pixel);
        }
      }
    }
    cellContext.putImageData(image, 0, 0);
    context.imageSmoothingEnabled = false;
    context.drawImage(cells, MARGIN.left, MARGIN.top, PLOT, PLOT);
    this.drawContours(context);

    // The path: a dark line with a white halo, visible on light and dark cells alike.
    if (points > 0) {
      // The recorded points, then the current weights (the centre), which the record can miss right after it is thinned out.
      const xy = Array.from({ length: points }, (_, k) => this.place(path[2 * k], path[2 * k + 1]));
      xy.push(this.place(0, 0));
      for (const [width, colour] of [[5, "rgba(255,255,255,0.85)"], [2, "#212529"]]) {
        context.lineWidth = width;
        context.strokeStyle = colour;
        context.lineJoin = context.lineCap = "round";
        context.beginPath();
        xy.forEach(([x, y], k) => (k ? context.lineTo(x, y) : context.moveTo(x, y)));
        context.stroke();
      }
      const [sx, sy] = xy[0];
      context.beginPath();
      context.arc(sx, sy, 6, 0, 2 * Math.PI);
      context.fillStyle = "#ffffff";
      context.fill();
      context.lineWidth = 2;
      context.strokeStyle = "#212529";
      context.stroke();
      label(context, "start", sx, sy);
    }
    const [cx, cy] = this.place(0, 0);
    context.beginPath();
    context.arc(cx, cy, 6, 0, 2 * Math.PI);
    context.fillStyle = "#212529";
    context.fill();
    context.lineWidth = 2;
    context.strokeStyle = "#ffffff";
    context.stroke();
    label(context, "now", cx, cy);

    this.drawAxes(context, axis);
    if (this.cursor) this.drawCursor(context);
  }

  // Marching squares over the cell centres: each level a set of short segments.
  drawContours(context) {
    const { n, shares, axis } = this.result;
    context.lineWidth = 1;
    context.strokeStyle = "rgba(33,37,41,0.35)";
    context.beginPath();
    for (let level = 1; level < CONTOURS; level++) {
      const t = level / CONTOURS;
      for (let row = 0; row < n - 1; row++) {
        for (let col = 0; col < n - 1; col++) {
          // Corners counter-clockwise from the bottom left: [row, col].
          const corners = [[row, col], [row, col + 1], [row + 1, col + 1], [row + 1, col]];
          const values = corners.map(([r, c]) => shares[r * n + c]);
          if (values.some(Number.isNaN)) continue;
          const crossings = [];
          for (let e = 0; e < 4; e++) {
            const v0 = values[e], v1 = values[(e + 1) % 4];
            if ((v0 < t) === (v1 < t)) continue;
            const f = (t - v0) / (v1 - v0);
            const [r0, c0] = corners[e], [r1, c1] = corners[(e + 1) % 4];
            crossings.push(this.place(axis[c0] + f * (axis[c1] - axis[c0]), axis[r0] + f * (axis[r1] - axis[r0])));
          }
          for (let k = 0; k + 1 < crossings.length; k += 2) {
            context.moveTo(...crossings[k]);
            context.lineTo(...crossings[k + 1]);
          }
        }
      }
    }
    context.stroke();
  }

  drawAxes(context, axis) {
    const n = axis.length;
    context.strokeStyle = "#868e96";
    context.lineWidth = 1;
    context.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, PLOT, PLOT);
    context.fillStyle = "#495057";
    context.font = "12px system-ui, sans-serif";
    const ticks = [axis[0], 0, axis[n - 1]];
    context.textAlign = "center";
    context.textBaseline = "top";
    for (const a of ticks) {
      const [x] = this.place(a, 0);
      context.beginPath(); context.moveTo(x, MARGIN.top + PLOT); context.lineTo(x, MARGIN.top + PLOT + 5); context.stroke();
      context.fillText(formatNumber(a, 2), x, MARGIN.top + PLOT + 7);
    }
    context.font = "13px system-ui, sans-serif";
    context.fillText("direction 1", MARGIN.left + PLOT / 2, MARGIN.top + PLOT + 27);
    context.font = "12px system-ui, sans-serif";
    context.textAlign = "right";
    context.textBaseline = "middle";
    for (const b of ticks) {
      const [, y] = this.place(0, b);
      context.beginPath(); context.moveTo(MARGIN.left - 5, y); context.lineTo(MARGIN.left, y); context.stroke();
      context.fillText(formatNumber(b, 2), MARGIN.left - 7, y);
    }
    context.save();
    context.translate(14, MARGIN.top + PLOT / 2);
    context.rotate(-Math.PI / 2);
    context.textAlign = "center";
    context.font = "13px system-ui, sans-serif";
    context.fillText("direction 2", 0, 0);
    context.restore();
  }

  drawCursor(context) {
    const [row, col] = this.cursor, n = this.result.n, side = PLOT / n;
    context.lineWidth = 2;
    context.strokeStyle = "#ffffff";
    context.strokeRect(MARGIN.left + col * side, MARGIN.top + (n - 1 - row) * side, side, side);
    context.lineWidth = 1;
    context.strokeStyle = "#212529";
    context.strokeRect(MARGIN.left + col * side - 1.5, MARGIN.top + (n - 1 - row) * side - 1.5, side + 3, side + 3);
  }

  // --- reading the loss ------------------------------------------------------------

  cellText(row, col) {
    const { n, values, axis } = this.result;
    const loss = values[row * n + col];
    const where = `direction 1 = ${formatNumber(axis[col], 2)}, direction 2 = ${formatNumber(axis[row], 2)}`;
    const centre = row === (n - 1) / 2 && col === (n - 1) / 2 ? " (the current weights)" : "";
    return Number.isFinite(loss) ? `Loss ${formatNumber(loss, 4)} at ${where}${centre}`
      : `Loss not a number at ${where}: the network's outputs overflow there`;
  }

  setCursor(cell) {
    const same = JSON.stringify(cell) === JSON.stringify(this.cursor);
    this.cursor = cell;
    if (!this.result) return;
    if (!same) this.paint();
    this.readout.textContent = cell ? this.cellText(...cell) : "Hover the map (or focus it and use the arrow keys) to read the loss at a point.";
    this.readout.dataset.loss = cell ? String(this.result.values[cell[0] * this.result.n + cell[1]]) : "";
  }

  hover(event) {
    if (!this.result) return;
    const box = this.canvas.getBoundingClientRect();
    const x = event.clientX - box.left - MARGIN.left;
    const y = event.clientY - box.top - MARGIN.top;
    const n = this.result.n;
    if (x < 0 || y < 0 || x >= PLOT || y >= PLOT) {
      this.host.hideTooltip();
      this.setCursor(null);
      return;
    }
    const cell = [n - 1 - Math.floor((y / PLOT) * n), Math.floor((x / PLOT) * n)];
    this.setCursor(cell);
    this.host.showTooltip(event, this.cellText(...cell));
  }

  keys(event) {
    if (!this.result) return;
    const moves = { ArrowUp: [1, 0], ArrowDown: [-1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const n = this.result.n, centre = (n - 1) / 2;
    const [row, col] = this.cursor || [centre, centre];
    const clamp = (v) => Math.min(n - 1, Math.max(0, v));
    this.setCursor(this.cursor ? [clamp(row + move[0]), clamp(col + move[1])] : [centre, centre]);
  }
}

// A small label beside a mark, with a white backing so it reads on any cell.
function label(context, text, x, y) {
  context.font = "600 12px system-ui, sans-serif";
  context.textAlign = "left";
  context.textBaseline = "middle";
  context.lineWidth = 3;
  context.strokeStyle = "rgba(255,255,255,0.9)";
  context.strokeText(text, x + 9, y - 9);
  context.fillStyle = "#212529";
  context.fillText(text, x + 9, y - 9);
}

function wrap(context, text, x, y, width, lineHeight) {
  let line = "", lines = [];
  for (const word of text.split(" ")) {
    const next = line ? `${line} ${word}` : word;
    if (context.measureText(next).width > width && line) { lines.push(line); line = word; } else line = next;
  }
  lines.push(line);
  lines.forEach((l, k) => context.fillText(l, x, y + k * lineHeight));
}
