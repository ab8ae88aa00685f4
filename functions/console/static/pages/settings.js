// Team settings (placeholder until the page is written).
import { Page, html } from "../ui.js";

export function SettingsPage() {
  return html`<${Page} title="Team settings"><p>Coming.</p></${Page}>`;
}

export function SlackCallbackPage() {
  return html`<${Page} title="Connecting Slack"><p>Coming.</p></${Page}>`;
}
