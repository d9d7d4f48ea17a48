// The instructor's dashboard: the class live (one card a student), and the
// controls that steer everyone. All through the classroom API with the
// instructor's token from the address's fragment.
import { api, el, figure, liveFeed, loadConfig, paintThumbnail, percent, sparkline, stepText, surfaceLegend, tokenFromAddress } from "./common.js";

const token = tokenFromAddress();
const $ = (id) => document.getElementById(id);
const message = $("message");
const say = (text, kind = "error") => message.replaceChildren(el("div", { class: "banner", "data-kind": kind, text }));
const students = new Map(); // id -> roster entry
const cards = new Map(); // id -> {card, parts}
let state = {};
let config;

async function act(what, path, body) {
  try {
    const result = await api(path, { token, method: "POST", body });
    message.replaceChildren();
    return result;
  } catch (error) {
    say(`${what} did not work: ${error.message}.`);
    return null;
  }
}

// An action's button stays disabled until the server has answered: a
// second click cannot act on the state the first one is changing (pause
// twice instead of pause and let go).
function onClick(button, action) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await action();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
}

function card(entry) {
  let known = cards.get(entry.id);
  if (!known) {
    const parts = {
      online: el("span", { class: "online", "data-role": "online" }),
      name: el("strong", { "data-role": "student-name" }),
      step: el("div", { "data-role": "student-step" }),
      thumbnail: el("canvas", { width: 16, height: 16, "data-role": "thumbnail", role: "img", "aria-label": "decision surface" }),
      line: el("div", { "data-role": "sparkline" }),
      figures: el("div", { "data-role": "figures" }),
      spotlight: el("button", { type: "button", "data-role": "spotlight", onclick: () => spotlight(entry.id) }, "Spotlight"),
    };
    const article = el("article", { class: "card", "data-role": "student-card", "data-student": entry.id },
      el("header", {}, parts.name, parts.online), parts.step,
      el("div", { class: "pictures" }, parts.thumbnail, parts.line), parts.figures, parts.spotlight);
    known = { card: article, parts };
    cards.set(entry.id, known);
    $("roster").append(article);
  }
  const { card: article, parts } = known;
  article.dataset.name = entry.name;
  article.dataset.online = String(entry.online);
  article.dataset.spotlight = String(state.spotlight === entry.id);
  article.dataset.step = entry.progress && entry.progress.step !== undefined ? String(entry.progress.step) : "";
  parts.name.textContent = entry.name;
  parts.online.dataset.online = String(entry.online);
  parts.online.textContent = entry.online ? "● online" : "○ offline";
  parts.step.textContent = stepText(entry.progress, config);
  paintThumbnail(parts.thumbnail, entry.thumbnail, config.colours);
  parts.line.replaceChildren(sparkline(entry.sparkline));
  const s = entry.summary || {};
  parts.figures.textContent = `test loss ${figure(s.test_loss)} · accuracy ${percent(s.test_accuracy)} · step ${s.step ?? 0}` +
    (entry.submissions ? ` · ${entry.submissions} submitted` : "");
  parts.figures.dataset.step = String(s.step ?? 0);
  parts.spotlight.textContent = state.spotlight === entry.id ? "In the spotlight" : "Spotlight";
}

function showRoster() {
  $("count").textContent = `${students.size} joined, ${[...students.values()].filter((s) => s.online).length} online`;
  for (const entry of students.values()) card(entry);
}

// The class's state, from an action's answer or from the live feed,
// whichever comes first: an older one (a lower seq) never replaces a newer.
function showState(next) {
  if (next && !((next.seq ?? 0) < (state.seq ?? 0))) state = next;
  const paused = Boolean(state.paused);
  $("pause").textContent = paused ? "Let everyone train" : "Pause everyone";
  $("pause").dataset.paused = String(paused);
  $("end-spotlight").disabled = state.spotlight === null || state.spotlight === undefined;
  for (const box of $("locks").querySelectorAll("input")) box.checked = (state.locked || []).includes(box.value);
  if (state.ended) say("This session has ended: it can be read and exported, not changed.", "info");
  showRoster();
}

async function spotlight(id) {
  const result = await act("The spotlight", "/api/classroom/spotlight", { student: id });
  if (result) showState(result.state);
}

function fillSteps() {
  const lesson = config.lessons.find((l) => l.id === $("push-lesson").value);
  $("push-step").replaceChildren(...(lesson ? lesson.steps : []).map((title, i) => el("option", { value: i, text: `${i + 1}. ${title}` })));
}

async function refreshSubmissions() {
  try {
    const ranked = await api(`/api/classroom/submissions?metric=${$("metric").value}`, { token });
    const rows = ranked.leaderboard.map((entry) => el("tr", {},
      el("td", { class: "number", text: String(entry.rank) }), el("td", { text: entry.student.name }),
      el("td", { class: "number", text: formatMetric(ranked.metric, entry.metrics[ranked.metric]) }),
      el("td", { text: new Date(entry.created * 1000).toLocaleTimeString() })));
    $("leaderboard").replaceChildren(ranked.leaderboard.length
      ? el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "#" }), el("th", { text: "student" }),
        el("th", { text: `${config.rankings[ranked.metric]} (${ranked.order})` }), el("th", { text: "submitted" }))), el("tbody", {}, ...rows))
      : el("p", { class: "hint", text: "No model submitted yet: students submit from their lesson panel." }));
    $("gallery").replaceChildren(ranked.submissions.length
      ? el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "student" }), el("th", { text: "test accuracy" }),
        el("th", { text: "test loss" }), el("th", { text: "steps" }), el("th", { text: "submitted" }), el("th", { text: "snapshot" }))),
      el("tbody", {}, ...ranked.submissions.map((entry) => el("tr", {},
        el("td", { text: entry.student.name }), el("td", { class: "number", text: percent(entry.metrics.test_accuracy) }),
        el("td", { class: "number", text: figure(entry.metrics.test_loss) }), el("td", { class: "number", text: String(entry.metrics.step ?? "—") }),
        el("td", { text: new Date(entry.created * 1000).toLocaleTimeString() }),
        el("td", {}, el("button", { type: "button", "data-role": "download-submission", title: "A snapshot file: load it in the playground with “Load snapshot…”",
          onclick: () => downloadSubmission(entry) }, "Download"))))))
      : el("p", { class: "hint", text: "Nothing yet." }));
  } catch (error) {
    say(`The submissions could not be read: ${error.message}.`);
  }
}

function formatMetric(metric, value) {
  return metric === "test_accuracy" ? percent(value) : metric.endsWith("loss") ? figure(value) : String(value ?? "—");
}

async function downloadSubmission(entry) {
  try {
    const response = await api(`/api/classroom/submissions/${entry.id}`, { token, raw: true });
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `${entry.student.name}-${entry.id}.json` });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    say(`The snapshot could not be downloaded: ${error.message}.`);
  }
}

async function exportCsv() {
  try {
    const response = await api(`/api/classroom/export.csv?metric=${$("metric").value}`, { token, raw: true });
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: "class-results.csv" });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    say(`The export did not work: ${error.message}.`);
  }
}

async function start() {
  if (!token) {
    say("This link has no instructor token: open the link you got when you started the class.");
    return;
  }
  config = await loadConfig();
  const overview = await api("/api/classroom/session", { token });
  const info = overview.session;
  $("title").textContent = info.title;
  $("code").textContent = info.code;
  document.title = `${info.title} — class dashboard`;
  const lesson = config.lessons.find((l) => l.id === info.lesson);
  $("lesson").textContent = lesson ? `Lesson: ${lesson.title}` : "";
  $("projector").href = `/classroom/projector#token=${encodeURIComponent(token)}`;
  $("legend").replaceChildren(surfaceLegend(config));
  for (const l of config.lessons) $("push-lesson").append(el("option", { value: l.id, text: l.title, selected: l.id === info.lesson }));
  fillSteps();
  $("push-lesson").addEventListener("change", fillSteps);
  for (const [name, words] of Object.entries(config.controls)) {
    $("locks").append(el("label", { title: words }, el("input", { type: "checkbox", value: name, "data-control": name }), ` ${name.replace(/_/g, " ")}`));
  }
  for (const [name, words] of Object.entries(config.rankings)) $("metric").append(el("option", { value: name, text: words }));
  $("metric").addEventListener("change", refreshSubmissions);
  onClick($("push"), async () => {
    const result = await act("Pushing the step", "/api/classroom/push", { lesson: $("push-lesson").value, step: Number($("push-step").value) });
    if (result) { showState(result.state); say(`Step ${Number($("push-step").value) + 1} went to everyone.`, "info"); }
  });
  onClick($("apply-locks"), async () => {
    const locked = [...$("locks").querySelectorAll("input:checked")].map((box) => box.value);
    const result = await act("Locking", "/api/classroom/locks", { locked });
    if (result) showState(result.state);
  });
  onClick($("pause"), async () => {
    const result = await act("Pausing", "/api/classroom/pause", { paused: !state.paused });
    if (result) showState(result.state);
  });
  $("end-spotlight").addEventListener("click", () => spotlight(null));
  onClick($("push-preset"), async () => {
    let preset;
    try {
      preset = JSON.parse($("preset").value);
    } catch (error) {
      say(`The preset is not valid JSON: ${error.message}.`);
      return;
    }
    const result = await act("Pushing the preset", "/api/classroom/push", { preset });
    if (result) { showState(result.state); say("The preset went to everyone.", "info"); }
  });
  $("export").addEventListener("click", exportCsv);
  for (const entry of overview.students) students.set(entry.id, entry);
  showState(overview.state);
  refreshSubmissions();
  liveFeed(token, (incoming) => {
    if (incoming.type === "roster") {
      for (const entry of incoming.students) students.set(entry.id, entry);
      showRoster();
      $("roster").dataset.updated = String(incoming.time);
    } else if (incoming.type === "state") {
      showState(incoming.state);
    } else if (incoming.type === "submission") {
      refreshSubmissions();
    }
  }, (live) => {
    $("live").textContent = live ? "● live" : "○ reconnecting…";
    $("live").dataset.live = String(live);
  });
}

start().catch((error) => say(`The dashboard could not start: ${error.message}.`));
