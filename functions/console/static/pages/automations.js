// The Automations tab (placeholder until the page is written).
import { Page, html } from "../ui.js";

export function AutomationsPage() {
  return html`<${Page} title="Automations"><p>Coming.</p></${Page}>`;
}

export function AutomationEditor() {
  return html`<${Page} title="New automation"><p>Coming.</p></${Page}>`;
}
