"""Executions: one per (event, automation), with the lease a sender holds while it delivers, and the
per-automation rate windows the matcher counts executions in.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from mlhooks.models.records import ExecutionRecord
from mlhooks.models.vocabulary import ExecutionState
from mlhooks.store import keys
from mlhooks.store.table import TableStore


class ExecutionStore(TableStore):
    """Executions, their delivery leases, and rate windows."""

    @staticmethod
    def _execution_item(record: ExecutionRecord) -> dict[str, Any]:
        return {
            **keys.item(record.entity, keys.execution(record.id)),
            "doc": record.model_dump_json(),
            "state": record.state.value,
            **keys.execution_index_keys(
                record.entity,
                record.automation_id,
                record.project,
                record.created_at,
                record.id,
                record.collection,
            ),
        }

    def create_execution(self, record: ExecutionRecord) -> bool:
        """Write a new execution; False if it exists (the same event seen again)."""
        return self._written(
            self.table.put_item,
            Item=self._execution_item(record),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_execution(self, entity: str, execution_id: str) -> ExecutionRecord | None:
        return self._get(entity, keys.execution(execution_id), ExecutionRecord)

    def execution_item(self, entity: str, execution_id: str) -> dict[str, Any] | None:
        return self.table.get_item(
            Key=keys.item(entity, keys.execution(execution_id)), ConsistentRead=True
        ).get("Item")

    def mark_enqueued(self, entity: str, execution_id: str) -> None:
        self.table.update_item(
            Key=keys.item(entity, keys.execution(execution_id)),
            UpdateExpression="SET enqueued = :t",
            ExpressionAttributeValues={":t": True},
        )

    def claim_execution(self, entity: str, execution_id: str, owner: str, now: int, until: int) -> bool:
        """Take the delivery lease of a PENDING execution, so that two copies of one job in flight
        (SQS delivers at least once) never both deliver."""
        return self._written(
            self.table.update_item,
            Key=keys.item(entity, keys.execution(execution_id)),
            UpdateExpression="SET lease_owner = :owner, lease_until = :until",
            ConditionExpression="#state = :pending AND (attribute_not_exists(lease_until) OR "
            "lease_until < :now OR lease_owner = :owner)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":owner": owner,
                ":until": until,
                ":now": now,
                ":pending": ExecutionState.PENDING.value,
            },
        )

    def save_execution(self, record: ExecutionRecord, *, owner: str | None = None) -> bool:
        """Write an execution's new state, attempts and request; with `owner`, only while its lease
        is held, and releasing it (a retry claims afresh). Returns False when the lease was lost."""
        item = self._execution_item(record)
        values: dict[str, Any] = {":doc": item["doc"], ":state": item["state"]}
        expression = "SET doc = :doc, #state = :state"
        condition = "attribute_exists(PK)"
        if owner is not None:
            condition += " AND lease_owner = :owner"
            values[":owner"] = owner
        if owner is not None or record.state is not ExecutionState.PENDING:
            expression += " REMOVE lease_owner, lease_until"
        return self._written(
            self.table.update_item,
            Key=keys.item(record.entity, keys.execution(record.id)),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    def reopen_execution(self, record: ExecutionRecord) -> bool:
        """FAILED -> PENDING for a redelivery; False if it was not FAILED any more."""
        reopened = record.model_copy(
            update={"state": ExecutionState.PENDING, "reason": None, "deliveries": record.deliveries + 1}
        )
        return self._written(
            self.table.update_item,
            Key=keys.item(record.entity, keys.execution(record.id)),
            UpdateExpression="SET doc = :doc, #state = :pending REMOVE lease_owner, lease_until",
            ConditionExpression="#state = :failed",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":doc": reopened.model_dump_json(),
                ":pending": "PENDING",
                ":failed": "FAILED",
            },
        )

    def list_executions(
        self,
        entity: str,
        *,
        automation_id: str | None = None,
        project: str | None = None,
        collection: str | None = None,
        state: str | None = None,
        limit: int = 50,
        token: str | None = None,
    ) -> tuple[list[ExecutionRecord], str | None]:
        if project and collection:
            index, index_pk = (
                keys.COLLECTION_EXECUTIONS_INDEX,
                keys.collection_executions(entity, project, collection),
            )
        elif automation_id:
            index, index_pk = (
                keys.AUTOMATIONS_AND_EXECUTIONS_INDEX,
                keys.automation_executions(entity, automation_id),
            )
        elif project:
            index, index_pk = keys.PROJECT_EXECUTIONS_INDEX, keys.project_executions(entity, project)
        else:
            index, index_pk = keys.ENTITY_EXECUTIONS_INDEX, keys.entity_executions(entity)
        condition = Attr("state").eq(state) if state else None
        return self._query(
            entity,
            keys.EXECUTIONS,
            ExecutionRecord,
            limit=limit,
            token=token,
            filter_condition=condition,
            index=index,
            index_pk=index_pk,
            newest_first=True,
        )

    def count_executions(self, entity: str, project: str, collection: str) -> dict[str, int]:
        """How many executions a collection's history holds, by state. One pass over its index
        partition that brings back each item's state alone; the history is bounded by its TTL."""
        counts: dict[str, int] = {}
        kwargs: dict[str, Any] = {
            "IndexName": keys.COLLECTION_EXECUTIONS_INDEX,
            "KeyConditionExpression": Key("GSI4PK").eq(
                keys.collection_executions(entity, project, collection)
            ),
            "ProjectionExpression": "#state",
            "ExpressionAttributeNames": {"#state": "state"},
        }
        while True:
            page = self.table.query(**kwargs)
            for item in page["Items"]:
                counts[item["state"]] = counts.get(item["state"], 0) + 1
            if "LastEvaluatedKey" not in page:
                return counts
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def take_rate_token(
        self, entity: str, automation_id: str, window: str, limit: int, expires_at: int
    ) -> bool:
        """Count one execution in the automation's current window; False once the window is full."""
        return self._written(
            self.table.update_item,
            Key=keys.rate_window(entity, automation_id, window),
            UpdateExpression="ADD executions :one SET expires_at = :exp",
            ConditionExpression="attribute_not_exists(executions) OR executions < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": limit, ":exp": expires_at},
        )
