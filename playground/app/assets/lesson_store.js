// The learner's lesson progress (and class membership), kept in this
// browser's localStorage so that it survives a reload. Python owns it; this
// loads it once and writes every change back.
//
// In a class the page also watches its line to the server: Python answers
// a ping every few seconds. When answers stop (a dropped network, a
// restarted server), the page waits until the server answers again and
// reloads itself: the class, the lesson step and the learner's model come
// back from what was kept. A bar says so while it waits.

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
    const notice = showReconnecting();
    const since = Date.now();
    while (true) { // the server first, then a fresh page
      try {
        const response = await fetch("api/health", { cache: "no-store" });
        if (response.ok) break;
      } catch (error) { /* not yet */ }
      notice.waited(Math.round((Date.now() - since) / 1000));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    notice.back();
    window.location.reload();
  }, PING_MS);
  model.on("remove", () => clearInterval(timer));
}

// A bar across the top of the page while it waits, so that the learner
// knows why nothing answers and that nothing is lost. It lives on the
// document (this component's own element is hidden).
function showReconnecting() {
  const bar = document.createElement("div");
  bar.dataset.role = "reconnecting";
  bar.setAttribute("role", "status");
  bar.setAttribute("aria-live", "polite");
  Object.assign(bar.style, {
    position: "fixed", top: "0", left: "50%", transform: "translateX(-50%)", zIndex: "10000",
    maxWidth: "640px", padding: "10px 16px", background: "#fff3cd", color: "#3d2e00",
    border: "1px solid #e0c36a", borderTop: "none", borderRadius: "0 0 6px 6px",
    font: "14px/1.4 system-ui, sans-serif", boxShadow: "0 2px 6px rgba(0,0,0,0.15)",
  });
  const title = document.createElement("strong");
  title.textContent = "Lost the connection to the class server. Reconnecting…";
  const detail = document.createElement("div");
  detail.textContent = "Your class, your lesson step and the network you built are kept: the page reloads by itself " +
    "as soon as the server answers.";
  bar.append(title, detail);
  document.body.append(bar);
  return {
    waited(seconds) {
      title.textContent = `Lost the connection to the class server. Reconnecting… (${seconds} s)`;
    },
    back() {
      title.textContent = "The server answers again: reloading the page…";
    },
  };
}
