// The public API, called as any client calls it: `Authorization: Bearer <key>`, JSON in and out.
// The console is served at <API>/console/, so the API is found one level up from the page's base.

const KEY = "mlhooks.apiKey";
export const apiRoot = new URL("../", document.baseURI);

let serials = 0;

// A refusal as the API words it: {"error": {"code", "message", "field", "details"}}. Each refusal
// has a serial of its own (kept by `unprefixed`): a field shows a message until its value changes
// from what it was when that refusal came (ui.js), and a new refusal is news even if worded alike.
export class ApiError extends Error {
  constructor(status, body, serial = ++serials) {
    const error = (body && body.error) || {};
    super(readable(error.message) || `The API answered ${status} without saying why.`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.field = error.field || null;
    this.details = (error.details || []).map((d) => ({ ...d, message: readable(d.message) }));
    this.serial = serial;
  }

  // This error if it says something about `field`, else null (anyError's twin in automation-model.js).
  sourceOf(field) {
    return this.about(field) ? this : null;
  }

  // What this error says about one form field (or a field inside it: "event" for
  // "event.filter.alias", "secrets" for "secrets[0]"), or null. A validation error's message sums
  // up every field at fault; next to one field, only that field's own part is shown.
  about(field) {
    const hit = (name) => name === field || (name || "").startsWith(`${field}.`) || (name || "").startsWith(`${field}[`);
    const detail = this.details.find((d) => hit(d.field));
    if (detail) return detail.field === field ? detail.message : `${detail.field}: ${detail.message}`;
    return hit(this.field) ? this.message : null;
  }

  // The same error with `prefix` taken off its fields: a draft's dry run says "automation.name"
  // of what the form calls "name".
  unprefixed(prefix) {
    const strip = (name) => (name && name.startsWith(prefix) ? name.slice(prefix.length) : name);
    const details = this.details.map((d) => ({ ...d, field: strip(d.field) }));
    return new ApiError(this.status, { error: { code: this.code, message: this.message, field: strip(this.field), details } }, this.serial);
  }
}

// ---- validation messages in words --------------------------------------------------------------

// pydantic words a name's pattern as "String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'";
// the API may say it better itself, but whatever it says, the console shows words, not a regex.
export function readable(message) {
  if (typeof message !== "string") return message;
  return message.replace(/String should match pattern '([^']*)'/g, (_, pattern) => describePattern(pattern));
}

export function describePattern(pattern) {
  const words = patternWords(pattern);
  return words ? `may hold only ${words}` : `is not in the expected form (${pattern})`;
}

// "letters, digits, '_', '.' and '-', starting with a letter or a digit, up to 128 characters" for
// ^[first][rest]{m,n}$ and ^[rest]{m,n}$, the forms the API's names take; null for other patterns.
function patternWords(pattern) {
  const found = /^\^(?:\[([^\]]+)\])?\[([^\]]+)\]\{(\d+),(\d+)\}\$$/.exec(pattern);
  if (!found) return null;
  const [, first, rest, , most] = found;
  const longest = Number(most) + (first ? 1 : 0);
  const starting = first ? `, starting with ${listOf(charClass(first, true), "or")}` : "";
  return `${listOf(charClass(rest, false), "and")}${starting}, up to ${longest} characters`;
}

// The API's name patterns (layers/mlhooks/mlhooks/models/names.py and models/api.py), in words for
// the hints of the fields that take them: a name's rules are said before the API has to refuse it.
const NAME_PATTERNS = {
  project: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", // projects, registries and collections
  integration: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", // webhooks, Slack, run queues, sources
  slackConnect: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,53}$", // the same, 54 at most: <name>_bot_token names its secret
  username: "^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$",
  secret: "^[A-Za-z0-9_]{1,64}$",
  artifactType: "^[A-Za-z0-9_-]{1,64}$",
};
export const NAME_RULES = Object.fromEntries(Object.entries(NAME_PATTERNS).map(([kind, pattern]) => [kind, patternWords(pattern)]));

// The parts of a character class in words: ["letters", "digits", "'_'"] ("a letter", "a digit" for one).
function charClass(text, one) {
  const parts = [];
  let rest = text;
  const take = (range, many, single) => {
    if (!rest.includes(range)) return false;
    rest = rest.replace(range, "");
    parts.push(one ? single : many);
    return true;
  };
  const upper = rest.includes("A-Z");
  const lower = rest.includes("a-z");
  if (upper && lower) {
    rest = rest.replace("A-Z", "").replace("a-z", "");
    parts.push(one ? "a letter" : "letters");
  } else {
    take("A-Z", "capital letters", "a capital letter");
    take("a-z", "lower-case letters", "a lower-case letter");
  }
  take("0-9", "digits", "a digit");
  for (const char of rest.replace(/\\/g, "")) parts.push(`'${char}'`);
  return parts;
}

function listOf(parts, joiner) {
  return parts.length < 2 ? parts.join("") : `${parts.slice(0, -1).join(", ")} ${joiner} ${parts.at(-1)}`;
}

// The key lives in sessionStorage: for this browser tab's session only, never in a cookie.
export const session = {
  key: () => sessionStorage.getItem(KEY),
  start: (key) => sessionStorage.setItem(KEY, key),
  end: () => sessionStorage.removeItem(KEY),
};

let signedOut = () => {};
// Called when the API answers 401: the key was revoked or its member removed. With the error and
// the key the request was made with, which may no longer be the session's.
export function onSignedOut(callback) {
  signedOut = callback;
}

let forbidden = () => {};
// Called when the API answers 403: the key's role may have changed since sign-in (app.js reads
// GET /v1/me again, so that what the console shows follows the role the API enforces).
export function onForbidden(callback) {
  forbidden = callback;
}

let entityName = null;
export function setEntity(entity) {
  entityName = entity;
}

// "/webhooks" -> "v1/entities/<entity>/webhooks"; names in paths are encoded by the caller (`seg`).
export function entityPath(path) {
  return `v1/entities/${seg(entityName)}${path}`;
}

export const seg = (value) => encodeURIComponent(value);

export async function request(method, path, { body, query, key } = {}) {
  const url = new URL(path.replace(/^\//, ""), apiRoot);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const used = key || session.key();
  const headers = { Authorization: `Bearer ${used}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { error: { code: "unreachable", message: "mlhooks did not answer. Is it running?" } });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !key) signedOut(error, used);
    if (response.status === 403 && !key) forbidden(error);
    throw error;
  }
  return data;
}

export const get = (path, query) => request("GET", entityPath(path), { query });
export const post = (path, body = {}) => request("POST", entityPath(path), { body });
export const put = (path, body) => request("PUT", entityPath(path), { body });
export const patch = (path, body) => request("PATCH", entityPath(path), { body });
export const del = (path) => request("DELETE", entityPath(path));

// Every item of a paged list (up to `most`), following next_token.
export async function listAll(path, query = {}, most = 1000) {
  const items = [];
  let token = null;
  do {
    const page = await get(path, { ...query, limit: 100, next_token: token });
    items.push(...page.items);
    token = page.next_token;
  } while (token && items.length < most);
  return items;
}

export const me = (key) => request("GET", "v1/me", { key });
export const publish = (events) => request("POST", "v1/events", { body: { events } });
