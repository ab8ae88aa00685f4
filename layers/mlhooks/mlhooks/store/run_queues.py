"""Run queues: an entity's registered SQS queues for QUEUE_JOB actions.

A queue belongs to one entity: a marker keyed by the queue itself (account and name) is written
with the entity's record, so no other entity can register it and send jobs there.
"""

from __future__ import annotations

from collections.abc import Callable

from mlhooks.errors import Conflict, MlhooksError
from mlhooks.models.records import RunQueueRecord
from mlhooks.store import keys
from mlhooks.store.table import TableStore


class RunQueueStore(TableStore):
    """Run queues and the marker that makes each SQS queue one entity's."""

    def get_run_queue(self, entity: str, name: str) -> RunQueueRecord | None:
        return self._get(entity, keys.run_queue(name), RunQueueRecord)

    def list_run_queues(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[RunQueueRecord], str | None]:
        return self._page(entity, keys.RUN_QUEUES, RunQueueRecord, limit, token)

    def create_run_queue(self, record: RunQueueRecord, queue_key: str) -> None:
        self._transact(
            [
                (
                    self._put(
                        self._item(
                            record.entity, keys.run_queue(record.name), record, refs=0, queue=queue_key
                        ),
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(f"A run queue named {record.name} exists.", field="name"),
                ),
                (
                    self._put(
                        {**keys.queue_owner(queue_key), "entity": record.entity},
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(
                        "This queue is already registered as a run queue (a queue belongs to one entity).",
                        field="url",
                    ),
                ),
            ]
        )

    def delete_run_queue(
        self, record: RunQueueRecord, queue_key: str, in_use: Callable[[], MlhooksError]
    ) -> None:
        self._transact(
            [
                (
                    self._delete(
                        keys.item(record.entity, keys.run_queue(record.name)),
                        "attribute_exists(PK) AND (attribute_not_exists(refs) OR refs = :zero)",
                        {":zero": 0},
                    ),
                    in_use(),
                ),
                (
                    self._delete(
                        keys.queue_owner(queue_key),
                        "entity = :entity",
                        {":entity": record.entity},
                    ),
                    None,
                ),
            ]
        )
