"""QUEUE_JOB jobs: a launch request sent to one of the team's registered run queues."""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from mlhooks.components import Components
from mlhooks.models.automation import QueueJobAction
from mlhooks.models.records import AutomationRecord, ExecutionRecord
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
        self.run_queues = RunQueueService(components.store, components.sqs, components.settings)

    def deliver(self, execution: ExecutionRecord, redactor: Redactor) -> Outcome:
        automation = self.deliverable(execution)
        if isinstance(automation, Outcome):
            return automation
        if not isinstance(automation.action, QueueJobAction):
            return self.misconfigured("the automation no longer queues a job")
        run_queue, problem = self.run_queues.destination(execution.entity, automation.action.queue)
        if run_queue is None:
            return self.misconfigured(problem or "no run queue")
        body = self.launch_request(execution, automation)
        message: dict[str, Any] = {
            "QueueUrl": run_queue.url,
            "MessageBody": json.dumps(body),
            "MessageAttributes": self.attributes(execution, automation),
        }
        if run_queue.url.endswith(".fifo"):
            message |= {"MessageGroupId": execution.project, "MessageDeduplicationId": execution.id}
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

    def launch_request(self, execution: ExecutionRecord, automation: AutomationRecord) -> dict[str, Any]:
        action = automation.action
        assert isinstance(action, QueueJobAction)
        variables = self.variables(execution, automation.name)
        return {
            "job": action.job,
            "version": action.version,
            # Templated like a payload: `${artifact_version_string}` in an override is the version.
            "overrides": render(action.overrides, variables),
            "destination_project": action.destination_project or execution.project,
            "execution_id": execution.id,
            "automation": {"id": automation.id, "name": automation.name},
            "event": {
                "type": execution.event_type.value,
                **{k: v for k, v in variables.items() if k != "automation_name"},
            },
        }

    @staticmethod
    def attributes(execution: ExecutionRecord, automation: AutomationRecord) -> dict[str, Any]:
        """Who sent it travels with the job, so a launch agent can tell one team's jobs from another's."""
        return {
            JOB_ATTRIBUTE_PREFIX + name: {"DataType": "String", "StringValue": value}
            for name, value in (
                ("entity", execution.entity),
                ("automation_id", automation.id),
                ("automation_name", automation.name),
                ("execution_id", execution.id),
            )
        }
