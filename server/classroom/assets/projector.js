// The projector view: the spotlighted student's model, large; the join
// code while nobody is in the spotlight.
import { api, el, figure, liveFeed, loadConfig, paintThumbnail, percent, sparkline, surfaceLegend, tokenFromAddress } from "./common.js";

const token = tokenFromAddress();
const stage = document.getElementById("stage");
let config, info;

function show(spotlight) {
  if (!spotlight) {
    stage.dataset.student = "";
    stage.replaceChildren(el("h1", { text: info.title }), el("p", { text: "Join from the playground page with the code" }),
      el("div", { class: "code", text: info.code }));
    return;
  }
  const canvas = el("canvas", { width: 16, height: 16, "data-role": "spotlight-thumbnail", role: "img", "aria-label": "the model's decision surface" });
  paintThumbnail(canvas, spotlight.thumbnail, config.colours);
  const s = spotlight.summary || {};
  stage.dataset.student = spotlight.student.name;
  stage.replaceChildren(
    el("div", { class: "name", "data-role": "spotlight-name", text: spotlight.student.name }), canvas,
    el("div", { class: "figures", text: `test loss ${figure(s.test_loss)} · accuracy ${percent(s.test_accuracy)} · step ${s.step ?? 0}` }),
    sparkline(spotlight.sparkline, 420, 80), surfaceLegend(config));
}

async function start() {
  config = await loadConfig();
  const overview = await api("/api/classroom/session", { token });
  info = overview.session;
  show(overview.spotlight);
  liveFeed(token, (message) => { if (message.type === "state") show(message.spotlight); }, () => {});
}

start().catch((error) => document.getElementById("message").replaceChildren(
  el("div", { class: "banner", "data-kind": "error", text: `The projector view could not start: ${error.message}.` })));
