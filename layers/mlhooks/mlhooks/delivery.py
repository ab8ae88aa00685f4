"""Building a webhook request exactly as DESIGN.md's delivery contract says, and sending it.

The same function prepares a real delivery and the "Test webhook" call, so a receiver that
verifies the test request will verify real ones.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlhooks import __version__
from mlhooks.models.records import WebhookRecord
from mlhooks.outbound import HttpOutcome, OutboundClient
from mlhooks.secrets import redact, redact_mapping
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


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    body: bytes
    headers: dict[str, str]
    # Values to scrub from anything about this request that we store or return.
    secret_values: tuple[str, ...]


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
    values = dict(variables)
    values.update({name: value for name, value in secret_values.items() if name in webhook.secrets})
    access_token = secret_values.get(webhook.access_token_secret) if webhook.access_token_secret else None
    if access_token is not None:
        values[ACCESS_TOKEN] = access_token
    body = render_payload(template, values)
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        WEBHOOK_ID_HEADER: message_id,
        WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
    }
    if access_token is not None:
        headers["Authorization"] = f"Bearer {access_token}"
    if webhook.signing_secret:
        signing_secret = secret_values[webhook.signing_secret]
        headers[WANDB_SIGNATURE_HEADER] = sign_wandb(signing_secret, body, webhook.signature_encoding)
        headers[WEBHOOK_SIGNATURE_HEADER] = sign_standard_webhooks(
            signing_secret, message_id, timestamp, body
        )
    return WebhookRequest(
        url=webhook.url, body=body, headers=headers, secret_values=tuple(secret_values.values())
    )


def send(client: OutboundClient, request: WebhookRequest) -> HttpOutcome:
    """POST the request; the outcome comes back with every secret value scrubbed from it."""
    outcome = client.post(request.url, request.body, request.headers)
    return HttpOutcome(
        status_code=outcome.status_code,
        headers=redact_mapping(outcome.headers, request.secret_values),
        body_excerpt=redact(outcome.body_excerpt, request.secret_values),
        error=redact(outcome.error, request.secret_values) if outcome.error else None,
        error_class=outcome.error_class,
        duration_ms=outcome.duration_ms,
    )
