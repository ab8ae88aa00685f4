// Secrets: names and times only. A value goes in (create, rotate) and never comes back: the API
// never answers one, and this page drops what was typed as soon as it is sent.

import * as api from "../api.js";
import {
  Allowed,
  Button,
  ConfirmButton,
  FormError,
  Input,
  Loaded,
  Table,
  When,
  href,
  html,
  notify,
  useAction,
  useAllowed,
  useLoad,
  useState,
} from "../ui.js";
import { ActionPanel, SectionHead, submitting } from "./settings-common.js";

// Where each kind of user of a secret is managed.
const USER_TABS = { webhook: "webhooks", slack: "slack", source: "sources" };

export function SecretsSection() {
  const admin = useAllowed("ADMIN");
  const secrets = useLoad(() => api.listAll("/secrets"));
  const [rotating, setRotating] = useState(null);
  const reload = () => secrets.reload({ quiet: true });
  const columns = (items) => {
    const list = [{ label: "Name", render: (s) => html`<code>${s.name}</code>` }];
    // `used_by` is newer than the API's first secrets: shown when the API answers it.
    if (items.some((s) => "used_by" in s)) list.push({ label: "Used by", render: (s) => html`<${UsedBy} users=${s.used_by} />` });
    list.push(
      { label: "Value set", render: (s) => html`<${When} at=${s.updated_at} />` },
      { label: "Created", render: (s) => html`<${When} at=${s.created_at} />` },
    );
    if (admin) {
      list.push({
        label: "",
        className: "settings-row-actions",
        render: (s) => html`<span class="actions">
          <${Button} kind="small" aria-label=${`Rotate ${s.name}`} onClick=${() => setRotating(s.name)}>Rotate</${Button}>
          <${ConfirmButton}
            kind="danger small"
            aria-label=${`Delete ${s.name}`}
            title=${`Delete the secret ${s.name}?`}
            question="Its value is deleted from the vault. mlhooks refuses while a webhook, a Slack integration or a source uses it."
            onConfirm=${async () => {
              await api.del(`/secrets/${api.seg(s.name)}`);
              notify(`The secret ${s.name} was deleted.`);
              if (rotating === s.name) setRotating(null);
              reload();
            }}
          >Delete</${ConfirmButton}>
        </span>`,
      });
    }
    return list;
  };
  return html`<${SectionHead}
      title="Secrets"
      intro="Tokens and signing keys that webhooks, Slack and sources use, by name (\${NAME} in a payload). Values are write-only: nobody can read one back, here or through the API."
    />
    ${rotating ? html`<${Rotate} key=${rotating} name=${rotating} onClose=${() => setRotating(null)} onRotated=${reload} />` : null}
    <${Loaded} load=${secrets}>
      ${(items) => html`<${Table} label="Secrets" rowKey=${(s) => s.name} rows=${items} columns=${columns(items)} empty="No secret yet." />`}
    </${Loaded}>
    <${Allowed} role="ADMIN"><${NewSecret} onCreated=${reload} /></${Allowed}>`;
}

function UsedBy({ users }) {
  if (!users || !users.length) return html`<span class="muted">nothing</span>`;
  return html`<ul class="settings-plain-list">
    ${users.map((u) => {
      const tab = USER_TABS[u.kind];
      const text = `${u.kind} ${u.name}`;
      return html`<li key=${text}>${tab ? html`<a href=${href(`/settings/${tab}`)}>${text}</a>` : text}</li>`;
    })}
  </ul>`;
}

// The value field of both forms: a password field the browser is told not to remember.
function ValueInput({ label, value, onValue, error }) {
  return html`<${Input} label=${label} name="value" type="password" value=${value} onValue=${onValue} error=${error}
    required autocomplete="new-password" spellcheck="false"
    hint="At least 8 characters. Stored in the vault; never shown again, here or anywhere." />`;
}

function NewSecret({ onCreated }) {
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const create = useAction(async () => {
    try {
      const secret = await api.post("/secrets", { name: name.trim(), value });
      notify(`The secret ${secret.name} was saved.`);
      setName("");
      onCreated();
    } finally {
      setValue(""); // sent or refused, the value is not kept: type it again to retry
    }
  });
  return html`<form class="panel" onSubmit=${submitting(create)} aria-label="New secret" autocomplete="off">
    <h3>New secret</h3>
    <div class="columns">
      <${Input} label="Name" name="name" value=${name} onValue=${setName} error=${create.error} required autocomplete="off"
        hint=${`E.g. GITHUB_TOKEN, which payloads name as \${GITHUB_TOKEN}: ${api.NAME_RULES.secret}.`} />
      <${ValueInput} label="Value" value=${value} onValue=${setValue} error=${create.error} />
    </div>
    <${FormError} error=${create.error} fields=${["name", "value"]} />
    <div class="form-actions"><${Button} type="submit" kind="primary" busy=${create.busy}>Save secret</${Button}></div>
  </form>`;
}

function Rotate({ name, onClose, onRotated }) {
  const [value, setValue] = useState("");
  const rotate = useAction(async () => {
    try {
      await api.put(`/secrets/${api.seg(name)}`, { value });
      notify(`The secret ${name} has its new value: what uses it sends the new one from now on.`);
      onRotated();
      onClose();
    } finally {
      setValue("");
    }
  });
  return html`<${ActionPanel} title=${`Rotate ${name}`} onClose=${onClose}>
    <form onSubmit=${submitting(rotate)} aria-label=${`Rotate ${name}`} autocomplete="off">
      <p class="muted">The new value replaces the old one for every webhook, Slack integration and source using ${name}.</p>
      <${ValueInput} label="New value" value=${value} onValue=${setValue} error=${rotate.error} />
      <${FormError} error=${rotate.error} fields=${["value"]} />
      <div class="form-actions">
        <${Button} type="submit" kind="primary" busy=${rotate.busy}>Rotate</${Button}>
        <${Button} onClick=${onClose}>Cancel</${Button}>
      </div>
    </form>
  </${ActionPanel}>`;
}
