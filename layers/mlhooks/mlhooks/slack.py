"""Slack notifications: a Block Kit message for an execution, and Slack's answers classified.

Values that come from events are escaped for Slack's mrkdwn, so an artifact named `<!channel>`
cannot ping a channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlhooks.models.api import NotificationAction
from mlhooks.models.vocabulary import Severity
from mlhooks.templating import substitute

EMOJI = {
    Severity.INFO: ":information_source:",
    Severity.WARN: ":warning:",
    Severity.ERROR: ":rotating_light:",
}
COLOUR = {Severity.INFO: "#2EB67D", Severity.WARN: "#ECB22E", Severity.ERROR: "#E01E5A"}
# Slack errors worth another attempt; any other `ok: false` is final (bad token, unknown channel).
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_message(
    action: NotificationAction, channel_id: str, variables: Mapping[str, str]
) -> dict[str, Any]:
    safe = {name: escape(value) for name, value in variables.items()}
    title = substitute(action.title, safe)
    text = substitute(action.message, safe)
    context = [
        f"*{safe.get('entity_name', '')}/{safe.get('project_name', '')}*",
        f"`{safe.get('event_type', '')}`",
    ]
    if "artifact_version_string" in safe:
        context.append(safe["artifact_version_string"])
    if "run_name" in safe:
        context.append(
            f"run *{safe['run_name']}*" + (f" ({safe['run_status']})" if "run_status" in safe else "")
        )
    if "metric_condition" in safe:
        context.append(f"{safe['metric_condition']}: {safe.get('metric_values', '')}")
    elif "metric_name" in safe:
        context.append(f"{safe['metric_name']}: {safe.get('metric_values', '')}")
    if "automation_name" in safe:
        context.append(f"automation _{safe['automation_name']}_")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{title}"[:150], "emoji": True}},
    ]
    if text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)[:3000]}]})
    return {
        "channel": channel_id,
        "text": f"{EMOJI[action.severity]} {title}",  # the notification's fallback text
        "attachments": [{"color": COLOUR[action.severity], "blocks": blocks}],
        "unfurl_links": False,
    }
