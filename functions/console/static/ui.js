// The console's building blocks: every page is made of these, so feedback, errors, dialogs and
// permissions look and behave the same everywhere.

import { createContext, h, render } from "preact";
import { useCallback, useContext, useEffect, useId, useMemo, useRef, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);
export { render, useCallback, useEffect, useMemo, useRef, useState };

// ---- the signed-in key: who it is and what it may do --------------------------------------------

export const ROLES = ["VIEWER", "MEMBER", "ADMIN"];
// The context's value is {identity, refresh}: `refresh()` reads GET /v1/me again (app.js).
export const Session = createContext(null);
export const useSession = () => useContext(Session);

// Whether the signed-in key's role reaches `role`. Pages hide what it cannot do; the API enforces.
export function useAllowed(role) {
  const session = useSession();
  return ROLES.indexOf(session.identity.role) >= ROLES.indexOf(role);
}

// Shows its children only to keys whose role reaches `role`.
export function Allowed({ role, children }) {
  return useAllowed(role) ? children : null;
}

// ---- routing: the page lives in the hash (#/automations?project=p) ------------------------------

export function parseHash(hash = location.hash) {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  return { path: path || "/", parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: Object.fromEntries(new URLSearchParams(query)) };
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const changed = () => setRoute(parseHash());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

// "#/history?state=FAILED" from ("/history", {state: "FAILED"}); empty values are left out.
export function href(path, query = {}) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const text = params.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

export function navigate(path, query) {
  location.hash = href(path, query);
}

// ---- leaving a page with unsaved changes -----------------------------------------------------------

// Each guard says what would be lost by leaving now (or null). The console's pages change with the
// hash, and a hashchange cannot be canceled: when the user declines, the tab goes back to the entry
// they were on before anything else hears of the change. To know which way that is (a link added
// an entry; Back or Forward moved among them), each entry keeps its place in history.state. This
// listener is added when the module loads, so before any page's or useRoute's.
const leaveGuards = new Set();
let place = history.state && Number.isInteger(history.state.consolePlace) ? history.state.consolePlace : 0;
if (!history.state || history.state.consolePlace !== place) history.replaceState({ ...history.state, consolePlace: place }, "");
let undoing = false; // the change that undoes a declined one: nobody needs to hear of it

addEventListener("hashchange", (event) => {
  if (undoing) {
    undoing = false;
    event.stopImmediatePropagation();
    return;
  }
  const state = history.state;
  const arrived = state && Number.isInteger(state.consolePlace) ? state.consolePlace : null; // null: a new entry
  // A synthetic event (Slack's return) has no oldURL: nothing to ask.
  const declined = event.oldURL && event.oldURL !== event.newURL && [...leaveGuards].some((guard) => {
    const loss = guard();
    return loss && !confirm(loss);
  });
  if (declined) {
    event.stopImmediatePropagation();
    const steps = arrived === null ? -1 : place - arrived;
    if (steps) {
      undoing = true;
      history.go(steps);
    } else {
      history.replaceState(state, "", event.oldURL);
    }
    return;
  }
  place = arrived === null ? place + 1 : arrived;
  if (arrived === null) history.replaceState({ ...state, consolePlace: place }, "");
});

// While `loss` (a question: "Leave without saving …?") is set, leaving the page inside the console
// (a link, Back) asks first, and reloading or closing the tab gets the browser's own prompt.
// `release()` lets the page go without asking: after a save or a delete that navigates away.
export function useLeaveGuard(loss) {
  const latest = useRef(loss);
  latest.current = loss;
  const released = useRef(false);
  useEffect(() => {
    const guard = () => (released.current ? null : latest.current);
    const unload = (event) => {
      if (!guard()) return;
      event.preventDefault();
      event.returnValue = ""; // Chrome shows its prompt only with this set
    };
    leaveGuards.add(guard);
    addEventListener("beforeunload", unload);
    return () => {
      leaveGuards.delete(guard);
      removeEventListener("beforeunload", unload);
    };
  }, []);
  return { release: () => (released.current = true) };
}

// ---- talking to the API ----------------------------------------------------------------------------

// Data for a page: {data, error, loading, reload}. A load started by an older render is dropped.
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const reload = useCallback(async ({ quiet = false } = {}) => {
    const mine = ++generation.current;
    if (!quiet) setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ ...s, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    reload();
  }, [reload]);
  return { ...state, reload };
}

// Something the user does that calls the API: `busy` while it runs, its error kept for the form.
// `run` resolves true when it worked and false when it did not (the error is then in `error`).
export function useAction(act) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (...args) => {
    setBusy(true);
    setError(null);
    try {
      await act(...args);
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, setError };
}

// Polls `reload` every `ms` while `active` (an execution still PENDING, say).
export function usePolling(reload, active, ms = 1500) {
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => reload({ quiet: true }), ms);
    return () => clearInterval(timer);
  }, [reload, active, ms]);
}

// ---- notices: one polite live region for "Saved", "Deleted", ... --------------------------------

const listeners = new Set();
let noticeId = 0;
export function notify(message, kind = "ok") {
  const notice = { id: ++noticeId, message, kind };
  listeners.forEach((listener) => listener(notice));
}

export function Notices() {
  const [notices, setNotices] = useState([]);
  useEffect(() => {
    const add = (notice) => {
      setNotices((all) => [...all, notice]);
      setTimeout(() => setNotices((all) => all.filter((n) => n.id !== notice.id)), 6000);
    };
    listeners.add(add);
    return () => listeners.delete(add);
  }, []);
  return html`<div class="notices" role="status" aria-live="polite">
    ${notices.map((n) => html`<div key=${n.id} class="notice ${n.kind}">${n.message}</div>`)}
  </div>`;
}

// ---- layout ----------------------------------------------------------------------------------------

export function Page({ title, subtitle, actions, children }) {
  useEffect(() => {
    document.title = `${title} · mlhooks`;
  }, [title]);
  return html`<section class="page">
    <header class="page-head">
      <div><h1>${title}</h1>${subtitle ? html`<p class="subtitle">${subtitle}</p>` : null}</div>
      ${actions ? html`<div class="page-actions">${actions}</div>` : null}
    </header>
    ${children}
  </section>`;
}

// A refusal that may well pass if asked again: mlhooks unreachable, busy or failing on its side.
export const isTransient = (error) => Boolean(error) && (error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500);
// How often a page that could not load asks again by itself.
const RELOAD_MS = 5000;

// Loading, failed or loaded: what a page shows for a `useLoad` result. A load that failed for a
// passing reason (mlhooks unreachable, 5xx) offers "Try again" and tries again by itself, so the
// page comes back once mlhooks answers.
export function Loaded({ load, children }) {
  const failed = Boolean(load.error && load.data === undefined);
  usePolling(load.reload, failed && isTransient(load.error), RELOAD_MS);
  if (failed) return html`<${ErrorBox} error=${load.error} retrying=${load.loading} onRetry=${() => load.reload()} />`;
  if (load.data === undefined) return html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Loading…</p>`;
  return children(load.data);
}

// The codes whose name says something the API's message may not: "conflict: …". Others (a
// validation error, most of all) speak for themselves, and a prefix would only repeat them.
const CODE_WORDS = { conflict: "conflict", not_found: "not found", forbidden: "not allowed", internal_error: "server error" };

// An API refusal as one readable line; with `onRetry` (for a transient one), a "Try again" button.
export function ErrorBox({ error, onRetry, retrying = false }) {
  if (!error) return null;
  const words = CODE_WORDS[error.code];
  const lead = words && !error.message.toLowerCase().startsWith(words) ? words : null;
  return html`<div class="error-box" role="alert">
    <span>${lead ? html`<strong>${lead}:</strong> ` : null}${error.message}</span>
    ${onRetry && isTransient(error)
      ? html`<${Button} kind="small" busy=${retrying} onClick=${onRetry}>Try again</${Button}>`
      : null}
  </div>`;
}

// A form's error that no field shows (a conflict, a refusal): shown above its buttons.
export function FormError({ error, fields = [] }) {
  if (!error) return null;
  if (error.about && fields.some((f) => error.about(f))) return null;
  return html`<${ErrorBox} error=${error} />`;
}

export function Table({ columns, rows, empty = "Nothing here yet.", rowKey = (row) => row.id || row.name, label }) {
  if (!rows.length) return html`<p class="empty">${empty}</p>`;
  return html`<table class="table" aria-label=${label}>
    <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.className}>${c.label}</th>`)}</tr></thead>
    <tbody>
      ${rows.map((row) => html`<tr key=${rowKey(row)}>${columns.map((c) => html`<td class=${c.className}>${c.render(row)}</td>`)}</tr>`)}
    </tbody>
  </table>`;
}

export function Tabs({ tabs, current, label }) {
  return html`<nav class="tabs" aria-label=${label}>
    ${tabs.map(([key, text, link]) => html`<a href=${link} aria-current=${key === current ? "page" : undefined}>${text}</a>`)}
  </nav>`;
}

// ---- form controls: a label, the control, a hint, and the API's message when it is at fault ------

function FieldFrame({ id, label, hint, error, children, className = "" }) {
  return html`<div class="field ${error ? "invalid" : ""} ${className}">
    ${label ? html`<label for=${id}>${label}</label>` : null}
    ${children}
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
    ${error ? html`<p class="field-error" id=${`${id}-error`} role="alert">${error}</p>` : null}
  </div>`;
}

function described(id, hint, error) {
  return [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
}

// The API's message about the field `name` (`error` is an ApiError, anyError's view of several,
// or null), shown until the user changes the field: it is about the value the refusal saw, so it
// goes once the field holds another, and a newer refusal (another serial) shows again.
function useFieldMessage(error, name, value) {
  const source = error && name ? (error.sourceOf ? error.sourceOf(name) : error.about && error.about(name) ? error : null) : null;
  const seen = useRef(null); // {key, value}: the refusal shown, and the field's value when it came
  const shown = value ?? "";
  if (!source) {
    seen.current = null;
    return null;
  }
  const key = source.serial ?? source;
  if (!seen.current || seen.current.key !== key) seen.current = { key, value: shown };
  return seen.current.value === shown ? source.about(name) : null;
}

export function Input({ label, hint, error, name, value, onValue, type = "text", className, ...rest }) {
  const id = useId();
  const message = useFieldMessage(error, name, value);
  return html`<${FieldFrame} id=${id} label=${label} hint=${hint} error=${message} className=${className}>
    <input id=${id} name=${name} type=${type} value=${value ?? ""} onInput=${(e) => onValue(e.currentTarget.value)}
      aria-invalid=${message ? "true" : undefined} aria-describedby=${described(id, hint, message)} ...${rest} />
  </${FieldFrame}>`;
}

export function TextArea({ label, hint, error, name, value, onValue, rows = 6, className, ...rest }) {
  const id = useId();
  const message = useFieldMessage(error, name, value);
  return html`<${FieldFrame} id=${id} label=${label} hint=${hint} error=${message} className=${className}>
    <textarea id=${id} name=${name} rows=${rows} value=${value ?? ""} onInput=${(e) => onValue(e.currentTarget.value)}
      aria-invalid=${message ? "true" : undefined} aria-describedby=${described(id, hint, message)} spellcheck="false" ...${rest}></textarea>
  </${FieldFrame}>`;
}

// options: [[value, text], ...]
export function Select({ label, hint, error, name, value, onValue, options, className, ...rest }) {
  const id = useId();
  const message = useFieldMessage(error, name, value);
  return html`<${FieldFrame} id=${id} label=${label} hint=${hint} error=${message} className=${className}>
    <select id=${id} name=${name} value=${value ?? ""} onChange=${(e) => onValue(e.currentTarget.value)}
      aria-invalid=${message ? "true" : undefined} aria-describedby=${described(id, hint, message)} ...${rest}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === value}>${text}</option>`)}
    </select>
  </${FieldFrame}>`;
}

export function Checkbox({ label, hint, checked, onValue, name, ...rest }) {
  const id = useId();
  return html`<div class="field check">
    <input id=${id} type="checkbox" name=${name} checked=${checked} onChange=${(e) => onValue(e.currentTarget.checked)}
      aria-describedby=${hint ? `${id}-hint` : undefined} ...${rest} />
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
  </div>`;
}

// A button that shows it is working, and cannot be pressed twice meanwhile.
export function Button({ busy = false, kind = "secondary", type = "button", disabled, children, ...rest }) {
  return html`<button type=${type} class="btn ${kind}" disabled=${busy || disabled} aria-busy=${busy ? "true" : undefined} ...${rest}>
    ${busy ? html`<span class="spinner" aria-hidden="true"></span>` : null}${children}
  </button>`;
}

// A button that asks first, in a modal dialog (Escape cancels, focus stays inside), then runs
// `onConfirm` and shows the API's refusal in the dialog if there is one.
export function ConfirmButton({ children, title, question, confirm = "Delete", kind = "danger", onConfirm, ...rest }) {
  const dialog = useRef(null);
  const action = useAction(onConfirm);
  const yes = async () => {
    if (await action.run()) dialog.current.close();
  };
  return html`<${Button} kind=${kind} onClick=${() => { action.setError(null); dialog.current.showModal(); }} ...${rest}>${children}</${Button}>
    <dialog ref=${dialog} class="dialog" aria-label=${title}>
      <h2>${title}</h2>
      <p>${question}</p>
      <${ErrorBox} error=${action.error} />
      <div class="actions">
        <${Button} onClick=${() => dialog.current.close()}>Cancel</${Button}>
        <${Button} kind=${kind.replace(/\bsmall\b/, "").trim()} busy=${action.busy} onClick=${yes}>${confirm}</${Button}>
      </div>
    </dialog>`;
}

// A value shown once (a new API key): with a copy button, and said plainly that it will not come back.
export function ShownOnce({ label, value, onDone }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return html`<div class="shown-once" role="region" aria-label=${label}>
    <p><strong>${label}</strong>: copy it now, it is not shown again.</p>
    <code class="secret-value">${value}</code>
    <div class="actions">
      <${Button} onClick=${copy}>${copied ? "Copied" : "Copy"}</${Button}>
      ${onDone ? html`<${Button} onClick=${onDone}>Done</${Button}>` : null}
    </div>
  </div>`;
}

// ---- small views -------------------------------------------------------------------------------------

// A text from the API with ISO times in it ("failing since 2026-11-25T17:27:02.000Z"), each time
// shown as When shows it.
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/g;
export function Times({ text }) {
  if (!text) return null;
  const parts = [];
  let last = 0;
  for (const found of text.matchAll(ISO_TIME)) {
    parts.push(text.slice(last, found.index), html`<${When} at=${found[0]} />`);
    last = found.index + found[0].length;
  }
  parts.push(text.slice(last));
  return html`${parts}`;
}

export function When({ at }) {
  if (!at) return html`<span class="muted">never</span>`;
  return html`<time datetime=${at} title=${at}>${ago(at)}</time>`;
}

export function ago(at, now = Date.now()) {
  const seconds = Math.round((now - Date.parse(at)) / 1000);
  if (Number.isNaN(seconds)) return at;
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(at).toLocaleString();
}

export function Badge({ tone = "neutral", children, title }) {
  return html`<span class="badge ${tone}" title=${title}>${children}</span>`;
}

const STATE_TONES = { FINISHED: "ok", PENDING: "pending", FAILED: "bad", SKIPPED: "neutral", CANCELED: "neutral" };
export function StateBadge({ state }) {
  return html`<${Badge} tone=${STATE_TONES[state] || "neutral"}>${state}</${Badge}>`;
}

export function Json({ value, label }) {
  return html`<pre class="json" aria-label=${label} tabindex="0">${JSON.stringify(value, null, 2)}</pre>`;
}
