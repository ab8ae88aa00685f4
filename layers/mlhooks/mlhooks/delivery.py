"""Building a webhook request exactly as DESIGN.md's delivery contract says, and sending it.

The same function prepares a real delivery and the "Test webhook" call, so a receiver that
verifies the test request will verify real ones.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mlhooks import __version__
from mlhooks.errors import UnsendableSecret
from mlhooks.models.records import WebhookRecord
from mlhooks.models.secret_values import header_token_problem
from mlhooks.outbound import OutboundClient
from mlhooks.outcome import Outcome, judged
from mlhooks.redaction import REDACTED, Redactor, url_parts
from mlhooks.signing import (
    WANDB_SIGNATURE_HEADER,
    WEBHOOK_ID_HEADER,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
    sign_standard_webhooks,
    sign_wandb,
)
from mlhooks.templating import ACCESS_TOKEN, render_payload

USER_AGENT = f"mlhooks/{__version__} (+webhooks; W&B-compatible)"
AUTHORIZATION_HEADER = "Authorization"
# Kept as "present" in stored requests: with the exact body, a signature would let anyone who can
# read executions guess a weak signing secret offline.
SIGNATURE_HEADERS = frozenset({WANDB_SIGNATURE_HEADER, WEBHOOK_SIGNATURE_HEADER})
PRESENT = "present"
# What an execution keeps of a body: a template may repeat large event values, and an execution is one
# DynamoDB item (400 KB). The request is sent whole; the record says how much was cut.
MAX_RECORDED_BODY = 16 * 1024


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    body: bytes
    headers: dict[str, str]
    # Knows every secret value in this request, and the signatures made with one: whatever the
    # receiver says back goes through it before it is kept or shown.
    redactor: Redactor
    # The body as kept: rendered again with every secret's placeholder set to the marker. Not the
    # sent body redacted by matching values, which would show whether event data equals a secret.
    recorded_body: str

    def shown(self) -> dict[str, Any]:
        """The request as anyone may see it: no token, no signature, no secret in the body."""
        headers = {
            name: REDACTED
            if name == AUTHORIZATION_HEADER
            else PRESENT
            if name in SIGNATURE_HEADERS
            else value
            for name, value in self.headers.items()
        }
        return {"url": self.url, "headers": headers, "body": self.recorded_body}

    def for_record(self) -> dict[str, Any]:
        """The request as executions keep it: as shown, with the body cut to what an item holds."""
        shown = self.shown()
        body = shown["body"]
        if len(body) > MAX_RECORDED_BODY:
            shown["body"] = f"{body[:MAX_RECORDED_BODY]}… ({len(body)} characters; the rest is not kept)"
        return shown


def bearer_token(webhook: WebhookRecord, secret_values: Mapping[str, str]) -> str | None:
    """The access token to send, refused (without quoting it) if it cannot go in a header."""
    if not webhook.access_token_secret:
        return None
    token = secret_values[webhook.access_token_secret]
    problem = header_token_problem(token)
    if problem:
        raise UnsendableSecret(
            f"The access token secret {webhook.access_token_secret} cannot be sent: {problem} "
            "Rotate the secret.",
            field="access_token_secret",
        )
    return token


def prepare_webhook_request(
    webhook: WebhookRecord,
    template: Any,
    variables: Mapping[str, str],
    secret_values: Mapping[str, str],
    *,
    message_id: str,
    timestamp: int | None = None,
) -> WebhookRequest:
    """Render, then sign the exact bytes. `secret_values` maps secret names to values."""
    secrets = {name: value for name, value in secret_values.items() if name in webhook.secrets}
    access_token = bearer_token(webhook, secret_values)
    if access_token is not None:
        secrets[ACCESS_TOKEN] = access_token
    body = render_payload(template, {**variables, **secrets})
    recorded_body = render_payload(template, {**variables, **dict.fromkeys(secrets, REDACTED)})
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        WEBHOOK_ID_HEADER: message_id,
        WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
    }
    if access_token is not None:
        headers[AUTHORIZATION_HEADER] = f"Bearer {access_token}"
    if webhook.signing_secret:
        signing_secret = secret_values[webhook.signing_secret]
        headers[WANDB_SIGNATURE_HEADER] = sign_wandb(signing_secret, body, webhook.signature_encoding)
        headers[WEBHOOK_SIGNATURE_HEADER] = sign_standard_webhooks(
            signing_secret, message_id, timestamp, body
        )
    # A signature with the exact body lets anyone guess a weak signing secret offline: an answer that
    # echoes our headers must not show it either.
    signatures = [headers[name] for name in SIGNATURE_HEADERS if name in headers]
    return WebhookRequest(
        url=webhook.url,
        body=body,
        headers=headers,
        # A receiver's answer that echoes our URL keeps no part of it either: the URL can be a
        # credential, and members and viewers read the answer (redaction.url_parts).
        redactor=Redactor([*secret_values.values(), *signatures, *url_parts(webhook.url)]),
        recorded_body=recorded_body.decode("utf-8"),
    )


def preview_webhook_request(
    webhook: WebhookRecord, template: Any, variables: Mapping[str, str], *, message_id: str, timestamp: int
) -> WebhookRequest:
    """The request a delivery would send, built by `prepare_webhook_request` itself, without reading a
    secret: each secret's value is the redaction marker. Only its `shown()` form means anything: the
    body holds the marker where a secret goes, `Authorization` is redacted, and each signature (made
    with the marker, a false one) shows as "present". Nothing read, so nothing to leak; and nothing
    matched against values, which would tell whether event data equals a secret (redaction.py)."""
    markers = dict.fromkeys(webhook.secret_names(), REDACTED)
    return prepare_webhook_request(
        webhook, template, variables, markers, message_id=message_id, timestamp=timestamp
    )


def send(client: OutboundClient, request: WebhookRequest, now: float) -> Outcome:
    """POST the request and judge the answer by its status. Every secret value, in every form, is
    scrubbed from what came back before the answer's excerpt is cut to size."""
    redactor = request.redactor
    outcome = client.post(request.url, request.body, request.headers, read_margin=redactor.margin)
    return judged(
        replace(
            outcome,
            headers=redactor.redact_mapping(outcome.headers),
            excerpt=redactor.excerpt(outcome.excerpt, client.excerpt_bytes),
            error=redactor.redact(outcome.error) if outcome.error else None,
            request=request.for_record(),
        ),
        now,
    )
