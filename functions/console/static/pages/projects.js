// Projects and registries, and their artifact collections: the scopes automations live in.
// Each links to its Automations tab and its History, as W&B's project pages do.

import * as api from "../api.js";
import {
  Allowed,
  Badge,
  Button,
  Checkbox,
  FormError,
  Input,
  Loaded,
  Page,
  Table,
  When,
  href,
  html,
  notify,
  useAction,
  useLoad,
  useState,
} from "../ui.js";

function NewProject({ onCreated }) {
  const [name, setName] = useState("");
  const [registry, setRegistry] = useState(false);
  const [description, setDescription] = useState("");
  const create = useAction(async () => {
    const project = await api.post("/projects", { name: name.trim(), registry, description });
    notify(`${project.registry ? "Registry" : "Project"} ${project.name} created.`);
    setName("");
    setDescription("");
    setRegistry(false);
    onCreated();
  });
  const submit = (event) => {
    event.preventDefault();
    create.run();
  };
  return html`<form class="panel" onSubmit=${submit} aria-label="New project">
    <h2>New project or registry</h2>
    <div class="columns">
      <${Input} label="Name" name="name" value=${name} onValue=${setName} error=${create.error} required
        hint=${`${registry ? "W&B names registries wandb-registry-<name>" : "As the platform names it"}: ${api.NAME_RULES.project}.`} />
      <${Input} label="Description" name="description" value=${description} onValue=${setDescription} error=${create.error} />
    </div>
    <${Checkbox} label="A registry (linked models, W&B's Registry)" checked=${registry} onValue=${setRegistry} />
    <${FormError} error=${create.error} fields=${["name", "description", "registry"]} />
    <div class="form-actions"><${Button} type="submit" kind="primary" busy=${create.busy}>Create</${Button}></div>
  </form>`;
}

export function ProjectsPage() {
  const projects = useLoad(() => api.listAll("/projects"));
  return html`<${Page} title="Projects" subtitle="Projects and registries: the scopes automations watch.">
    <${Loaded} load=${projects}>
      ${(items) => html`<${Table}
        label="Projects"
        rowKey=${(p) => p.name}
        rows=${items}
        empty="No project yet. Platform events name their project; register it here to scope automations to it."
        columns=${[
          { label: "Name", render: (p) => html`<a href=${href(`/projects/${encodeURIComponent(p.name)}`)}>${p.name}</a>` },
          { label: "Kind", render: (p) => html`<${Badge}>${p.registry ? "registry" : "project"}</${Badge}>` },
          { label: "Description", render: (p) => p.description || html`<span class="muted">—</span>` },
          { label: "Created", render: (p) => html`<${When} at=${p.created_at} />` },
          {
            label: "",
            render: (p) => html`<span class="actions">
              <a href=${href("/automations", { project: p.name })}>Automations</a>
              <a href=${href("/history", { project: p.name })}>History</a>
            </span>`,
          },
        ]}
      />`}
    </${Loaded}>
    <${Allowed} role="MEMBER"><${NewProject} onCreated=${() => projects.reload({ quiet: true })} /></${Allowed}>
  </${Page}>`;
}

function NewCollection({ project, onCreated }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("model");
  const create = useAction(async () => {
    const collection = await api.post(`/projects/${api.seg(project)}/collections`, { name: name.trim(), type });
    notify(`Collection ${collection.name} added.`);
    setName("");
    onCreated();
  });
  const submit = (event) => {
    event.preventDefault();
    create.run();
  };
  return html`<form class="panel" onSubmit=${submit} aria-label="New collection">
    <h2>Add an artifact collection</h2>
    <div class="columns">
      <${Input} label="Collection" name="name" value=${name} onValue=${setName} error=${create.error} required
        hint=${`An artifact's name without its version, e.g. resnet50: ${api.NAME_RULES.project}.`} />
      <${Input} label="Type" name="type" value=${type} onValue=${setType} error=${create.error} hint=${`model, dataset, …: ${api.NAME_RULES.artifactType}.`} />
    </div>
    <${FormError} error=${create.error} fields=${["name", "type"]} />
    <div class="form-actions"><${Button} type="submit" kind="primary" busy=${create.busy}>Add collection</${Button}></div>
  </form>`;
}

export function ProjectPage({ name }) {
  const project = useLoad(() => api.get(`/projects/${api.seg(name)}`), [name]);
  const collections = useLoad(() => api.listAll(`/projects/${api.seg(name)}/collections`), [name]);
  return html`<${Page}
    title=${name}
    subtitle=${project.data ? (project.data.registry ? "Registry" : "Project") + (project.data.description ? ` · ${project.data.description}` : "") : ""}
    actions=${html`<a class="btn" href=${href("/automations", { project: name })}>Automations</a>
      <a class="btn" href=${href("/history", { project: name })}>History</a>`}
  >
    <p><a href=${href("/projects")}>← All projects</a></p>
    <${Loaded} load=${project}>
      ${() => html`<h2>Artifact collections</h2>
        <${Loaded} load=${collections}>
          ${(items) => html`<${Table}
            label="Collections"
            rowKey=${(c) => c.name}
            rows=${items}
            empty="No collection registered. Automations can still watch the whole project."
            columns=${[
              { label: "Collection", render: (c) => c.name },
              { label: "Type", render: (c) => c.type },
              { label: "Created", render: (c) => html`<${When} at=${c.created_at} />` },
              {
                label: "",
                render: (c) => html`<span class="actions">
                  <a href=${href("/automations/new", { project: name, collection: c.name })}>New automation</a>
                  <a href=${href("/history", { project: name, collection: c.name })}>History</a>
                </span>`,
              },
            ]}
          />`}
        </${Loaded}>
        <${Allowed} role="MEMBER"><${NewCollection} project=${name} onCreated=${() => collections.reload({ quiet: true })} /></${Allowed}>`}
    </${Loaded}>
  </${Page}>`;
}
