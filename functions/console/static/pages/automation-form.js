// The automation editor (#/automations/new?project=…, #/automations/<id or name>): a form that
// follows the event type and the action, a payload editor checked as you type, a dry-run preview of
// the exact request, and save / delete. A VIEWER sees the same form, read-only.

import * as api from "../api.js";
import {
  Badge,
  Button,
  Checkbox,
  ConfirmButton,
  ErrorBox,
  Input,
  Json,
  Loaded,
  Page,
  Select,
  TextArea,
  Times,
  When,
  href,
  html,
  navigate,
  notify,
  useAction,
  useAllowed,
  useEffect,
  useLeaveGuard,
  useLoad,
  useRef,
  useState,
} from "../ui.js";
import {
  ACTION_TEXT,
  AGGREGATIONS,
  CHANGE_TYPES,
  COMPARISONS,
  DIRECTIONS,
  EVENT_TEXT,
  RUN_STATES,
  SEVERITIES,
  ZSCORE_DEFAULTS,
  anyError,
  bodyOf,
  draftOf,
  filterBody,
  filterFields,
  formError,
  isRunEvent,
  newDraft,
  simpleFilter,
} from "./automation-model.js";

const { get, listAll, patch, post, del, seg } = api;
const path = (automation) => `/automations/${seg(automation.id)}`;

export function AutomationEditor({ automationId, query }) {
  const refs = useLoad(loadReferences, []);
  const saved = useLoad(() => (automationId ? get(`/automations/${seg(automationId)}`) : Promise.resolve(null)), [automationId]);
  const [current, setCurrent] = useState(null); // the answer of the last save, newer than `saved`
  useEffect(() => setCurrent(null), [saved.data]);
  const automation = current || saved.data;
  const title = automationId ? (automation ? automation.name : "Automation") : "New automation";
  return html`<${Page} title=${title} subtitle=${automation ? html`<${Facts} automation=${automation} />` : "Watch an event in a scope, and act on it."}
    actions=${html`<a class="btn" href=${href("/automations", { project: automation?.scope.project || query.project })}>Back to the list</a>`}>
    <${Loaded} load=${saved}>
      ${() => html`<${Loaded} load=${refs}>
        ${(references) => html`<${AutomationForm}
          key=${automation ? `${automation.id}@${automation.version}` : "new"}
          saved=${automation}
          initial=${automation ? draftOf(automation) : newDraft(query.project, query.collection)}
          references=${references}
          onSaved=${setCurrent}
          onReload=${() => saved.reload()} />`}
      </${Loaded}>`}
    </${Loaded}>
  </${Page}>`;
}

function Facts({ automation }) {
  return html`<span>version ${automation.version} · created by ${automation.created_by} · last executed${" "}
    <a href=${href("/history", { automation: automation.id })}><${When} at=${automation.last_executed_at} /></a></span>`;
}

// What the form's selects offer: every list of the entity an automation can name.
async function loadReferences() {
  const [projects, webhooks, slack, queues] = await Promise.all([
    listAll("/projects"),
    listAll("/webhooks"),
    listAll("/slack"),
    listAll("/run-queues"),
  ]);
  return { projects, webhooks, slack, queues };
}

// ---- the form ------------------------------------------------------------------------------------------

function AutomationForm({ saved, initial, references, onSaved, onReload }) {
  const canWrite = useAllowed("MEMBER");
  const [draft, setDraft] = useState(initial);
  const [answer, setAnswer] = useState(null); // the last preview
  const set = (changes) => setDraft((d) => ({ ...d, ...changes }));
  const unchanged = saved && same(draft, initial);
  // Leaving with unsaved changes asks first; after a save or a delete that leaves, it does not.
  const leave = useLeaveGuard(
    canWrite && !same(draft, initial) ? `Leave ${saved ? `“${saved.name}”` : "the new automation"} without saving? What you changed is lost.` : null,
  );

  // A new action's messages replace the last one's: a preview's answer is not the last save's error.
  const save = useAction(async () => {
    preview.setError(null);
    const body = bodyOf(draft);
    if (!saved) {
      const created = await post("/automations", body);
      notify(`Created “${created.name}”.`);
      leave.release();
      navigate("/automations", { project: created.scope.project });
      return;
    }
    const updated = await patch(path(saved), { ...body, version: saved.version });
    notify(`Saved “${updated.name}”: version ${updated.version}.`);
    onSaved(updated);
  });
  // A saved automation as it is runs through its own dry run (viewers may); a draft, or unsaved
  // changes, through the draft's, whose errors name fields under "automation.".
  const preview = useAction(async () => {
    save.setError(null);
    setAnswer(null);
    try {
      setAnswer(unchanged ? await post(`${path(saved)}/dry-run`, {}) : await post("/automations/dry-run", { automation: bodyOf(draft) }));
    } catch (failure) {
      throw formError(failure, "automation.");
    }
  });
  const check = useTemplateCheck(draft, canWrite);
  const sample = useVariables(draft, saved, canWrite, unchanged);
  const saveError = formError(save.error);
  const fields = anyError(saveError, preview.error, check.payloadError);
  const conflict = save.error && (save.error.status === 412 || (save.error.status === 409 && saveError.about("version")));

  // After a refusal, the keyboard goes to the first field the API faulted.
  const form = useRef(null);
  useEffect(() => {
    if (save.error || preview.error) form.current.querySelector('[aria-invalid="true"]')?.focus();
  }, [save.error, preview.error]);

  const submit = (event) => {
    event.preventDefault();
    if (canWrite) save.run();
  };
  return html`<div class="automations-editor">
    <form class="automations-form" ref=${form} onSubmit=${submit} aria-label=${saved ? `Edit ${saved.name}` : "New automation"} novalidate>
      ${canWrite ? null : html`<p class="automations-readonly" role="note">Read-only: your role may look at automations but not change them.</p>`}
      <fieldset class="automations-plain" disabled=${!canWrite}>
        <${General} draft=${draft} set=${set} error=${fields} />
        <${ScopeFields} draft=${draft} set=${set} error=${fields} projects=${references.projects} />
        <${EventFields} draft=${draft} set=${set} setDraft=${setDraft} error=${fields} projects=${references.projects} />
        <${ActionFields} draft=${draft} set=${set} error=${fields} references=${references} check=${check} sample=${sample} />
      </fieldset>
      ${conflict
        ? html`<div class="error-box" role="alert">
            <p><strong>Someone else changed this automation</strong> since you opened it: ${save.error.message}</p>
            <p>Reload it to see their version; what you changed here is then lost.</p>
            <${Button} onClick=${onReload}>Reload</${Button}>
          </div>`
        : html`<${Unplaced} error=${saveError} draft=${draft} />`}
      <div class="form-actions">
        ${canWrite ? html`<${Button} type="submit" kind="primary" busy=${save.busy}>${saved ? "Save" : "Create automation"}</${Button}>` : null}
        <${Button} onClick=${() => preview.run()} busy=${preview.busy} disabled=${!canWrite && !unchanged}>Preview</${Button}>
        ${canWrite && saved
          ? html`<${ConfirmButton} title="Delete automation" confirm="Delete"
              question=${`Delete “${saved.name}”? It stops at once; its execution history stays readable.`}
              onConfirm=${async () => {
                await del(path(saved));
                notify(`Deleted “${saved.name}”.`);
                leave.release();
                navigate("/automations", { project: saved.scope.project });
              }}>Delete</${ConfirmButton}>`
          : null}
        ${saved && !unchanged ? html`<span class="muted">Unsaved changes</span>` : null}
      </div>
    </form>
    <aside class="automations-side" aria-label="Preview">
      <h2>Preview</h2>
      ${preview.error ? html`<${Unplaced} error=${preview.error} draft=${draft} />` : null}
      ${answer
        ? html`<${PreviewAnswer} answer=${answer} draft=${!unchanged} automation=${canWrite && unchanged ? saved : null} />`
        : html`<p class="muted">${preview.busy ? "Running a dry run…" : "Preview runs the automation on a sample event of its type: would it fire, and the exact request it would send. Nothing is sent."}</p>`}
    </aside>
  </div>`;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// The fields the form shows, by the API's names: an error on one of them is shown there, any
// other error above the buttons.
function shownFields(draft) {
  const names = ["name", "description", "scope.type", "event.type", "action.type"];
  if (draft.scopeType !== "ENTITY") names.push("scope.project");
  if (draft.scopeType === "ARTIFACT_COLLECTION") names.push("scope.collection");
  if (draft.filterAsJson) names.push("event.filter");
  else names.push(...filterFields(draft.eventType).map((f) => `event.filter.${f}`));
  if (draft.eventType === "RUN_STATE") names.push("event.states");
  else if (isRunEvent(draft.eventType)) names.push(...metricFields(draft).map((f) => (f ? `event.metric.${f}` : "event.metric")));
  const action = { GENERIC_WEBHOOK: ["webhook", "payload"], NOTIFICATION: ["slack", "title", "message", "severity"], QUEUE_JOB: ["queue", "job", "version", "overrides", "destination_project"] };
  names.push(...(action[draft.actionType] || []).map((f) => `action.${f}`));
  return names;
}

// The metric condition's fields the form shows for the draft ("": the whole condition, as JSON).
function metricFields(draft) {
  if (draft.metricAsJson) return [""];
  const windowed = draft.metric.agg !== "NONE";
  if (draft.eventType === "RUN_METRIC_THRESHOLD") return ["name", "agg", ...(windowed ? ["window"] : []), "cmp", "threshold"];
  if (draft.eventType === "RUN_METRIC_CHANGE") {
    return ["name", "agg", ...(windowed ? ["window", "prior_window"] : []), "change_dir", "change_type", "threshold"];
  }
  return ["name", "window", "change_dir", "threshold"];
}

// An error no field of the form shows (a conflict, a refusal), above the buttons. When the fields
// show it, a line points at them, until the form is changed (the fields' messages go then too).
function Unplaced({ error, draft }) {
  const seen = useRef(null); // {serial, draft}: the refusal, and the form as it was when it came
  if (!error) return null;
  if (error.about && shownFields(draft).some((f) => error.about(f))) {
    if (!seen.current || seen.current.serial !== error.serial) seen.current = { serial: error.serial, draft };
    if (!same(seen.current.draft, draft)) return null;
    return html`<p class="field-error" role="alert">The API refused this: see the fields marked above.</p>`;
  }
  return html`<${ErrorBox} error=${error} />`;
}

// ---- sections ----------------------------------------------------------------------------------------

function General({ draft, set, error }) {
  return html`<fieldset>
    <legend>Automation</legend>
    <${Input} label="Name" name="name" value=${draft.name} onValue=${(name) => set({ name })} error=${error} required maxlength="128"
      hint=${"Any text up to 128 characters, unique in its scope, that does not look like an id (au_…); payloads may say it as ${automation_name}."} />
    <${TextArea} label="Description" name="description" rows="2" value=${draft.description} onValue=${(description) => set({ description })} error=${error} />
    <${Checkbox} label="Enabled" name="enabled" checked=${draft.enabled} onValue=${(enabled) => set({ enabled })}
      hint="A disabled automation watches nothing until it is enabled again." />
  </fieldset>`;
}

function ScopeFields({ draft, set, error, projects }) {
  const collections = useLoad(
    () => (draft.scopeType === "ARTIFACT_COLLECTION" && draft.project ? listAll(`/projects/${seg(draft.project)}/collections`) : Promise.resolve([])),
    [draft.scopeType, draft.project],
  );
  const projectOptions = withCurrent(
    projects.map((p) => [p.name, p.registry ? `${p.name} (registry)` : p.name]),
    draft.project,
    "choose a project",
  );
  const collectionOptions = withCurrent((collections.data || []).map((c) => [c.name, `${c.name} (${c.type})`]), draft.collection, collections.loading ? "loading…" : "choose a collection");
  return html`<fieldset>
    <legend>Scope</legend>
    <div class="automations-row">
      <${Select} label="Watch" name="scope.type" value=${draft.scopeType} error=${error}
        onValue=${(scopeType) => set({ scopeType, project: scopeType === "ENTITY" ? "" : draft.project || projects[0]?.name || "" })}
        options=${[["ENTITY", "the whole entity"], ["PROJECT", "a project or registry"], ["ARTIFACT_COLLECTION", "an artifact collection"]]} />
      ${draft.scopeType !== "ENTITY"
        ? html`<${Select} label="Project or registry" name="scope.project" value=${draft.project} error=${error} options=${projectOptions}
            onValue=${(project) => set({ project, collection: "" })} />`
        : null}
      ${draft.scopeType === "ARTIFACT_COLLECTION"
        ? html`<${Select} label="Collection" name="scope.collection" value=${draft.collection} error=${error} options=${collectionOptions}
            onValue=${(collection) => set({ collection })} />`
        : null}
    </div>
    ${draft.scopeType === "ENTITY" ? html`<p class="hint">Every project and registry of the entity, those made later too.</p>` : null}
    ${collections.error ? html`<${ErrorBox} error=${collections.error} retrying=${collections.loading} onRetry=${() => collections.reload()} />` : null}
  </fieldset>`;
}

// A select's options, with the current value kept even when the list lacks it (a deleted
// webhook, say) and an empty choice first when nothing is chosen yet.
function withCurrent(options, value, empty) {
  const known = options.some(([v]) => v === value);
  if (!value) return [["", `— ${empty} —`], ...options];
  return known ? options : [[value, `${value} (not found)`], ...options];
}

function EventFields({ draft, set, setDraft, error, projects }) {
  // Run events happen in projects: not in a collection, nor in a registry.
  const registry = projects.some((p) => p.name === draft.project && p.registry);
  const runsPossible = draft.scopeType === "ENTITY" || (draft.scopeType === "PROJECT" && !registry);
  const types = Object.keys(EVENT_TEXT).filter((t) => runsPossible || !isRunEvent(t) || t === draft.eventType);
  const choose = (eventType) =>
    setDraft((d) => {
      const metric = eventType === "RUN_METRIC_ZSCORE" ? { ...d.metric, ...ZSCORE_DEFAULTS } : d.eventType === "RUN_METRIC_ZSCORE" ? { ...d.metric, window: "1", threshold: "" } : d.metric;
      return { ...d, eventType, metric, filter: {}, filterAsJson: false, filterJson: "" };
    });
  return html`<fieldset>
    <legend>Event</legend>
    <${Select} label="When" name="event.type" value=${draft.eventType} error=${error} onValue=${choose}
      options=${types.map((t) => [t, EVENT_TEXT[t]])} />
    ${draft.eventType === "RUN_STATE" ? html`<${RunStates} draft=${draft} set=${set} error=${error} />` : null}
    ${isRunEvent(draft.eventType) && draft.eventType !== "RUN_STATE" ? html`<${MetricFields} draft=${draft} set=${set} error=${error} />` : null}
    <${FilterFields} draft=${draft} set=${set} error=${error} />
  </fieldset>`;
}

function RunStates({ draft, set, error }) {
  const message = error.about("event.states");
  const toggle = (state, on) => set({ states: on ? RUN_STATES.filter((s) => s === state || draft.states.includes(s)) : draft.states.filter((s) => s !== state) });
  return html`<fieldset class="automations-group ${message ? "invalid" : ""}">
    <legend>The run's state becomes</legend>
    <div class="automations-checks">
      ${RUN_STATES.map((state) => html`<${Checkbox} label=${state} name="event.states" checked=${draft.states.includes(state)} onValue=${(on) => toggle(state, on)} />`)}
    </div>
    <p class="hint automations-note">As in W&B, watching FAILED watches CRASHED too; killed runs never fire.</p>
    ${message ? html`<p class="field-error" role="alert">${message}</p>` : null}
  </fieldset>`;
}

function MetricFields({ draft, set, error }) {
  const m = draft.metric;
  const setMetric = (changes) => set({ metric: { ...m, ...changes } });
  if (draft.metricAsJson) {
    return html`<${TextArea} label="Metric condition (JSON)" name="event.metric" rows="8" value=${draft.metricJson} error=${error}
      onValue=${(metricJson) => set({ metricJson })} hint="Several thresholds ($and / $or) are edited as JSON." />`;
  }
  const type = draft.eventType;
  const windowed = metricFields(draft).includes("window");
  return html`<div class="automations-row">
      <${Input} label="Metric" name="event.metric.name" value=${m.name} error=${error} onValue=${(name) => setMetric({ name })} placeholder="loss" required />
      ${type !== "RUN_METRIC_ZSCORE"
        ? html`<${Select} label="Of" name="event.metric.agg" value=${m.agg} error=${error} options=${AGGREGATIONS} onValue=${(agg) => setMetric({ agg })} />`
        : null}
      ${windowed
        ? html`<${Input} label=${type === "RUN_METRIC_CHANGE" ? "Current window" : type === "RUN_METRIC_ZSCORE" ? "Over the last" : "Of the last"} name="event.metric.window"
            type="number" min=${type === "RUN_METRIC_ZSCORE" ? 2 : 1} value=${m.window} error=${error} onValue=${(window) => setMetric({ window })}
            hint=${type === "RUN_METRIC_ZSCORE" ? "values (2–1,000)" : "values (1–100)"} />`
        : null}
      ${type === "RUN_METRIC_CHANGE" && windowed
        ? html`<${Input} label="Prior window" name="event.metric.prior_window" type="number" min="1" value=${m.prior_window} error=${error}
            onValue=${(prior_window) => setMetric({ prior_window })} placeholder=${m.window} hint="empty: as the current window" />`
        : null}
    </div>
    <div class="automations-row">
      ${type === "RUN_METRIC_THRESHOLD"
        ? html`<${Select} label="Is" name="event.metric.cmp" value=${m.cmp} error=${error} options=${COMPARISONS} onValue=${(cmp) => setMetric({ cmp })} />`
        : html`<${Select} label="Direction" name="event.metric.change_dir" value=${m.change_dir} error=${error} options=${DIRECTIONS}
            onValue=${(change_dir) => setMetric({ change_dir })} />`}
      ${type === "RUN_METRIC_CHANGE"
        ? html`<${Select} label="Change" name="event.metric.change_type" value=${m.change_type} error=${error} options=${CHANGE_TYPES}
            onValue=${(change_type) => setMetric({ change_type })} />`
        : null}
      <${Input} label=${type === "RUN_METRIC_THRESHOLD" ? "Threshold" : type === "RUN_METRIC_CHANGE" ? "By at least" : "z-score at least"}
        name="event.metric.threshold" type="number" step="any" value=${m.threshold} error=${error} onValue=${(threshold) => setMetric({ threshold })} required />
    </div>
    <p class="hint automations-note">${METRIC_HINTS[type]}</p>`;
}

const METRIC_HINTS = {
  RUN_METRIC_THRESHOLD: "Fires when the condition becomes true (not while it stays true), once the window is full; at most once per run a day.",
  RUN_METRIC_CHANGE: "Compares the current window's value with the window before it; at most once per run a day.",
  RUN_METRIC_ZSCORE: "Compares the newest value with the mean and standard deviation of the values before it.",
};

const FILTER_TEXT = {
  alias: ["Alias (regex)", "Fires only for an alias that matches, e.g. ^production$. Empty: any alias."],
  tag: ["Tag (regex)", "Fires only for a tag that matches. Empty: any tag."],
  display_name: ["Run name (regex)", "Only runs whose name matches. Empty: every run."],
  user: ["Run user", "Only runs of this user (username). Empty: anyone's."],
};

// The filter as the form's few fields, or as JSON for anything more (any field, $or, $not, …).
function FilterFields({ draft, set, error }) {
  const canWrite = useAllowed("MEMBER");
  const fields = filterFields(draft.eventType);
  if (draft.filterAsJson) {
    const simple = simpleFromJson(draft.filterJson, draft.eventType);
    return html`<${TextArea} label="Filter (JSON)" name="event.filter" rows="5" value=${draft.filterJson} error=${error}
        onValue=${(filterJson) => set({ filterJson })}
        hint=${`A MongoDB-style filter over the event's fields (${isRunEvent(draft.eventType) ? "" : "artifact_type, collection, "}${fields.join(", ")}). Empty: every event.`} />
      ${simple ? html`<${Button} kind="small" onClick=${() => set({ filterAsJson: false, filter: simple, filterJson: "" })}>Use the simple fields</${Button}>` : null}`;
  }
  const asJson = () => {
    const filter = filterBody(draft);
    set({ filterAsJson: true, filterJson: filter ? JSON.stringify(filter, null, 2) : "" });
  };
  return html`${fields.length
      ? html`<div class="automations-row">
          ${fields.map(
            (field) => html`<${Input} key=${field} label=${FILTER_TEXT[field][0]} hint=${FILTER_TEXT[field][1]} name=${`event.filter.${field}`}
              value=${draft.filter[field] || ""} error=${error} onValue=${(value) => set({ filter: { ...draft.filter, [field]: value } })} />`,
          )}
        </div>`
      : null}
    ${canWrite ? html`<${Button} kind="small" onClick=${asJson}>${fields.length ? "Write the filter as JSON" : "Add a filter (JSON)"}</${Button}>` : null}`;
}

// The simple fields of a filter typed as JSON, or null when it says more than they can.
function simpleFromJson(text, type) {
  if (!text.trim()) return {};
  try {
    return simpleFilter(JSON.parse(text), type);
  } catch {
    return null;
  }
}

function ActionFields({ draft, set, error, references, check, sample }) {
  const options = (items, value, what) => withCurrent(items.map((i) => [i.name, i.enabled === false ? `${i.name} (disabled)` : i.name]), value, what);
  return html`<fieldset>
    <legend>Action</legend>
    <${Select} label="Then" name="action.type" value=${draft.actionType} error=${error} onValue=${(actionType) => set({ actionType })}
      options=${Object.entries(ACTION_TEXT)} />
    ${draft.actionType === "GENERIC_WEBHOOK"
      ? html`<${Select} label="Webhook" name="action.webhook" value=${draft.webhook} error=${error} options=${options(references.webhooks, draft.webhook, "choose a webhook")}
            onValue=${(webhook) => set({ webhook })} hint=${references.webhooks.length ? null : "No webhooks yet: an admin adds one under Team settings → Webhooks."} />
          <${PayloadEditor} draft=${draft} set=${set} error=${error} check=${check} sample=${sample}
            webhook=${references.webhooks.find((w) => w.name === draft.webhook)} />`
      : null}
    ${draft.actionType === "NOTIFICATION"
      ? html`<div class="automations-row">
            <${Select} label="Slack channel" name="action.slack" value=${draft.slack} error=${error}
              options=${withCurrent(references.slack.map((s) => [s.name, `${s.name} (#${s.channel_name.replace(/^#/, "")})`]), draft.slack, "choose an integration")}
              onValue=${(slack) => set({ slack })} />
            <${Select} label="Severity" name="action.severity" value=${draft.severity} error=${error} options=${SEVERITIES.map((s) => [s, s])}
              onValue=${(severity) => set({ severity })} />
          </div>
          <${Input} label="Title" name="action.title" value=${draft.title} error=${error} onValue=${(title) => set({ title })} maxlength="150"
            hint="Empty: the automation's name and the event type (W&B's default)." />
          <${TextArea} label="Message" name="action.message" rows="3" value=${draft.message} error=${error} onValue=${(message) => set({ message })} />
          <${Variables} sample=${sample} />`
      : null}
    ${draft.actionType === "QUEUE_JOB"
      ? html`<div class="automations-row">
            <${Select} label="Run queue" name="action.queue" value=${draft.queue} error=${error} options=${withCurrent(references.queues.map((q) => [q.name, q.name]), draft.queue, "choose a run queue")}
              onValue=${(queue) => set({ queue })} />
            <${Input} label="Job" name="action.job" value=${draft.job} error=${error} onValue=${(job) => set({ job })} required />
            <${Input} label="Version" name="action.version" value=${draft.version} error=${error} onValue=${(version) => set({ version })} />
          </div>
          <${TextArea} label="Overrides (JSON)" name="action.overrides" rows="4" value=${draft.overrides} error=${error} onValue=${(overrides) => set({ overrides })}
            hint=${"Run config overrides; strings in it may hold ${variables}."} />
          <${Select} label="Destination project" name="action.destination_project" value=${draft.destinationProject} error=${error}
            options=${[["", "— the event's project —"], ...references.projects.filter((p) => !p.registry).map((p) => [p.name, p.name])]}
            onValue=${(destinationProject) => set({ destinationProject })} />
          <${Variables} sample=${sample} />`
      : null}
    ${draft.actionType === "NO_OP" ? html`<p class="hint">Records an execution and sends nothing: to try an automation's event and filter.</p>` : null}
  </fieldset>`;
}

// ---- the payload editor and its live check ---------------------------------------------------------

function PayloadEditor({ draft, set, error, check, sample, webhook }) {
  const canWrite = useAllowed("MEMBER");
  const frame = useRef(null);
  // A variable goes in where the cursor is, and the cursor after it.
  const insert = (name) => {
    const area = frame.current.querySelector("textarea");
    const text = `\${${name}}`;
    const start = area.selectionStart ?? draft.payload.length;
    const end = area.selectionEnd ?? start;
    set({ payload: draft.payload.slice(0, start) + text + draft.payload.slice(end) });
    requestAnimationFrame(() => {
      area.focus();
      area.setSelectionRange(start + text.length, start + text.length);
    });
  };
  const secrets = webhook ? [...(webhook.access_token_secret ? ["ACCESS_TOKEN"] : []), ...webhook.secrets] : [];
  return html`<div class="automations-payload" ref=${frame}>
    <${TextArea} label="Payload" name="action.payload" rows="10" value=${draft.payload} error=${error} onValue=${(payload) => set({ payload })}
      hint=${"JSON sent as the request body; ${variable} placeholders go inside strings."} />
    ${canWrite ? html`<${TemplateStatus} check=${check} />` : null}
    <${Variables} sample=${sample} secrets=${secrets} onInsert=${canWrite ? insert : null} />
  </div>`;
}

// Checks the draft's payload as it is typed: a debounced dry run of the draft, whose refusal on
// action.payload is the template's error (an unknown variable comes with the nearest known one).
function useTemplateCheck(draft, canWrite) {
  const applies = canWrite && draft.actionType === "GENERIC_WEBHOOK" && draft.webhook && draft.payload.trim();
  const key = applies ? JSON.stringify(draft) : null;
  const result = useDebouncedDryRun(key, () => post("/automations/dry-run", { automation: probe(draft) }));
  const error = result.error && formError(result.error, "automation.");
  const payloadError = error && error.about("action.payload") ? error : null;
  const waiting = draft.webhook ? "The payload is required: it is the request's body." : "The template is checked once a webhook is chosen.";
  return { ...result, applies, waiting, error, payloadError };
}

// The payload's variables and their values on a sample event of the draft's type and scope: a
// dry run of the draft with no action, so that it answers even while the payload is wrong (and
// without its filter when that is what is wrong). A viewer, who may not dry-run drafts, sees the
// saved automation's.
function useVariables(draft, saved, canWrite, unchanged) {
  const key = canWrite
    ? JSON.stringify([draft.name, draft.scopeType, draft.project, draft.collection, draft.eventType, draft.filter, draft.filterJson, draft.metric, draft.metricJson, draft.states])
    : saved && unchanged
      ? saved.id
      : null;
  const dryRun = useDebouncedDryRun(key, async () => {
    if (!canWrite) return post(`${path(saved)}/dry-run`, {});
    const bare = { ...draft, actionType: "NO_OP" };
    try {
      return await post("/automations/dry-run", { automation: probe(bare) });
    } catch (failure) {
      if (!/^(automation\.)?event\.(filter|metric|states)/.test(failure.field || "")) throw failure;
      return post("/automations/dry-run", { automation: probe(plainEvent(bare)) });
    }
  });
  // The last answer's, while the event type is the same: a run's variables are not an artifact's.
  const [last, setLast] = useState(null);
  useEffect(() => {
    if (dryRun.answer) setLast({ type: draft.eventType, variables: dryRun.answer.variables });
  }, [dryRun.answer]);
  return { variables: last && last.type === draft.eventType ? last.variables : null, checking: dryRun.checking };
}

// The draft with the simplest valid event of its type: no filter, a placeholder condition. Its
// variables are the same, and it answers while the event's settings are still being typed.
function plainEvent(draft) {
  const name = draft.metricAsJson ? "metric" : draft.metric.name.trim() || "metric";
  const metric = { ...draft.metric, name, agg: "NONE", window: ZSCORE_DEFAULTS.window, threshold: "1", prior_window: "" };
  return { ...draft, filter: {}, filterAsJson: false, metric, metricAsJson: false, states: ["FAILED"] };
}

// The draft as a dry run takes it before it has a name.
function probe(draft) {
  const body = bodyOf(draft);
  return { ...body, name: body.name || "new automation" };
}

// `run` (a dry run) `ms` after `key` last changed (null: none); answers to older keys are dropped.
function useDebouncedDryRun(key, run, ms = 500) {
  const [state, setState] = useState({ checking: false, answer: null, error: null });
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    if (key === null) {
      setState({ checking: false, answer: null, error: null });
      return undefined;
    }
    setState((s) => ({ ...s, checking: true }));
    const timer = setTimeout(async () => {
      try {
        const answer = await run();
        if (mine === generation.current) setState({ checking: false, answer, error: null });
      } catch (error) {
        if (mine === generation.current) setState({ checking: false, answer: null, error });
      }
    }, ms);
    return () => clearTimeout(timer);
  }, [key]);
  return state;
}

function TemplateStatus({ check }) {
  let content = null;
  if (!check.applies) content = html`<span class="muted">${check.waiting}</span>`;
  else if (check.checking) content = html`<span class="muted"><span class="spinner" aria-hidden="true"></span> Checking the template…</span>`;
  else if (check.answer) content = html`<${Badge} tone="ok">Template OK</${Badge}>`;
  else if (check.payloadError) content = null; // shown under the editor, by the field
  else if (check.error) {
    const where = check.error.field ? `${check.error.field}: ` : "";
    content = html`<span class="muted">Template not checked yet, as the API refuses the draft elsewhere: ${where}${check.error.about(check.error.field || "") || check.error.message}</span>`;
  }
  return html`<p class="automations-check" role="status" aria-live="polite">${content}</p>`;
}

function Variables({ sample, secrets = [], onInsert }) {
  const { variables, checking } = sample;
  if (!variables && checking) return html`<p class="hint" role="status">Finding the variables of this event…</p>`;
  if (!variables) return html`<p class="hint">The variables show once the scope and the event's settings are valid.</p>`;
  const rows = [...Object.entries(variables), ...secrets.map((s) => [s, "(secret, sent as its value)"])];
  return html`<details class="automations-variables" open>
    <summary>Variables for this event ${onInsert ? "(click to insert)" : ""}</summary>
    <table class="automations-vars" aria-label="Payload variables">
      <tbody>
        ${rows.map(
          ([name, sample]) => html`<tr key=${name}>
            <td>${onInsert ? html`<button type="button" class="btn small" onClick=${() => onInsert(name)} title="Insert at the cursor">${`\${${name}}`}</button>` : html`<code>${`\${${name}}`}</code>`}</td>
            <td class="muted"><code>${sample === "" ? "(empty)" : sample}</code></td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${"artifact_version" in variables ? html`<p class="hint">Also <code>${"${artifact_metadata.<KEY>}"}</code>: a key of the version's metadata.</p>` : null}
  </details>`;
}

// ---- the preview: a dry run's answer ------------------------------------------------------------------

function PreviewAnswer({ answer, draft, automation }) {
  const request = answer.action.request;
  return html`<div class="automations-preview">
    <p>
      <${Badge} tone=${answer.would_fire ? "ok" : "bad"}>${answer.would_fire ? "Would fire" : "Would not fire"}</${Badge}>
      ${" "}<${Badge} tone=${answer.would_deliver ? "ok" : "bad"}>${answer.would_deliver ? "Would deliver" : "Would not deliver"}</${Badge}>
      ${draft ? html` <span class="muted">(of the form as it is, unsaved)</span>` : null}
    </p>
    <p>${answer.summary}</p>
    ${answer.action.status.state !== "READY" ? html`<p class="field-error">Action ${answer.action.status.state.toLowerCase()}: <${Times} text=${answer.action.status.reason} /></p>` : null}
    <h3>Request</h3>
    ${request ? html`<${RequestView} type=${answer.action.type} request=${request} />` : html`<p class="muted">None: this action sends nothing.</p>`}
    <h3>Checks</h3>
    <ol class="automations-checklist">
      ${answer.checks.map(
        (c) => html`<li key=${c.check} class=${c.passed === true ? "pass" : c.passed === false ? "fail" : "skip"}>
          <span class="automations-mark" aria-hidden="true">${c.passed === true ? "✓" : c.passed === false ? "✗" : "–"}</span>
          <span><strong>${c.check.replace("_", " ")}</strong><span class="automations-sr"> (${c.passed === true ? "passed" : c.passed === false ? "failed" : "not evaluated"})</span>: ${c.message}</span>
        </li>`,
      )}
    </ol>
    <details>
      <summary>The ${answer.event.sample ? "sample " : ""}event (${answer.event.detail_type})</summary>
      <${Json} value=${answer.event.detail} label="Event" />
    </details>
    ${automation ? html`<${PublishSample} event=${answer.event} automation=${automation} />` : null}
  </div>`;
}

// Sends the preview's event for real, as the signed-in member and with a new id, through
// POST /v1/events: the pipeline runs as for a platform's event (the README's "publish the sample
// event" step), and History shows what came of it. The console's one way to make an event.
function PublishSample({ event, automation }) {
  const [published, setPublished] = useState(null);
  const send = useAction(async () => {
    const { author, publisher, ...detail } = event.detail;
    detail.event_id = `console-${crypto.randomUUID()}`;
    detail.time = new Date().toISOString();
    if (detail.run && typeof detail.run === "object") {
      const { user, ...run } = detail.run;
      detail.run = run;
    }
    const answer = await api.publish([{ detail_type: event.detail_type, detail }]);
    setPublished(answer.published[0].event_id);
    notify(`Published ${event.detail_type}.`);
  });
  return html`<div class="automations-publish">
    <h3>Try it for real</h3>
    <p class="muted">Publish this event, as you and with a new id: matching automations run and deliver.</p>
    <${Button} onClick=${() => send.run()} busy=${send.busy}>Publish this event</${Button}>
    <${ErrorBox} error=${send.error} />
    ${published
      ? html`<p class="ok-box" role="status">Published <code>${published}</code>.${" "}
          <a href=${href("/history", { automation: automation.id })}>See its executions in History</a></p>`
      : null}
  </div>`;
}

function RequestView({ type, request }) {
  if (type === "QUEUE_JOB") return html`<${Json} value=${request} label="Job message" />`;
  return html`<div class="automations-request" aria-label="Request">
    <p><code class="automations-method">${request.method}</code> <code class="automations-url">${request.url}</code></p>
    <table class="automations-vars" aria-label="Headers">
      <tbody>${Object.entries(request.headers || {}).map(([name, value]) => html`<tr key=${name}><th scope="row"><code>${name}</code></th><td><code>${value}</code></td></tr>`)}</tbody>
    </table>
    <${Body} text=${request.body} />
  </div>`;
}

// The body as sent is text; shown pretty when it is JSON, as it is otherwise.
function Body({ text }) {
  if (typeof text !== "string") return html`<${Json} value=${text} label="Body" />`;
  try {
    return html`<${Json} value=${JSON.parse(text)} label="Body" />`;
  } catch {
    return html`<pre class="json" aria-label="Body" tabindex="0">${text}</pre>`;
  }
}
