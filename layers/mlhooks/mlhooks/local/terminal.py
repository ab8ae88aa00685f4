"""What the `mlhooks dev` terminal says: one line per delivery attempt (when, which execution, which
automation, where to, what came of it, which attempt of how many, when the next one is), one per
execution skipped before sending and one per event the matcher rejected (why); nothing else.

The functions' own logs are Lambda's JSON lines, written for CloudWatch; locally they go to
`.mlhooks/functions.log`, or with `--log-format json` to the terminal, with these lines as JSON too.

The lines are read off what the functions leave behind, never off their logs, so the functions log
as they do in AWS: after each batch a sender was given, its executions as recorded (the attempt,
the state it left); the backoff from the visibility the sender gave the message (SQS's
ChangeMessageVisibility, watched on the client the functions share); a rejection from the
matcher's answer.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import asdict, dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit

from mlhooks.models.records import Attempt, ExecutionRecord
from mlhooks.models.vocabulary import ActionType, ExecutionState
from mlhooks.outcome import DeliveryError

logger = logging.getLogger("mlhooks.local")
# Errors whose class says it all; the others add their text (a configuration error says what is wrong).
_SELF_EXPLAINED = frozenset({DeliveryError.HTTP_STATUS, DeliveryError.TIMEOUT, DeliveryError.CONNECTION})
_ACTION_WORDS = {
    ActionType.GENERIC_WEBHOOK: "webhook",
    ActionType.NOTIFICATION: "Slack",
    ActionType.QUEUE_JOB: "run queue",
    ActionType.NO_OP: "no-op",
}
TEXT_LIMIT = 120


def _cut(text: str, limit: int = TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _local(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


def _moment(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def outcome_text(attempt: Attempt) -> str:
    """What one attempt came to, in a few words: `delivered 200`, `failed 503`, `error timeout`."""
    if attempt.error_class is None and attempt.error is None:
        return f"delivered {attempt.status_code}" if attempt.status_code else "delivered"
    if attempt.error_class == DeliveryError.HTTP_STATUS or (
        attempt.error_class is None and attempt.status_code
    ):
        return f"failed {attempt.status_code}"
    if attempt.error_class is None:  # recorded before error classes existed
        return f"error: {_cut(attempt.error or '', 60)}"
    if attempt.error_class in _SELF_EXPLAINED or not attempt.error:
        return f"error {attempt.error_class}"
    return f"error {attempt.error_class}: {_cut(attempt.error, 80)}"


@dataclass(frozen=True)
class DeliveryReport:
    """One delivery attempt (or a skip) as the terminal tells it."""

    at: dt.datetime
    execution_id: str
    automation: str
    destination: str
    outcome: str
    state: ExecutionState
    attempt: int | None = None
    max_attempts: int | None = None
    reason: str | None = None
    status_code: int | None = None
    error_class: str | None = None
    next_retry_seconds: float | None = None

    def line(self) -> str:
        parts = [
            _local(self.at),
            self.execution_id,
            json.dumps(self.automation),
            self.destination,
            self.outcome,
        ]
        if self.attempt is not None:
            parts.append(f"attempt {self.attempt}/{self.max_attempts}")
        if self.state is ExecutionState.PENDING:
            if self.next_retry_seconds is not None and self.next_retry_seconds < 1:
                parts.append("next retry at once")
            elif self.next_retry_seconds is not None:
                retry_at = self.at + dt.timedelta(seconds=self.next_retry_seconds)
                parts.append(f"next retry in {self.next_retry_seconds:g} s ({_local(retry_at)})")
            else:
                parts.append("to be retried")
        elif self.state is ExecutionState.FAILED:
            parts.append(f"FAILED: {_cut(self.reason or 'not retried')}")
        elif self.state not in (ExecutionState.FINISHED, ExecutionState.SKIPPED):
            parts.append(self.state.value)
        return "  ".join(parts)

    def record(self) -> dict[str, Any]:
        return {
            "kind": "delivery_attempt",
            **asdict(self),
            "at": self.at.isoformat(),
            "state": self.state.value,
        }


def attempt_report(
    execution: ExecutionRecord,
    attempt: Attempt,
    destination: str,
    max_attempts: int,
    next_retry_seconds: float | None = None,
) -> DeliveryReport:
    return DeliveryReport(
        at=_moment(attempt.at),
        execution_id=execution.id,
        automation=execution.automation_name,
        destination=destination,
        outcome=outcome_text(attempt),
        state=execution.state,
        attempt=attempt.number,
        max_attempts=max_attempts,
        reason=execution.reason,
        status_code=attempt.status_code,
        error_class=attempt.error_class,
        next_retry_seconds=next_retry_seconds if execution.state is ExecutionState.PENDING else None,
    )


def skip_report(execution: ExecutionRecord, destination: str) -> DeliveryReport:
    return DeliveryReport(
        at=_moment(execution.updated_at),
        execution_id=execution.id,
        automation=execution.automation_name,
        destination=destination,
        outcome=f"skipped: {_cut(execution.reason or 'nothing to send')}",
        state=execution.state,
        reason=execution.reason,
    )


@dataclass(frozen=True)
class RejectionReport:
    """An event the matcher would not take."""

    at: dt.datetime
    reason: str
    source: str
    detail_type: str
    event_id: str

    def line(self) -> str:
        what = f"{self.detail_type!r} from {self.source}" + (
            f", event {self.event_id}" if self.event_id else ""
        )
        return f"{_local(self.at)}  event rejected ({what}): {_cut(self.reason)}"

    def record(self) -> dict[str, Any]:
        return {"kind": "event_rejected", **asdict(self), "at": self.at.isoformat()}


def rejection_report(event: dict[str, Any], reason: str, at: dt.datetime) -> RejectionReport:
    detail = event.get("detail")
    event_id = detail.get("event_id") if isinstance(detail, dict) else None
    return RejectionReport(
        at=at,
        reason=reason,
        source=str(event.get("source", "")),
        detail_type=str(event.get("detail-type", "")),
        event_id=str(event_id or ""),
    )


def destination(components: Any, execution: ExecutionRecord) -> str:
    """Where the execution's action goes: `webhook github → api.github.com`, `Slack alerts → #ml`,
    `run queue demo`; as the automation says now, the host as the attempt was sent."""
    word = _ACTION_WORDS.get(execution.action_type, str(execution.action_type))
    automation = components.store.get_automation(execution.entity, execution.automation_id)
    action = automation.action if automation is not None else None
    sent = execution.request or {}
    if execution.action_type is ActionType.GENERIC_WEBHOOK:
        name = getattr(action, "webhook", None)
        host = urlsplit(sent["url"]).netloc if isinstance(sent.get("url"), str) else ""
        return " ".join(filter(None, [word, name, f"→ {host}" if host else ""]))
    if execution.action_type is ActionType.NOTIFICATION:
        name = getattr(action, "slack", None)
        slack = components.store.get_slack(execution.entity, name) if name else None
        channel = f"→ #{slack.channel_name.lstrip('#')}" if slack and slack.channel_name else ""
        return " ".join(filter(None, [word, name, channel]))
    if execution.action_type is ActionType.QUEUE_JOB:
        return " ".join(filter(None, [word, getattr(action, "queue", None) or sent.get("queue")]))
    return word


class Terminal:
    """The dev terminal: the reports of what the pollers' functions did, as lines or JSON records."""

    def __init__(self, out: TextIO, *, json_records: bool = False):
        self.out = out
        self.json_records = json_records
        self._lock = threading.Lock()
        # Receipt handle -> the visibility a sender gave that message: when it comes back.
        self._visibility: dict[str, float] = {}

    def say(self, report: DeliveryReport | RejectionReport) -> None:
        text = json.dumps(report.record(), default=str) if self.json_records else report.line()
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    # ---- what the senders ask of SQS -------------------------------------------------------------

    def watch(self, sqs: Any) -> None:
        """Hear every visibility change made through this client (the one the functions share)."""
        sqs.meta.events.register("before-parameter-build.sqs.ChangeMessageVisibility", self._heard)

    def _heard(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self._visibility[params["ReceiptHandle"]] = float(params["VisibilityTimeout"])

    # ---- after the functions ran ---------------------------------------------------------------

    def batch_done(self, function: str, messages: list[dict[str, Any]], since: str) -> None:
        """After a sender's batch: a report for each attempt it recorded (or execution it skipped)."""
        try:
            self._report_batch(messages, since)
        except Exception:  # the terminal's lines never stop the queue they describe
            logger.exception("reporting %s's batch failed", function)

    def _report_batch(self, messages: list[dict[str, Any]], since: str) -> None:
        from mlhooks.components import get_components
        from mlhooks.jobs import Job

        components = get_components()
        for message in messages:
            with self._lock:
                next_retry = self._visibility.pop(message["ReceiptHandle"], None)
            job = Job.parse(message.get("Body") or "")
            if job is None:
                continue  # not an execution's job (a webhook's disabled alert)
            execution = components.store.get_execution(job.entity, job.execution_id)
            if execution is None:
                continue
            receipt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            made = [a for a in execution.attempts if a.number == receipt and a.at >= since]
            if made:
                where = destination(components, execution)
                self.say(
                    attempt_report(execution, made[-1], where, components.settings.max_attempts, next_retry)
                )
            elif execution.state is ExecutionState.SKIPPED and execution.updated_at >= since:
                self.say(skip_report(execution, destination(components, execution)))

    def event_done(self, function: str, event: dict[str, Any], result: Any) -> None:
        """After the matcher took an event: a report if it rejected it."""
        rejected = result.get("rejected") if isinstance(result, dict) else None
        if rejected:
            problems = result.get("problems") or []
            said = "; ".join(f"{p.get('field')}: {p.get('message')}" for p in problems[:2])
            reason = f"{rejected}: {said}" if said else str(rejected)
            self.say(rejection_report(event, reason, dt.datetime.now(dt.UTC)))
