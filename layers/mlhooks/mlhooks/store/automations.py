"""Automations, their names' uniqueness markers, and the entity's automations revision.

An automation is written with its name marker (unique per scope), its references (the integration
its action uses, `refs` counted) and a check that its scope still exists, in one transaction that
also bumps the entity's automations revision: the matcher's cache stands only while that does.
Enabled automations carry the sparse index's keys, so the matcher never reads a disabled one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from boto3.dynamodb.conditions import Attr, Key

from mlhooks.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from mlhooks.models.records import AutomationRecord
from mlhooks.models.vocabulary import ScopeType
from mlhooks.store import keys
from mlhooks.store.integrations import at_revision
from mlhooks.store.table import Op, TableStore


class AutomationsRevision(NamedTuple):
    """How many changes an entity's automations have had, and when (epoch seconds) the last was."""

    number: int
    changed_at: int


def scope_key(scope: Any) -> str:
    """The scope's part of the keys (see keys.py): names are unique within it, and the matcher
    looks automations up by it."""
    if scope.type is ScopeType.ENTITY:
        return keys.ENTITY_SCOPE
    if scope.type is ScopeType.PROJECT:
        return keys.project_scope(scope.project)
    return keys.collection_scope(scope.project, scope.collection)


def _uses(kind: str, name: str) -> str:
    """The `integration` attribute an automation is filtered by when that integration changes."""
    return f"{kind}#{name}"


class AutomationStore(TableStore):
    """Automations, with their name markers, references and the entity's revision."""

    @staticmethod
    def _automation_attributes(record: AutomationRecord) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "version": record.version,
            "enabled": record.enabled,
            "scope_type": record.scope.type.value,
            "event_type": record.event.type.value,
            "project": getattr(record.scope, "project", "") or "",
            "integration": _uses(*record.integration) if record.integration else "",
        }
        if record.last_executed_at:
            attributes["last_executed_at"] = record.last_executed_at  # a rewrite keeps it
        if record.enabled:
            # Sparse index: only enabled automations are in it, so the matcher reads no disabled ones.
            attributes |= keys.enabled_automation_keys(
                record.entity, record.event.type.value, scope_key(record.scope), record.id
            )
        return attributes

    @staticmethod
    def _name_marker_sk(record: AutomationRecord) -> str:
        return keys.automation_name(scope_key(record.scope), record.name)

    def _revision_op(self, entity: str) -> Op:
        """Counts every change to the entity's automations, and says when the last one was made: the
        matcher keeps its cache while the count stands (see AutomationCache)."""
        return (
            self._update(
                keys.item(entity, keys.AUTOMATIONS_SK),
                "ADD revision :one SET changed_at = :now",
                {":one": 1, ":now": int(time.time())},
            ),
            None,
        )

    def automations_revision(self, entity: str) -> AutomationsRevision:
        item = self.table.get_item(
            Key=keys.item(entity, keys.AUTOMATIONS_SK),
            ConsistentRead=True,
            ProjectionExpression="revision, changed_at",
        ).get("Item")
        if not item:
            return AutomationsRevision(0, 0)
        return AutomationsRevision(int(item["revision"]), int(item.get("changed_at", 0)))

    def _webhook_use_op(self, entity: str, name: str, revision: int, delta: int) -> Op:
        """An automation's payload was checked against this revision of its webhook (secrets, token):
        it is written only while the webhook is still at it, and it counts as a use (`users`), so a
        webhook edit that checked the automations before this one was written fails rather than
        breaks it."""
        condition, values = at_revision(revision)
        return (
            self._update(
                keys.item(entity, keys.webhook(name)),
                "ADD refs :delta, #users :one",
                {":delta": delta, ":one": 1, **values},
                condition,
                names={"#users": "users"},
            ),
            Conflict(
                f"Webhook {name} changed or was deleted meanwhile; check it and retry.",
                field="action.webhook",
            ),
        )

    def _automation_reference_ops(
        self, old: AutomationRecord | None, new: AutomationRecord | None, webhook_revision: int | None = None
    ) -> list[Op]:
        ops: list[Op] = []
        old_ref, new_ref = (old.integration if old else None), (new.integration if new else None)
        entity = (new or old).entity  # type: ignore[union-attr]
        if new_ref and new_ref[0] == "WEBHOOK" and webhook_revision is not None:
            ops.append(self._webhook_use_op(entity, new_ref[1], webhook_revision, int(old_ref != new_ref)))
            if old_ref and old_ref != new_ref:
                ops += self._ref_ops(entity, old_ref[0], set(), {old_ref[1]}, "action")
        elif old_ref != new_ref:
            if new_ref:
                field = {"WEBHOOK": "action.webhook", "SLACK": "action.slack", "RUNQUEUE": "action.queue"}[
                    new_ref[0]
                ]
                ops += self._ref_ops(entity, new_ref[0], {new_ref[1]}, set(), field)
            if old_ref:
                ops += self._ref_ops(entity, old_ref[0], set(), {old_ref[1]}, "action")
        if new is not None:
            scope = new.scope
            project = getattr(scope, "project", None)
            collection = getattr(scope, "collection", None)
            if project and (
                old is None
                or getattr(old.scope, "project", None) != project
                or getattr(old.scope, "collection", None) != collection
            ):
                # The scope must still exist when the automation is written, not just when it was checked.
                sk = keys.collection(project, collection) if collection else keys.project(project)
                ops.append(
                    (
                        self._check(keys.item(entity, sk), "attribute_exists(PK)"),
                        InvalidInput("The automation's scope does not exist in this entity.", field="scope"),
                    )
                )
        return [*ops, self._revision_op(entity)]

    def create_automation(self, record: AutomationRecord, webhook_revision: int | None = None) -> None:
        marker = {**keys.item(record.entity, self._name_marker_sk(record)), "automation_id": record.id}
        self._transact(
            [
                (
                    self._put(
                        self._item(
                            record.entity,
                            keys.automation(record.id),
                            record,
                            **self._automation_attributes(record),
                        ),
                        "attribute_not_exists(PK)",
                    ),
                    None,
                ),
                (
                    self._put(marker, "attribute_not_exists(PK)"),
                    Conflict(f"An automation named {record.name!r} exists in this scope.", field="name"),
                ),
                *self._automation_reference_ops(None, record, webhook_revision),
            ]
        )

    def get_automation(self, entity: str, automation_id: str) -> AutomationRecord | None:
        return self._get(entity, keys.automation(automation_id), AutomationRecord)

    def list_automations(
        self,
        entity: str,
        *,
        project: str | None = None,
        scope_type: str | None = None,
        event_type: str | None = None,
        enabled: bool | None = None,
        name: str | None = None,
        limit: int | None = 50,
        token: str | None = None,
    ) -> tuple[list[AutomationRecord], str | None]:
        """A page of the entity's automations matching every filter given. `name` matches exactly;
        DynamoDB narrows on the stored document's text, and the exact test follows the read."""
        condition = None
        if name is not None:
            condition = Attr("doc").contains('"name":' + json.dumps(name, ensure_ascii=False))
        for attribute, value in (
            ("project", project),
            ("scope_type", scope_type),
            ("event_type", event_type),
            ("enabled", enabled),
        ):
            if value is not None:
                clause = Attr(attribute).eq(value)
                condition = clause if condition is None else condition & clause
        records, next_token = self._query(
            entity, keys.AUTOMATIONS, AutomationRecord, limit=limit, token=token, filter_condition=condition
        )
        return [r for r in records if name is None or r.name == name], next_token

    def mark_executed(self, entity: str, automation_id: str, at: str) -> None:
        """Record that the automation executed at `at`, never moving the time back (events arrive out
        of order), and never recreating an automation deleted meanwhile."""
        self._written(
            self.table.update_item,
            Key=keys.item(entity, keys.automation(automation_id)),
            UpdateExpression="SET last_executed_at = :at",
            ConditionExpression="attribute_exists(PK) AND "
            "(attribute_not_exists(last_executed_at) OR last_executed_at < :at)",
            ExpressionAttributeValues={":at": at},
        )

    def rate_window_count(self, entity: str, automation_id: str, window: str) -> int:
        """How many executions the automation's rate window has counted so far (the matcher counts
        them with ExecutionStore.take_rate_token); read without taking one, for a dry run."""
        item = self.table.get_item(
            Key=keys.rate_window(entity, automation_id, window),
            ConsistentRead=True,
            ProjectionExpression="executions",
        ).get("Item")
        return int(item.get("executions", 0)) if item else 0

    def automations_using(self, entity: str, kind: str, name: str) -> list[AutomationRecord]:
        """Every automation whose action uses the (kind, name) integration. Reads all the entity's
        automations: only configuration changes (an integration's edit or delete) ask."""
        condition = Attr("integration").eq(_uses(kind, name))
        return self._query(entity, keys.AUTOMATIONS, AutomationRecord, filter_condition=condition)[0]

    def update_automation(
        self, old: AutomationRecord, new: AutomationRecord, webhook_revision: int | None = None
    ) -> None:
        """Replace an automation if it is still at `old.version`; `new.version` must be old + 1."""
        item = self._item(new.entity, keys.automation(new.id), new, **self._automation_attributes(new))
        ops: list[Op] = [
            (
                self._put(item, "version = :expected", {":expected": old.version}),
                PreconditionFailed(
                    f"The automation is no longer at version {old.version}; fetch it again and retry."
                ),
            ),
        ]
        if self._name_marker_sk(old) != self._name_marker_sk(new):
            ops.append((self._delete(keys.item(old.entity, self._name_marker_sk(old))), None))
            ops.append(
                (
                    self._put(
                        {**keys.item(new.entity, self._name_marker_sk(new)), "automation_id": new.id},
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(f"An automation named {new.name!r} exists in this scope.", field="name"),
                )
            )
        ops += self._automation_reference_ops(old, new, webhook_revision)
        self._transact(ops)

    def delete_automation(self, record: AutomationRecord) -> None:
        self._transact(
            [
                (
                    self._delete(
                        keys.item(record.entity, keys.automation(record.id)), "attribute_exists(PK)"
                    ),
                    NotFound("No such automation."),
                ),
                (self._delete(keys.item(record.entity, self._name_marker_sk(record))), None),
                *self._automation_reference_ops(record, None),
            ]
        )

    def enabled_automations(
        self, entity: str, event_type: str, scopes: Sequence[str]
    ) -> list[AutomationRecord]:
        """Enabled automations for one event type in the given scopes (`keys.scopes_of_event`): one
        query of the sparse index per scope, so the cost does not grow with unrelated automations."""
        records: list[AutomationRecord] = []
        for scope in scopes:
            kwargs: dict[str, Any] = {
                "IndexName": keys.AUTOMATIONS_AND_EXECUTIONS_INDEX,
                "KeyConditionExpression": Key("GSI1PK").eq(keys.enabled_automations(entity, event_type))
                & Key("GSI1SK").begins_with(keys.in_scope(scope)),
            }
            while True:
                page = self.table.query(**kwargs)
                readable = (self._readable(item, AutomationRecord) for item in page["Items"])
                records.extend(record for record in readable if record is not None)
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return records
