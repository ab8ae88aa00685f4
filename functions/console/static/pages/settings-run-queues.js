// Run queues: the SQS queues QUEUE_JOB automations may send jobs to. Automations name a run queue,
// never a URL; an admin registers each, and mlhooks checks the queue is one the stack may write to.

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
  html,
  notify,
  useAction,
  useAllowed,
  useLoad,
  useState,
} from "../ui.js";
import { Dash, SectionHead, submitting } from "./settings-common.js";

export function RunQueuesSection() {
  const admin = useAllowed("ADMIN");
  const queues = useLoad(() => api.listAll("/run-queues"));
  const reload = () => queues.reload({ quiet: true });
  const columns = [
    { label: "Name", render: (q) => html`<strong>${q.name}</strong>` },
    { label: "SQS queue", render: (q) => html`<code class="settings-url">${q.url}</code>` },
    { label: "Description", render: (q) => q.description || html`<${Dash} />` },
    { label: "Registered", render: (q) => html`<${When} at=${q.created_at} />` },
  ];
  if (admin) {
    columns.push({
      label: "",
      className: "settings-row-actions",
      render: (q) => html`<${ConfirmButton}
        kind="danger small"
        aria-label=${`Delete ${q.name}`}
        title=${`Delete the run queue ${q.name}?`}
        question="The SQS queue itself stays; automations can no longer send jobs to it. mlhooks refuses while an automation uses it."
        onConfirm=${async () => {
          await api.del(`/run-queues/${api.seg(q.name)}`);
          notify(`The run queue ${q.name} was deleted.`);
          reload();
        }}
      >Delete</${ConfirmButton}>`,
    });
  }
  return html`<${SectionHead}
      title="Run queues"
      intro="SQS queues that QUEUE_JOB automations send job specs to, for a launch agent to pick up. Automations name a run queue, never a URL."
    />
    <${Loaded} load=${queues}>
      ${(items) => html`<${Table} label="Run queues" rowKey=${(q) => q.name} rows=${items} columns=${columns} empty="No run queue yet." />
        <${Allowed} role="ADMIN"><${NewRunQueue} example=${items[0] && items[0].url} onCreated=${reload} /></${Allowed}>`}
    </${Loaded}>`;
}

// `example`: a registered queue's URL, whose endpoint and account a new one shares.
function NewRunQueue({ example, onCreated }) {
  const [form, setForm] = useState({ name: "", url: "", description: "" });
  const set = (field) => (value) => setForm((f) => ({ ...f, [field]: value }));
  const create = useAction(async () => {
    const queue = await api.post("/run-queues", { name: form.name.trim(), url: form.url.trim(), description: form.description });
    notify(`The run queue ${queue.name} was registered: QUEUE_JOB automations can name it.`);
    setForm({ name: "", url: "", description: "" });
    onCreated();
  });
  const placeholder = example
    ? example.replace(/[^/]+$/, "mlhooks-runs-gpu")
    : "https://sqs.<region>.amazonaws.com/<account>/mlhooks-runs-gpu";
  return html`<form class="panel" onSubmit=${submitting(create)} aria-label="Register a run queue">
    <h3>Register a run queue</h3>
    <div class="columns">
      <${Input} label="Name" name="name" value=${form.name} onValue=${set("name")} error=${create.error} required autocomplete="off"
        hint=${`What automations call it, e.g. gpu: ${api.NAME_RULES.integration}.`} />
      <${Input} label="Description" name="description" value=${form.description} onValue=${set("description")} error=${create.error} />
    </div>
    <${Input} label="SQS queue URL" name="url" value=${form.url} onValue=${set("url")} error=${create.error} required autocomplete="off"
      placeholder=${placeholder}
      hint="An existing queue in this stack's AWS account and region, named as the stack's RunQueueNames pattern allows (by default mlhooks-runs-*), and registered by no other team." />
    <${FormError} error=${create.error} fields=${["name", "url", "description"]} />
    <div class="form-actions"><${Button} type="submit" kind="primary" busy=${create.busy}>Register</${Button}></div>
  </form>`;
}
