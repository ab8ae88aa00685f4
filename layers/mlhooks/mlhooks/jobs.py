"""Jobs: what travels on the action queues (webhook, Slack, job), one per execution to deliver.

The matcher enqueues a job for each new PENDING execution on its action's queue; the senders read
them; a redelivery and the dead-letter redrive put them back. One model and one map from an action
type to its queue serve all of them, so what is written and what is read cannot drift.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from mlhooks.models.records import ExecutionRecord
from mlhooks.models.vocabulary import ActionType
from mlhooks.settings import Settings


class Job(BaseModel):
    """Which execution to deliver; everything else is read from the execution, as it is now."""

    entity: str
    execution_id: str

    @classmethod
    def of(cls, execution: ExecutionRecord) -> Job:
        return cls(entity=execution.entity, execution_id=execution.id)

    def body(self) -> str:
        return self.model_dump_json()

    @classmethod
    def parse(cls, body: str) -> Job | None:
        """The job in a queue message, or None if it is not one (a poison message)."""
        try:
            return cls.model_validate_json(body)
        except ValidationError:
            return None


def action_queue(settings: Settings, action_type: ActionType) -> str:
    """The queue an action type's jobs go on (NO_OP has none: it finishes when it matches)."""
    return {
        ActionType.GENERIC_WEBHOOK: settings.webhook_queue_url,
        ActionType.NOTIFICATION: settings.slack_queue_url,
        ActionType.QUEUE_JOB: settings.job_queue_url,
    }[action_type]
