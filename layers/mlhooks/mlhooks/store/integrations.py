"""Integrations: webhooks (with their health), Slack integrations, and the "Connect Slack" installs
in progress (each kept under its state's hash until completed once, or expired by TTL).

A webhook carries, beside its document: `refs` (automations using it; its delete needs none),
`revision` (every edit bumps it, and edits are conditional on it), `users` (bumped by every save of
an automation that uses it, so an edit that checked its automations at one count fails if another
was saved meanwhile) and its health, the current run of failed deliveries, kept out of the
document so that counting a failure is one atomic update that never races an admin's edit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from mlhooks.errors import Conflict, MlhooksError
from mlhooks.models.base import STORED
from mlhooks.models.records import (
    SlackOAuthRecord,
    SlackRecord,
    WebhookAlert,
    WebhookHealth,
    WebhookRecord,
)
from mlhooks.store import keys
from mlhooks.store.table import Op, TableStore

# A webhook's current run of failed deliveries and the alert about it, beside its document.
HEALTH_ATTRIBUTES = ("failures", "failing_since", "last_failure_at", "last_error", "alert")


def at_revision(revision: int) -> tuple[str, dict[str, Any]]:
    """The condition that a webhook is still at the revision it was read at (0: one written before
    revisions were counted)."""
    if revision:
        return "revision = :revision", {":revision": revision}
    return "attribute_exists(PK) AND attribute_not_exists(revision)", {}


class IntegrationStore(TableStore):
    """Webhooks, their health, and Slack integrations."""

    @staticmethod
    def _webhook(item: dict[str, Any]) -> WebhookRecord:
        alert = item.get("alert")
        since, last = item.get("failing_since"), item.get("last_failure_at")
        health = WebhookHealth(
            consecutive_failures=int(item.get("failures", 0)),
            failing_since=None if since is None else int(since),
            last_failure_at=None if last is None else int(last),
            last_error=item.get("last_error"),
            alert=None if alert is None else WebhookAlert.model_validate_json(alert),
        )
        record = WebhookRecord.model_validate_json(item["doc"], context=STORED)
        return record.model_copy(
            update={
                "revision": int(item.get("revision", 0)),
                "users": int(item.get("users", 0)),
                "health": health,
            }
        )

    def get_webhook(self, entity: str, name: str) -> WebhookRecord | None:
        item = self.table.get_item(Key=keys.item(entity, keys.webhook(name)), ConsistentRead=True).get("Item")
        return None if item is None else self._webhook(item)

    def get_webhooks(self, entity: str, names: set[str]) -> dict[str, WebhookRecord]:
        """The named webhooks that exist, in one BatchGetItem per 100 names."""
        found: dict[str, WebhookRecord] = {}
        wanted = [keys.item(entity, keys.webhook(name)) for name in sorted(names)]
        for start in range(0, len(wanted), 100):
            request = {self.table.name: {"Keys": wanted[start : start + 100], "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.table.name, []):
                    webhook = self._webhook(item)
                    found[webhook.name] = webhook
                request = answer.get("UnprocessedKeys") or {}
        return found

    def list_webhooks(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[WebhookRecord], str | None]:
        return self._page(entity, keys.WEBHOOKS, WebhookRecord, limit, token, parse=self._webhook)

    def create_webhook(self, record: WebhookRecord) -> None:
        item = self._item(record.entity, keys.webhook(record.name), record, refs=0, revision=1)
        self._transact(
            [
                (
                    self._put(item, "attribute_not_exists(PK)"),
                    Conflict(f"A webhook named {record.name} exists.", field="name"),
                ),
                *self._ref_ops(record.entity, "SECRET", record.secret_names(), set(), "secrets"),
                *self._ref_ops(record.entity, "SLACK", record.slack_names(), set(), "alert_slack"),
            ]
        )

    def update_webhook(self, old: WebhookRecord, new: WebhookRecord) -> None:
        """Replace the webhook as read, unless it changed since or an automation using it was saved
        since (its automations were checked against this version: see `_webhook_use_op`)."""
        condition, values = at_revision(old.revision)
        if old.users:
            condition += " AND #users = :users"
            values[":users"] = old.users
        else:
            condition += " AND attribute_not_exists(#users)"
        expression = "SET doc = :doc, revision = :next"
        if new.enabled and not old.enabled:
            # Re-enabled: the failure run that disabled it is over; count afresh.
            expression += " REMOVE " + ", ".join(HEALTH_ATTRIBUTES)
        self._transact(
            [
                (
                    self._update(
                        keys.item(new.entity, keys.webhook(new.name)),
                        expression,
                        {":doc": new.model_dump_json(), ":next": old.revision + 1, **values},
                        condition,
                        names={"#users": "users"},
                    ),
                    Conflict("The webhook or an automation using it changed concurrently; retry."),
                ),
                *self._ref_ops(
                    new.entity,
                    "SECRET",
                    new.secret_names() - old.secret_names(),
                    old.secret_names() - new.secret_names(),
                    "secrets",
                ),
                *self._ref_ops(
                    new.entity,
                    "SLACK",
                    new.slack_names() - old.slack_names(),
                    old.slack_names() - new.slack_names(),
                    "alert_slack",
                ),
            ]
        )

    def count_webhook_failure(self, entity: str, name: str, now: int, error: str) -> WebhookHealth | None:
        """Add one failed delivery to the webhook's current run; the run as it now stands, or None if
        the webhook is gone."""
        answer = self._conditional(
            self.table.update_item,
            Key=keys.item(entity, keys.webhook(name)),
            UpdateExpression="ADD failures :one "
            "SET failing_since = if_not_exists(failing_since, :now), last_failure_at = :now, "
            "last_error = :error",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":one": 1, ":now": now, ":error": error[:500]},
            ReturnValues="ALL_NEW",
        )
        return None if answer is None else self._webhook(answer["Attributes"]).health

    def end_webhook_failures(self, entity: str, name: str) -> None:
        """A delivery succeeded: the run of failures is over."""
        self._conditional(
            self.table.update_item,
            Key=keys.item(entity, keys.webhook(name)),
            UpdateExpression="REMOVE failures, failing_since, last_failure_at, last_error",
            ConditionExpression="attribute_exists(PK)",
        )

    def disable_webhook(
        self,
        webhook: WebhookRecord,
        reason: str,
        at: str,
        *,
        failing: tuple[int, int] | None = None,
        alert: WebhookAlert | None = None,
    ) -> bool:
        """Disable the webhook as read, unless it changed since. With `failing` (failures, since),
        only while its run of failures is still at least that long and began no later than that.
        Of several senders racing to disable it, exactly one gets True (and sends the alert)."""
        if not webhook.enabled:
            return False
        condition, values = at_revision(webhook.revision)
        if failing is not None:
            condition += " AND failures >= :limit AND failing_since <= :cutoff"
            values |= {":limit": failing[0], ":cutoff": failing[1]}
        disabled = webhook.model_copy(update={"enabled": False, "disabled_reason": reason, "disabled_at": at})
        expression = "SET doc = :doc, revision = :next"
        values |= {":doc": disabled.model_dump_json(), ":next": webhook.revision + 1}
        if alert is not None:
            expression += ", alert = :alert"
            values[":alert"] = alert.model_dump_json()
        return self._written(
            self.table.update_item,
            Key=keys.item(webhook.entity, keys.webhook(webhook.name)),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )

    def set_webhook_alert(self, entity: str, name: str, alert: WebhookAlert) -> None:
        self._conditional(
            self.table.update_item,
            Key=keys.item(entity, keys.webhook(name)),
            UpdateExpression="SET alert = :alert",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":alert": alert.model_dump_json()},
        )

    def _delete_integration(
        self,
        kind: str,
        entity: str,
        name: str,
        secrets: set[str],
        in_use: Callable[[], MlhooksError],
        extra: Sequence[Op] = (),
    ) -> None:
        self._transact(
            [
                (
                    self._delete(
                        keys.item(entity, keys.integration(kind, name)),
                        "attribute_exists(PK) AND (attribute_not_exists(refs) OR refs = :zero)",
                        {":zero": 0},
                    ),
                    in_use(),
                ),
                *self._ref_ops(entity, "SECRET", set(), secrets, "secrets"),
                *extra,
            ]
        )

    def delete_webhook(self, record: WebhookRecord, in_use: Callable[[], MlhooksError]) -> None:
        self._delete_integration(
            "WEBHOOK",
            record.entity,
            record.name,
            record.secret_names(),
            in_use,
            extra=self._ref_ops(record.entity, "SLACK", set(), record.slack_names(), "alert_slack"),
        )

    def get_slack(self, entity: str, name: str) -> SlackRecord | None:
        return self._get(entity, keys.slack(name), SlackRecord)

    def list_slack(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[SlackRecord], str | None]:
        return self._page(entity, keys.SLACK, SlackRecord, limit, token)

    def create_slack(self, record: SlackRecord) -> None:
        item = self._item(record.entity, keys.slack(record.name), record, refs=0)
        self._transact(
            [
                (
                    self._put(item, "attribute_not_exists(PK)"),
                    Conflict(f"A Slack integration named {record.name} exists.", field="name"),
                ),
                *self._ref_ops(record.entity, "SECRET", record.secret_names(), set(), "bot_token_secret"),
            ]
        )

    def delete_slack(self, record: SlackRecord, in_use: Callable[[], MlhooksError]) -> None:
        self._delete_integration("SLACK", record.entity, record.name, record.secret_names(), in_use)

    # ---- "Connect Slack" in progress ------------------------------------------------------------

    def save_slack_oauth(self, record: SlackOAuthRecord, state: str) -> None:
        item = self._item(
            record.entity,
            keys.slack_oauth(state),
            record,
            member=record.member,
            expires_at=record.expires_at,
        )
        self.table.put_item(Item=item)

    def take_slack_oauth(
        self, entity: str, state: str, member: str, now: int
    ) -> tuple[bool, SlackOAuthRecord | None]:
        """Consume a state once. (True, its record) when it was this member's and unexpired: deleted
        in the same write, so no second request completes it. Otherwise (False, the record found, if
        any), left as it was: another member's stays theirs to complete, an expired one goes by TTL."""
        key = keys.item(entity, keys.slack_oauth(state))
        try:
            answer = self.table.delete_item(
                Key=key,
                ConditionExpression="attribute_exists(PK) AND #member = :member AND expires_at > :now",
                ExpressionAttributeNames={"#member": "member"},
                ExpressionAttributeValues={":member": member, ":now": now},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False, self._get(entity, keys.slack_oauth(state), SlackOAuthRecord)
        return True, self._record(answer["Attributes"], SlackOAuthRecord)
