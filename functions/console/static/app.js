// The console: sign in with an API key, then the Automations tab, History and Team settings.
// Pages live in pages/; each is a client of the public API only (api.js).

import * as api from "./api.js";
import { AutomationEditor, AutomationsPage } from "./pages/automations.js";
import { ExecutionPage, HistoryPage } from "./pages/history.js";
import { ProjectPage, ProjectsPage } from "./pages/projects.js";
import { SettingsPage, SlackCallbackPage } from "./pages/settings.js";
import {
  Button,
  ErrorBox,
  Input,
  Notices,
  Session,
  href,
  html,
  navigate,
  notify,
  render,
  useCallback,
  useEffect,
  useRef,
  useRoute,
  useState,
} from "./ui.js";

// Why the sign-in page shows again when the key in use stops working (revoked, its member removed).
const KEY_GONE = "Your API key was revoked or is no longer valid. Sign in again.";
const keyGone = () => new api.ApiError(401, { error: { code: "signed_out", message: KEY_GONE } });

function SignIn({ onSignedIn, reason }) {
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(reason);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const identity = await api.me(key.trim());
      api.session.start(key.trim());
      onSignedIn(identity);
    } catch (failure) {
      if (failure.status === 401) failure.message = "mlhooks does not know this key, or it was revoked.";
      setError(failure.status === 401 ? Object.assign(failure, { field: "key" }) : failure);
    } finally {
      setBusy(false);
    }
  };
  const keyError = error && error.field === "key" ? error : null;
  return html`<main class="sign-in">
    <form onSubmit=${submit} aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to mlhooks</h1>
      <p>Paste an API key. It is kept for this browser tab's session only, and sent to this mlhooks API
        and nowhere else.</p>
      <${Input} label="API key" name="key" type="password" value=${key} onValue=${setKey} error=${keyError}
        autocomplete="off" required autofocus
        hint="make dev (locally) or mlhooks bootstrap (a deployed stack) prints the first admin key; admins make more under Team settings → API keys." />
      ${error && !keyError ? html`<${ErrorBox} error=${error} />` : null}
      <${Button} type="submit" kind="primary" busy=${busy} disabled=${!key.trim()}>Sign in</${Button}>
    </form>
  </main>`;
}

const SECTIONS = [
  ["automations", "Automations"],
  ["history", "History"],
  ["projects", "Projects"],
  ["settings", "Team settings"],
];

function Shell({ identity, onSignOut, children, section }) {
  return html`<div class="shell">
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href=${href("/automations")}>mlhooks</a>
      <span class="entity" title="Entity">${identity.entity}</span>
      <nav aria-label="Main" class="main-nav">
        ${SECTIONS.map(
          ([key, text]) => html`<a href=${href(`/${key}`)} aria-current=${section === key ? "page" : undefined}>${text}</a>`,
        )}
      </nav>
      <span class="who">
        <span>${identity.username}</span>
        <span class="badge neutral" data-role=${identity.role}>${identity.role}</span>
        <a href=${new URL("v1/docs", api.apiRoot).href} class="muted">API docs</a>
        <${Button} onClick=${onSignOut}>Sign out</${Button}>
      </span>
    </header>
    <main id="main" tabindex="-1">${children}</main>
    <${Notices} />
  </div>`;
}

// The page for the current hash; #/ and unknown paths go to the Automations tab.
function Routed({ route }) {
  const [first, second] = route.parts;
  if (first === "automations" && second === "new") return html`<${AutomationEditor} query=${route.query} />`;
  if (first === "automations" && second) return html`<${AutomationEditor} automationId=${second} query=${route.query} />`;
  if (first === "automations") return html`<${AutomationsPage} query=${route.query} />`;
  if (first === "history") return html`<${HistoryPage} query=${route.query} />`;
  if (first === "projects" && second) return html`<${ProjectPage} name=${second} />`;
  if (first === "projects") return html`<${ProjectsPage} />`;
  if (first === "executions" && second) return html`<${ExecutionPage} executionId=${second} />`;
  if (first === "settings") return html`<${SettingsPage} section=${second || "members"} query=${route.query} />`;
  return html`<${Redirect} to="/automations" />`;
}

function Redirect({ to }) {
  useEffect(() => navigate(to), [to]);
  return null;
}

function App() {
  const [identity, setIdentity] = useState(null);
  const [checking, setChecking] = useState(Boolean(api.session.key()));
  const [reason, setReason] = useState(null);
  const route = useRoute();
  const shown = useRef(null); // the identity shown, for the 403 handler (set outside renders)
  shown.current = identity;

  // The signed-in key as GET /v1/me says now: its role may have changed since sign-in. What the
  // console shows follows (the header's badge, useAllowed); one read at a time.
  const reading = useRef(null);
  const refresh = useCallback(() => {
    if (!reading.current) {
      reading.current = api
        .me()
        .then((me) => {
          setIdentity((was) => (was && was.role === me.role && was.username === me.username ? was : me));
          return me;
        })
        .finally(() => (reading.current = null));
    }
    return reading.current;
  }, []);

  useEffect(() => {
    // Once, and only for the key in use: the other requests the key had in flight answer 401 too,
    // and may arrive after the tab is signed in again, with another key; theirs is old news.
    api.onSignedOut((error, used) => {
      if (!shown.current || used !== api.session.key()) return;
      shown.current = null;
      api.session.end();
      setIdentity(null);
      setReason(keyGone());
    });
    // A refusal for the role: the role may be another now. The page shows the API's message by
    // what was refused; if the role did change, a notice says so (the refused form may be gone).
    api.onForbidden((error) => {
      const before = shown.current;
      if (!before) return;
      refresh()
        .then((me) => {
          if (me.role !== before.role) notify(`Your role is now ${me.role} (it was ${before.role}). ${error.message}`, "bad");
        })
        .catch(() => {}); // a 401 meanwhile signs out by itself
    });
    if (!api.session.key()) return;
    api
      .me()
      .then((me) => {
        api.setEntity(me.entity);
        setIdentity(me);
      })
      .catch((error) => {
        api.session.end();
        setReason(error.status === 401 ? keyGone() : error);
      })
      .finally(() => setChecking(false));
  }, []);

  if (checking) return html`<p class="loading">Signing in…</p>`;
  if (!identity) {
    return html`<${SignIn}
      reason=${reason}
      onSignedIn=${(me) => {
        api.setEntity(me.entity);
        setReason(null);
        setIdentity(me);
      }}
    />`;
  }
  const signOut = () => {
    api.session.end();
    setIdentity(null);
  };
  // Slack sends the admin back to <console>/slack/callback?code=…&state=…: a path, not a hash.
  const slackReturn = location.pathname.endsWith("/slack/callback");
  const section = slackReturn ? "settings" : route.parts[0] || "automations";
  return html`<${Session.Provider} value=${{ identity, refresh }}>
    <${Shell} identity=${identity} onSignOut=${signOut} section=${section}>
      ${slackReturn ? html`<${SlackCallbackPage} />` : html`<${Routed} route=${route} />`}
    </${Shell}>
  </${Session.Provider}>`;
}

// The page's "Loading…" text goes: render adds to what is there.
const root = document.getElementById("app");
root.replaceChildren();
render(html`<${App} />`, root);
