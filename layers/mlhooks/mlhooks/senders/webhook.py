"""Webhook jobs: render, sign and POST through the outbound guard; the webhook's health follows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from requests import RequestException

from mlhooks import tracing
from mlhooks.clock import iso_from_epoch
from mlhooks.components import Components
from mlhooks.delivery import prepare_webhook_request, send
from mlhooks.errors import UnsendableSecret
from mlhooks.health import WebhookHealthMonitor
from mlhooks.models.automation import WebhookAction
from mlhooks.models.records import ExecutionRecord
from mlhooks.outcome import Outcome
from mlhooks.redaction import Redactor
from mlhooks.senders.base import Sender

GONE_STATUS = 410


class WebhookSender(Sender):
    expected_failures = (*Sender.expected_failures, RequestException)

    def __init__(self, components: Components, queue_url: str, **kwargs: Any):
        super().__init__(components, queue_url, **kwargs)
        self.health = WebhookHealthMonitor(components, self.clock)

    def deliver(self, execution: ExecutionRecord, redactor: Redactor) -> Outcome:
        automation = self.deliverable(execution)
        if isinstance(automation, Outcome):
            return automation
        if not isinstance(automation.action, WebhookAction):
            return self.misconfigured("the automation no longer sends a webhook")
        webhook = self.store.get_webhook(execution.entity, automation.action.webhook)
        if webhook is None:
            return self.misconfigured(f"webhook {automation.action.webhook} no longer exists")
        if not webhook.enabled:
            return self.misconfigured(f"webhook {webhook.name} is disabled: {webhook.disabled_reason}")
        secrets = self.secret_values(execution.entity, webhook.secret_names(), redactor)
        try:
            request = prepare_webhook_request(
                webhook,
                automation.action.payload,
                self.variables(execution, automation.name),
                secrets,
                message_id=execution.id,
                timestamp=int(self.clock()),
            )
        except UnsendableSecret as exc:
            # No retry can help. It is the webhook's configuration rather than the receiver, but it is
            # this webhook that cannot deliver: its health (and every automation's status) says so.
            self.health.failed(webhook, exc.message)
            return self.misconfigured(exc.message)
        # Not `requests` patched by X-Ray, which would record the URL: a webhook's can be a credential.
        with tracing.subsegment("outbound request") as span:
            outcome = send(self.components.outbound, request, self.clock())
            span.annotate(status_code=outcome.status_code, error_class=outcome.error_class)
        if outcome.status_code == GONE_STATUS:
            # The receiver says it is gone for good: stop calling it, and say why in its health.
            self.health.failed(webhook, "HTTP 410 Gone")
            self.health.disable(webhook, f"the receiver answered 410 Gone on {iso_from_epoch(self.clock())}")
            # Already final (outcome.judged); the text says what followed.
            return replace(
                outcome, error="HTTP 410 Gone: the receiver is gone for good; the webhook is now disabled"
            )
        if outcome.ok:
            self.health.delivered(webhook)
        else:
            self.health.failed(webhook, outcome.error or "")
        return outcome
