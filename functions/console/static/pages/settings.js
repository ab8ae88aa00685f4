// Team settings: who is on the team (members, API keys) and what it connects (secrets, webhooks,
// Slack, run queues, sources), one tab each at #/settings/<section>. Every tab lists for any role;
// the forms and buttons that write show only to the roles the API lets write (ADMIN, but for a
// member's own API keys).

import { Page, Tabs, href, html } from "../ui.js";
import { ApiKeysSection } from "./settings-api-keys.js";
import { MembersSection } from "./settings-members.js";
import { RunQueuesSection } from "./settings-run-queues.js";
import { SecretsSection } from "./settings-secrets.js";
import { SlackSection } from "./settings-slack.js";
import { SourcesSection } from "./settings-sources.js";
import { WebhooksSection } from "./settings-webhooks.js";

export { SlackCallbackPage } from "./settings-slack.js";

const SECTIONS = [
  ["members", "Members", MembersSection],
  ["api-keys", "API keys", ApiKeysSection],
  ["secrets", "Secrets", SecretsSection],
  ["webhooks", "Webhooks", WebhooksSection],
  ["slack", "Slack", SlackSection],
  ["run-queues", "Run queues", RunQueuesSection],
  ["sources", "Sources", SourcesSection],
];

export function SettingsPage({ section, query }) {
  const found = SECTIONS.find(([key]) => key === section);
  const Section = found ? found[2] : null;
  return html`<${Page} title="Team settings">
    <${Tabs} label="Team settings" current=${section} tabs=${SECTIONS.map(([key, text]) => [key, text, href(`/settings/${key}`)])} />
    ${Section
      ? html`<${Section} key=${section} query=${query || {}} />`
      : html`<p class="empty">No settings section “${section}”: pick one of the tabs above.</p>`}
  </${Page}>`;
}
