"""Moving jobs from a dead-letter queue back to their queue, after the cause was fixed."""

from __future__ import annotations

from typing import Any

from mlhooks.jobs import Job
from mlhooks.models.vocabulary import ExecutionState
from mlhooks.store import Store


def redrive(sqs: Any, store: Store, dlq_url: str, queue_url: str, limit: int = 10_000) -> int:
    """Re-open each job's FAILED execution and send the job again; returns how many moved."""
    moved = 0
    while moved < limit:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            job = Job.parse(message["Body"])
            # A poison message goes back as it is; the sender will refuse it again.
            execution = None if job is None else store.get_execution(job.entity, job.execution_id)
            if execution is not None and execution.state is ExecutionState.FAILED:
                store.reopen_execution(execution)
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved
