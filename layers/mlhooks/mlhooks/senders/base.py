"""The delivery contract every sender keeps, whatever it delivers.

Claim the execution (so a job delivered twice by SQS is sent once), deliver, record the attempt, and
then finish it, fail it, skip it, or retry it later by pushing the message's visibility timeout out
(exponential backoff with jitter, or the other side's Retry-After). On the last allowed attempt the
execution is marked FAILED before the message goes on to the dead-letter queue, so no execution
stays PENDING once its job has left.

A job the execution no longer waits for is deleted unsent: the execution ended meanwhile (it was
canceled, say), or a retry queued a newer job for it (jobs.py). The claim checks the same in its
write, so a retry made between reading the execution and claiming it is not delivered past.
"""

from __future__ import annotations

import contextvars
import random
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from mlhooks import metrics, tracing
from mlhooks.clock import now_iso
from mlhooks.components import Components
from mlhooks.errors import MlhooksError
from mlhooks.jobs import Job
from mlhooks.models.base import STORED
from mlhooks.models.events import DETAIL_TYPES, template_variables
from mlhooks.models.records import Attempt, AutomationRecord, ExecutionRecord
from mlhooks.models.vocabulary import ExecutionState
from mlhooks.outcome import DeliveryError, Outcome
from mlhooks.redaction import Redactor
from mlhooks.store import Store

logger = Logger(service="mlhooks-sender")
# SQS's ceiling for a message's visibility: 12 hours in all since it was first received (moto counts
# from when it was sent). A postponement asks for no more than what is left of that, less a margin.
MAX_VISIBILITY_SECONDS = 12 * 60 * 60
VISIBILITY_MARGIN_SECONDS = 120
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


def receive_count(record: dict[str, Any]) -> int:
    """Which attempt this receipt is: SQS counts receives, and each receive is one attempt."""
    return int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))


def attempt_record(outcome: Outcome, number: int) -> Attempt:
    return Attempt(
        number=number,
        at=now_iso(),
        status_code=outcome.status_code,
        response_excerpt=outcome.excerpt[:1024],
        error=outcome.error,
        error_class=outcome.error_class,
        duration_ms=outcome.duration_ms,
    )


def internal_failure(exc: Exception, redactor: Redactor) -> Outcome:
    """Our side failed (a throttled secret read, a table hiccup, a bug): retried like a failed
    delivery. The AWS error code, or the exception's type, leads the error text."""
    code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
    return Outcome.failure(DeliveryError.INTERNAL, redactor.excerpt(f"{code}: {exc}", 500), retryable=True)


def measure_delivery(
    execution: ExecutionRecord, outcome: Outcome, state: ExecutionState, calls: Counter[str]
) -> None:
    """A settled delivery's metrics: its outcome, the attempt's latency, the lag a user felt, and the
    AWS calls it took (every call of this job: reading, claiming, secrets, saving). Never raises."""
    try:
        action = execution.action_type.value
        entity = execution.entity
        metrics.add(metrics.DELIVERIES, 1, entity, action=action, outcome=_OUTCOMES[state])
        if outcome.request is not None:  # something was sent, or tried: not so for a misconfiguration
            metrics.add(metrics.ATTEMPT_LATENCY, outcome.duration_ms, entity, action=action)
        # The pipeline's lag, from the event to its first round's delivery: a redelivery or a "retry
        # now" days later is a person's choice.
        if state is ExecutionState.FINISHED and execution.deliveries == 1:
            lag = metrics.lag_seconds(execution.event["time"])
            metrics.add(metrics.DELIVERY_LAG, lag, entity, action=action)
        metrics.add(metrics.DYNAMODB_CALLS_PER_DELIVERY, calls[metrics.DYNAMODB], entity, action=action)
        metrics.add(
            metrics.SECRETS_MANAGER_CALLS_PER_DELIVERY, calls[metrics.SECRETS_MANAGER], entity, action=action
        )
    except Exception:
        logger.exception("delivery metrics dropped", extra={"execution_id": execution.id})


# The `outcome` dimension of Deliveries: the execution's state after the attempt (PENDING: retried).
_OUTCOMES = {
    ExecutionState.FINISHED: "finished",
    ExecutionState.PENDING: "retried",
    ExecutionState.FAILED: "failed",
    ExecutionState.SKIPPED: "skipped",
}


class Sender:
    # Failures a delivery can meet that are not bugs: no traceback is logged for them. A sender that
    # calls out over HTTP adds its client's errors (the job sender does not load `requests`).
    expected_failures: tuple[type[Exception], ...] = (MlhooksError, ClientError, BotoCoreError)

    def __init__(
        self,
        components: Components,
        queue_url: str,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        # Made at cold start and kept: the store (its DynamoDB client) is made on the first job.
        self.components = components
        self.settings = components.settings
        self.queue_url = queue_url
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    @property
    def store(self) -> Store:
        return self.components.store

    # ---- the batch -----------------------------------------------------------------------------

    def handle_batch(self, event: dict[str, Any]) -> dict[str, Any]:
        """SQS batch in; `batchItemFailures` out (ReportBatchItemFailures): failed items stay on the queue."""
        records = event.get("Records") or []
        if not records:
            return {"batchItemFailures": []}
        # Worker threads start from an empty context: each record runs in a copy of this one, so what
        # it records lands in this invocation's metrics.
        contexts = [contextvars.copy_context() for _ in records]
        with ThreadPoolExecutor(max_workers=min(10, len(records))) as pool:
            done = list(
                pool.map(lambda context, record: context.run(self.process, record), contexts, records)
            )
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r, ok in zip(records, done, strict=True) if not ok
            ]
        }

    def process(self, record: dict[str, Any]) -> bool:
        """True when the message may be deleted."""
        with metrics.counting_calls() as calls:
            return self._process(record, calls)

    def _process(self, record: dict[str, Any], calls: Counter[str]) -> bool:
        job = Job.parse(record.get("body") or "")
        if job is None:
            logger.error("poison message: not a job; it goes on to the dead-letter queue")
            self._release(record)
            return False
        attempt = receive_count(record)
        now = self.clock()
        execution = self.store.get_execution(job.entity, job.execution_id)
        if execution is None or execution.state is not ExecutionState.PENDING:
            return True  # nothing (more) to do: a duplicate of a finished (or canceled) job
        if not job.current_for(execution):
            logger.info(
                "a job the execution no longer waits for is dropped unsent",
                extra={"execution_id": execution.id, "job_id": job.id, "current_job_id": execution.job_id},
            )
            return True
        # One token per receipt, not the message id: SQS's duplicate copies of a message share its id.
        owner = uuid.uuid4().hex
        lease = int(now) + LEASE_SECONDS
        if not self.store.claim_execution(job.entity, job.execution_id, owner, int(now), lease, job.id):
            # Another copy holds the lease. Come back when it ends rather than delete this one:
            # should that copy die before it finishes, this message is what brings the job back.
            # (Had the job been replaced or the execution ended meanwhile, it is dropped then.)
            return self._postpone(record, LEASE_SECONDS)
        # Every secret value read for this delivery is known here, so no text about it (an exception
        # quoting a header, a log line) can be kept without passing through it.
        redactor = Redactor()
        try:
            with tracing.subsegment("deliver") as span:
                span.annotate(action=execution.action_type.value, execution_id=execution.id, attempt=attempt)
                outcome = self.deliver(execution, redactor)
        except Exception as exc:
            # One bad job never takes its batch down with it.
            if not isinstance(exc, self.expected_failures):
                logger.error(
                    "delivery crashed",
                    extra={"execution_id": execution.id, "error": redactor.redact(traceback.format_exc())},
                )
            outcome = internal_failure(exc, redactor)
        return self._settle(execution, outcome, attempt, owner, record, calls)

    def _settle(
        self,
        execution: ExecutionRecord,
        outcome: Outcome,
        attempt: int,
        owner: str,
        record: dict[str, Any],
        calls: Counter[str],
    ) -> bool:
        update: dict[str, Any] = {"updated_at": now_iso()}
        if outcome.skipped is not None:
            # Nothing was sent, so no attempt is recorded.
            update |= {"state": ExecutionState.SKIPPED, "reason": outcome.skipped}
        else:
            update["attempts"] = [*execution.attempts, attempt_record(outcome, attempt)]
            if outcome.ok:
                update["state"] = ExecutionState.FINISHED
            elif not outcome.retryable:
                update |= {"state": ExecutionState.FAILED, "reason": outcome.error}
            elif attempt >= self.settings.max_attempts:
                update |= {
                    "state": ExecutionState.FAILED,
                    "reason": f"gave up after {attempt} attempts: {outcome.error}",
                }
        if outcome.request is not None:
            update["request"] = outcome.request
        saved = self.store.save_execution(execution.model_copy(update=update), owner=owner)
        if not saved:
            # The lease moved on to another copy. Keep this message until that copy is done: should
            # it die, this message brings the job back, and it is deleted unsent if it finished.
            return self._postpone(record, LEASE_SECONDS)
        state = update.get("state", ExecutionState.PENDING)
        measure_delivery(execution, outcome, state, calls)
        if state is ExecutionState.PENDING:
            return self._postpone(record, self._retry_delay(attempt, outcome.retry_after))
        if state is ExecutionState.FAILED and outcome.retryable:
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

    def deliver(self, execution: ExecutionRecord, redactor: Redactor) -> Outcome:  # pragma: no cover
        raise NotImplementedError

    def deliverable(self, execution: ExecutionRecord) -> AutomationRecord | Outcome:
        """The automation to deliver for, or the outcome that skips the job: an automation deleted or
        disabled after the event matched sends nothing, as its current state governs every delivery."""
        automation = self.store.get_automation(execution.entity, execution.automation_id)
        if automation is None:
            return Outcome(skipped="the automation was deleted after the event matched")
        if not automation.enabled:
            return Outcome(
                skipped=f"the automation was disabled on {automation.updated_at}, after the event matched"
            )
        return automation

    def secret_values(self, entity: str, names: set[str], redactor: Redactor) -> dict[str, str]:
        values = self.components.vault.read_cached(entity, names, self.settings.secret_cache_seconds)
        redactor.add(*values.values())
        return values

    def variables(self, execution: ExecutionRecord, automation_name: str) -> dict[str, str]:
        detail = DETAIL_TYPES[execution.detail_type].model_validate(execution.event, context=STORED)
        return {**template_variables(detail, execution.event_type, automation_name), **execution.variables}

    @staticmethod
    def misconfigured(reason: str) -> Outcome:
        """A job no retry can deliver as things are configured now."""
        return Outcome.failure(DeliveryError.CONFIGURATION, reason)
