// The Automations tab (#/automations?project=…): the automations of the entity or of one project or
// registry, each with its scope, event, action, an enabled switch, whether its action can deliver,
// and when it last executed. The editor is in automation-form.js.

import * as api from "../api.js";
import {
  Allowed,
  Badge,
  Button,
  ErrorBox,
  Loaded,
  Page,
  Select,
  Table,
  Times,
  When,
  href,
  html,
  navigate,
  notify,
  useAction,
  useAllowed,
  useEffect,
  useLoad,
  useState,
} from "../ui.js";
import { EVENT_TEXT, actionText, eventDetail, scopeText } from "./automation-model.js";

export { AutomationEditor } from "./automation-form.js";

const PAGE = 50;
// A filtered page may come back empty with a token to go on (README, "Lists page"): follow a few.
const EMPTY_PAGES_FOLLOWED = 10;

export function AutomationsPage({ query }) {
  const project = query.project || "";
  const projects = useLoad(() => api.listAll("/projects"), []);
  const registries = new Set((projects.data || []).filter((p) => p.registry).map((p) => p.name));
  return html`<${Page} title="Automations"
    subtitle="When something happens in a project, a registry or a collection, send a webhook, post to Slack or queue a job."
    actions=${html`<${Allowed} role="MEMBER"><a class="btn primary" href=${href("/automations/new", { project })}>New automation</a></${Allowed}>`}>
    <div class="toolbar">
      <${Select} label="Scope" name="project" value=${project} onValue=${(p) => navigate("/automations", { project: p })}
        options=${[
          ["", "Everything in the entity"],
          ...(project && !(projects.data || []).some((p) => p.name === project) ? [[project, project]] : []),
          ...(projects.data || []).map((p) => [p.name, p.registry ? `Registry ${p.name}` : `Project ${p.name}`]),
        ]} />
      ${projects.error ? html`<${ErrorBox} error=${projects.error} retrying=${projects.loading} onRetry=${() => projects.reload()} />` : null}
    </div>
    <${AutomationList} key=${project} project=${project} registries=${registries} />
  </${Page}>`;
}

// One page of automations at a time, appended by "Show more".
async function loadPage(project, token) {
  const items = [];
  let next = token;
  for (let pages = 0; pages < EMPTY_PAGES_FOLLOWED; pages++) {
    const page = await api.get("/automations", { project, limit: PAGE, next_token: next });
    items.push(...page.items);
    next = page.next_token;
    if (items.length || !next) break;
  }
  return { items, next };
}

function AutomationList({ project, registries }) {
  const first = useLoad(() => loadPage(project, null), [project]);
  const [rows, setRows] = useState([]);
  const [next, setNext] = useState(null);
  useEffect(() => {
    if (first.data) {
      setRows(first.data.items);
      setNext(first.data.next);
    }
  }, [first.data]);
  const more = useAction(async () => {
    const page = await loadPage(project, next);
    setRows((all) => [...all, ...page.items]);
    setNext(page.next);
  });
  // A switched automation comes back from the API: its row shows what the API now holds.
  const replace = (updated) => setRows((all) => all.map((a) => (a.id === updated.id ? updated : a)));

  const columns = [
    { label: "Name", render: (a) => html`<a href=${href(`/automations/${a.id}`)}>${a.name}</a>${a.description ? html`<div class="hint">${a.description}</div>` : null}` },
    { label: "Scope", render: (a) => scopeText(a.scope, registries) },
    { label: "Event", render: (a) => html`${EVENT_TEXT[a.event.type] || a.event.type}<div class="hint">${eventDetail(a.event)}</div>` },
    { label: "Action", render: (a) => actionText(a.action) },
    { label: "Enabled", render: (a) => html`<${EnabledSwitch} automation=${a} onChanged=${replace} />` },
    { label: "Action status", render: (a) => html`<${ActionStatus} status=${a.action_status} />` },
    {
      label: "Last execution",
      render: (a) =>
        a.last_executed_at
          ? html`<a href=${href("/history", { automation: a.id })} aria-label=${`History of ${a.name}`}><${When} at=${a.last_executed_at} /></a>`
          : html`<span class="muted">never</span>`,
    },
  ];
  return html`<${Loaded} load=${first}>
    ${() => html`<${Table} label="Automations" columns=${columns} rows=${rows} rowKey=${(a) => a.id}
        empty=${project ? `No automations in ${project} yet.` : "No automations yet."} />
      ${more.error ? html`<${ErrorBox} error=${more.error} />` : null}
      <div class="form-actions">
        ${rows.length || next ? html`<span class="muted">${rows.length} automation${rows.length === 1 ? "" : "s"}${next ? " so far" : ""}</span>` : null}
        ${next ? html`<${Button} busy=${more.busy} onClick=${() => more.run()}>Show more</${Button}>` : null}
      </div>`}
  </${Loaded}>`;
}

const STATUS_TONES = { READY: "ok", FAILING: "bad", DISABLED: "neutral" };

function ActionStatus({ status }) {
  return html`<${Badge} tone=${STATUS_TONES[status.state] || "neutral"}>${status.state.toLowerCase()}</${Badge}>
    ${status.reason ? html`<div class="hint"><${Times} text=${status.reason} /></div>` : null}`;
}

// A real checkbox, shown as a switch, that enables or disables at once; viewers see the state.
function EnabledSwitch({ automation, onChanged }) {
  const canWrite = useAllowed("MEMBER");
  const toggle = useAction(async (on) => {
    const updated = await api.post(`/automations/${api.seg(automation.id)}/${on ? "enable" : "disable"}`);
    onChanged(updated);
    notify(`${on ? "Enabled" : "Disabled"} “${updated.name}”.`);
  });
  if (!canWrite) return html`<${Badge} tone=${automation.enabled ? "ok" : "neutral"}>${automation.enabled ? "on" : "off"}</${Badge}>`;
  return html`<label class="automations-switch">
      <input type="checkbox" role="switch" checked=${automation.enabled} disabled=${toggle.busy} aria-busy=${toggle.busy ? "true" : undefined}
        aria-label=${`Enabled: ${automation.name}`} onChange=${(e) => toggle.run(e.currentTarget.checked)} />
      <span class="automations-track" aria-hidden="true"></span>
      ${toggle.busy ? html`<span class="spinner" aria-hidden="true"></span>` : null}
    </label>
    ${toggle.error ? html`<p class="field-error" role="alert">${toggle.error.message}</p>` : null}`;
}
