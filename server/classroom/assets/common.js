// What the classroom pages share: the token from the address's fragment,
// API calls that turn errors into sentences, the live feed, and drawing a
// thumbnail and a sparkline in the playground's colours.
import { Colours, el, paintGrid } from "/assets/views/common.js";

export { el };

export function tokenFromAddress() {
  return new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
}

export async function api(path, { token = "", method = "GET", body, raw = false } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new Error("the server cannot be reached; it will be tried again");
  }
  if (raw && response.ok) return response;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

export async function loadConfig() {
  const config = await api("/classroom/config.json");
  config.colours = new Colours(config.palette);
  return config;
}

// The live feed: reconnects by itself (1 s, 2 s, … up to 10 s) after a drop
// or a server restart; onStatus(true|false) says whether it is live.
export function liveFeed(token, onMessage, onStatus) {
  let delay = 1000;
  let closed = false;
  let socket = null;
  const connect = () => {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/api/classroom/live?token=${encodeURIComponent(token)}`);
    socket.onopen = () => { delay = 1000; onStatus(true); };
    socket.onmessage = (event) => onMessage(JSON.parse(event.data));
    socket.onclose = () => {
      onStatus(false);
      if (!closed) setTimeout(connect, delay);
      delay = Math.min(10000, delay * 2);
    };
  };
  connect();
  return () => { closed = true; if (socket) socket.close(); };
}

export function paintThumbnail(canvas, values, colours) {
  if (!values || !values.length) {
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    canvas.dataset.empty = "true";
    return;
  }
  const side = Math.round(Math.sqrt(values.length));
  canvas.width = side;
  canvas.height = side;
  paintGrid(canvas, values, 0, side, side, colours);
  delete canvas.dataset.empty;
}

// Test losses as a line, the latest on the right; the lowest at the bottom.
export function sparkline(losses, width = 120, height = 36) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("role", "img");
  const points = (losses || []).filter(Number.isFinite);
  svg.setAttribute("aria-label", points.length ? `test loss over time, now ${points[points.length - 1].toFixed(3)}` : "no test loss yet");
  if (points.length > 1) {
    const low = Math.min(...points), high = Math.max(...points), span = high - low || 1;
    const path = points.map((v, i) => `${(i / (points.length - 1)) * (width - 2) + 1},${height - 2 - ((v - low) / span) * (height - 4)}`).join(" ");
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", path);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#3f007d");
    line.setAttribute("stroke-width", "1.5");
    svg.append(line);
  }
  return svg;
}

export function figure(value, digits = 3) {
  return Number.isFinite(value) ? value.toFixed(digits) : "—";
}

export function percent(value) {
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : "—";
}

export function stepText(progress, config) {
  if (!progress || !progress.lesson) return "no lesson yet";
  const lesson = config.lessons.find((l) => l.id === progress.lesson);
  const steps = lesson ? lesson.steps.length : "?";
  const done = (progress.done || []).length;
  return `${lesson ? lesson.title : progress.lesson}: step ${(progress.step ?? 0) + 1} of ${steps}` +
    (progress.completed ? " · lesson done" : done ? ` · ${done} goal${done === 1 ? "" : "s"} met` : "");
}

// The legend every picture of a surface needs (what the colours mean).
export function surfaceLegend(config) {
  const { negative, zero, positive } = config.palette;
  return el("div", { class: "legend" },
    el("span", { text: "Pictures: the model's output over the input plane —" }),
    el("span", { text: "−1" }),
    el("span", { class: "swatch", style: { background: `linear-gradient(to right, ${negative}, ${zero}, ${positive})` } }),
    el("span", { text: "+1 (orange negative, blue positive). Lines: test loss over time (lower is better)." }));
}
