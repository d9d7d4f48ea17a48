// The run kept in the browser as it goes, so that a page that reloads (by
// the learner, after a lost server or a restart) comes back with the same
// run: weights, optimiser state, step and the loss curve so far.
//
// One record per browser tab, in IndexedDB: the tab's id lives in
// sessionStorage, which lasts through reloads but not into a new tab, so two
// tabs never resume each other's run. Only a reload resumes; opening a link
// starts fresh. A store that is missing, full or broken only means no resume.

const DATABASE = "playground-runs";
const STORE = "runs";
const TAB_KEY = "playground-tab";
export const MAX_RECORD_CHARS = 8 * 1024 * 1024; // a larger run is not kept
export const MAX_POINTS = 2000; // of the loss curve; older points are thinned out

function tabId() {
  let id = sessionStorage.getItem(TAB_KEY);
  if (!id) {
    id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    sessionStorage.setItem(TAB_KEY, id);
  }
  return id;
}

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("the run store is blocked by another tab"));
  });
}

async function transact(mode, action) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = action(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error || new Error("aborted"));
    });
  } finally {
    db.close();
  }
}

/** Whether this page was reloaded (not opened from a link or the address bar). */
export function isReload() {
  const [navigation] = performance.getEntriesByType("navigation");
  return Boolean(navigation && navigation.type === "reload");
}

/** The spec as the key of a run: its JSON without weights (they live in the snapshot). */
export function specKey(specJson) {
  try {
    const { weights, ...rest } = JSON.parse(specJson);
    return JSON.stringify(rest);
  } catch {
    return null;
  }
}

function usable(record) {
  return Boolean(record) && typeof record.key === "string" && typeof record.snapshot === "string" &&
    Array.isArray(record.history) && Number.isInteger(record.step);
}

/** The run this tab kept, on a reload; null otherwise (and a fresh page forgets it). */
export async function keptRun() {
  try {
    if (!isReload()) {
      await forgetRun();
      return null;
    }
    const record = await transact("readonly", (store) => store.get(tabId()));
    return usable(record) ? record : null;
  } catch {
    return null;
  }
}

/** Keep the run: {key, snapshot, history, step, playing}. Resolves false when it was not kept. */
export async function keepRun(record) {
  if (record.snapshot.length + 40 * record.history.length > MAX_RECORD_CHARS) return false;
  try {
    await transact("readwrite", (store) => store.put({ ...record, savedAt: Date.now() }, tabId()));
    return true;
  } catch {
    return false;
  }
}

export async function forgetRun() {
  try {
    await transact("readwrite", (store) => store.delete(tabId()));
  } catch {
    // nothing kept, nothing to forget
  }
}

/** Add a point to the loss curve in place; a step back (a fresh start) begins a new curve. */
export function addPoint(history, point) {
  const last = history[history.length - 1];
  if (last && point.step < last.step) history.length = 0;
  else if (last && point.step === last.step) history.pop();
  history.push(point);
  if (history.length > MAX_POINTS) { // thin the older half out: the curve keeps its shape in bounded room
    const half = Math.floor(history.length / 2);
    const older = history.slice(0, half).filter((_, index) => index % 2 === 0);
    history.splice(0, half, ...older);
  }
}
