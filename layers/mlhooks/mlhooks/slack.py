"""Slack notifications: the Block Kit messages (an execution's, a disabled webhook's alert), and
chat.postMessage with Slack's answers judged; and oauth.v2.access, which "Connect Slack" uses
(slack_connect.py) to turn an install's code into a bot token.

Values that come from events are escaped for Slack's mrkdwn, so an artifact named `<!channel>`
cannot ping a channel.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import requests

from mlhooks.delivery import USER_AGENT
from mlhooks.errors import SlackUnavailable
from mlhooks.models.automation import NotificationAction
from mlhooks.models.secret_values import header_token_problem
from mlhooks.models.vocabulary import Severity
from mlhooks.outcome import DeliveryError, Outcome, header, parse_retry_after, status_retryable
from mlhooks.redaction import Redactor
from mlhooks.settings import Settings
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


DEFAULT_TITLE = "${automation_name}: ${event_type}"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_message(
    action: NotificationAction, channel_id: str, variables: Mapping[str, str]
) -> dict[str, Any]:
    safe = {name: escape(value) for name, value in variables.items()}
    # W&B's SDK sends `title=""` unless told otherwise: the automation's name and the event say it.
    title = substitute(action.title or DEFAULT_TITLE, safe)
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


def alert_message(channel_id: str, *, entity: str, webhook: str, reason: str) -> dict[str, Any]:
    """The alert that a webhook was disabled: what, why, and how to turn it back on."""
    name = escape(webhook)
    how = (
        f"An admin re-enables it with `PATCH /v1/entities/{escape(entity)}/webhooks/{name}` "
        '`{"enabled": true}`; then redeliver the executions that failed meanwhile.'
    )
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Webhook {webhook} disabled"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(reason)[:3000]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": how[:3000]}]},
    ]
    return {
        "channel": channel_id,
        "text": f":rotating_light: mlhooks disabled webhook {name}",
        "attachments": [{"color": COLOUR[Severity.ERROR], "blocks": blocks}],
        "unfurl_links": False,
    }


class SlackClient:
    """chat.postMessage on the configured Slack API. Not through the outbound guard: its address is
    the operator's setting, not a user's."""

    def __init__(self, settings: Settings):
        self.url = f"{settings.slack_api_url.rstrip('/')}/chat.postMessage"
        self.oauth_url = f"{settings.slack_api_url.rstrip('/')}/oauth.v2.access"
        self.timeout = (settings.http_connect_timeout_seconds, settings.http_read_timeout_seconds)
        self.http = requests.Session()
        self.http.trust_env = False

    def post_message(self, token: str, message: dict[str, Any], redactor: Redactor, now: float) -> Outcome:
        """Post and judge Slack's answer: `ok: false` is a failure even on HTTP 200, retried only for
        Slack's transient errors; a failed HTTP status is retried like a webhook's."""
        started = time.monotonic()
        problem = header_token_problem(token)
        if problem:
            return Outcome.failure(
                DeliveryError.CONFIGURATION, f"The bot token cannot be sent: {problem} Rotate the secret."
            )
        try:
            answer = self.http.post(
                self.url,
                json=message,
                headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            timed_out = isinstance(exc, requests.Timeout)
            return Outcome.failure(
                DeliveryError.TIMEOUT if timed_out else DeliveryError.CONNECTION,
                redactor.excerpt(str(exc), 500),
                retryable=True,
                duration_ms=int((time.monotonic() - started) * 1000),
                request=message,
            )
        outcome = Outcome(
            status_code=answer.status_code,
            headers=redactor.redact_mapping(answer.headers),
            excerpt=redactor.excerpt(answer.text[: 1024 + redactor.margin], 1024),
            duration_ms=int((time.monotonic() - started) * 1000),
            request=message,
        )
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if isinstance(body, dict) and body.get("ok") is True and 200 <= answer.status_code < 300:
            return outcome
        error = body.get("error") if isinstance(body, dict) else None
        retryable = (
            status_retryable(answer.status_code) if answer.status_code >= 300 else error in RETRYABLE_ERRORS
        )
        return replace(
            outcome,
            error=redactor.redact(str(error)) if error else f"HTTP {answer.status_code}",
            error_class=DeliveryError.SLACK,
            retryable=retryable,
            retry_after=parse_retry_after(header(answer.headers, "Retry-After"), now),
        )

    def oauth_access(
        self, client_id: str, client_secret: str, code: str, redirect_uri: str
    ) -> dict[str, Any]:
        """oauth.v2.access: the code Slack gave the admin's browser, exchanged for the install's bot
        token. The app authenticates with HTTP Basic, as Slack prefers to form fields; `redirect_uri`
        must be the one the authorize page was given. Slack's answer as sent, `ok: false` included
        (it says so with HTTP 200); SlackUnavailable when there is no answer of Slack's API to read.
        No message says more than the exception's class: none may carry the client secret."""
        try:
            answer = self.http.post(
                self.oauth_url,
                data={"code": code, "redirect_uri": redirect_uri},
                auth=(client_id, client_secret),
                headers={"User-Agent": USER_AGENT},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise SlackUnavailable(
                f"Slack could not be reached ({type(exc).__name__}); connect Slack again in a moment."
            ) from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            raise SlackUnavailable(
                f"Slack answered HTTP {answer.status_code}, not its API's answer; connect Slack again later."
            )
        return body
