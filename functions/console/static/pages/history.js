// History: what automations did, per entity, project, artifact collection or automation, newest
// first as the API lists them; and one execution with its event, the request it sent and every
// attempt, with Retry now, Redeliver and Cancel for members. Both pages update by themselves.

import * as api from "../api.js";
import {
  Allowed,
  Badge,
  Button,
  ErrorBox,
  Input,
  Json,
  Loaded,
  Page,
  Select,
  StateBadge,
  Table,
  When,
  href,
  html,
  isTransient,
  navigate,
  notify,
  useAction,
  useCallback,
  useEffect,
  useLoad,
  usePolling,
  useRef,
  useSession,
  useState,
} from "../ui.js";
import { useId } from "preact/hooks";

const STATES = ["PENDING", "FINISHED", "FAILED", "SKIPPED", "CANCELED"];
const PAGE_SIZE = 25;
// The first page is read again this often so new executions appear; faster while one is PENDING.
const LIVE_MS = 5000;
const PENDING_MS = 1500;
// Executions below the first page that are still PENDING are read one by one: at most this many.
const MOST_REFRESHED = 20;

// Whether this tab is shown: polling stops while it is hidden, so a forgotten tab costs nothing.
function usePageVisible() {
  const [visible, setVisible] = useState(document.visibilityState === "visible");
  useEffect(() => {
    const changed = () => setVisible(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", changed);
    return () => document.removeEventListener("visibilitychange", changed);
  }, []);
  return visible;
}

// Reads again every `ms` while `wanted` and the tab is shown (a hidden tab costs nothing), and at
// once when the tab is shown again (it may have missed a lot meanwhile). `refresh` may be a new
// function every render: the timer keeps its pace. Returns whether the tab is shown.
function useLive(refresh, wanted, ms) {
  const visible = usePageVisible();
  const latest = useRef(refresh);
  latest.current = refresh;
  const tick = useCallback(() => latest.current(), []);
  usePolling(tick, wanted && visible, ms);
  const wasVisible = useRef(visible);
  useEffect(() => {
    if (visible && !wasVisible.current && wanted) tick();
    wasVisible.current = visible;
  }, [visible]);
  return visible;
}

// ---- the history's scope: the query of #/history, and the API path it reads ----------------------

// One scope at a time: an automation (entity-wide, by name or id), a collection (in its project),
// a project, or the whole entity.
function scopeOf(query) {
  if (query.automation) return { automation: query.automation };
  if (query.project && query.collection) return { project: query.project, collection: query.collection };
  if (query.project) return { project: query.project };
  return {};
}

function collectionPath({ project, collection }) {
  return `/projects/${api.seg(project)}/collections/${api.seg(collection)}`;
}

function historyPath(scope) {
  if (scope.automation) return `/automations/${api.seg(scope.automation)}/executions`;
  if (scope.collection) return `${collectionPath(scope)}/executions`;
  if (scope.project) return `/projects/${api.seg(scope.project)}/executions`;
  return "/executions";
}

function describe(scope, entity) {
  if (scope.automation) return "Executions of one automation, wherever its events happened, newest first.";
  if (scope.collection) return `Executions of events about ${scope.project}/${scope.collection}, newest first.`;
  if (scope.project) return `Executions in the project ${scope.project}, newest first.`;
  return `Every execution in ${entity}, newest first.`;
}

const historyLink = (query) => href("/history", query);

// The executions shown: the first page, read again while live, then the pages "Load more" added.
// Executions are listed newest first, so new ones push the first page down: the pages below keep
// everything seen once (nothing falls into a gap), and the first page's fresher copy wins.
// (One list per scope and state: the component using this remounts when they change.)
function useHistory(scope, state) {
  const path = historyPath(scope);
  const first = useLoad(() => api.get(path, { state, limit: PAGE_SIZE }), []);
  const [below, setBelow] = useState(null); // {items, token} once "Load more" was pressed
  const firstItems = first.data ? first.data.items : [];
  const items = unique([...firstItems, ...(below ? below.items : [])]);
  const token = below ? below.token : first.data && first.data.next_token;

  const more = useAction(async () => {
    const page = await api.get(path, { state, limit: PAGE_SIZE, next_token: token });
    setBelow({ items: unique([...items, ...page.items]), token: page.next_token });
  });

  // PENDING executions below the first page are read one by one, so they settle too.
  const refreshBelow = async () => {
    if (!below) return;
    const onFirst = new Set(firstItems.map((e) => e.id));
    const stale = below.items.filter((e) => e.state === "PENDING" && !onFirst.has(e.id)).slice(0, MOST_REFRESHED);
    if (!stale.length) return;
    const fresh = await Promise.all(stale.map((e) => api.get(`/executions/${api.seg(e.id)}`).catch(() => e)));
    const byId = new Map(fresh.map((e) => [e.id, e]));
    setBelow((b) => ({ ...b, items: b.items.map((e) => byId.get(e.id) || e) }));
  };

  return { first, items, token, more, refreshBelow };
}

function unique(executions) {
  const seen = new Set();
  return executions.filter((e) => !seen.has(e.id) && seen.add(e.id));
}

// ---- the history page --------------------------------------------------------------------------------

export function HistoryPage({ query }) {
  const { identity } = useSession();
  const scope = scopeOf(query);
  const state = STATES.includes(query.state) ? query.state : "";
  // A new scope or state is a new list: remounting drops the last one's rows and errors at once.
  const key = `${historyPath(scope)}?${state}`;
  return html`<${Page} title="History" subtitle=${describe(scope, identity.entity)}>
    <${Filters} scope=${scope} state=${state} />
    <${HistoryList} key=${key} scope=${scope} state=${state} />
  </${Page}>`;
}

function HistoryList({ scope, state }) {
  const history = useHistory(scope, state);
  const counts = useLoad(
    () => (scope.collection ? api.get(`${collectionPath(scope)}/executions/count`) : Promise.resolve(null)),
    [],
  );
  const pending = history.items.some((e) => e.state === "PENDING");
  const visible = useLive(
    () => {
      history.first.reload({ quiet: true });
      if (scope.collection) counts.reload({ quiet: true });
      history.refreshBelow();
    },
    history.first.data !== undefined,
    pending ? PENDING_MS : LIVE_MS,
  );
  return html`
    ${scope.collection ? html`<${Counts} load=${counts} scope=${scope} state=${state} />` : null}
    <${Loaded} load=${history.first}>
      ${() => html`
        ${scope.automation ? html`<${AutomationLine} scope=${scope} executions=${history.items} />` : null}
        <${LiveMark} load=${history.first} visible=${visible} pending=${pending} />
        <${ExecutionTable} executions=${history.items} state=${state} />
        ${history.token
          ? html`<div class="history-more">
              <${Button} busy=${history.more.busy} onClick=${() => history.more.run()}>Load more</${Button}>
              <${ErrorBox} error=${history.more.error} />
            </div>`
          : null}
      `}
    </${Loaded}>`;
}

// Which automation is shown (asked for by id, or by name in an address typed by hand): its name
// and scope, as the API has it now; a deleted one's name as its executions recorded it.
function AutomationLine({ scope, executions }) {
  const found = useLoad(() => api.get(`/automations/${api.seg(scope.automation)}`).catch(() => null), [scope.automation]);
  const automation = found.data;
  const known = executions[0];
  const name = automation ? automation.name : known ? known.automation_name : scope.automation;
  const id = automation ? automation.id : known ? known.automation_id : scope.automation;
  return html`<p class="history-scope">Automation <strong>${name}</strong>
    ${automation ? html`<span class="muted"> in ${scopeWords(automation.scope)}</span>` : null}
    ${" · "}<a href=${href(`/automations/${api.seg(id)}`)}>Open the automation</a></p>`;
}

// Where an automation watches, in a few words: to tell apart automations named alike.
function scopeWords(scope) {
  if (scope.type === "ENTITY") return "the whole entity";
  return scope.type === "ARTIFACT_COLLECTION" ? `${scope.project}/${scope.collection}` : scope.project;
}

// "Live": the page reads the API again by itself (and says so, and when it cannot: it keeps
// trying, and "Try again" asks at once).
function LiveMark({ load, visible, pending }) {
  if (load.error) {
    return html`<span class="history-live stalled" title=${load.error.message}>Not updating: ${load.error.message}
      ${isTransient(load.error) ? html` <${Button} kind="small" busy=${load.loading} onClick=${() => load.reload()}>Try again</${Button}>` : null}</span>`;
  }
  const every = pending ? "every 1.5 s while an execution is PENDING" : `every ${LIVE_MS / 1000} s`;
  return html`<span class="history-live ${visible ? "" : "paused"}"
      title=${visible ? `New executions and state changes appear by themselves (read ${every}).` : "Paused while this tab is hidden."}>
    <span class="history-dot" aria-hidden="true"></span>${visible ? "Live" : "Paused"}
  </span>`;
}

function Filters({ scope, state }) {
  const projects = useLoad(() => api.listAll("/projects"), []);
  const collections = useLoad(
    () => (scope.project ? api.listAll(`/projects/${api.seg(scope.project)}/collections`) : Promise.resolve([])),
    [scope.project],
  );
  const projectNames = (projects.data || []).map((p) => p.name);
  // A project typed into the address is shown even if it is not (or not yet) in the list.
  if (scope.project && !projectNames.includes(scope.project)) projectNames.push(scope.project);
  const collectionNames = (collections.data || []).map((c) => c.name);
  if (scope.collection && !collectionNames.includes(scope.collection)) collectionNames.push(scope.collection);

  return html`<div class="toolbar history-filters">
    <${Select} label="Project" name="project" value=${scope.project || ""}
      options=${[["", "All projects"], ...projectNames.map((n) => [n, n])]}
      onValue=${(project) => navigate("/history", { project, state })} />
    <${Select} label="Collection" name="collection" value=${scope.collection || ""} disabled=${!scope.project}
      title=${scope.project ? undefined : "Choose a project first"}
      options=${[["", "All collections"], ...collectionNames.map((n) => [n, n])]}
      onValue=${(collection) => navigate("/history", { project: scope.project, collection, state })} />
    <${Select} label="State" name="state" value=${state}
      options=${[["", "Any state"], ...STATES.map((s) => [s, s])]}
      onValue=${(chosen) => navigate("/history", { ...scope, state: chosen })} />
    <${AutomationSearch} current=${scope.automation} state=${state} />
    ${collections.error ? html`<${ErrorBox} error=${collections.error} retrying=${collections.loading} onRetry=${() => collections.reload()} />` : null}
  </div>`;
}

// Finds an automation among the entity's (every page of GET /automations): an exact id or name,
// else the names holding the text (any case). One found: its executions, wherever they happened,
// by its id (names repeat across scopes). Several: a list to pick from. None: says so.
function AutomationSearch({ current, state }) {
  const listing = useRef(null); // the list's last load: a search typed before it is here waits for it
  const automations = useLoad(() => (listing.current = api.listAll("/automations", {}, 10000)), []);
  const all = automations.data || [];
  const shownName = (value) => (all.find((a) => a.id === value) || {}).name || value || "";
  const [text, setText] = useState(shownName(current));
  const [found, setFound] = useState(null); // {text, matches} after a search that did not settle on one
  useEffect(() => {
    setText(shownName(current));
    setFound(null);
  }, [current]);
  // The address names the automation by id: once the list is here, the box shows its name.
  useEffect(() => {
    if (current) setText((typed) => (typed === current ? shownName(current) : typed));
  }, [automations.data]);
  const listId = useId();
  const names = [...new Set(all.map((a) => a.name))].sort();

  const show = (automation) => navigate("/history", { automation, state });
  const submit = async (event) => {
    event.preventDefault();
    const wanted = text.trim();
    if (!wanted) return;
    let listed;
    try {
      listed = automations.data || (await listing.current);
    } catch {
      return show(wanted); // not loadable: the API resolves an id or a name itself, and says if it cannot
    }
    const matches = findAutomations(listed, wanted);
    if (matches.length === 1) return show(matches[0].id);
    // An id no automation has now may be a deleted one's: its history stays readable by its id.
    if (!matches.length && /^au_[0-9a-f]+$/.test(wanted)) return show(wanted);
    setFound({ text: wanted, matches });
  };
  return html`<form class="history-search" role="search" aria-label="Find an automation" onSubmit=${submit}>
      <${Input} label="Automation" name="automation" value=${text} onValue=${(value) => { setText(value); setFound(null); }}
        list=${listId} placeholder="Name, part of one, or id" autocomplete="off" />
      <datalist id=${listId}>${names.map((n) => html`<option value=${n} />`)}</datalist>
      <${Button} type="submit" disabled=${!text.trim()}>Show</${Button}>
      ${current ? html`<a class="btn" href=${historyLink({ state })}>Clear</a>` : null}
    </form>
    ${found ? html`<${SearchResults} found=${found} state=${state} />` : null}`;
}

// Exact id, else exact name(s), else names holding the text (any case).
function findAutomations(all, text) {
  const byId = all.filter((a) => a.id === text);
  if (byId.length) return byId;
  const named = all.filter((a) => a.name === text);
  if (named.length) return named;
  const lower = text.toLowerCase();
  return all.filter((a) => a.name.toLowerCase().includes(lower));
}

function SearchResults({ found, state }) {
  if (!found.matches.length) {
    return html`<p class="history-found" role="status">No automation's name holds “${found.text}”.</p>`;
  }
  return html`<div class="history-found" role="status">
    <p>${found.matches.length} automations match “${found.text}”: pick one.</p>
    <ul aria-label="Matching automations">
      ${found.matches.map(
        (a) => html`<li key=${a.id}><a href=${historyLink({ automation: a.id, state })}>${a.name}</a>
          <span class="muted"> in ${scopeWords(a.scope)}</span></li>`,
      )}
    </ul>
  </div>`;
}

// A collection's executions by state (W&B's count on a collection); each links to that filter.
function Counts({ load, scope, state }) {
  if (!load.data) return null; // an unknown collection: the list below says so
  const { total, by_state: byState } = load.data;
  const link = (chosen) => historyLink({ project: scope.project, collection: scope.collection, state: chosen });
  return html`<ul class="history-counts" aria-label="Executions by state">
    <li><a href=${link("")} aria-current=${state ? undefined : "true"}><strong>${total}</strong> in all</a></li>
    ${STATES.map(
      (s) => html`<li><a href=${link(s)} aria-current=${state === s ? "true" : undefined}>
        <strong>${byState[s] || 0}</strong> <${StateBadge} state=${s} /></a></li>`,
    )}
  </ul>`;
}

function ExecutionTable({ executions, state }) {
  const columns = [
    { label: "When", className: "history-when", render: (e) => html`<${When} at=${e.created_at} />` },
    {
      label: "Automation",
      render: (e) => html`<a href=${historyLink({ automation: e.automation_id })} title="Executions of this automation">${e.automation_name}</a>
        ${" "}<a class="history-open" href=${href(`/automations/${api.seg(e.automation_id)}`)}
          aria-label=${`Open the automation ${e.automation_name}`}>open</a>`,
    },
    { label: "Event", render: (e) => html`<code class="history-type">${e.event_type}</code>` },
    { label: "Action", render: (e) => html`<code class="history-type">${e.action_type}</code>` },
    { label: "State", render: (e) => html`<${StateBadge} state=${e.state} />` },
    { label: "Attempts", className: "num", render: (e) => e.attempt_count },
    { label: "Reason", className: "history-reason", render: (e) => reasonText(e) },
    { label: html`<span class="history-sr">Details</span>`, render: (e) => html`<a href=${href(`/executions/${api.seg(e.id)}`)}>View</a>` },
  ];
  const empty = state
    ? `No ${state} executions here.`
    : "No executions here yet: they appear by themselves when events match automations.";
  return html`<${Table} columns=${columns} rows=${executions} empty=${empty} label="Executions" />`;
}

// Why an execution is where it is. A PENDING one with attempts has failed them all so far; the
// list's summaries do not carry the last attempt's error (the execution's page shows it).
function reasonText(e) {
  const reason =
    e.reason ||
    (e.state === "PENDING" && e.attempt_count
      ? `Not delivered yet: ${e.attempt_count} failed ${e.attempt_count === 1 ? "attempt" : "attempts"}, trying again (View shows the last error).`
      : null);
  return reason ? html`<span title=${reason}>${reason}</span>` : null;
}

// ---- one execution ----------------------------------------------------------------------------------

export function ExecutionPage({ executionId }) {
  // Another execution is another page: nothing of the last one stays shown while this one loads.
  return html`<${ExecutionView} key=${executionId} executionId=${executionId} />`;
}

function ExecutionView({ executionId }) {
  const load = useLoad(() => api.get(`/executions/${api.seg(executionId)}`), [executionId]);
  const pending = Boolean(load.data && load.data.state === "PENDING");
  // Until it settles: attempts, a retry's and a redelivery's included, appear by themselves.
  useLive(() => load.reload({ quiet: true }), pending, PENDING_MS);

  return html`<${Page} title="Execution" subtitle=${html`<code>${executionId}</code>`}
      actions=${html`<a class="btn" href=${historyLink(load.data ? { project: load.data.project } : {})}>History</a>`}>
    <${Loaded} load=${load}>
      ${(execution) => html`
        <${Summary} execution=${execution} onChanged=${() => load.reload({ quiet: true })} />
        <h2>Attempts</h2>
        <${Attempts} execution=${execution} />
        <div class="columns">
          <div><h2>Request</h2><${RequestView} execution=${execution} /></div>
          <div><h2>Event</h2><${Json} value=${execution.event} label="Event" /></div>
        </div>
      `}
    </${Loaded}>
  </${Page}>`;
}

function Summary({ execution: e, onChanged }) {
  const automation = href(`/automations/${api.seg(e.automation_id)}`);
  return html`<section class="panel history-summary" aria-label="Summary">
    <div class="history-status">
      <div>
        <${StateBadge} state=${e.state} />
        ${e.state === "PENDING" ? html` <span class="muted">Updating by itself until it settles.</span>` : null}
        ${e.reason ? html`<p class="history-why">${e.reason}</p>` : null}
      </div>
      <${Allowed} role="MEMBER"><${Actions} execution=${e} onChanged=${onChanged} /></${Allowed}>
    </div>
    <dl class="history-facts">
      <div><dt>Automation</dt><dd>
        <a href=${automation}>${e.automation_name}</a>
        ${" · "}<a href=${historyLink({ automation: e.automation_id })}>its history</a>
      </dd></div>
      <div><dt>Event type</dt><dd><code>${e.event_type}</code></dd></div>
      <div><dt>Action type</dt><dd><code>${e.action_type}</code></dd></div>
      <div><dt>Project</dt><dd><a href=${historyLink({ project: e.project })}>${e.project}</a></dd></div>
      <div><dt>Collection</dt><dd>${e.collection
        ? html`<a href=${historyLink({ project: e.project, collection: e.collection })}>${e.collection}</a>`
        : html`<span class="muted">none</span>`}</dd></div>
      <div><dt>Published by</dt><dd>${publisherText(e.publisher)}</dd></div>
      <div><dt>Created</dt><dd><${When} at=${e.created_at} /> <span class="muted">(<${Clock} at=${e.created_at} />)</span></dd></div>
      <div><dt>Updated</dt><dd><${When} at=${e.updated_at} /> <span class="muted">(<${Clock} at=${e.updated_at} />)</span></dd></div>
      <div><dt>Deliveries</dt><dd>${e.deliveries} (${e.attempt_count} ${e.attempt_count === 1 ? "attempt" : "attempts"})</dd></div>
      ${e.canceled_by
        ? html`<div><dt>Canceled</dt><dd>by ${e.canceled_by}, <${When} at=${e.canceled_at} /></dd></div>`
        : null}
    </dl>
  </section>`;
}

function publisherText(publisher) {
  if (!publisher) return html`<span class="muted">not recorded</span>`;
  if (publisher.via === "api") {
    return `${publisher.member}, through the API (key ${publisher.key_id}${publisher.service ? ", a service key" : ""})`;
  }
  const rest = Object.entries(publisher).filter(([name]) => name !== "via");
  return [`via ${publisher.via}`, ...rest.map(([name, value]) => `${name} ${value}`)].join(", ");
}

// Retry now (PENDING: without waiting out its backoff), Redeliver (FAILED, CANCELED: a new round of
// attempts) and Cancel (PENDING). The API refuses (409) while an attempt is under way: its message shows.
function Actions({ execution, onChanged }) {
  const path = `/executions/${api.seg(execution.id)}`;
  const pending = execution.state === "PENDING";
  const send = useAction(async () => {
    await api.post(`${path}/${pending ? "retry" : "redeliver"}`);
    notify(pending ? "Retrying now." : "Redelivery queued: a new round of attempts.");
    onChanged();
  });
  // A refusal is about the execution as it was: once it moves on, the message goes.
  useEffect(() => send.setError(null), [execution.state, execution.attempt_count]);
  const again = pending || execution.state === "FAILED" || execution.state === "CANCELED";
  return html`<div class="history-actions">
    <div class="actions">
      ${again
        ? html`<${Button} kind="primary" busy=${send.busy} onClick=${() => send.run()}>${pending ? "Retry now" : "Redeliver"}</${Button}>`
        : null}
      ${pending ? html`<${CancelButton} path=${path} onChanged=${onChanged} />` : null}
    </div>
    ${execution.state === "FINISHED" ? html`<p class="hint">Delivered: a finished execution is not sent again.</p>` : null}
    <${ErrorBox} error=${send.error} />
  </div>`;
}

// Cancel asks first, with an optional reason (kept in the execution's reason).
function CancelButton({ path, onChanged }) {
  const dialog = useRef(null);
  const [reason, setReason] = useState("");
  const cancel = useAction(async () => {
    await api.post(`${path}/cancel`, reason.trim() ? { reason: reason.trim() } : {});
    notify("Execution canceled.");
    dialog.current.close();
    onChanged();
  });
  const open = () => {
    cancel.setError(null);
    dialog.current.showModal();
  };
  const submit = (event) => {
    event.preventDefault();
    cancel.run();
  };
  return html`<${Button} kind="danger" onClick=${open}>Cancel</${Button}>
    <dialog ref=${dialog} class="dialog" aria-label="Cancel this execution">
      <form onSubmit=${submit}>
        <h2>Cancel this execution?</h2>
        <p>No further attempt is made; it ends CANCELED. It can be redelivered later.</p>
        <${Input} label="Reason (optional)" name="reason" value=${reason} onValue=${setReason} error=${cancel.error}
          maxlength="500" hint="Kept in the execution's reason." />
        <${ErrorBox} error=${cancel.error && !cancel.error.about("reason") ? cancel.error : null} />
        <div class="actions">
          <${Button} onClick=${() => dialog.current.close()}>Keep it</${Button}>
          <${Button} type="submit" kind="danger" busy=${cancel.busy}>Cancel execution</${Button}>
        </div>
      </form>
    </dialog>`;
}

// Newest last, as the API keeps them. Each retry or redelivery is a new round whose attempts count
// from 1 again: the Delivery column tells the rounds apart when there is more than one.
function Attempts({ execution }) {
  let delivery = 0;
  let previous = Infinity;
  const rows = execution.attempts.map((attempt, index) => {
    if (attempt.number <= previous) delivery += 1;
    previous = attempt.number;
    return { ...attempt, delivery, key: index };
  });
  const columns = [
    ...(delivery > 1 ? [{ label: "Delivery", className: "num", render: (a) => a.delivery }] : []),
    { label: "Attempt", className: "num", render: (a) => a.number },
    { label: "At", render: (a) => html`<${Clock} at=${a.at} />` },
    { label: "Status", render: (a) => statusBadge(a) },
    { label: "Duration", className: "num", render: (a) => `${a.duration_ms} ms` },
    {
      label: "Error",
      className: "history-error",
      render: (a) => (a.error || a.error_class
        ? html`${a.error_class ? html`<${Badge} tone="bad">${a.error_class}</${Badge}> ` : null}${a.error}`
        : html`<span class="muted">none</span>`),
    },
    {
      label: "Response",
      render: (a) => (a.response_excerpt
        ? html`<pre class="history-excerpt" tabindex="0">${a.response_excerpt}</pre>`
        : html`<span class="muted">none</span>`),
    },
  ];
  const empty = execution.state === "PENDING" ? "No attempt yet: the first is on its way." : "No attempt was made.";
  return html`<${Table} columns=${columns} rows=${rows} rowKey=${(a) => a.key} empty=${empty} label="Attempts" />`;
}

// The exact local time, to the second (attempts are often seconds apart); the date too if not today.
function Clock({ at }) {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return at;
  const today = date.toDateString() === new Date().toDateString();
  return html`<time datetime=${at} title=${at}>${today ? date.toLocaleTimeString() : date.toLocaleString()}</time>`;
}

// An attempt's HTTP status; an attempt without one either reached nothing ("no answer") or went
// where there is no HTTP status to have: a run queue's message was sent.
function statusBadge(attempt) {
  const code = attempt.status_code;
  if (code === null || code === undefined) {
    return attempt.error || attempt.error_class ? html`<span class="muted">no answer</span>` : html`<${Badge} tone="ok">sent</${Badge}>`;
  }
  return html`<${Badge} tone=${code >= 200 && code < 300 ? "ok" : "bad"}>${code}</${Badge}>`;
}

// The request as the execution keeps it (secrets already redacted by the API): a webhook's URL,
// headers and body; a run queue's message; or a Slack message.
function RequestView({ execution }) {
  const request = execution.request;
  if (!request) {
    return html`<p class="empty">${execution.state === "PENDING" ? "Nothing sent yet." : "Nothing was sent."}</p>`;
  }
  if (request.url && request.headers) {
    return html`<p class="history-line"><code><strong>POST</strong> ${request.url}</code></p>
      <table class="table history-headers" aria-label="Request headers">
        <tbody>${Object.entries(request.headers).map(
          ([name, value]) => html`<tr key=${name}><th scope="row">${name}</th><td><code>${value}</code></td></tr>`,
        )}</tbody>
      </table>
      <h3>Body</h3>
      <${Body} text=${request.body} />`;
  }
  if (request.queue) {
    return html`<p class="history-line">Run queue <strong>${request.queue}</strong> <code>${request.queue_url}</code></p>
      <${Json} value=${request.body} label="Job" />`;
  }
  return html`<p class="history-line">Slack <code>chat.postMessage</code></p><${Json} value=${request} label="Slack message" />`;
}

// A body kept as text: shown as indented JSON when it is JSON (a cut body is not, and shows as it is).
function Body({ text }) {
  if (typeof text !== "string") return html`<${Json} value=${text} label="Body" />`;
  try {
    return html`<${Json} value=${JSON.parse(text)} label="Body" />`;
  } catch {
    return html`<pre class="json" aria-label="Body" tabindex="0">${text}</pre>`;
  }
}
