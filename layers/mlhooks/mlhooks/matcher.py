"""The matcher: one platform event in, one execution per matching automation, one job per action.

Look-ups go by (entity, event type, scope) on the sparse GSI of enabled automations, through an
in-memory cache, so an event costs the same whether the account has a hundred automations or ten
thousand. Every change to an entity's automations (create, edit, enable, disable, delete) bumps the
entity's automations revision in the same transaction; the matcher reads it with each event (one
consistent GetItem) and keeps its cache only while it is unchanged, so a change governs the very
next event. (The look-up itself reads an index, which DynamoDB updates a moment after the table;
the senders re-read the automation before delivering, so a disabled one never delivers.)

The execution id is derived from the event id and the automation id: EventBridge delivering an
event twice creates each execution once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from mlhooks import bounded_json, metrics, tracing
from mlhooks.clock import now_iso
from mlhooks.components import Components
from mlhooks.conditions import metric_variables
from mlhooks.filters import Matcher as FilterMatcher
from mlhooks.filters import parse_filter
from mlhooks.jobs import Job, action_queue
from mlhooks.models.automation import RunStateEvent
from mlhooks.models.events import (
    API_SOURCE,
    BUS_PUBLISHER,
    DETAIL_TYPES,
    SOURCE,
    SOURCES_SOURCE,
    EventDetail,
    Publisher,
    RunMetricsLogged,
    filter_fields,
)
from mlhooks.models.records import AutomationRecord, ExecutionRecord
from mlhooks.models.vocabulary import ActionType, EventType, ExecutionState, RunState
from mlhooks.runs import RunConditions
from mlhooks.store import AutomationsRevision, Store, keys

logger = Logger(service="mlhooks-matcher")
SQS_BATCH = 10  # SendMessageBatch's limit
METRIC_EVENT_TYPES = (
    EventType.RUN_METRIC_THRESHOLD,
    EventType.RUN_METRIC_CHANGE,
    EventType.RUN_METRIC_ZSCORE,
)
MAX_CACHED_SCOPES = 10_000
# The bus sources whose events say who published them, and what they may say (Publisher.via).
TRUSTED_PUBLISHERS = {API_SOURCE: "api", SOURCES_SOURCE: "source"}


def as_json(value: float) -> float | str:
    """A metric value as JSON holds it: NaN and the infinities, which are no JSON numbers, spelled
    as the bus spells them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def execution_id(event_id: str, automation_id: str, publisher: Publisher = BUS_PUBLISHER) -> str:
    """One execution per (event, automation). An event id is unique for its publisher, not across
    publishers: an API key's events and the bus's are apart, so no key can take a platform's event id
    (guessable: `evt-…`) first and have the platform's own event dropped as a duplicate."""
    scope = {"api": publisher.key_id, "source": f"source/{publisher.source}"}.get(
        publisher.via, publisher.via
    )
    return "ex_" + hashlib.sha256(f"{scope}\n{event_id}\n{automation_id}".encode()).hexdigest()[:32]


def rate_window(now: float) -> str:
    """The rate limit's window an execution at `now` counts in: the minute since the epoch."""
    return str(int(now) // 60)


@dataclass
class MatchReport:
    event_id: str | None = None
    rejected: str | None = None
    # What was wrong with a rejected event, field by field (as its dead letter records it).
    problems: list[dict[str, str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    enqueued: int = 0


Compiled = list[tuple[AutomationRecord, FilterMatcher | None]]


def measure_event(detail: EventDetail, matched: bool, report: MatchReport, calls: Counter[str]) -> None:
    """A valid event's metrics: whether it matched, the executions it made and how long after the
    event's `time` they were made, and the DynamoDB calls it took."""
    entity = detail.entity
    if matched:
        metrics.add(metrics.EVENTS_MATCHED, 1, entity)
    if report.created:
        metrics.add(metrics.EXECUTIONS_CREATED, len(report.created), entity)
        metrics.add(metrics.EXECUTION_LAG, metrics.lag_seconds(detail.time), entity)
    metrics.add(metrics.DYNAMODB_CALLS_PER_EVENT, calls[metrics.DYNAMODB], entity)


class AutomationCache:
    """Enabled automations per (entity, event type, scopes), with their filters compiled, valid while
    the entity's automations revision is the one they were read at (and at most `ttl` seconds, a
    bound in case a revision write were ever lost).

    The revision is read consistently, the automations from an index, which DynamoDB updates a
    moment after the table: a set read within `settle` seconds of the last change may predate it,
    so it is used for this event but not kept."""

    def __init__(
        self,
        ttl: float,
        settle: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.ttl = ttl
        self.settle = settle
        self.clock = clock
        self.wall_clock = wall_clock
        self._entries: dict[tuple[str, ...], tuple[int, float, Compiled]] = {}

    def get(
        self, key: tuple[str, ...], revision: AutomationsRevision, load: Callable[[], list[AutomationRecord]]
    ) -> Compiled:
        now = self.clock()
        hit = self._entries.get(key)
        if hit and hit[0] == revision.number and hit[1] > now:
            return hit[2]
        compiled = [
            (a, parse_filter(a.event.filter, a.event.type) if a.event.filter else None) for a in load()
        ]
        if self.wall_clock() < revision.changed_at + self.settle:
            self._entries.pop(key, None)  # read too soon after a change to be trusted beyond this event
            return compiled
        if len(self._entries) >= MAX_CACHED_SCOPES:
            self._entries.clear()  # crude, bounded: a cold cache only costs look-ups
        self._entries[key] = (revision.number, now + self.ttl, compiled)
        return compiled


def _condition_holds(automation: AutomationRecord, detail: EventDetail) -> bool:
    event = automation.event
    if isinstance(event, RunStateEvent):
        return event.watches(detail.run.state)  # type: ignore[union-attr]
    return True


class EventMatcher:
    def __init__(
        self,
        components: Components,
        cache: AutomationCache | None = None,
        wall_clock: Callable[[], float] = time.time,
    ):
        # Made at cold start and kept: the store (its DynamoDB client) is made on the first event.
        self.components = components
        self.settings = components.settings
        self.cache = cache or AutomationCache(
            components.settings.match_cache_seconds,
            components.settings.index_settle_seconds,
            wall_clock=wall_clock,
        )
        self.wall_clock = wall_clock

    @property
    def store(self) -> Store:
        return self.components.store

    @functools.cached_property
    def runs(self) -> RunConditions:
        return RunConditions(self.store, self.settings.run_refire_seconds)

    # ---- parsing -------------------------------------------------------------------------------

    def parse(self, event: dict[str, Any]) -> tuple[str, EventDetail]:
        if bounded_json.lone_surrogate(event):
            raise ValueError("the event holds half of a surrogate pair, which is not text")
        source = event.get("source")
        if source not in TRUSTED_PUBLISHERS and source != SOURCE:
            raise ValueError(f"source must be {SOURCE!r}")
        detail_type = event.get("detail-type")
        model = DETAIL_TYPES.get(detail_type)  # type: ignore[arg-type]
        if model is None:
            raise ValueError(f"unknown detail-type {detail_type!r}; known: {', '.join(DETAIL_TYPES)}")
        detail = model.model_validate(event.get("detail"))
        # Who published it is the word of the API or of the inbound function alone (the bus policy
        # lets no one else publish with their sources); anyone else is EventBridge's publisher.
        claimed = detail.publisher
        trusted = claimed is not None and TRUSTED_PUBLISHERS.get(source) == claimed.via
        publisher = claimed if trusted else BUS_PUBLISHER
        return detail_type, detail.model_copy(update={"publisher": publisher})

    def dead_letter(self, event: dict[str, Any], reason: str, errors: list[dict[str, Any]]) -> None:
        body = {"reason": reason, "errors": errors, "event": event, "rejected_at": now_iso()}
        self.components.sqs.send_message(
            QueueUrl=self.settings.events_dlq_url, MessageBody=json.dumps(body, default=str)
        )

    # ---- matching ------------------------------------------------------------------------------

    def candidates(
        self, detail: EventDetail, event_type: EventType, revision: AutomationsRevision
    ) -> list[AutomationRecord]:
        scopes = keys.scopes_of_event(detail.project, getattr(detail, "collection", None))
        cached = self.cache.get(
            (detail.entity, event_type.value, *scopes),
            revision,
            lambda: self.store.enabled_automations(detail.entity, event_type.value, scopes),
        )
        fields = filter_fields(detail)
        return [
            automation
            for automation, compiled in cached
            if (compiled is None or compiled.matches(fields)) and _condition_holds(automation, detail)
        ]

    def handle(self, event: dict[str, Any]) -> MatchReport:
        metrics.add(metrics.EVENTS_RECEIVED, 1)
        with metrics.counting_calls() as calls:
            return self._handle(event, calls)

    def _handle(self, event: dict[str, Any], calls: Counter[str]) -> MatchReport:
        try:
            detail_type, detail = self.parse(event)
        except (ValueError, ValidationError) as exc:
            errors = (
                [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
                if isinstance(exc, ValidationError)
                else []
            )
            reason = "invalid detail" if isinstance(exc, ValidationError) else str(exc)
            metrics.add(metrics.EVENTS_REJECTED, 1)
            self.dead_letter(event, reason, errors)
            metrics.add(metrics.EVENTS_DEAD_LETTERED, 1)
            logger.warning("event rejected to the dead-letter queue", extra={"reason": reason})
            return MatchReport(rejected=reason, problems=errors)
        report = MatchReport(event_id=detail.event_id)
        with tracing.subsegment("lookup automations") as span:
            span.annotate(entity=detail.entity, detail_type=detail_type, event_id=detail.event_id)
            revision = self.store.automations_revision(detail.entity)
            if isinstance(detail, RunMetricsLogged):
                matches = self._run_metric_matches(detail, revision)
            else:
                event_type = type(detail).event_type
                assert event_type is not None
                matches = [(a, event_type, {}) for a in self.candidates(detail, event_type, revision)]
            span.annotate(matched=len(matches))
        jobs: list[ExecutionRecord] = []
        with tracing.subsegment("record executions"):
            for automation, event_type, variables in matches:
                execution = self._execution(automation, detail, detail_type, event_type, variables)
                job = self._record(execution, automation, report)
                if job is not None:
                    jobs.append(job)
        with tracing.subsegment("enqueue jobs"):
            report.enqueued = self.enqueue(jobs)
        measure_event(detail, bool(matches), report, calls)
        logger.info(
            "event matched",
            extra={
                "event_id": detail.event_id,
                "detail_type": detail_type,
                "executions_created": len(report.created),
                "jobs_enqueued": report.enqueued,
            },
        )
        return report

    def _run_metric_matches(
        self, detail: RunMetricsLogged, revision: AutomationsRevision
    ) -> list[tuple[AutomationRecord, EventType, dict[str, str]]]:
        """Run automations whose condition becomes true with this step (W&B's semantics, conditions.py)."""
        if detail.run.state is RunState.KILLED:
            return []  # killed runs never trigger
        watching = [
            a for event_type in METRIC_EVENT_TYPES for a in self.candidates(detail, event_type, revision)
        ]
        firings = self.runs.apply(detail, watching, self.wall_clock())
        return [
            (f.automation, f.automation.event.type, metric_variables(f.automation.event.metric, f.verdict))  # type: ignore[union-attr]
            for f in firings
        ]

    def _record(
        self, execution: ExecutionRecord, automation: AutomationRecord, report: MatchReport
    ) -> ExecutionRecord | None:
        """Write one execution (once: its id is deterministic); returns it if a job must be sent."""
        existing = self.store.execution_item(execution.entity, execution.id)
        if existing is not None:
            report.duplicates.append(execution.id)
            # A previous attempt may have stopped between writing and enqueuing.
            if existing["state"] == ExecutionState.PENDING.value and not existing.get("enqueued"):
                return execution
            return None
        if execution.state is ExecutionState.PENDING and not self._within_rate(automation):
            execution = execution.model_copy(
                update={
                    "state": ExecutionState.SKIPPED,
                    "reason": f"rate limit: {self.settings.rate_limit_per_minute} executions a minute",
                }
            )
        if not self.store.create_execution(execution):
            report.duplicates.append(execution.id)
            return None
        report.created.append(execution.id)
        if execution.state is ExecutionState.SKIPPED:
            report.skipped.append(execution.id)
            return None
        self.store.mark_executed(execution.entity, automation.id, execution.created_at)
        return execution if execution.state is ExecutionState.PENDING else None

    def _execution(
        self,
        automation: AutomationRecord,
        detail: EventDetail,
        detail_type: str,
        event_type: EventType,
        variables: dict[str, str] | None = None,
    ) -> ExecutionRecord:
        stamp = now_iso()
        no_op = automation.action.type is ActionType.NO_OP
        event = detail.model_dump(mode="json")
        if isinstance(detail, RunMetricsLogged):
            # NaN and infinities are not JSON numbers: the record keeps them as the event spelled them
            # on the bus ("NaN", "Infinity"), so it shows what was logged, and that it was ignored.
            event["run"]["metrics"] = {name: as_json(value) for name, value in detail.run.metrics.items()}
        return ExecutionRecord(
            entity=detail.entity,
            id=execution_id(detail.event_id, automation.id, detail.publisher or BUS_PUBLISHER),
            automation_id=automation.id,
            automation_name=automation.name,
            project=detail.project,
            collection=getattr(detail, "collection", None),
            event_type=event_type,
            detail_type=detail_type,
            event=event,
            variables=variables or {},
            publisher=(detail.publisher or BUS_PUBLISHER).model_dump(),
            action_type=automation.action.type,
            state=ExecutionState.FINISHED if no_op else ExecutionState.PENDING,
            reason="NO_OP: nothing to deliver" if no_op else None,
            created_at=stamp,
            updated_at=stamp,
        )

    def _within_rate(self, automation: AutomationRecord) -> bool:
        window = rate_window(self.wall_clock())
        return self.store.take_rate_token(
            automation.entity,
            automation.id,
            window,
            self.settings.rate_limit_per_minute,
            expires_at=(int(window) + 2) * 60,
        )

    def enqueue(self, executions: list[ExecutionRecord]) -> int:
        """One job per execution on its action's queue, ten at a time; marks each as enqueued."""
        by_queue: dict[str, list[ExecutionRecord]] = {}
        for execution in executions:
            by_queue.setdefault(action_queue(self.settings, execution.action_type), []).append(execution)
        sent = 0
        for queue_url, batch in by_queue.items():
            for start in range(0, len(batch), SQS_BATCH):
                chunk = batch[start : start + SQS_BATCH]
                entries = [{"Id": str(i), "MessageBody": Job.of(e).body()} for i, e in enumerate(chunk)]
                answer = self.components.sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
                if answer.get("Failed"):
                    # Raising makes EventBridge retry the event; created executions are then re-enqueued.
                    raise RuntimeError(f"SQS refused {len(answer['Failed'])} jobs: {answer['Failed'][0]}")
                for execution in chunk:
                    self.store.mark_enqueued(execution.entity, execution.id)
                sent += len(chunk)
        return sent
