// API keys: admins see and manage every key of the team; every other member sees, makes and revokes
// their own (the API's rule). A new key is shown once: only its hash is stored.

import * as api from "../api.js";
import {
  Badge,
  Button,
  Checkbox,
  ConfirmButton,
  FormError,
  Input,
  Loaded,
  Select,
  ShownOnce,
  Table,
  When,
  html,
  notify,
  useAction,
  useAllowed,
  useLoad,
  useSession,
  useState,
} from "../ui.js";
import { SectionHead, submitting, useNames } from "./settings-common.js";

export function ApiKeysSection() {
  const { identity } = useSession();
  const admin = useAllowed("ADMIN");
  const keys = useLoad(() => api.listAll("/api-keys"));
  const [created, setCreated] = useState(null);
  const reload = () => keys.reload({ quiet: true });
  const columns = [
    { label: "Name", render: (k) => html`<strong>${k.name}</strong>` },
    { label: "Member", render: (k) => k.member },
    { label: "Starts with", render: (k) => html`<code>${k.prefix}</code>` },
    {
      label: "Kind",
      render: (k) => html`${k.service ? html`<${Badge} tone="pending" title="May publish events naming any author">service key</${Badge}>` : html`<${Badge}>member key</${Badge}>`}
        ${k.id === identity.key_id ? html` <${Badge} tone="ok">signed in with it</${Badge}>` : null}`,
    },
    { label: "Created", render: (k) => html`<${When} at=${k.created_at} />` },
    {
      label: "",
      className: "settings-row-actions",
      render: (k) => html`<${ConfirmButton}
        kind="danger small"
        aria-label=${`Revoke ${k.name}`}
        title=${`Revoke the key ${k.name}?`}
        question=${k.id === identity.key_id
          ? "This is the key this console is signed in with: revoking it signs you out, and whatever else uses it stops working at once."
          : `Whatever uses ${k.member}'s key ${k.name} (${k.prefix}…) stops working at once. This cannot be undone.`}
        confirm="Revoke"
        onConfirm=${async () => {
          await api.del(`/api-keys/${api.seg(k.id)}`);
          notify(`The key ${k.name} was revoked.`);
          reload();
        }}
      >Revoke</${ConfirmButton}>`,
    },
  ];
  return html`<${SectionHead}
      title="API keys"
      intro=${admin
        ? "Every key of the team. A key acts as its member, with their role; a service key may also publish events on behalf of any author."
        : "Your own keys: each acts as you, with your role. Admins see and manage every key of the team."}
    />
    ${created
      ? html`<${ShownOnce} label=${`API key ${created.name} for ${created.member}`} value=${created.key} onDone=${() => setCreated(null)} />`
      : null}
    <${Loaded} load=${keys}>
      ${(items) => html`<${Table} label="API keys" rowKey=${(k) => k.id} rows=${items} columns=${columns} empty="No API key." />`}
    </${Loaded}>
    <${NewKey} admin=${admin} me=${identity.username} onCreated=${(key) => { setCreated(key); reload(); }} />`;
}

function NewKey({ admin, me, onCreated }) {
  const [name, setName] = useState("");
  const [member, setMember] = useState(me);
  const [service, setService] = useState(false);
  const members = useNames("/members", admin);
  const create = useAction(async () => {
    const body = { name: name.trim() };
    if (admin) Object.assign(body, { member, service });
    const key = await api.post("/api-keys", body);
    notify(`The key ${key.name} was created: copy it now.`);
    setName("");
    setService(false);
    onCreated(key);
  });
  const memberOptions = (members.data || [me]).map((username) => [username, username === me ? `${username} (you)` : username]);
  return html`<form class="panel" onSubmit=${submitting(create)} aria-label="Create an API key">
    <h3>Create an API key</h3>
    <div class="columns">
      <${Input} label="Name" name="name" value=${name} onValue=${setName} error=${create.error} required autocomplete="off"
        hint="What uses it, to recognise it later: ci, laptop, training-cluster…" />
      ${admin ? html`<${Select} label="Member" name="member" value=${member} onValue=${setMember} options=${memberOptions} error=${create.error}
        hint="The key acts as this member, with their role." />` : null}
    </div>
    ${admin ? html`<${Checkbox} label="Service key" name="service" checked=${service} onValue=${setService}
      hint="For a platform that publishes events on behalf of its users: its events may name any author." />` : null}
    <${FormError} error=${create.error} fields=${admin ? ["name", "member"] : ["name"]} />
    <div class="form-actions"><${Button} type="submit" kind="primary" busy=${create.busy}>Create key</${Button}></div>
  </form>`;
}
