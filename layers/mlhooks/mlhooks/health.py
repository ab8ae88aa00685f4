"""Webhook health: failed deliveries counted, a webhook that keeps failing disabled, the team told.

A webhook is disabled once its deliveries have failed `webhook_disable_after_failures` times in a
row over at least `webhook_disable_after_seconds`. It takes both: a burst of failures during a short
outage must not disable it, and neither must one failure a day for a month. Any 2xx ends the run.
Only answers from (or attempts to reach) the receiver count; our own troubles (a throttled secret
read) say nothing about the endpoint.

Disabling is a conditional write on the webhook's revision and on the run still standing, so of
several senders crossing the limit at once exactly one disables it, and only that one queues the
Slack alert. The alert travels on the Slack queue like any notification, so a Slack outage delays
it and never loses it; its outcome is kept on the webhook for the admin to see.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from mlhooks import metrics
from mlhooks.clock import iso_from_epoch
from mlhooks.components import Components
from mlhooks.models.automation import WebhookAction
from mlhooks.models.base import Model
from mlhooks.models.records import AutomationRecord, WebhookAlert, WebhookRecord
from mlhooks.store import Store

logger = Logger(service="mlhooks-health")

ALERT_KIND = "webhook_disabled"


class DisabledAlert(Model):
    """The Slack queue's message telling a team that one of its webhooks was disabled."""

    kind: Literal["webhook_disabled"] = ALERT_KIND
    entity: str
    webhook: str
    slack: str
    reason: str
    disabled_at: str

    @classmethod
    def parse(cls, body: str) -> DisabledAlert | None:
        """The alert in a queue message, or None if the message is something else (a job)."""
        try:
            return cls.model_validate_json(body)
        except ValidationError:
            return None


def failed(count: int) -> str:
    return "1 failed delivery" if count == 1 else f"{count} failed deliveries"


def webhook_state(webhook: WebhookRecord) -> tuple[Literal["HEALTHY", "FAILING", "DISABLED"], str | None]:
    """(state, why) as the API reports it for the webhook and for every automation using it."""
    if not webhook.enabled:
        return "DISABLED", webhook.disabled_reason
    health = webhook.health
    if health.consecutive_failures:
        since = iso_from_epoch(health.failing_since)
        return (
            "FAILING",
            f"{failed(health.consecutive_failures)} in a row since {since}; last: {health.last_error}",
        )
    return "HEALTHY", None


def action_status(
    automation: AutomationRecord, webhooks: Mapping[str, WebhookRecord]
) -> dict[str, str | None]:
    """Whether an automation's action can deliver; only webhooks have a health to report."""
    if not isinstance(automation.action, WebhookAction):
        return {"state": "READY", "reason": None}
    name = automation.action.webhook
    webhook = webhooks.get(name)
    if webhook is None:
        return {"state": "DISABLED", "reason": f"webhook {name} no longer exists"}
    state, reason = webhook_state(webhook)
    return {"state": "READY" if state == "HEALTHY" else state, "reason": reason}


def action_statuses(
    store: Store, entity: str, automations: list[AutomationRecord]
) -> list[dict[str, str | None]]:
    """Each automation's action status, reading only the webhooks the page uses (one batch read,
    whatever the entity holds)."""
    names = {a.action.webhook for a in automations if isinstance(a.action, WebhookAction)}
    webhooks = store.get_webhooks(entity, names) if names else {}
    return [action_status(a, webhooks) for a in automations]


def health_out(webhook: WebhookRecord) -> dict[str, Any]:
    health = webhook.health
    return {
        "state": webhook_state(webhook)[0],
        "consecutive_failures": health.consecutive_failures,
        "failing_since": iso_from_epoch(health.failing_since),
        "last_failure_at": iso_from_epoch(health.last_failure_at),
        "last_error": health.last_error,
        "alert": None if health.alert is None else health.alert.model_dump(),
    }


class WebhookHealthMonitor:
    def __init__(self, components: Components, clock: Callable[[], float] = time.time):
        self.components = components
        self.settings = components.settings
        self.clock = clock

    @property
    def store(self) -> Store:
        return self.components.store

    def delivered(self, webhook: WebhookRecord) -> None:
        # Only a webhook read as failing is written to: healthy deliveries cost no write.
        if webhook.health.consecutive_failures:
            self.store.end_webhook_failures(webhook.entity, webhook.name)

    def failed(self, webhook: WebhookRecord, error: str) -> None:
        now = int(self.clock())
        health = self.store.count_webhook_failure(webhook.entity, webhook.name, now, error)
        limit = self.settings.webhook_disable_after_failures
        seconds = self.settings.webhook_disable_after_seconds
        if health is None or limit <= 0 or health.failing_since is None:
            return
        if health.consecutive_failures >= limit and now - health.failing_since >= seconds:
            since = iso_from_epoch(health.failing_since)
            reason = (
                f"{failed(health.consecutive_failures)} in a row since {since} (last: {error}); "
                f"disabled on {iso_from_epoch(now)}"
            )
            self.disable(webhook, reason, failing=(limit, int(now - seconds)))

    def disable(self, webhook: WebhookRecord, reason: str, failing: tuple[int, int] | None = None) -> bool:
        """Disable the webhook and queue the alert; False when someone else got there first."""
        at = iso_from_epoch(self.clock())
        alert = (
            None
            if webhook.alert_slack is None
            else WebhookAlert(slack=webhook.alert_slack, state="PENDING", at=at)
        )
        if not self.store.disable_webhook(webhook, reason, at, failing=failing, alert=alert):
            return False
        logger.warning(
            "webhook disabled", extra={"entity": webhook.entity, "webhook": webhook.name, "reason": reason}
        )
        metrics.add(metrics.WEBHOOKS_DISABLED, 1, webhook.entity)
        if alert is not None:
            message = DisabledAlert(
                entity=webhook.entity, webhook=webhook.name, slack=alert.slack, reason=reason, disabled_at=at
            )
            self.components.sqs.send_message(
                QueueUrl=self.settings.slack_queue_url, MessageBody=message.model_dump_json()
            )
        return True
