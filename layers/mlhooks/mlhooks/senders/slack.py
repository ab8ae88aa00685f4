"""Slack jobs: an execution's notification, and the alert that a webhook was disabled (which travels
on the same queue but is not an execution)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from requests import RequestException

from mlhooks import tracing
from mlhooks.clock import now_iso
from mlhooks.components import Components
from mlhooks.errors import MlhooksError
from mlhooks.health import DisabledAlert
from mlhooks.models.automation import NotificationAction
from mlhooks.models.records import ExecutionRecord, SlackRecord, WebhookAlert
from mlhooks.outcome import Outcome
from mlhooks.redaction import Redactor
from mlhooks.senders.base import Sender, internal_failure, receive_count
from mlhooks.slack import SlackClient, alert_message, build_message


class SlackSender(Sender):
    expected_failures = (*Sender.expected_failures, RequestException)

    def __init__(self, components: Components, queue_url: str, **kwargs: Any):
        super().__init__(components, queue_url, **kwargs)
        self.slack = SlackClient(components.settings)

    def process(self, record: dict[str, Any]) -> bool:
        alert = DisabledAlert.parse(record.get("body") or "")
        return super().process(record) if alert is None else self.send_alert(alert, record)

    def post(
        self, integration: SlackRecord, entity: str, message: dict[str, Any], redactor: Redactor
    ) -> Outcome:
        name = integration.bot_token_secret
        token = self.secret_values(entity, {name}, redactor)[name]
        with tracing.subsegment("outbound request") as span:
            outcome = self.slack.post_message(token, message, redactor, self.clock())
            span.annotate(status_code=outcome.status_code, error_class=outcome.error_class)
        return outcome

    def deliver(self, execution: ExecutionRecord, redactor: Redactor) -> Outcome:
        automation = self.deliverable(execution)
        if isinstance(automation, Outcome):
            return automation
        if not isinstance(automation.action, NotificationAction):
            return self.misconfigured("the automation no longer notifies Slack")
        integration = self.store.get_slack(execution.entity, automation.action.slack)
        if integration is None:
            return self.misconfigured(f"Slack integration {automation.action.slack} no longer exists")
        message = build_message(
            automation.action, integration.channel_id, self.variables(execution, automation.name)
        )
        return self.post(integration, execution.entity, message, redactor)

    def send_alert(self, alert: DisabledAlert, record: dict[str, Any]) -> bool:
        """Tell the team a webhook was disabled. Retried through the queue like a notification; its
        outcome is kept on the webhook. True when the message may be deleted."""
        attempt = receive_count(record)
        integration = self.store.get_slack(alert.entity, alert.slack)
        redactor = Redactor()
        if integration is None:
            outcome = self.misconfigured(f"Slack integration {alert.slack} no longer exists")
        else:
            message = alert_message(
                integration.channel_id, entity=alert.entity, webhook=alert.webhook, reason=alert.reason
            )
            try:
                outcome = self.post(integration, alert.entity, message, redactor)
            except (MlhooksError, ClientError, BotoCoreError) as exc:
                outcome = internal_failure(exc, redactor)
        if outcome.retryable and attempt < self.settings.max_attempts:
            return self._postpone(record, self._retry_delay(attempt, outcome.retry_after))
        kept = WebhookAlert(
            slack=alert.slack, state="SENT" if outcome.ok else "FAILED", at=now_iso(), error=outcome.error
        )
        self.store.set_webhook_alert(alert.entity, alert.webhook, kept)
        if outcome.retryable:
            self._release(record)  # retries used up: on to the dead-letter queue, kept for a redrive
            return False
        return True
