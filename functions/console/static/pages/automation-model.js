// The automation language in the console's words: readable names for event types, scopes and
// actions, and the editor's draft (flat form fields) to and from the API's automation body
// (layers/mlhooks/mlhooks/models/automation.py).

import { ApiError } from "../api.js";

// W&B's wording for each event type, as its Automations tab says it.
export const EVENT_TEXT = {
  CREATE_ARTIFACT: "A new artifact version is created",
  LINK_ARTIFACT: "An artifact version is linked to a collection",
  UNLINK_ARTIFACT: "An artifact version is unlinked from a collection",
  ADD_ARTIFACT_ALIAS: "An artifact alias is added",
  ADD_ARTIFACT_TAG: "A tag is added to an artifact version",
  REMOVE_ARTIFACT_TAG: "A tag is removed from an artifact version",
  ADD_COLLECTION_TAG: "A tag is added to a collection",
  REMOVE_COLLECTION_TAG: "A tag is removed from a collection",
  RUN_METRIC_THRESHOLD: "A run metric crosses a threshold",
  RUN_METRIC_CHANGE: "A run metric changes",
  RUN_METRIC_ZSCORE: "A run metric deviates from its recent values (z-score)",
  RUN_STATE: "A run's state changes",
};
const RUN_EVENTS = ["RUN_METRIC_THRESHOLD", "RUN_METRIC_CHANGE", "RUN_METRIC_ZSCORE", "RUN_STATE"];
export const isRunEvent = (type) => RUN_EVENTS.includes(type);
// The filter fields the simple form offers per event type (filters.filter_fields_for allows these).
const ALIAS_EVENTS = ["ADD_ARTIFACT_ALIAS", "LINK_ARTIFACT"];
const TAG_EVENTS = ["ADD_ARTIFACT_TAG", "REMOVE_ARTIFACT_TAG", "ADD_COLLECTION_TAG", "REMOVE_COLLECTION_TAG"];
export const filterFields = (type) =>
  isRunEvent(type) ? ["display_name", "user"] : ALIAS_EVENTS.includes(type) ? ["alias"] : TAG_EVENTS.includes(type) ? ["tag"] : [];
// Which of those fields are regexes (the others are matched exactly).
const REGEX_FIELDS = ["alias", "tag", "display_name"];

export const ACTION_TEXT = {
  GENERIC_WEBHOOK: "Send a webhook",
  NOTIFICATION: "Post to Slack",
  QUEUE_JOB: "Queue a job",
  NO_OP: "Do nothing (test)",
};
export const AGGREGATIONS = [["NONE", "the newest value"], ["MIN", "the minimum"], ["MAX", "the maximum"], ["AVERAGE", "the average"]];
export const COMPARISONS = [["$gt", "> greater than"], ["$gte", "≥ at least"], ["$lt", "< less than"], ["$lte", "≤ at most"]];
export const CHANGE_TYPES = [["ABSOLUTE", "by an absolute amount"], ["RELATIVE", "relative to the prior window (0.1 = 10 %)"]];
export const DIRECTIONS = [["INCREASE", "increases"], ["DECREASE", "decreases"], ["ANY", "increases or decreases"]];
export const RUN_STATES = ["RUNNING", "FINISHED", "FAILED", "CRASHED"];
export const SEVERITIES = ["INFO", "WARN", "ERROR"];
const SYMBOL = { $gt: ">", $gte: "≥", $lt: "<", $lte: "≤" };

// The W&B SDK's payload when none is given (README, "What differs still"): a sensible start.
const DEFAULT_PAYLOAD = JSON.stringify(
  {
    event_type: "${event_type}",
    event_author: "${event_author}",
    entity_name: "${entity_name}",
    project_name: "${project_name}",
    automation_name: "${automation_name}",
  },
  null,
  2,
);

// ---- describing a saved automation (the list) ---------------------------------------------------

export function scopeText(scope, registries = new Set()) {
  if (scope.type === "ENTITY") return "Entity: every project";
  const where = registries.has(scope.project) ? `Registry ${scope.project}` : `Project ${scope.project}`;
  return scope.type === "ARTIFACT_COLLECTION" ? `${where} / ${scope.collection}` : where;
}

// The event's settings in a few words: "alias ~ /^prod/", "loss: average of 5 < 0.1".
export function eventDetail(event) {
  const parts = [];
  const metric = event.metric;
  if (metric && metric.name) {
    const of = metric.agg && metric.agg !== "NONE" ? `${metric.agg.toLowerCase()} of ${metric.window}` : "newest value";
    if (event.type === "RUN_METRIC_THRESHOLD") parts.push(`${metric.name}: ${of} ${SYMBOL[metric.cmp]} ${metric.threshold}`);
    if (event.type === "RUN_METRIC_CHANGE") {
      const amount = metric.change_type === "RELATIVE" ? `${metric.threshold * 100} %` : metric.threshold;
      parts.push(`${metric.name}: ${of} ${metric.change_dir.toLowerCase()} by ${amount}`);
    }
    if (event.type === "RUN_METRIC_ZSCORE") parts.push(`${metric.name}: |z| ≥ ${metric.threshold} over ${metric.window}`);
  } else if (metric) {
    parts.push("several metric thresholds");
  }
  if (event.states) parts.push(event.states.join(", "));
  const simple = simpleFilter(event.filter, event.type);
  if (simple) {
    for (const [field, value] of Object.entries(simple)) {
      if (value) parts.push(REGEX_FIELDS.includes(field) ? `${field} ~ /${value}/` : `${field} = ${value}`);
    }
  } else {
    parts.push("custom filter");
  }
  return parts.join(" · ");
}

export function actionText(action) {
  if (action.type === "GENERIC_WEBHOOK") return `Webhook ${action.webhook}`;
  if (action.type === "NOTIFICATION") return `Slack ${action.slack}`;
  if (action.type === "QUEUE_JOB") return `Job ${action.job} on run queue ${action.queue}`;
  return "Nothing (no-op)";
}

// ---- filters: the simple form's fields, or JSON for anything else --------------------------------

// {alias: "^prod"} from the filters the form writes ({"alias": {"$regex": "^prod"}}, a run's
// {"user": "alice"}) and from W&B's SDK forms of the same ({"$or": [{"$and": [...]}]}); null when
// the filter says more than the form can (then the editor shows it as JSON).
export function simpleFilter(filter, type) {
  const found = {};
  if (!filter) return found;
  let clauses = [filter];
  if (Object.keys(filter).length === 1 && Array.isArray(filter.$or) && filter.$or.length === 1) clauses = [filter.$or[0]];
  if (clauses.length === 1 && Object.keys(clauses[0]).length === 1 && Array.isArray(clauses[0].$and)) clauses = clauses[0].$and;
  const allowed = filterFields(type);
  for (const clause of clauses) {
    for (const [field, spec] of Object.entries(clause)) {
      if (!allowed.includes(field) || field in found) return null;
      if (REGEX_FIELDS.includes(field) && spec && typeof spec === "object" && Object.keys(spec).length === 1 && typeof spec.$regex === "string") {
        found[field] = spec.$regex;
      } else if (!REGEX_FIELDS.includes(field) && typeof spec === "string") {
        found[field] = spec;
      } else {
        return null;
      }
    }
  }
  return found;
}

// ---- the editor's draft ------------------------------------------------------------------------------

// A new automation's draft, with the model's defaults (W&B's): a threshold on the newest value, a
// z-score over 30 values at 3, INFO notifications, job version "latest".
// A new automation's form; a collection's "New automation" link scopes it to that collection.
export function newDraft(project, collection) {
  return {
    name: "",
    description: "",
    enabled: true,
    scopeType: project ? (collection ? "ARTIFACT_COLLECTION" : "PROJECT") : "ENTITY",
    project: project || "",
    collection: (project && collection) || "",
    eventType: "ADD_ARTIFACT_ALIAS",
    filter: {},
    filterJson: "",
    filterAsJson: false,
    metric: { name: "", agg: "NONE", window: "1", cmp: "$gt", threshold: "", prior_window: "", change_type: "ABSOLUTE", change_dir: "ANY" },
    metricJson: "",
    metricAsJson: false,
    states: ["FAILED"],
    actionType: "GENERIC_WEBHOOK",
    webhook: "",
    payload: DEFAULT_PAYLOAD,
    slack: "",
    title: "",
    message: "",
    severity: "INFO",
    queue: "",
    job: "",
    version: "latest",
    overrides: "{}",
    destinationProject: "",
  };
}

// The metric fields a z-score starts with when the event type is switched to it.
export const ZSCORE_DEFAULTS = { window: "30", threshold: "3", change_dir: "ANY" };

export function draftOf(automation) {
  const draft = newDraft();
  const { scope, event, action } = automation;
  const simple = simpleFilter(event.filter, event.type);
  const metric = event.metric || {};
  const complexMetric = Boolean(event.metric && !metric.name);
  const text = (value) => (value === null || value === undefined ? "" : String(value));
  return {
    ...draft,
    name: automation.name,
    description: automation.description,
    enabled: automation.enabled,
    scopeType: scope.type,
    project: scope.project || "",
    collection: scope.collection || "",
    eventType: event.type,
    filter: simple || {},
    filterAsJson: simple === null,
    filterJson: simple === null ? JSON.stringify(event.filter, null, 2) : "",
    metric: complexMetric
      ? draft.metric
      : { ...draft.metric, ...Object.fromEntries(Object.entries(metric).map(([k, v]) => [k, text(v)])) },
    metricAsJson: complexMetric,
    metricJson: complexMetric ? JSON.stringify(event.metric, null, 2) : "",
    states: event.states || draft.states,
    actionType: action.type,
    webhook: action.webhook || "",
    payload: action.type === "GENERIC_WEBHOOK" ? (typeof action.payload === "string" ? action.payload : JSON.stringify(action.payload, null, 2)) : draft.payload,
    slack: action.slack || "",
    title: action.title || "",
    message: action.message || "",
    severity: action.severity || "INFO",
    queue: action.queue || "",
    job: action.job || "",
    version: action.version || "latest",
    overrides: action.overrides ? JSON.stringify(action.overrides, null, 2) : "{}",
    destinationProject: action.destination_project || "",
  };
}

// A field's JSON text, or an error the form shows next to that field (as the API would): `what`
// says what is wrong, "The filter is" or "Overrides are".
function parseJson(text, field, what) {
  try {
    return JSON.parse(text);
  } catch (failure) {
    throw new ApiError(422, { error: { code: "invalid_input", field, message: `${what} not valid JSON: ${failure.message}` } });
  }
}

// A number typed in a field: sent as a number when it is one, as typed otherwise (the API then
// says what is wrong with it), and left out when empty (the model's default, or "Field required").
function number(text) {
  const trimmed = String(text).trim();
  if (trimmed === "") return undefined;
  return Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function compact(object) {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

export function filterBody(draft) {
  if (draft.filterAsJson) return draft.filterJson.trim() ? parseJson(draft.filterJson, "event.filter", "The filter is") : undefined;
  // A flat object, so that the API's error names the field: "event.filter.alias.$regex".
  const filter = {};
  for (const field of filterFields(draft.eventType)) {
    const value = (draft.filter[field] || "").trim();
    if (value) filter[field] = REGEX_FIELDS.includes(field) ? { $regex: value } : value;
  }
  return Object.keys(filter).length ? filter : undefined;
}

function metricBody(draft) {
  if (draft.metricAsJson) return parseJson(draft.metricJson, "event.metric", "The metric condition is");
  const m = draft.metric;
  const name = m.name.trim();
  if (draft.eventType === "RUN_METRIC_THRESHOLD") {
    return compact({ name, agg: m.agg, window: m.agg === "NONE" ? undefined : number(m.window), cmp: m.cmp, threshold: number(m.threshold) });
  }
  if (draft.eventType === "RUN_METRIC_CHANGE") {
    return compact({
      name,
      agg: m.agg,
      window: m.agg === "NONE" ? undefined : number(m.window),
      prior_window: m.agg === "NONE" ? undefined : number(m.prior_window),
      change_type: m.change_type,
      change_dir: m.change_dir,
      threshold: number(m.threshold),
    });
  }
  return compact({ name, window: number(m.window), threshold: number(m.threshold), change_dir: m.change_dir });
}

// The API's automation body from the draft. Throws an ApiError (on the field) for JSON that does
// not parse, which only the console can see.
export function bodyOf(draft) {
  const scope =
    draft.scopeType === "ENTITY"
      ? { type: "ENTITY" }
      : draft.scopeType === "PROJECT"
        ? { type: "PROJECT", project: draft.project }
        : { type: "ARTIFACT_COLLECTION", project: draft.project, collection: draft.collection };
  const event = compact({ type: draft.eventType, filter: filterBody(draft) });
  if (draft.eventType === "RUN_STATE") event.states = draft.states;
  else if (isRunEvent(draft.eventType)) event.metric = metricBody(draft);
  let action = { type: draft.actionType };
  if (draft.actionType === "GENERIC_WEBHOOK") action = { ...action, webhook: draft.webhook, payload: draft.payload };
  if (draft.actionType === "NOTIFICATION") {
    action = { ...action, slack: draft.slack, title: draft.title, message: draft.message, severity: draft.severity };
  }
  if (draft.actionType === "QUEUE_JOB") {
    action = compact({
      ...action,
      queue: draft.queue,
      job: draft.job.trim(),
      version: draft.version.trim() || undefined,
      overrides: draft.overrides.trim() ? parseJson(draft.overrides, "action.overrides", "Overrides are") : {},
      destination_project: draft.destinationProject || undefined,
    });
  }
  return { name: draft.name.trim(), description: draft.description, enabled: draft.enabled, scope, event, action };
}

// ---- the API's errors, field by field ---------------------------------------------------------------

// An ApiError as the form sees it: without the prefix a route adds ("automation." in a draft's
// dry run).
export function formError(error, prefix = "") {
  return error && error.unprefixed ? error.unprefixed(prefix) : error || null;
}

// One view of several errors (the save's, the preview's, the template check's): about a field,
// the newest that says something about it (a live check's answer is newer than the last save's).
export function anyError(...errors) {
  const present = errors.filter((e) => e && e.about);
  const sourceOf = (name) =>
    present.filter((e) => e.about(name)).reduce((newest, e) => (!newest || (e.serial || 0) > (newest.serial || 0) ? e : newest), null);
  return { sourceOf, about: (name) => sourceOf(name)?.about(name) || null };
}
