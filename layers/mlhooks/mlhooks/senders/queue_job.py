"""QUEUE_JOB jobs: a launch request sent to one of the team's registered run queues."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from mlhooks.components import Components
from mlhooks.models.automation import QueueJobAction
from mlhooks.models.records import ExecutionRecord, RunQueueRecord
from mlhooks.models.vocabulary import EventType
from mlhooks.outcome import DeliveryError, Outcome
from mlhooks.redaction import Redactor
from mlhooks.run_queues import RunQueueService
from mlhooks.senders.base import Sender
from mlhooks.templating import render

# Message attributes of a queued job: `mlhooks.entity`, `mlhooks.automation_id`, ...
JOB_ATTRIBUTE_PREFIX = "mlhooks."
# SQS errors that no retry will fix.
FINAL_SQS_ERRORS = frozenset(
    {
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidParameterValue",
        "InvalidAddress",
    }
)


class QueueJobSender(Sender):
    def __init__(self, components: Components, queue_url: str, **kwargs: Any):
        super().__init__(components, queue_url, **kwargs)

    @functools.cached_property
    def run_queues(self) -> RunQueueService:
        return RunQueueService(self.store, self.components.sqs, self.settings)

    def deliver(self, execution: ExecutionRecord, redactor: Redactor) -> Outcome:
        automation = self.deliverable(execution)
        if isinstance(automation, Outcome):
            return automation
        if not isinstance(automation.action, QueueJobAction):
            return self.misconfigured("the automation no longer queues a job")
        run_queue, problem = self.run_queues.destination(execution.entity, automation.action.queue)
        if run_queue is None:
            return self.misconfigured(problem or "no run queue")
        action = automation.action
        body = launch_request(
            action,
            self.variables(execution, automation.name),
            automation_id=automation.id,
            automation_name=automation.name,
            execution_id=execution.id,
            event_type=execution.event_type,
            project=execution.project,
        )
        message = queue_message(
            run_queue,
            body,
            entity=execution.entity,
            automation_id=automation.id,
            automation_name=automation.name,
            execution_id=execution.id,
            project=execution.project,
        )
        request = {"queue": run_queue.name, "queue_url": run_queue.url, "body": body}
        started = time.monotonic()
        try:
            answer = self.components.sqs.send_message(**message)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            return Outcome.failure(
                DeliveryError.QUEUE,
                f"{code}: {exc.response['Error'].get('Message')}",
                retryable=code not in FINAL_SQS_ERRORS,
                duration_ms=int((time.monotonic() - started) * 1000),
                request=request,
            )
        return Outcome(
            excerpt=f"MessageId {answer['MessageId']}",
            duration_ms=int((time.monotonic() - started) * 1000),
            request=request,
        )


def launch_request(
    action: QueueJobAction,
    variables: Mapping[str, str],
    *,
    automation_id: str | None,
    automation_name: str,
    execution_id: str | None,
    event_type: EventType,
    project: str,
) -> dict[str, Any]:
    """What a launch agent receives: the job spec, its overrides templated with the event's variables,
    and where it came from. The ids are None only in a dry run of an unsaved automation."""
    return {
        "job": action.job,
        "version": action.version,
        # Templated like a payload: `${artifact_version_string}` in an override is the version.
        "overrides": render(action.overrides, variables),
        "destination_project": action.destination_project or project,
        "execution_id": execution_id,
        "automation": {"id": automation_id, "name": automation_name},
        "event": {"type": event_type.value, **{k: v for k, v in variables.items() if k != "automation_name"}},
    }


def queue_message(
    run_queue: RunQueueRecord,
    body: dict[str, Any],
    *,
    entity: str,
    automation_id: str | None,
    automation_name: str,
    execution_id: str | None,
    project: str,
) -> dict[str, Any]:
    """The SendMessage request for a launch request. Who sent it travels with the job as message
    attributes (`mlhooks.entity`, `mlhooks.automation_id`, ...), so a launch agent can tell one team's
    jobs from another's; a FIFO queue orders a project's jobs and drops a repeat of an execution."""
    attributes = {
        JOB_ATTRIBUTE_PREFIX + name: {"DataType": "String", "StringValue": value}
        for name, value in (
            ("entity", entity),
            ("automation_id", automation_id),
            ("automation_name", automation_name),
            ("execution_id", execution_id),
        )
        if value is not None
    }
    message: dict[str, Any] = {
        "QueueUrl": run_queue.url,
        "MessageBody": json.dumps(body),
        "MessageAttributes": attributes,
    }
    if run_queue.url.endswith(".fifo"):
        message |= {"MessageGroupId": project}
        if execution_id is not None:
            message["MessageDeduplicationId"] = execution_id
    return message
