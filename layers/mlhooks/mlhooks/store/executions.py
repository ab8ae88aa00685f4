"""Executions: one per (event, automation), with the lease a sender holds while it delivers, and the
per-automation rate windows the matcher counts executions in.

An execution's item keeps, beside its document (`doc`) and index keys:
- `state`, the document's, for conditions, filters and counts;
- `enqueued`, once the matcher has queued its first job;
- `lease_owner` and `lease_until` while a sender delivers it (one receipt's token, epoch seconds);
- `job_id`, the job it waits for when a retry or a redelivery named one (jobs.Job.current_for);
- `version`, bumped by every write of the document (absent: 0, as items written before it).
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
        item = {
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
        if record.job_id is not None:
            item["job_id"] = record.job_id
        return item

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

    def claim_execution(
        self, entity: str, execution_id: str, owner: str, now: int, until: int, job_id: str | None = None
    ) -> bool:
        """Take the delivery lease of a PENDING execution for the job `job_id`, so that two copies of
        one job in flight (SQS delivers at least once) never both deliver, and a job a retry has
        replaced since it was read never delivers (jobs.Job.current_for, checked in the write)."""
        values: dict[str, Any] = {
            ":owner": owner,
            ":until": until,
            ":now": now,
            ":pending": ExecutionState.PENDING.value,
        }
        waits_for = "attribute_not_exists(job_id)"
        if job_id is not None:
            waits_for = f"({waits_for} OR job_id = :job)"
            values[":job"] = job_id
        return self._written(
            self.table.update_item,
            Key=keys.item(entity, keys.execution(execution_id)),
            UpdateExpression="SET lease_owner = :owner, lease_until = :until",
            ConditionExpression=f"#state = :pending AND {waits_for} AND (attribute_not_exists(lease_until) "
            "OR lease_until < :now OR lease_owner = :owner)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    def delivery_lease(self, entity: str, execution_id: str) -> int | None:
        """Until when (epoch seconds) a sender holds the execution's lease, if one took it and has
        not released it: the attempt it delivers may still be under way before then."""
        item = self.execution_item(entity, execution_id) or {}
        return int(item["lease_until"]) if "lease_until" in item else None

    def save_execution(self, record: ExecutionRecord, *, owner: str | None = None) -> bool:
        """Write an execution's new state, attempts and request; with `owner`, only while its lease
        is held, and releasing it (a retry claims afresh). Returns False when the lease was lost."""
        item = self._execution_item(record)
        values: dict[str, Any] = {":doc": item["doc"], ":state": item["state"], ":one": 1}
        expression = "SET doc = :doc, #state = :state"
        condition = "attribute_exists(PK)"
        if owner is not None:
            condition += " AND lease_owner = :owner"
            values[":owner"] = owner
        if owner is not None or record.state is not ExecutionState.PENDING:
            expression += " REMOVE lease_owner, lease_until"
        expression += " ADD version :one"
        return self._written(
            self.table.update_item,
            Key=keys.item(record.entity, keys.execution(record.id)),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    def reopen_execution(self, record: ExecutionRecord) -> bool:
        """FAILED -> PENDING for the dead-letter redrive; False if it was not FAILED any more. The
        redrive sends the job it took off the dead-letter queue as it is, so the execution names no
        job afterwards: whichever job it was is taken."""
        reopened = record.model_copy(
            update={
                "state": ExecutionState.PENDING,
                "reason": None,
                "deliveries": record.deliveries + 1,
                "job_id": None,
            }
        )
        return self._written(
            self.table.update_item,
            Key=keys.item(record.entity, keys.execution(record.id)),
            UpdateExpression="SET doc = :doc, #state = :pending "
            "REMOVE lease_owner, lease_until, job_id ADD version :one",
            ConditionExpression="#state = :failed",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":doc": reopened.model_dump_json(),
                ":pending": ExecutionState.PENDING.value,
                ":failed": ExecutionState.FAILED.value,
                ":one": 1,
            },
        )

    def replace_execution(
        self, seen: ExecutionRecord, new: ExecutionRecord, now: int
    ) -> ExecutionRecord | None:
        """Write `new` over the execution only if it is still the version `seen` was read at and no
        sender holds its lease (an attempt may be under way), releasing a lease that ran out: the one
        write by which the API retries, redelivers or cancels an execution, or puts it back. The
        execution as written, or None when it changed or is being delivered."""
        written = new.model_copy(update={"version": seen.version + 1})
        values: dict[str, Any] = {
            ":doc": written.model_dump_json(),
            ":state": written.state.value,
            ":now": now,
            ":next": written.version,
        }
        expression = "SET doc = :doc, #state = :state, version = :next"
        removed = ["lease_owner", "lease_until"]
        if written.job_id is None:
            removed.append("job_id")
        else:
            expression += ", job_id = :job"
            values[":job"] = written.job_id
        if seen.version:
            unchanged = "version = :seen"
            values[":seen"] = seen.version
        else:
            unchanged = "attribute_exists(PK) AND attribute_not_exists(version)"
        wrote = self._written(
            self.table.update_item,
            Key=keys.item(seen.entity, keys.execution(seen.id)),
            UpdateExpression=f"{expression} REMOVE {', '.join(removed)}",
            ConditionExpression=f"{unchanged} AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )
        return written if wrote else None

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
