"""The senders: SQS jobs in, deliveries out, every attempt recorded.

One base class carries the delivery contract common to the three action types: claim the
execution (so a job delivered twice by SQS is sent once), deliver, record the attempt, and then
finish it, fail it, or retry it later by pushing the message's visibility timeout out
(exponential backoff with jitter, or the receiver's Retry-After). On the last allowed attempt the
execution is marked FAILED before the message goes on to the dead-letter queue, so no execution
stays PENDING once its job has left.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError

from mlhooks.components import Components
from mlhooks.delivery import USER_AGENT, prepare_webhook_request, send
from mlhooks.errors import MlhooksError, UnsendableSecret
from mlhooks.health import DisabledAlert, WebhookHealthMonitor, alert_message
from mlhooks.models.api import NotificationAction, QueueJobAction, WebhookAction
from mlhooks.models.events import DETAIL_TYPES, template_variables
from mlhooks.models.records import Attempt, AutomationRecord, ExecutionRecord, WebhookAlert
from mlhooks.models.secret_values import header_token_problem
from mlhooks.models.vocabulary import ExecutionState
from mlhooks.redaction import Redactor
from mlhooks.run_queues import RunQueueService
from mlhooks.secrets import now_iso
from mlhooks.slack import RETRYABLE_ERRORS, build_message
from mlhooks.templating import render

logger = Logger(service="mlhooks-sender")
# Message attributes of a queued job: `mlhooks.entity`, `mlhooks.automation_id`, ...
JOB_ATTRIBUTE_PREFIX = "mlhooks."
# SQS's ceiling for a message's visibility: 12 hours in all since it was first received (moto counts
# from when it was sent). A postponement asks for no more than what is left of that, less a margin.
MAX_VISIBILITY_SECONDS = 12 * 60 * 60
VISIBILITY_MARGIN_SECONDS = 120
RETRYABLE_STATUS = frozenset({408, 429})
# Longer than one delivery can take (connect + read timeouts, secret reads), short enough that a
# crashed sender's job is picked up again soon.
LEASE_SECONDS = 120
# What SQS answers a visibility change for a message already deleted (by another copy's success).
GONE = frozenset({"ReceiptHandleIsInvalid", "MessageNotInflight"})


def message_gone(exc: ClientError) -> bool:
    """Whether a visibility change failed because the message was already deleted. SQS answers that
    with InvalidParameterValue too, naming the receipt handle; the same code about the timeout
    itself means the message is still there."""
    error = exc.response["Error"]
    if error["Code"] in GONE:
        return True
    return error["Code"] == "InvalidParameterValue" and "VisibilityTimeout" not in error.get("Message", "")


def visibility_left(record: dict[str, Any], now: float) -> float:
    """How long the message may still be kept invisible: 12 hours from the earlier of its sending and
    its first receipt, less a margin."""
    attributes = record.get("attributes") or {}
    stamps = [
        int(attributes[name]) / 1000
        for name in ("SentTimestamp", "ApproximateFirstReceiveTimestamp")
        if str(attributes.get(name, "")).isdigit()
    ]
    since = min(stamps) if stamps else now
    return max(0.0, since + MAX_VISIBILITY_SECONDS - VISIBILITY_MARGIN_SECONDS - now)


class Job(BaseModel):
    entity: str
    execution_id: str


@dataclass
class Result:
    """What one attempt came to."""

    attempt: Attempt
    retryable: bool = False
    retry_after: float | None = None
    request: dict[str, Any] | None = None
    permanent_reason: str | None = None
    # Nothing to deliver any more (the automation was disabled or deleted): SKIPPED, not FAILED.
    skipped_reason: str | None = None

    @property
    def delivered(self) -> bool:
        return (
            self.attempt.error is None
            and self.permanent_reason is None
            and self.skipped_reason is None
            and not self.retryable
        )


def parse_retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def classify_status(status: int | None) -> tuple[bool, bool]:
    """(ok, retryable) for an HTTP status; None means no answer (network error, timeout)."""
    if status is None:
        return False, True
    if 200 <= status < 300:
        return True, False
    return False, status in RETRYABLE_STATUS or status >= 500


class Sender:
    def __init__(
        self,
        components: Components,
        queue_url: str,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        self.components = components
        self.store = components.store
        self.settings = components.settings
        self.queue_url = queue_url
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    # ---- the batch -----------------------------------------------------------------------------

    def handle_batch(self, event: dict[str, Any]) -> dict[str, Any]:
        """SQS batch in; `batchItemFailures` out (ReportBatchItemFailures): failed items stay on the queue."""
        records = event.get("Records") or []
        if not records:
            return {"batchItemFailures": []}
        with ThreadPoolExecutor(max_workers=min(10, len(records))) as pool:
            done = list(pool.map(self.process, records))
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r, ok in zip(records, done, strict=True) if not ok
            ]
        }

    def process(self, record: dict[str, Any]) -> bool:
        """True when the message may be deleted."""
        try:
            job = Job.model_validate_json(record["body"])
        except (ValidationError, KeyError):
            logger.error("poison message: not a job; it goes on to the dead-letter queue")
            self._release(record)
            return False
        attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        now = self.clock()
        execution = self.store.get_execution(job.entity, job.execution_id)
        if execution is None or execution.state is not ExecutionState.PENDING:
            return True  # nothing (more) to do: a duplicate of a finished job
        # One token per receipt, not the message id: SQS's duplicate copies of a message share its id.
        owner = uuid.uuid4().hex
        lease = int(now) + LEASE_SECONDS
        if not self.store.claim_execution(job.entity, job.execution_id, owner, int(now), lease):
            # Another copy holds the lease. Come back when it ends rather than delete this one:
            # should that copy die before it finishes, this message is what brings the job back.
            return self._postpone(record, LEASE_SECONDS)
        # Every secret value read for this delivery is known here, so no text about it (an exception
        # quoting a header, a log line) can be kept without passing through it.
        redactor = Redactor()
        try:
            result = self.deliver(execution, attempt, redactor)
        except Exception as exc:
            # Our side failed (a throttled secret read, a table hiccup, a bug): record it and try again
            # later, like a failed delivery, so one bad job never takes its batch down with it.
            if not isinstance(exc, MlhooksError | ClientError | BotoCoreError | requests.RequestException):
                logger.error(
                    "delivery crashed",
                    extra={"execution_id": execution.id, "error": redactor.redact(traceback.format_exc())},
                )
            code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
            error = redactor.excerpt(str(exc), 500)
            result = Result(
                Attempt(number=attempt, at=now_iso(), error=error, error_class=code), retryable=True
            )
        return self._settle(execution, result, attempt, owner, record)

    def _settle(
        self, execution: ExecutionRecord, result: Result, attempt: int, owner: str, record: dict[str, Any]
    ) -> bool:
        # A skipped job made no attempt: nothing was sent.
        attempts = [*execution.attempts] if result.skipped_reason else [*execution.attempts, result.attempt]
        update: dict[str, Any] = {"attempts": attempts, "updated_at": now_iso()}
        if result.request is not None:
            update["request"] = result.request
        if result.delivered:
            update["state"] = ExecutionState.FINISHED
        elif result.skipped_reason:
            update |= {"state": ExecutionState.SKIPPED, "reason": result.skipped_reason}
        elif result.permanent_reason or not result.retryable:
            update |= {
                "state": ExecutionState.FAILED,
                "reason": result.permanent_reason or result.attempt.error,
            }
        elif attempt >= self.settings.max_attempts:
            update |= {
                "state": ExecutionState.FAILED,
                "reason": f"gave up after {attempt} attempts: {result.attempt.error}",
            }
        saved = self.store.save_execution(execution.model_copy(update=update), owner=owner)
        if not saved:
            # The lease moved on to another copy. Keep this message until that copy is done: should
            # it die, this message brings the job back, and it is deleted unsent if it finished.
            return self._postpone(record, LEASE_SECONDS)
        state = update.get("state", ExecutionState.PENDING)
        if state is ExecutionState.PENDING:
            return self._postpone(record, self._retry_delay(attempt, result.retry_after))
        exhausted = state is ExecutionState.FAILED and result.retryable and not result.permanent_reason
        if exhausted:
            # Retries used up: keep the message and make it visible, so SQS moves it to the
            # dead-letter queue on its next receive instead of after a full visibility timeout.
            self._release(record)
            return False
        return True

    def _release(self, record: dict[str, Any]) -> None:
        self.components.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )

    def _postpone(self, record: dict[str, Any], seconds: float) -> bool:
        """Keep the message, to be received again in `seconds` (or as late as SQS allows); True if it
        is already gone."""
        seconds = min(seconds, visibility_left(record, self.clock()))
        try:
            self.components.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=int(seconds)
            )
        except ClientError as exc:
            if not message_gone(exc):
                raise  # the whole batch comes back: nothing is deleted on a guess
            return True  # the copy holding the lease finished and deleted the message meanwhile
        return False

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 1.0), MAX_VISIBILITY_SECONDS)
        ceiling = min(self.settings.retry_max_seconds, self.settings.retry_base_seconds * 2 ** (attempt - 1))
        # "Equal jitter": at least half the backoff, so retries spread out without bunching at zero.
        return min(ceiling / 2 + self.rng.uniform(0, ceiling / 2), MAX_VISIBILITY_SECONDS)

    # ---- one delivery ----------------------------------------------------------------------------

    def deliver(
        self, execution: ExecutionRecord, attempt: int, redactor: Redactor
    ) -> Result:  # pragma: no cover - interface
        raise NotImplementedError

    def automation(self, execution: ExecutionRecord) -> AutomationRecord | None:
        return self.store.get_automation(execution.entity, execution.automation_id)

    @staticmethod
    def not_deliverable(automation: AutomationRecord | None, attempt: int) -> Result | None:
        """A job whose automation was deleted or disabled after the event matched is not sent: the
        automation's current state governs every delivery, not the one it had when the event came."""
        if automation is None:
            reason = "the automation was deleted after the event matched"
        elif not automation.enabled:
            reason = f"the automation was disabled on {automation.updated_at}, after the event matched"
        else:
            return None
        return Result(Attempt(number=attempt, at=now_iso(), error_class="skipped"), skipped_reason=reason)

    def secret_values(self, entity: str, names: set[str], redactor: Redactor) -> dict[str, str]:
        values = self.components.vault.read_cached(entity, names, self.settings.secret_cache_seconds)
        redactor.add(*values.values())
        return values

    def variables(self, execution: ExecutionRecord, automation_name: str) -> dict[str, str]:
        detail = DETAIL_TYPES[execution.detail_type].model_validate(execution.event)
        return {**template_variables(detail, execution.event_type, automation_name), **execution.variables}

    @staticmethod
    def failed(attempt: int, reason: str, error_class: str = "configuration") -> Result:
        return Result(
            Attempt(number=attempt, at=now_iso(), error=reason, error_class=error_class),
            permanent_reason=reason,
        )


class WebhookSender(Sender):
    def __init__(self, components: Components, queue_url: str, **kwargs: Any):
        super().__init__(components, queue_url, **kwargs)
        self.health = WebhookHealthMonitor(components, self.clock)

    def deliver(self, execution: ExecutionRecord, attempt: int, redactor: Redactor) -> Result:
        automation = self.automation(execution)
        if (skipped := self.not_deliverable(automation, attempt)) is not None:
            return skipped
        assert automation is not None
        if not isinstance(automation.action, WebhookAction):
            return self.failed(attempt, "the automation no longer sends a webhook")
        webhook = self.store.get_webhook(execution.entity, automation.action.webhook)
        if webhook is None:
            return self.failed(attempt, f"webhook {automation.action.webhook} no longer exists")
        if not webhook.enabled:
            return self.failed(attempt, f"webhook {webhook.name} is disabled: {webhook.disabled_reason}")
        secrets = self.secret_values(execution.entity, webhook.secret_names(), redactor)
        try:
            request = prepare_webhook_request(
                webhook,
                automation.action.payload,
                self.variables(execution, automation.name),
                secrets,
                message_id=execution.id,
                timestamp=int(self.clock()),
            )
        except UnsendableSecret as exc:
            # No retry can help. It is the webhook's configuration rather than the receiver, but it is
            # this webhook that cannot deliver: its health (and every automation's status) says so.
            self.health.failed(webhook, exc.message)
            return self.failed(attempt, exc.message)
        outcome = send(self.components.outbound, request)
        ok, retryable = classify_status(outcome.status_code)
        if outcome.error_class in ("blocked_destination", "unresolvable_destination"):
            retryable = outcome.error_class == "unresolvable_destination"
        result = Result(
            Attempt(
                number=attempt,
                at=now_iso(),
                status_code=outcome.status_code,
                response_excerpt=outcome.body_excerpt[:1024],
                error=outcome.error or (None if ok else f"HTTP {outcome.status_code}"),
                error_class=outcome.error_class,
                duration_ms=outcome.duration_ms,
            ),
            retryable=retryable,
            retry_after=parse_retry_after(outcome.headers.get("Retry-After"), self.clock()),
            request=request.for_record(),
        )
        if outcome.status_code == 410:
            # 410 Gone: the receiver says it is gone for good; stop calling it (and say why in its health).
            self.health.failed(webhook, "HTTP 410 Gone")
            self.health.disable(webhook, f"the receiver answered 410 Gone on {now_iso()}")
            result.permanent_reason = "the receiver answered 410 Gone; the webhook is now disabled"
        elif ok:
            self.health.delivered(webhook)
        else:
            self.health.failed(webhook, result.attempt.error or f"HTTP {outcome.status_code}")
        return result


@dataclass
class SlackAnswer:
    """What chat.postMessage came to; `error` is None when Slack said ok."""

    error: str | None
    error_class: str | None = None
    retryable: bool = False
    status_code: int | None = None
    excerpt: str = ""
    retry_after: float | None = None
    duration_ms: int = 0


class SlackSender(Sender):
    def __init__(self, components: Components, queue_url: str, **kwargs: Any):
        super().__init__(components, queue_url, **kwargs)
        self.http = requests.Session()
        self.http.trust_env = False

    def process(self, record: dict[str, Any]) -> bool:
        # The Slack queue also carries alerts about disabled webhooks, which are not executions.
        alert = DisabledAlert.parse(record.get("body") or "")
        return super().process(record) if alert is None else self.send_alert(alert, record)

    def post(self, token: str, message: dict[str, Any], redactor: Redactor) -> SlackAnswer:
        started = time.monotonic()
        problem = header_token_problem(token)
        if problem:
            return SlackAnswer(error=f"The bot token cannot be sent: {problem} Rotate the secret.")
        try:
            answer = self.http.post(
                f"{self.settings.slack_api_url.rstrip('/')}/chat.postMessage",
                json=message,
                headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
                timeout=(self.settings.http_connect_timeout_seconds, self.settings.http_read_timeout_seconds),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return SlackAnswer(
                error=redactor.excerpt(str(exc), 500),
                error_class=type(exc).__name__,
                retryable=True,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        try:
            body = answer.json()
        except ValueError:
            body = {}
        slack_error = None if body.get("ok") else str(body.get("error") or f"HTTP {answer.status_code}")
        ok, retryable = classify_status(answer.status_code)
        if ok and slack_error:
            retryable = slack_error in RETRYABLE_ERRORS
        return SlackAnswer(
            error=slack_error,
            error_class="slack_error" if slack_error else None,
            retryable=bool(slack_error) and retryable,
            status_code=answer.status_code,
            excerpt=redactor.excerpt(answer.text[: 1024 + redactor.margin], 1024),
            retry_after=parse_retry_after(answer.headers.get("Retry-After"), self.clock()),
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    def deliver(self, execution: ExecutionRecord, attempt: int, redactor: Redactor) -> Result:
        automation = self.automation(execution)
        if (skipped := self.not_deliverable(automation, attempt)) is not None:
            return skipped
        assert automation is not None
        if not isinstance(automation.action, NotificationAction):
            return self.failed(attempt, "the automation no longer notifies Slack")
        integration = self.store.get_slack(execution.entity, automation.action.slack)
        if integration is None:
            return self.failed(attempt, f"Slack integration {automation.action.slack} no longer exists")
        token = self.secret_values(execution.entity, {integration.bot_token_secret}, redactor)[
            integration.bot_token_secret
        ]
        message = build_message(
            automation.action, integration.channel_id, self.variables(execution, automation.name)
        )
        answer = self.post(token, message, redactor)
        return Result(
            Attempt(
                number=attempt,
                at=now_iso(),
                status_code=answer.status_code,
                response_excerpt=answer.excerpt,
                error=answer.error,
                error_class=answer.error_class,
                duration_ms=answer.duration_ms,
            ),
            retryable=answer.retryable,
            retry_after=answer.retry_after,
            request=message,
        )

    def send_alert(self, alert: DisabledAlert, record: dict[str, Any]) -> bool:
        """Tell the team a webhook was disabled. Retried through the queue like a notification; its
        outcome is kept on the webhook. True when the message may be deleted."""
        attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        integration = self.store.get_slack(alert.entity, alert.slack)
        redactor = Redactor()
        if integration is None:
            answer = SlackAnswer(error=f"Slack integration {alert.slack} no longer exists")
        else:
            try:
                name = integration.bot_token_secret
                token = self.secret_values(alert.entity, {name}, redactor)[name]
                answer = self.post(token, alert_message(alert, integration.channel_id), redactor)
            except (MlhooksError, ClientError, BotoCoreError) as exc:
                error = redactor.excerpt(str(exc), 500)
                answer = SlackAnswer(error=error, error_class=type(exc).__name__, retryable=True)
        if answer.retryable and attempt < self.settings.max_attempts:
            return self._postpone(record, self._retry_delay(attempt, answer.retry_after))
        state = "SENT" if answer.error is None else "FAILED"
        outcome = WebhookAlert(slack=alert.slack, state=state, at=now_iso(), error=answer.error)
        self.store.set_webhook_alert(alert.entity, alert.webhook, outcome)
        if answer.retryable:
            self._release(record)  # retries used up: on to the dead-letter queue, kept for a redrive
            return False
        return True


class JobSender(Sender):
    # SQS errors that no retry will fix.
    FINAL = frozenset(
        {
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "AccessDenied",
            "AccessDeniedException",
            "InvalidParameterValue",
            "InvalidAddress",
        }
    )

    def __init__(self, components: Components, queue_url: str, **kwargs: Any):
        super().__init__(components, queue_url, **kwargs)
        self.run_queues = RunQueueService(components.store, components.sqs, components.settings)

    def deliver(self, execution: ExecutionRecord, attempt: int, redactor: Redactor) -> Result:
        automation = self.automation(execution)
        if (skipped := self.not_deliverable(automation, attempt)) is not None:
            return skipped
        assert automation is not None
        if not isinstance(automation.action, QueueJobAction):
            return self.failed(attempt, "the automation no longer queues a job")
        action = automation.action
        run_queue, problem = self.run_queues.destination(execution.entity, action.queue)
        if run_queue is None:
            return self.failed(attempt, problem or "no run queue")
        variables = self.variables(execution, automation.name)
        body = {
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
        # Who sent it travels with the job, so a launch agent can tell one team's jobs from another's.
        attributes = {
            JOB_ATTRIBUTE_PREFIX + name: {"DataType": "String", "StringValue": value}
            for name, value in (
                ("entity", execution.entity),
                ("automation_id", automation.id),
                ("automation_name", automation.name),
                ("execution_id", execution.id),
            )
        }
        message: dict[str, Any] = {
            "QueueUrl": run_queue.url,
            "MessageBody": json.dumps(body),
            "MessageAttributes": attributes,
        }
        if run_queue.url.endswith(".fifo"):
            message |= {"MessageGroupId": execution.project, "MessageDeduplicationId": execution.id}
        request = {"queue": run_queue.name, "queue_url": run_queue.url, "body": body}
        started = time.monotonic()
        try:
            answer = self.components.sqs.send_message(**message)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            return Result(
                Attempt(
                    number=attempt,
                    at=now_iso(),
                    error=f"{code}: {exc.response['Error'].get('Message')}",
                    error_class=code,
                    duration_ms=int((time.monotonic() - started) * 1000),
                ),
                retryable=code not in self.FINAL,
                request=request,
            )
        return Result(
            Attempt(
                number=attempt,
                at=now_iso(),
                response_excerpt=f"MessageId {answer['MessageId']}",
                duration_ms=int((time.monotonic() - started) * 1000),
            ),
            request=request,
        )
