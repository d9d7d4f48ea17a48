// The learner's lesson progress (and class membership), kept in this
// browser's localStorage so that it survives a reload. Python owns it; this
// loads it once and writes every change back.
//
// In a class the page also watches its line to the server: Python answers
// a ping every few seconds. When answers stop (a dropped network, a
// restarted server), the page waits until the server answers again and
// reloads itself: the class and the lesson step come back from what was kept.

const PING_MS = 3000;
const MISSES_BEFORE_RELOAD = 2;

export function render({ model, el }) {
  let stored = {};
  let problem = "";
  try {
    stored = JSON.parse(window.localStorage.getItem(model.storage_key) || "{}") || {};
  } catch (error) {
    problem = `Your saved lesson progress could not be read (${error.message}); it starts afresh.`;
  }
  model.on("progress", () => {
    try {
      window.localStorage.setItem(model.storage_key, JSON.stringify(model.progress));
    } catch (error) {
      model.problem = `Your lesson progress could not be saved in this browser (${error.message}).`;
    }
  });
  model.problem = problem;
  model.progress = typeof stored === "object" && !Array.isArray(stored) ? stored : {};
  model.loaded = true;
  el.hidden = true;

  let answered = true;
  let misses = 0;
  let reloading = false;
  model.on("msg:custom", (message) => { if (message.pong) answered = true; });
  const timer = setInterval(async () => {
    if (!model.auto_reconnect || reloading) return;
    misses = answered ? 0 : misses + 1;
    answered = false;
    model.send_msg({ ping: Date.now() });
    if (misses < MISSES_BEFORE_RELOAD) return;
    reloading = true;
    while (true) { // the server first, then a fresh page
      try {
        const response = await fetch("api/health", { cache: "no-store" });
        if (response.ok) break;
      } catch (error) { /* not yet */ }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    window.location.reload();
  }, PING_MS);
  model.on("remove", () => clearInterval(timer));
}
