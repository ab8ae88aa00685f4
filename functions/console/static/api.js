// The public API, called as any client calls it: `Authorization: Bearer <key>`, JSON in and out.
// The console is served at <API>/console/, so the API is found one level up from the page's base.

const KEY = "mlhooks.apiKey";
export const apiRoot = new URL("../", document.baseURI);

// A refusal as the API words it: {"error": {"code", "message", "field", "details"}}.
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The API answered ${status} without saying why.`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.field = error.field || null;
    this.details = error.details || [];
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
    return new ApiError(this.status, { error: { code: this.code, message: this.message, field: strip(this.field), details } });
  }
}

// The key lives in sessionStorage: for this browser tab's session only, never in a cookie.
export const session = {
  key: () => sessionStorage.getItem(KEY),
  start: (key) => sessionStorage.setItem(KEY, key),
  end: () => sessionStorage.removeItem(KEY),
};

let signedOut = () => {};
// Called when the API answers 401: the key was revoked or its member removed.
export function onSignedOut(callback) {
  signedOut = callback;
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
  const headers = { Authorization: `Bearer ${key || session.key()}` };
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
    if (response.status === 401 && !key) signedOut(error);
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
