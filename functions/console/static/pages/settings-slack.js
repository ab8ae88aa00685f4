// Slack: the channels NOTIFICATION automations post to. "Connect Slack" runs Slack's OAuth v2 install
// (the admin picks a channel on Slack's page; Slack sends them back to /console/slack/callback, where
// SlackCallbackPage completes it); an integration can also be made from an existing bot token secret.

import * as api from "../api.js";
import {
  Allowed,
  Button,
  ConfirmButton,
  ErrorBox,
  FormError,
  Input,
  Loaded,
  Page,
  Select,
  Table,
  When,
  href,
  html,
  notify,
  useAction,
  useAllowed,
  useEffect,
  useLoad,
  useState,
} from "../ui.js";
import { ActionPanel, SectionHead, nameOptions, submitting, useNames } from "./settings-common.js";

// Where Slack sends the admin back: a path the console serves (see app.js), under its own base.
const callbackUrl = () => new URL("slack/callback", document.baseURI).href;
const channel = (s) => `#${s.channel_name.replace(/^#/, "")}`;
// The state this tab's Connect Slack started with: Slack's answer must bring back this one, so a
// link someone else started cannot make an integration in this session (OAuth's CSRF check).
const STATE_KEY = "mlhooks.slackState";

export function SlackSection() {
  const admin = useAllowed("ADMIN");
  const slack = useLoad(() => api.listAll("/slack"));
  const [connecting, setConnecting] = useState(false);
  const reload = () => slack.reload({ quiet: true });
  const columns = [
    { label: "Name", render: (s) => html`<strong>${s.name}</strong>` },
    { label: "Channel", render: (s) => html`${channel(s)} <span class="muted">${s.channel_id}</span>` },
    { label: "Bot token secret", render: (s) => html`<a href=${href("/settings/secrets")}><code>${s.bot_token_secret}</code></a>` },
    { label: "Created", render: (s) => html`<${When} at=${s.created_at} />` },
  ];
  if (admin) {
    columns.push({
      label: "",
      className: "settings-row-actions",
      render: (s) => html`<${ConfirmButton}
        kind="danger small"
        aria-label=${`Delete ${s.name}`}
        title=${`Delete the Slack integration ${s.name}?`}
        question=${`Notifications stop going to ${channel(s)}. mlhooks refuses while an automation posts through it or a webhook alerts through it. Its bot token secret ${s.bot_token_secret} stays (delete it under Secrets).`}
        onConfirm=${async () => {
          await api.del(`/slack/${api.seg(s.name)}`);
          notify(`The Slack integration ${s.name} was deleted.`);
          reload();
        }}
      >Delete</${ConfirmButton}>`,
    });
  }
  return html`<${SectionHead}
      title="Slack"
      intro="Channels that NOTIFICATION automations post to, and where a failing webhook's alert goes."
      actions=${admin ? html`<${Button} kind="primary" onClick=${() => setConnecting(true)}>Connect Slack</${Button}>` : null}
    />
    ${connecting ? html`<${ConnectSlack} onClose=${() => setConnecting(false)} />` : null}
    <${Loaded} load=${slack}>
      ${(items) => html`<${Table} label="Slack integrations" rowKey=${(s) => s.name} rows=${items} columns=${columns}
        empty="No Slack integration yet." />`}
    </${Loaded}>
    <${Allowed} role="ADMIN"><${AddSlack} onCreated=${reload} /></${Allowed}>`;
}

// Names the integration, then leaves for Slack's authorize page.
function ConnectSlack({ onClose }) {
  const [name, setName] = useState("");
  const start = useAction(async () => {
    const started = await api.post("/slack/connect", { name: name.trim(), redirect_uri: callbackUrl() });
    sessionStorage.setItem(STATE_KEY, started.state);
    location.assign(started.authorize_url);
    await new Promise(() => {}); // stays busy while the browser leaves for Slack
  });
  return html`<${ActionPanel} title="Connect Slack" onClose=${onClose}>
    <form onSubmit=${submitting(start)} aria-label="Connect Slack">
      <p class="muted">You go to Slack, pick the channel mlhooks posts to and allow it; Slack then sends you back here and
        the integration is made, its bot token kept as a secret that nobody handles.</p>
      <${Input} label="Integration name" name="name" value=${name} onValue=${setName} error=${start.error} required autocomplete="off"
        hint=${`What automations call it, e.g. ml-alerts: ${api.NAME_RULES.slackConnect}.`} />
      <${FormError} error=${start.error} fields=${["name"]} />
      <div class="form-actions">
        <${Button} type="submit" kind="primary" busy=${start.busy}>Continue to Slack</${Button}>
        <${Button} onClick=${onClose}>Cancel</${Button}>
      </div>
    </form>
  </${ActionPanel}>`;
}

// The manual way: a bot token already kept as a secret, and the channel to post to.
function AddSlack({ onCreated }) {
  const [form, setForm] = useState({ name: "", bot_token_secret: "", channel_id: "", channel_name: "" });
  const set = (field) => (value) => setForm((f) => ({ ...f, [field]: value }));
  const secrets = useNames("/secrets");
  const create = useAction(async () => {
    const made = await api.post("/slack", {
      name: form.name.trim(),
      bot_token_secret: form.bot_token_secret,
      channel_id: form.channel_id.trim(),
      channel_name: form.channel_name.trim().replace(/^#/, ""),
    });
    notify(`The Slack integration ${made.name} posts to ${channel(made)}.`);
    setForm({ name: "", bot_token_secret: "", channel_id: "", channel_name: "" });
    onCreated();
  });
  const error = create.error;
  return html`<form class="panel" onSubmit=${submitting(create)} aria-label="Add a Slack integration from a bot token">
    <h3>Add from a bot token secret</h3>
    <p class="muted">For a Slack app you installed yourself: keep its bot token (xoxb-…) as a <a href=${href("/settings/secrets")}>secret</a> first.</p>
    <div class="columns">
      <${Input} label="Name" name="name" value=${form.name} onValue=${set("name")} error=${error} required autocomplete="off"
        hint=${`What automations call it: ${api.NAME_RULES.integration}.`} />
      <${Select} label="Bot token secret" name="bot_token_secret" value=${form.bot_token_secret} onValue=${set("bot_token_secret")}
        options=${nameOptions(secrets.data, "— choose a secret —")} error=${error} required />
      <${Input} label="Channel ID" name="channel_id" value=${form.channel_id} onValue=${set("channel_id")} error=${error} required
        autocomplete="off" hint="Slack's id for it (C0123…): the channel's details show it." />
      <${Input} label="Channel name" name="channel_name" value=${form.channel_name} onValue=${set("channel_name")} error=${error} required
        autocomplete="off" hint="ml-alerts: lower case, digits, - and _." />
    </div>
    <${FormError} error=${error} fields=${["name", "bot_token_secret", "channel_id", "channel_name"]} />
    <div class="form-actions"><${Button} type="submit" kind="primary" busy=${create.busy}>Add integration</${Button}></div>
  </form>`;
}

// ---- the return from Slack's page --------------------------------------------------------------------

// One completion per page load, however often the page mounts: Slack's code is good once.
let completion = null;

function completeOnce() {
  if (completion) return completion;
  const params = new URLSearchParams(location.search);
  const [code, state, error] = ["code", "state", "error"].map((name) => params.get(name));
  const started = sessionStorage.getItem(STATE_KEY);
  let answer;
  if (error) {
    answer = Promise.resolve({ declined: error });
  } else if (!code || !state) {
    answer = Promise.resolve({ declined: "no_code" });
  } else if (state !== started) {
    answer = Promise.resolve({ declined: "other_state" });
  } else {
    answer = api.post("/slack/connect/complete", { state, code }).then(
      (integration) => ({ integration }),
      (failure) => (usedState(failure) ? { used: failure } : { failure }),
    );
  }
  completion = answer.then((outcome) => {
    finished();
    return outcome;
  });
  return completion;
}

// Slack's answer stays in the address (and this tab's state in sessionStorage) until the install
// has answered: a reload meanwhile asks again, rather than lose the install without a word. Once it
// has answered, the code leaves the address bar and the history: the address is the Slack tab's.
function finished() {
  sessionStorage.removeItem(STATE_KEY);
  history.replaceState(history.state, "", `${new URL("./", document.baseURI).href}#/settings/slack`);
}

// The API's refusal of a state it no longer holds: used already (by the call a reload cut short)
// or expired. Another admin's state is refused too, but for the role (403), and said as it is.
const usedState = (failure) => failure.field === "state" && failure.status !== 403;

const DECLINED = {
  access_denied: "Slack was not connected: the install was canceled on Slack's page. Nothing was changed.",
  no_code: "This page finishes Connect Slack when Slack sends you back, and it was opened without Slack's answer.",
  other_state:
    "Slack's answer is not for a Connect Slack started in this browser tab, so it was not used. Start Connect Slack again from the Slack tab.",
};

export function SlackCallbackPage() {
  const [outcome, setOutcome] = useState(null);
  useEffect(() => {
    let mounted = true;
    completeOnce().then((result) => {
      if (!mounted) return;
      setOutcome(result);
      if (result.integration) notify(`Slack is connected: ${result.integration.name} posts to ${channel(result.integration)}.`);
    });
    return () => {
      mounted = false;
    };
  }, []);
  // The address is the Slack tab's already (replaceState fires no hashchange): say it changed.
  const back = (event) => {
    event.preventDefault();
    dispatchEvent(new HashChangeEvent("hashchange"));
  };
  return html`<${Page} title="Connect Slack">
    ${outcome === null
      ? html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span> Finishing the Slack install…</p>`
      : null}
    ${outcome && outcome.integration
      ? html`<div class="ok-box" role="status">
          <strong>Slack is connected.</strong>${" "}The integration <strong>${outcome.integration.name}</strong>${" "}posts
          to <strong>${channel(outcome.integration)}</strong>${outcome.integration.team_name ? ` in the workspace ${outcome.integration.team_name}` : ""};
          its bot token is kept as the secret <code>${outcome.integration.bot_token_secret}</code>. Pick it in a NOTIFICATION automation.
        </div>`
      : null}
    ${outcome && outcome.failure ? html`<${ErrorBox} error=${outcome.failure} />` : null}
    ${outcome && outcome.used
      ? html`<div class="error-box" role="alert"><span>
          <strong>Slack may be connected already.</strong>${" "}This Slack answer was used before (the page was probably
          reloaded while the install was finishing, and Slack's answer is good once), or it expired. If the integration is
          in the list below, there is nothing more to do; if not, connect Slack again. mlhooks said: ${outcome.used.message}
        </span></div>
        <${SlackSection} />`
      : null}
    ${outcome && outcome.declined
      ? html`<div class="error-box" role="alert">${DECLINED[outcome.declined] || `Slack was not connected: Slack answered “${outcome.declined}”.`}</div>`
      : null}
    ${outcome ? html`<p><a class="btn" href=${href("/settings/slack")} onClick=${back}>Back to Slack settings</a></p>` : null}
  </${Page}>`;
}
