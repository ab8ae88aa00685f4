// Webhooks: where GENERIC_WEBHOOK automations deliver, the secrets each sends, and its health (a
// webhook that keeps failing is disabled, and an admin re-enables it). "Test" is W&B's "Test
// webhook": a payload sent, signed as a real delivery, and the endpoint's answer shown.

import * as api from "../api.js";
import {
  Allowed,
  Badge,
  Button,
  Checkbox,
  ConfirmButton,
  ErrorBox,
  FormError,
  Input,
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
import { ActionPanel, SectionHead, nameOptions, orNull, submitting, useNames } from "./settings-common.js";

const HEALTH_TONES = { HEALTHY: "ok", FAILING: "pending", DISABLED: "bad" };
const ENCODINGS = [
  ["hex", "hex (the current W&B guide)"],
  ["base64", "base64 (an older W&B guide)"],
];

export function WebhooksSection() {
  const admin = useAllowed("ADMIN");
  const webhooks = useLoad(() => api.listAll("/webhooks"));
  // What one row's Edit or Test opened: {mode: "edit" | "test", name}.
  const [open, setOpen] = useState(null);
  const close = () => setOpen(null);
  const reload = () => webhooks.reload({ quiet: true });
  const opened = open && (webhooks.data || []).find((w) => w.name === open.name);
  const columns = [
    {
      label: "Webhook",
      render: (w) => html`<strong>${w.name}</strong>
        <div><code class="settings-url">${w.url}</code></div>
        ${w.description ? html`<div class="muted">${w.description}</div>` : null}`,
    },
    { label: "Secrets", render: (w) => html`<${Attached} webhook=${w} />` },
    { label: "Health", render: (w) => html`<${Health} webhook=${w} />` },
  ];
  if (admin) {
    columns.push({
      label: "",
      className: "settings-row-actions",
      render: (w) => html`<span class="actions">
        <${Button} kind="small" aria-label=${`Test ${w.name}`} onClick=${() => setOpen({ mode: "test", name: w.name })}>Test</${Button}>
        <${Button} kind="small" aria-label=${`Edit ${w.name}`} onClick=${() => setOpen({ mode: "edit", name: w.name })}>Edit</${Button}>
        ${w.enabled ? null : html`<${Reenable} webhook=${w} onDone=${reload} />`}
        <${ConfirmButton}
          kind="danger small"
          aria-label=${`Delete ${w.name}`}
          title=${`Delete the webhook ${w.name}?`}
          question="mlhooks refuses while an automation delivers to it: delete those automations or point them elsewhere first."
          onConfirm=${async () => {
            await api.del(`/webhooks/${api.seg(w.name)}`);
            notify(`The webhook ${w.name} was deleted.`);
            if (open && open.name === w.name) close();
            reload();
          }}
        >Delete</${ConfirmButton}>
      </span>`,
    });
  }
  return html`<${SectionHead}
      title="Webhooks"
      intro="Endpoints that automations' GENERIC_WEBHOOK actions post to, signed as W&B signs (X-Wandb-Signature) and as Standard Webhooks. One that keeps failing is disabled until an admin re-enables it."
    />
    ${opened && open.mode === "test" ? html`<${TestPanel} key=${`test-${opened.name}`} webhook=${opened} onClose=${close} />` : null}
    ${opened && open.mode === "edit"
      ? html`<${ActionPanel} key=${`edit-${opened.name}`} title=${`Edit ${opened.name}`} onClose=${close}>
          <${WebhookForm} webhook=${opened} onSaved=${() => { close(); reload(); }} onCancel=${close} />
        </${ActionPanel}>`
      : null}
    <${Loaded} load=${webhooks}>
      ${(items) => html`<${Table} label="Webhooks" rowKey=${(w) => w.name} rows=${items} columns=${columns}
        empty="No webhook yet." />`}
    </${Loaded}>
    <${Allowed} role="ADMIN">
      <section class="panel" aria-label="New webhook">
        <h3>New webhook</h3>
        <${WebhookForm} onSaved=${reload} />
      </section>
    </${Allowed}>`;
}

function Attached({ webhook: w }) {
  const lines = [];
  if (w.access_token_secret) lines.push(html`<li>Bearer token: <code>${w.access_token_secret}</code></li>`);
  if (w.signing_secret) lines.push(html`<li>Signs with: <code>${w.signing_secret}</code> <span class="muted">(${w.signature_encoding})</span></li>`);
  if (w.secrets.length) lines.push(html`<li>In payloads: ${w.secrets.map((s, i) => html`${i ? ", " : ""}<code>${s}</code>`)}</li>`);
  if (w.alert_slack) lines.push(html`<li>Alerts: <a href=${href("/settings/slack")}>${w.alert_slack}</a></li>`);
  return lines.length ? html`<ul class="settings-plain-list">${lines}</ul>` : html`<span class="muted">none</span>`;
}

function Health({ webhook: w }) {
  const h = w.health;
  return html`<div class="settings-health">
    <${Badge} tone=${HEALTH_TONES[h.state] || "neutral"}>${w.enabled ? h.state : "DISABLED"}</${Badge}>
    ${w.enabled ? null : html`<div>Disabled <${When} at=${w.disabled_at} />${w.disabled_reason ? `: ${w.disabled_reason}` : ""}</div>`}
    ${h.consecutive_failures
      ? html`<div>${h.consecutive_failures} failed ${h.consecutive_failures === 1 ? "delivery" : "deliveries"} in a row, since <${When} at=${h.failing_since} /></div>`
      : null}
    ${h.last_error ? html`<div class="settings-error-text">Last error${h.last_failure_at ? html` (<${When} at=${h.last_failure_at} />)` : ""}: ${h.last_error}</div>` : null}
    ${h.alert
      ? html`<div>Slack alert to ${h.alert.slack}: ${h.alert.state.toLowerCase()} <${When} at=${h.alert.at} />${h.alert.error ? `: ${h.alert.error}` : ""}</div>`
      : null}
  </div>`;
}

function Reenable({ webhook, onDone }) {
  const enable = useAction(async () => {
    try {
      await api.patch(`/webhooks/${api.seg(webhook.name)}`, { enabled: true });
    } catch (error) {
      notify(`${webhook.name} was not re-enabled: ${error.message}`, "bad");
      throw error;
    }
    notify(`The webhook ${webhook.name} is enabled again; its failure count starts afresh.`);
    onDone();
  });
  return html`<${Button} kind="small" busy=${enable.busy} aria-label=${`Re-enable ${webhook.name}`} onClick=${() => enable.run()}>Re-enable</${Button}>`;
}

// The form's fields: a webhook's, or a new one's ("" for none).
const fieldsOf = (w) => ({
  name: "",
  url: w ? w.url : "",
  description: w ? w.description : "",
  access_token_secret: (w && w.access_token_secret) || "",
  signing_secret: (w && w.signing_secret) || "",
  signature_encoding: w ? w.signature_encoding : "hex",
  secrets: w ? w.secrets : [],
  alert_slack: (w && w.alert_slack) || "",
});

// Create (no `webhook`) or edit one. Edits send every field, `null` removing an optional secret.
function WebhookForm({ webhook, onSaved, onCancel }) {
  const editing = Boolean(webhook);
  const [form, setForm] = useState(() => fieldsOf(webhook));
  const set = (field) => (value) => setForm((f) => ({ ...f, [field]: value }));
  const secrets = useNames("/secrets");
  const slack = useNames("/slack");
  const save = useAction(async () => {
    const body = {
      url: form.url.trim(),
      description: form.description,
      access_token_secret: orNull(form.access_token_secret),
      signing_secret: orNull(form.signing_secret),
      signature_encoding: form.signature_encoding,
      secrets: form.secrets,
      alert_slack: orNull(form.alert_slack),
    };
    if (editing) {
      await api.patch(`/webhooks/${api.seg(webhook.name)}`, body);
      notify(`The webhook ${webhook.name} was saved.`);
    } else {
      const created = await api.post("/webhooks", { name: form.name.trim(), ...body });
      notify(`The webhook ${created.name} was created. Test it from its row.`);
      setForm(fieldsOf(null));
    }
    onSaved();
  });
  const toggle = (name) => (on) => set("secrets")(on ? [...form.secrets, name] : form.secrets.filter((s) => s !== name));
  // A refused payload secret comes back as `secrets[i]`: shown on the group.
  const secretsError = save.error && (save.error.field || "").startsWith("secrets") ? save.error.message : null;
  const error = save.error;
  const noSecrets = secrets.data && !secrets.data.length;
  return html`<form onSubmit=${submitting(save)} aria-label=${editing ? `Edit ${webhook.name}` : "New webhook"}>
    <div class="columns">
      ${editing ? null : html`<${Input} label="Name" name="name" value=${form.name} onValue=${set("name")} error=${error} required autocomplete="off"
        hint=${`What automations call it: ${api.NAME_RULES.integration}.`} />`}
      <${Input} label="URL" name="url" type="url" value=${form.url} onValue=${set("url")} error=${error} required
        hint="The endpoint that receives the POST (https; 127.0.0.1 only where the stack allows it)." />
      <${Input} label="Description" name="description" value=${form.description} onValue=${set("description")} error=${error} />
      <${Select} label="Access token secret" name="access_token_secret" value=${form.access_token_secret}
        onValue=${set("access_token_secret")} options=${nameOptions(secrets.data, "— none —")} error=${error}
        hint="Sent as Authorization: Bearer <its value>, and usable as \${ACCESS_TOKEN} in payloads." />
      <${Select} label="Signing secret" name="signing_secret" value=${form.signing_secret}
        onValue=${set("signing_secret")} options=${nameOptions(secrets.data, "— none —")} error=${error}
        hint="Signs each delivery: X-Wandb-Signature, and Standard Webhooks' webhook-signature." />
      <${Select} label="Signature encoding" name="signature_encoding" value=${form.signature_encoding}
        onValue=${set("signature_encoding")} options=${ENCODINGS} error=${error}
        hint="How X-Wandb-Signature is written; match what your receiver checks." />
      <${Select} label="Alert Slack integration" name="alert_slack" value=${form.alert_slack}
        onValue=${set("alert_slack")} options=${nameOptions(slack.data, "— none —")} error=${error}
        hint="Told in its channel when this webhook is disabled for failing." />
    </div>
    <fieldset class=${`settings-checks ${secretsError ? "invalid" : ""}`}>
      <legend>Secrets payloads may use</legend>
      ${noSecrets ? html`<p class="hint">No secret yet: <a href=${href("/settings/secrets")}>create one under Secrets</a>.</p>` : null}
      ${(secrets.data || []).map((name) => html`<${Checkbox} key=${name} label=${name} checked=${form.secrets.includes(name)} onValue=${toggle(name)} />`)}
      <p class="hint">Each becomes \${NAME} in the payloads of automations that use this webhook.</p>
      ${secretsError ? html`<p class="field-error" role="alert">${secretsError}</p>` : null}
    </fieldset>
    ${secrets.error ? html`<${ErrorBox} error=${secrets.error} retrying=${secrets.loading} onRetry=${() => secrets.reload()} />` : null}
    ${secretsError ? null : html`<${FormError} error=${error} fields=${["name", "url", "description", "access_token_secret", "signing_secret", "signature_encoding", "alert_slack"]} />`}
    <div class="form-actions">
      <${Button} type="submit" kind="primary" busy=${save.busy}>${editing ? "Save" : "Create webhook"}</${Button}>
      ${onCancel ? html`<${Button} onClick=${onCancel}>Cancel</${Button}>` : null}
    </div>
  </form>`;
}

// W&B's "Test webhook": an optional payload template, sent signed; the endpoint's answer shown.
function TestPanel({ webhook, onClose }) {
  const [payload, setPayload] = useState("");
  const [result, setResult] = useState(null);
  const test = useAction(async () => {
    setResult(null);
    // The API takes the template as JSON text and says where it is not JSON (field `payload`).
    const answer = await api.post(`/webhooks/${api.seg(webhook.name)}/test`, payload.trim() ? { payload } : {});
    setResult(answer);
  });
  return html`<${ActionPanel} title=${`Test ${webhook.name}`} onClose=${onClose} className="settings-test">
    <form onSubmit=${submitting(test)} aria-label=${`Test ${webhook.name}`}>
      <p class="muted">Sends one POST to <code>${webhook.url}</code>, with its secrets and signatures, as a real delivery
        would; no automation or execution is involved.</p>
      <${TextArea} label="Payload (JSON, optional)" name="payload" value=${payload} onValue=${setPayload} error=${test.error} rows=${6}
        placeholder=${'{"event_type": "${event_type}", "version": "${artifact_version_string}"}'}
        hint="Empty: a sample payload. \${variables} get sample values; the webhook's secrets are \${NAME}." />
      <${FormError} error=${test.error} fields=${["payload"]} />
      <div class="form-actions">
        <${Button} type="submit" kind="primary" busy=${test.busy}>Send test</${Button}>
      </div>
    </form>
    ${result ? html`<${TestResult} result=${result} />` : null}
  </${ActionPanel}>`;
}

function TestResult({ result }) {
  const headers = Object.entries(result.headers || {});
  return html`<section class="settings-result" role="region" aria-label="Endpoint's answer">
    <h4>The endpoint's answer</h4>
    <p class="settings-result-line">
      <${Badge} tone=${result.ok ? "ok" : "bad"}>${result.ok ? "delivered" : "not delivered"}</${Badge}>
      <span>Status <strong>${result.status_code ?? "none"}</strong></span>
      <span>in <strong>${result.duration_ms} ms</strong></span>
      ${result.ok ? null : html`<span class="muted">${result.retryable ? "A real delivery would try again." : "A real delivery would not try again."}</span>`}
    </p>
    ${result.error
      ? html`<div class="error-box" role="alert"><strong>${(result.error_class || "error").replaceAll("_", " ")}:</strong> ${result.error}</div>`
      : null}
    ${headers.length
      ? html`<details class="settings-headers">
          <summary>Response headers (${headers.length})</summary>
          <dl class="settings-dl">${headers.map(([name, value]) => html`<dt>${name}</dt><dd><code>${value}</code></dd>`)}</dl>
        </details>`
      : null}
    <h5>Body</h5>
    ${result.body_excerpt ? html`<pre class="json" tabindex="0" aria-label="Response body">${result.body_excerpt}</pre>` : html`<p class="muted">No body.</p>`}
  </section>`;
}
