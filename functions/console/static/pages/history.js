// History (placeholder until the page is written).
import { Page, html } from "../ui.js";

export function HistoryPage() {
  return html`<${Page} title="History"><p>Coming.</p></${Page}>`;
}

export function ExecutionPage() {
  return html`<${Page} title="Execution"><p>Coming.</p></${Page}>`;
}
