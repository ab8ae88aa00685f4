// What the Team settings sections share: a section's heading, the panel a row's action opens, a copy
// button, and the choices (secrets, Slack integrations) their forms offer.

import * as api from "../api.js";
import { Button, html, useEffect, useLoad, useRef, useState } from "../ui.js";

// A section's heading: what it is for, in a sentence, and its main action on the right.
export function SectionHead({ title, intro, actions }) {
  return html`<header class="settings-head">
    <div>
      <h2>${title}</h2>
      ${intro ? html`<p class="muted">${intro}</p>` : null}
    </div>
    ${actions ? html`<div class="page-actions">${actions}</div>` : null}
  </header>`;
}

// A form's submit handler: a real <form>, so Enter submits and the browser checks `required`.
export const submitting = (action) => (event) => {
  event.preventDefault();
  action.run();
};

// The panel a row's button opens (edit, rotate, test, setup): it comes into view with the focus
// on its first field, and Escape or Close puts it away, the focus then back on the button that
// opened it (as a dialog does).
export function ActionPanel({ title, onClose, children, className = "" }) {
  const panel = useRef(null);
  useEffect(() => {
    const opener = document.activeElement;
    // Once the panel is gone: its focused field went with it, so the focus fell to the page
    // (unless something else took it meanwhile, which keeps it).
    return () =>
      setTimeout(() => {
        const lost = !document.activeElement || document.activeElement === document.body;
        if (lost && opener && opener !== document.body && opener.isConnected) opener.focus();
      });
  }, []);
  useEffect(() => {
    const node = panel.current;
    node.scrollIntoView({ block: "nearest" });
    (node.querySelector("input:not([type=hidden]), textarea, select") || node).focus();
  }, [title]);
  const escape = (event) => {
    if (event.key === "Escape" && onClose) onClose();
  };
  return html`<section class="panel settings-panel ${className}" ref=${panel} tabindex="-1" aria-label=${title} onKeyDown=${escape}>
    <header class="settings-panel-head">
      <h3>${title}</h3>
      ${onClose ? html`<${Button} kind="small" onClick=${onClose}>Close</${Button}>` : null}
    </header>
    ${children}
  </section>`;
}

export function CopyButton({ text, label = "Copy" }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return html`<${Button} kind="small" onClick=${copy}>${copied ? "Copied" : label}</${Button}>`;
}

// What names each list's items: members are named by `username`, everything else by `name`.
const NAMED_BY = { "/members": "username" };

// The names a form's selects offer, loaded when the form is shown: `what` is "/secrets", "/slack",
// "/members"…. An item without that field is left out rather than offered as a blank choice.
export function useNames(what, wanted = true) {
  const field = NAMED_BY[what] || "name";
  return useLoad(
    async () => (wanted ? (await api.listAll(what)).map((item) => item[field]).filter((name) => typeof name === "string" && name) : []),
    [what, wanted],
  );
}

// [[value, text]] for a Select of names, led by the choice of none.
export const nameOptions = (names, none) => [["", none], ...(names || []).map((name) => [name, name])];

export const Dash = () => html`<span class="muted">—</span>`;

// A value the API takes as null when the form leaves it empty.
export const orNull = (value) => (value && value.trim() ? value.trim() : null);
