// Sources: the platforms whose own events become mlhooks events (MLflow's and W&B's webhooks,
// SageMaker's events on the account's bus). Registering one answers where the platform delivers
// and what to set up on its side; the deliveries log says what each delivery became, and why not.

import * as api from "../api.js";
import {
  Allowed,
  Badge,
  Button,
  ConfirmButton,
  FormError,
  Input,
  Json,
  Loaded,
  Select,
  Table,
  TextArea,
  When,
  href,
  html,
  notify,
  useAction,
  useAllowed,
  useLoad,
  useState,
} from "../ui.js";
import { ActionPanel, CopyButton, Dash, SectionHead, nameOptions, submitting, useNames } from "./settings-common.js";

const KINDS = [
  ["mlflow", "MLflow (registry webhooks, MLflow 3.3 and later)"],
  ["wandb", "W&B (its automations' webhooks)"],
  ["sagemaker", "SageMaker (events on the account's default bus)"],
];
// The fields each kind takes (SourceSpec's KIND_FIELDS); the API refuses any other.
const KIND_FIELDS = {
  mlflow: ["signing_secret", "project", "version_event", "author"],
  wandb: ["signing_secret", "access_token_secret"],
  sagemaker: ["account", "region", "project", "project_tag", "match_tags", "version_event", "author"],
};
const DEFAULT_PROJECT = { mlflow: "mlflow-registry", sagemaker: "sagemaker" };
const VERSION_EVENTS = [
  ["", "LINK_ARTIFACT (default): a model linked into a registry"],
  ["CREATE_ARTIFACT", "CREATE_ARTIFACT: an artifact version created"],
];
const OUTCOMES = [
  ["", "Every outcome"],
  ["accepted", "accepted"],
  ["duplicate", "duplicate"],
  ["ignored", "ignored"],
  ["rejected", "rejected"],
];
const OUTCOME_TONES = { accepted: "ok", duplicate: "neutral", ignored: "pending", rejected: "bad" };

export function SourcesSection() {
  const admin = useAllowed("ADMIN");
  const sources = useLoad(() => api.listAll("/sources"));
  // What a row opened: {mode: "setup" | "deliveries", source}.
  const [open, setOpen] = useState(null);
  const close = () => setOpen(null);
  const reload = () => sources.reload({ quiet: true });
  const columns = [
    {
      label: "Name",
      render: (s) => html`<strong>${s.name}</strong>${s.description ? html`<div class="muted">${s.description}</div>` : null}`,
    },
    { label: "Kind", render: (s) => html`<${Badge}>${s.kind}</${Badge}>` },
    {
      label: "Project",
      render: (s) => (s.kind === "wandb" ? html`<span class="muted">each event's own</span>` : s.project || DEFAULT_PROJECT[s.kind] || html`<${Dash} />`),
    },
    { label: "Created", render: (s) => html`<${When} at=${s.created_at} /> <span class="muted">by ${s.created_by}</span>` },
    {
      label: "",
      className: "settings-row-actions",
      render: (s) => html`<span class="actions">
        <${Button} kind="small" aria-label=${`Setup of ${s.name}`} onClick=${() => setOpen({ mode: "setup", source: s })}>Setup</${Button}>
        <${Button} kind="small" aria-label=${`Deliveries of ${s.name}`} onClick=${() => setOpen({ mode: "deliveries", source: s })}>Deliveries</${Button}>
        ${admin
          ? html`<${ConfirmButton}
              kind="danger small"
              aria-label=${`Delete ${s.name}`}
              title=${`Delete the source ${s.name}?`}
              question=${`Deliveries to its inbound URL are refused from now on, and its delivery log goes with it. Its secrets stay.`}
              onConfirm=${async () => {
                await api.del(`/sources/${api.seg(s.name)}`);
                notify(`The source ${s.name} was deleted.`);
                if (open && open.source.name === s.name) close();
                reload();
              }}
            >Delete</${ConfirmButton}>`
          : null}
      </span>`,
    },
  ];
  return html`<${SectionHead}
      title="Sources"
      intro="Platforms whose own events become mlhooks events: MLflow's registry webhooks, W&B's automations, SageMaker's state changes. Each delivery is verified with the source's secrets, then recorded."
    />
    ${open && open.mode === "setup"
      ? html`<${ActionPanel} key=${`setup-${open.source.name}`} title=${`Set up ${open.source.name}`} onClose=${close}>
          <${Setup} source=${open.source} />
        </${ActionPanel}>`
      : null}
    ${open && open.mode === "deliveries" ? html`<${Deliveries} key=${`log-${open.source.name}`} source=${open.source} onClose=${close} />` : null}
    <${Loaded} load=${sources}>
      ${(items) => html`<${Table} label="Sources" rowKey=${(s) => s.name} rows=${items} columns=${columns} empty="No source yet." />`}
    </${Loaded}>
    <${Allowed} role="ADMIN">
      <${NewSource} onCreated=${(source) => { reload(); setOpen({ mode: "setup", source }); }} />
    </${Allowed}>`;
}

// ---- registering ------------------------------------------------------------------------------------

const EMPTY = {
  name: "", description: "", signing_secret: "", access_token_secret: "", project: "", version_event: "",
  author: "", account: "", region: "", project_tag: "", match_tags: "",
};

// "team=ml\nstage = prod" -> {team: "ml", stage: "prod"}; a line without "=" is left for the API to
// refuse by its key, so the mistake is named.
function parseTags(text) {
  const tags = {};
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf("=");
    if (at < 0) tags[line] = "";
    else tags[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return tags;
}

function NewSource({ onCreated }) {
  const [kind, setKind] = useState("mlflow");
  const [form, setForm] = useState(EMPTY);
  const set = (field) => (value) => setForm((f) => ({ ...f, [field]: value }));
  const secrets = useNames("/secrets");
  const takes = (field) => KIND_FIELDS[kind].includes(field);
  const create = useAction(async () => {
    // Only what this kind takes, and only what was filled in: the API's defaults stand for the rest.
    const body = { name: form.name.trim(), kind, description: form.description };
    for (const field of KIND_FIELDS[kind]) {
      const value = form[field].trim();
      if (value) body[field] = field === "match_tags" ? parseTags(value) : value;
    }
    const source = await api.post("/sources", body);
    notify(`The source ${source.name} was registered: set it up on the platform's side.`);
    setForm(EMPTY);
    onCreated(source);
  });
  const error = create.error;
  const secretSelect = (field, label, none, hint) =>
    html`<${Select} label=${label} name=${field} value=${form[field]} onValue=${set(field)} error=${error}
      options=${nameOptions(secrets.data, none)} hint=${hint} required=${kind === "mlflow" && field === "signing_secret"} />`;
  return html`<form class="panel" onSubmit=${submitting(create)} aria-label="Register a source">
    <h3>Register a source</h3>
    <div class="columns">
      <${Select} label="Platform" name="kind" value=${kind} onValue=${setKind} options=${KINDS} error=${error} />
      <${Input} label="Name" name="name" value=${form.name} onValue=${set("name")} error=${error} required autocomplete="off"
        hint=${`Part of its inbound URL: ${api.NAME_RULES.integration}.`} />
      <${Input} label="Description" name="description" value=${form.description} onValue=${set("description")} error=${error} />
      ${takes("signing_secret")
        ? secretSelect("signing_secret", "Signing secret", kind === "mlflow" ? "— choose a secret —" : "— none —",
            kind === "mlflow" ? "The secret MLflow's webhook signs with (X-MLflow-Signature)." : "The secret the W&B webhook signs with (X-Wandb-Signature).")
        : null}
      ${takes("access_token_secret")
        ? secretSelect("access_token_secret", "Access token secret", "— none —",
            "The token W&B sends as Authorization: Bearer. W&B needs this, the signing secret, or both.")
        : null}
      ${takes("account")
        ? html`<${Input} label="AWS account" name="account" value=${form.account} onValue=${set("account")} error=${error} required
            inputmode="numeric" autocomplete="off" hint="The 12 digits of the account whose SageMaker events to take." />`
        : null}
      ${takes("region")
        ? html`<${Input} label="Region" name="region" value=${form.region} onValue=${set("region")} error=${error} required
            autocomplete="off" placeholder="us-east-1" />`
        : null}
      ${takes("project")
        ? html`<${Input} label="Project" name="project" value=${form.project} onValue=${set("project")} error=${error} autocomplete="off"
            placeholder=${DEFAULT_PROJECT[kind]} hint=${`The project that receives its events (default ${DEFAULT_PROJECT[kind]}).`} />`
        : null}
      ${takes("project_tag")
        ? html`<${Input} label="Project tag" name="project_tag" value=${form.project_tag} onValue=${set("project_tag")} error=${error}
            autocomplete="off" placeholder="mlhooks:project" hint="A training job tag whose value names the project instead." />`
        : null}
      ${takes("version_event")
        ? html`<${Select} label="A new model version is" name="version_event" value=${form.version_event} onValue=${set("version_event")}
            options=${VERSION_EVENTS} error=${error} />`
        : null}
      ${takes("author")
        ? html`<${Input} label="Author" name="author" value=${form.author} onValue=${set("author")} error=${error} autocomplete="off"
            placeholder=${kind} hint=${`\${event_author} when the platform names no one (default ${kind}).`} />`
        : null}
    </div>
    ${takes("match_tags")
      ? html`<${TextArea} label="Only training jobs tagged" name="match_tags" value=${form.match_tags} onValue=${set("match_tags")}
          error=${error} rows=${3} placeholder="team=ml" hint="One key=value per line (up to 10); empty: every training job." />`
      : null}
    ${secrets.data && !secrets.data.length && kind !== "sagemaker"
      ? html`<p class="hint">No secret yet: <a href=${href("/settings/secrets")}>create the one the platform signs with</a> first.</p>`
      : null}
    <${FormError} error=${error} fields=${["name", "kind", "description", ...KIND_FIELDS[kind]]} />
    <div class="form-actions"><${Button} type="submit" kind="primary" busy=${create.busy}>Register source</${Button}></div>
  </form>`;
}

// ---- what to set up on the platform's side -----------------------------------------------------------

function Setup({ source }) {
  const setup = source.setup || {};
  const known = { mlflow_webhook: MlflowSetup, wandb_webhook: WandbSetup, payload_templates: WandbTemplates, eventbridge_rule: EventBridgeSetup };
  return html`<div class="settings-setup">
    ${source.inbound_url
      ? html`<div class="settings-inbound">
          <span>Inbound URL</span> <code>${source.inbound_url}</code> <${CopyButton} text=${source.inbound_url} label="Copy URL" />
          <p class="hint">Where the platform posts. It takes no API key: the source's secrets verify each delivery.</p>
        </div>`
      : null}
    ${Object.entries(setup).map(([key, value]) => {
      const Part = known[key];
      return Part ? html`<${Part} key=${key} value=${value} source=${source} />` : html`<h4 key=${key}>${key}</h4><${Json} value=${value} />`;
    })}
  </div>`;
}

function MlflowSetup({ value }) {
  return html`<h4>In MLflow: create the webhook</h4>
    <dl class="settings-dl">
      <dt>URL</dt><dd><code>${value.url}</code></dd>
      <dt>Events</dt><dd>${value.events.map((e, i) => html`${i ? ", " : ""}<code>${e}</code>`)}</dd>
      <dt>Secret</dt><dd>${value.secret}</dd>
    </dl>
    <p>With MLflow's client: <${CopyButton} text=${value.python} label="Copy code" /></p>
    <pre class="json" tabindex="0">${value.python}</pre>`;
}

function WandbSetup({ value }) {
  return html`<h4>In W&B: add a webhook (Team settings → Webhooks)</h4>
    <dl class="settings-dl">
      <dt>URL</dt><dd><code>${value.url}</code></dd>
      <dt>Secret</dt><dd>${value.secret ? html`the value of the secret <code>${value.secret}</code>` : html`<${Dash} />`}</dd>
      <dt>Access token</dt><dd>${value.access_token ? html`the value of the secret <code>${value.access_token}</code>` : html`<${Dash} />`}</dd>
    </dl>`;
}

function WandbTemplates({ value }) {
  return html`<h4>In W&B: one automation per event, with this payload</h4>
    <p class="hint">Each W&B automation sends its event to the webhook above; paste the payload for its event type.</p>
    ${Object.entries(value).map(([eventType, template]) => html`<details key=${eventType} class="settings-template">
      <summary><code>${eventType}</code></summary>
      <${CopyButton} text=${template} label="Copy payload" />
      <pre class="json" tabindex="0">${template}</pre>
    </details>`)}`;
}

function EventBridgeSetup({ value }) {
  return html`<h4>In AWS: the EventBridge rule that carries SageMaker's events</h4>
    ${value.enabled
      ? html`<p class="ok-box">This stack's rule is on: SageMaker's events from this account and region reach mlhooks.</p>`
      : html`<p class="error-box">This stack does not take SageMaker's events yet. The operator turns the rule
          on with <code>${value.enable_with}</code>.</p>`}
    <dl class="settings-dl">
      <dt>Bus</dt><dd><code>${value.bus}</code></dd>
      <dt>Source</dt><dd><code>${value.source}</code></dd>
      <dt>Detail types</dt><dd>${value.detail_types.map((d, i) => html`${i ? ", " : ""}<code>${d}</code>`)}</dd>
      <dt>Account</dt><dd><code>${value.account}</code></dd>
      <dt>Region</dt><dd><code>${value.region}</code></dd>
    </dl>`;
}

// ---- the deliveries log --------------------------------------------------------------------------------

function Deliveries({ source, onClose }) {
  const [outcome, setOutcome] = useState("");
  const log = useLoad(() => api.listAll(`/sources/${api.seg(source.name)}/deliveries`, { outcome }, 200), [source.name, outcome]);
  return html`<${ActionPanel} title=${`Deliveries of ${source.name}`} onClose=${onClose}>
    <div class="toolbar">
      <${Select} label="Outcome" name="outcome" value=${outcome} onValue=${setOutcome} options=${OUTCOMES} />
      <${Button} busy=${log.loading && log.data !== undefined} onClick=${() => log.reload()}>Refresh</${Button}>
    </div>
    <${Loaded} load=${log}>
      ${(items) => html`<${Table}
        label=${`Deliveries of ${source.name}`}
        rowKey=${(d) => d.id}
        rows=${items}
        empty=${outcome ? `No ${outcome} delivery in the last days.` : "Nothing delivered yet (deliveries are kept 14 days; unverified ones a day)."}
        columns=${[
          { label: "Received", render: (d) => html`<${When} at=${d.received_at} />` },
          { label: "Outcome", render: (d) => html`<${Badge} tone=${OUTCOME_TONES[d.outcome]}>${d.outcome}</${Badge}>` },
          {
            label: "Platform's event",
            render: (d) => html`${d.platform_event ? html`<code>${d.platform_event}</code>` : html`<${Dash} />`}
              ${d.platform_delivery_id ? html`<div class="muted">${d.platform_delivery_id}</div>` : null}`,
          },
          { label: "What it became", render: (d) => html`<${Became} delivery=${d} />` },
        ]}
      />`}
    </${Loaded}>
  </${ActionPanel}>`;
}

function Became({ delivery }) {
  const events = delivery.events || [];
  return html`${delivery.reason ? html`<div>${delivery.reason}</div>` : null}
    ${events.length
      ? html`<ul class="settings-plain-list">
          ${events.map((e) => html`<li key=${e.event_id}>
            <code>${e.detail_type}</code> in ${e.project}${e.collection ? ` / ${e.collection}` : ""}${e.run ? `, run ${e.run}` : ""}
            ${e.published ? null : html` <span class="muted">(published before)</span>`}
          </li>`)}
        </ul>`
      : null}
    ${!delivery.reason && !events.length ? html`<${Dash} />` : null}`;
}
