// Talking to the server: one session per browser tab, JSON calls, server-sent event streams, the message line.
let session = null;
let pending = 0;
export const limits = {};

function setPending(delta) {
  pending += delta;
  document.body.dataset.pending = String(pending);  // tests wait for "0": nothing in flight
}

/** Show `text` in the page's message element (`kind` "error" or "info"); an empty text hides it. */
export function showMessage(text, kind = "error") {
  const box = document.querySelector('[data-testid="message"]');
  box.textContent = text || "";
  box.classList.toggle("info", kind === "info");
}

export function clearMessage() { showMessage(""); }

/** A new session with the server (called at start, and again if the server forgot ours). */
export async function startSession() {
  setPending(1);
  try {
    const response = await fetch("/api/session", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
    });
    const data = await response.json();
    session = data.session;
    Object.assign(limits, data.limits);
  } finally {
    setPending(-1);
  }
}

async function post(path, body) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Session": session },
    body: JSON.stringify(body),
  });
}

/**
 * POST /api/TAB/ACTION with `body`. Returns the answer, or null when the server refused the request
 * (its reason is then in the message element and the caller must change nothing). A success clears the message
 * unless `{quiet: true}`.
 */
export async function call(tab, action, body = {}, { quiet = false } = {}) {
  setPending(1);
  try {
    let response = await post(`/api/${tab}/${action}`, body);
    let data = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
    if (response.status === 404 && data.code === "unknown-session") {
      await startSession();
      response = await post(`/api/${tab}/${action}`, body);
      data = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
    }
    if (!response.ok) {
      showMessage(data.error || `the server answered ${response.status}`);
      return null;
    }
    if (!quiet) { clearMessage(); }
    return data;
  } catch (err) {
    showMessage(`no answer from the playground server (${err.message}); is it still running?`);
    return null;
  } finally {
    setPending(-1);
  }
}

/**
 * Listen to GET /api/TAB/NAME as server-sent events: `onFrame(object)` per event; `onEnd(reason)` once when the
 * stream stops (reason null when it ended normally, else the server's message, which is also shown).
 * Returns `{close()}`.
 */
export function stream(tab, name, params, onFrame, onEnd = () => {}) {
  const query = new URLSearchParams({ ...params, session });
  const source = new EventSource(`/api/${tab}/${name}?${query}`);
  let open = true;
  const finish = (reason) => {
    if (!open) { return; }
    open = false;
    source.close();
    if (reason) { showMessage(reason); }
    onEnd(reason);
  };
  source.onmessage = (event) => { if (open) { onFrame(JSON.parse(event.data)); } };
  source.addEventListener("end", () => finish(null));
  source.addEventListener("problem", (event) => finish(JSON.parse(event.data).error));
  source.onerror = () => finish(open ? "the live stream stopped; press play again" : null);
  return { close: () => finish(null) };
}
