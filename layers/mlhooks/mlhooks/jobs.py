"""Jobs: what travels on the action queues (webhook, Slack, job), one per execution to deliver.

The matcher enqueues a job for each new PENDING execution on its action's queue; the senders read
them; a retry, a redelivery and the dead-letter redrive put them back. One model and one map from an
action type to its queue serve all of them, so what is written and what is read cannot drift.

A retry of a PENDING execution cannot bring its message forward: the sender that postponed it kept
no receipt handle, and one would not outlive the next receive. So a retry queues a new job with an
id of its own, and names that id in the execution in the same write that checks nothing is being
delivered; the older job, when its message comes back, is then not `current_for` the execution and
is dropped unsent. The execution is the arbiter, never the queue.
"""

from __future__ import annotations

from pydantic import ValidationError

from mlhooks.models.base import Model
from mlhooks.models.records import ExecutionRecord
from mlhooks.models.vocabulary import ActionType
from mlhooks.settings import Settings


class Job(Model):
    """Which execution to deliver; everything else is read from the execution, as it is now."""

    entity: str
    execution_id: str
    # Set on the jobs a retry or a redelivery queues (the execution names the one it waits for);
    # the matcher's jobs, and those of versions before ids, have none.
    id: str | None = None

    @classmethod
    def of(cls, execution: ExecutionRecord) -> Job:
        return cls(entity=execution.entity, execution_id=execution.id, id=execution.job_id)

    def current_for(self, execution: ExecutionRecord) -> bool:
        """Whether the execution waits for this job. An execution that names no job (as the matcher
        and the dead-letter redrive leave it) takes any job of it; one that names a job, that job alone."""
        return execution.job_id is None or execution.job_id == self.id

    def body(self) -> str:
        return self.model_dump_json(exclude_none=True)

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
