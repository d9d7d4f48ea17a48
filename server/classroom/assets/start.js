import { api, el, loadConfig } from "./common.js";

const message = document.getElementById("message");
const show = (text, kind) => message.replaceChildren(el("div", { class: "banner", "data-kind": kind, text }));

const config = await loadConfig().catch((error) => show(`The page could not load: ${error.message}.`, "error"));
const lessons = document.getElementById("lesson");
for (const lesson of (config && config.lessons) || []) lessons.append(el("option", { value: lesson.id, text: lesson.title }));

document.getElementById("start").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const created = await api("/api/classroom/sessions", { method: "POST",
      body: { title: document.getElementById("title").value, lesson: lessons.value } });
    const teach = new URL(`/classroom/teach#token=${encodeURIComponent(created.instructor_token)}`, window.location.href).href;
    const join = new URL("/", window.location.href).href;
    document.getElementById("created").replaceChildren(
      el("h2", { text: "Your class is open" }),
      el("p", { text: "Students open the playground and join with this code:" }),
      el("div", { class: "code", "data-role": "join-code", text: created.code }),
      el("p", {}, "Playground: ", el("a", { href: join, text: join })),
      el("h2", { text: "Your dashboard (keep this link secret: it controls the class)" }),
      el("p", {}, el("a", { href: teach, "data-role": "teach-link", text: "Open the dashboard" })),
      el("input", { readonly: true, value: teach, style: { width: "100%" }, "aria-label": "The dashboard's secret link" }));
    document.getElementById("created").hidden = false;
    message.replaceChildren();
  } catch (error) {
    show(`The class could not be started: ${error.message}.`, "error");
  }
});
