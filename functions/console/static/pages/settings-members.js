// Members: who is on the team and their role. Admins add members, change roles and remove members
// (which revokes their API keys too).

import * as api from "../api.js";
import {
  Allowed,
  Badge,
  Button,
  ConfirmButton,
  FormError,
  Input,
  Loaded,
  ROLES,
  Select,
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
import { SectionHead, submitting } from "./settings-common.js";

const ROLE_OPTIONS = ROLES.map((role) => [role, role]);
const ROLE_MEANINGS =
  "VIEWER reads everything; MEMBER also makes and edits automations, retries executions and publishes " +
  "events; ADMIN also manages the team, its API keys, secrets and integrations.";

export function MembersSection() {
  const { identity } = useSession();
  const admin = useAllowed("ADMIN");
  const members = useLoad(() => api.listAll("/members"));
  const reload = () => members.reload({ quiet: true });
  const columns = [
    {
      label: "Member",
      render: (m) => html`<strong>${m.username}</strong>${m.username === identity.username ? html` <${Badge}>you</${Badge}>` : null}`,
    },
    {
      label: "Role",
      render: (m) => (admin ? html`<${RoleSelect} member=${m} self=${m.username === identity.username} onChanged=${reload} />` : html`<${Badge}>${m.role}</${Badge}>`),
    },
    { label: "Added", render: (m) => html`<${When} at=${m.created_at} />` },
  ];
  if (admin) {
    columns.push({
      label: "",
      className: "settings-row-actions",
      render: (m) => html`<${ConfirmButton}
        kind="danger small"
        aria-label=${`Remove ${m.username}`}
        title=${`Remove ${m.username}?`}
        question=${`${m.username} leaves ${identity.entity}, and every API key of theirs is revoked with them: ` +
          "whatever uses those keys stops working at once." +
          (m.username === identity.username ? " That includes the key you are signed in with." : "")}
        confirm="Remove member"
        onConfirm=${async () => {
          await api.del(`/members/${api.seg(m.username)}`);
          notify(`${m.username} was removed, with their API keys.`);
          reload();
        }}
      >Remove</${ConfirmButton}>`,
    });
  }
  return html`<${SectionHead} title="Members" intro=${ROLE_MEANINGS} />
    <${Loaded} load=${members}>
      ${(items) => html`<${Table} label="Members" rowKey=${(m) => m.username} rows=${items} columns=${columns} />`}
    </${Loaded}>
    <${Allowed} role="ADMIN"><${AddMember} onAdded=${reload} /></${Allowed}>`;
}

// A member's role, changed as soon as another is picked; the API's refusal (the last admin) shows
// under it and the select goes back to the role the member has.
function RoleSelect({ member, self, onChanged }) {
  const { refresh } = useSession();
  const [picked, setPicked] = useState(null);
  const change = useAction(async (role) => {
    await api.patch(`/members/${api.seg(member.username)}`, { role });
    notify(`${member.username} is now ${role}.`);
    await onChanged();
    // The console shows what the signed-in key may do: after changing one's own role, read it anew.
    if (self) await refresh();
  });
  const pick = async (role) => {
    setPicked(role);
    await change.run(role);
    setPicked(null);
  };
  return html`<${Select}
    className="settings-inline"
    label=${`Role of ${member.username}`}
    name="role"
    value=${picked || member.role}
    onValue=${pick}
    options=${ROLE_OPTIONS}
    error=${change.error}
    disabled=${change.busy}
  />`;
}

function AddMember({ onAdded }) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState("MEMBER");
  const add = useAction(async () => {
    const member = await api.post("/members", { username: username.trim(), role });
    notify(`${member.username} was added as ${member.role}. Make them an API key under API keys.`);
    setUsername("");
    onAdded();
  });
  return html`<form class="panel" onSubmit=${submitting(add)} aria-label="Add a member">
    <h3>Add a member</h3>
    <div class="columns">
      <${Input} label="Username" name="username" value=${username} onValue=${setUsername} error=${add.error} required
        autocomplete="off" hint=${`As your platform names them (W&B usernames work): ${api.NAME_RULES.username}.`} />
      <${Select} label="Role" name="role" value=${role} onValue=${setRole} options=${ROLE_OPTIONS} error=${add.error} />
    </div>
    <${FormError} error=${add.error} fields=${["username", "role"]} />
    <div class="form-actions"><${Button} type="submit" kind="primary" busy=${add.busy}>Add member</${Button}></div>
  </form>`;
}
