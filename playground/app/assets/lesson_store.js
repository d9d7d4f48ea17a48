// The learner's lesson progress, kept in this browser's localStorage so that
// it survives a reload. Python owns the progress; this only loads it once
// and writes every change back.

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
}
