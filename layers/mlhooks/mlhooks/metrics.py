"""Operational metrics, as CloudWatch embedded metric format (EMF) log lines: no API call, no latency.

What an operator watches: deliveries by outcome and action type, attempt latency, the lag from an
event's `time` to its executions and to their delivery (what a user feels), what the matcher did
with each event, webhooks disabled, and the DynamoDB and Secrets Manager calls each delivery and
each event cost (botocore's own `before-call` hook counts them, per thread, so the ten deliveries
of a batch are counted apart).

Metrics are recorded during one invocation and written once at its end (`log_metrics`, the handlers'
decorator), as Powertools' `log_metrics` does; outside an invocation (a benchmark or a test driving a
component directly) recording is a no-op. Nothing here raises into a delivery: a metric that cannot
be recorded or written is logged and dropped.

Dimensions stay few: `service` (the stack's name, so two stacks in one account stay apart) and, per
metric, the action type and the outcome. Never an entity or automation id by default: CloudWatch
bills every combination of dimension values as a metric of its own. `MLHOOKS_METRICS_BY_ENTITY`
(the MetricsByEntity parameter) adds a second dimension set with the entity, for stacks with few
teams that want each team's figures, one more metric per entity each.

The catalogue below is the one list of names: the template's alarms and dashboard are checked against
it (tests/unit/test_operations_template.py).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from mlhooks.settings import Settings, get_settings

logger = Logger(service="mlhooks-metrics")

# The service ids botocore's events name the services by (`before-call.<service id>.<operation>`).
DYNAMODB = "dynamodb"
SECRETS_MANAGER = "secrets-manager"
_COUNTER_ID = "mlhooks-metrics-call-counter"
# Levels above INFO at which Lambda's log-level filter (AWS_LAMBDA_LOG_LEVEL) would drop an EMF line:
# Lambda files a JSON line without "level" as INFO, so metric lines say the level that passes.
_FILTERING_LEVELS = frozenset({"WARN", "ERROR", "FATAL"})
# EMF takes up to 100 values of a metric in one document, and Powertools' provider writes a metric out
# by itself on its 100th: a document here holds at most 99 of each.
_VALUES_PER_DOCUMENT = 99


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # a CloudWatch unit, as EMF spells it
    dimensions: tuple[str, ...] = ()  # besides `service`, which every metric has


# ---- the catalogue --------------------------------------------------------------------------------
# Senders, one datapoint per delivery (a job the sender claimed and settled).
DELIVERIES = Metric("Deliveries", "Count", ("action", "outcome"))
ATTEMPT_LATENCY = Metric("AttemptLatency", "Milliseconds", ("action",))
# From the event's `time` to a FINISHED delivery, for an execution's first round of attempts only:
# a redelivery days later is a person's choice, not lag.
DELIVERY_LAG = Metric("DeliveryLag", "Seconds", ("action",))
DYNAMODB_CALLS_PER_DELIVERY = Metric("DynamoDBCallsPerDelivery", "Count", ("action",))
SECRETS_MANAGER_CALLS_PER_DELIVERY = Metric("SecretsManagerCallsPerDelivery", "Count", ("action",))
WEBHOOKS_DISABLED = Metric("WebhooksDisabled", "Count")
# The matcher, per event.
EVENTS_RECEIVED = Metric("EventsReceived", "Count")
EVENTS_MATCHED = Metric("EventsMatched", "Count")  # at least one automation matched
EVENTS_REJECTED = Metric("EventsRejected", "Count")  # not a valid event
EVENTS_DEAD_LETTERED = Metric("EventsDeadLettered", "Count")  # a rejected event, on the events DLQ
EXECUTIONS_CREATED = Metric("ExecutionsCreated", "Count")
EXECUTION_LAG = Metric("ExecutionLag", "Seconds")  # from the event's `time` to its executions
DYNAMODB_CALLS_PER_EVENT = Metric("DynamoDBCallsPerEvent", "Count")

CATALOGUE: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        DELIVERIES,
        ATTEMPT_LATENCY,
        DELIVERY_LAG,
        DYNAMODB_CALLS_PER_DELIVERY,
        SECRETS_MANAGER_CALLS_PER_DELIVERY,
        WEBHOOKS_DISABLED,
        EVENTS_RECEIVED,
        EVENTS_MATCHED,
        EVENTS_REJECTED,
        EVENTS_DEAD_LETTERED,
        EXECUTIONS_CREATED,
        EXECUTION_LAG,
        DYNAMODB_CALLS_PER_EVENT,
    )
}
# The `outcome` dimension's values: what the sender made of the execution after the attempt.
OUTCOMES = ("finished", "retried", "failed", "skipped")


# ---- recording during an invocation ---------------------------------------------------------------

_Key = tuple[tuple[tuple[str, str], ...], str | None]  # (dimensions, entity)


class MetricsRecorder:
    """The metrics of one invocation, grouped by dimension values (EMF gives every metric of a
    document the same dimensions), written as one EMF document per group. Thread-safe: a sender's
    deliveries record from its worker threads."""

    def __init__(self, settings: Settings):
        self.namespace = settings.metrics_namespace
        self.service = settings.metrics_service
        self.by_entity = settings.metrics_by_entity == "ENABLED"
        level = settings.lambda_log_level.upper()
        self.level = level if level in _FILTERING_LEVELS else None
        self._lock = threading.Lock()
        self._groups: dict[_Key, dict[Metric, list[float]]] = {}

    def add(self, metric: Metric, value: float, entity: str | None = None, **dimensions: str) -> None:
        if set(dimensions) != set(metric.dimensions):
            logger.warning(
                "metric dropped: wrong dimensions",
                extra={"metric": metric.name, "dimensions": sorted(dimensions)},
            )
            return
        key: _Key = (
            tuple(sorted(dimensions.items())),
            entity if self.by_entity and entity else None,
        )
        with self._lock:
            self._groups.setdefault(key, {}).setdefault(metric, []).append(float(value))

    def documents(self) -> list[dict[str, Any]]:
        """What `flush` writes, and forgets: one EMF document per group of dimension values."""
        with self._lock:
            groups, self._groups = self._groups, {}
        documents = []
        for (dimensions, entity), series in groups.items():
            longest = max(len(values) for values in series.values())
            for start in range(0, longest, _VALUES_PER_DOCUMENT):
                provider = self._provider(dimensions, entity)
                for metric, values in series.items():
                    for value in values[start : start + _VALUES_PER_DOCUMENT]:
                        provider.add_metric(name=metric.name, unit=metric.unit, value=value)
                documents.append(provider.serialize_metric_set())
        return documents

    def _provider(self, dimensions: tuple[tuple[str, str], ...], entity: str | None) -> Any:
        # Powertools' EMF provider validates names, units and values and shapes the document. Its
        # module is loaded with Powertools' Logger already; only a flush needs it here.
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
            AmazonCloudWatchEMFProvider,
        )

        provider = AmazonCloudWatchEMFProvider(namespace=self.namespace, service=self.service)
        for name, value in dimensions:
            provider.add_dimension(name=name, value=value)
        if entity is not None:
            # A second dimension set in the same document: the figures per entity as well.
            provider.add_dimensions(service=self.service, **dict(dimensions), entity=entity)
        if self.level is not None:
            provider.add_metadata(key="level", value=self.level)
        return provider

    def flush(self) -> None:
        """Write this invocation's metrics to stdout (CloudWatch Logs, where EMF becomes metrics)."""
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled

        try:
            documents = self.documents()
            if is_metrics_disabled():  # POWERTOOLS_METRICS_DISABLED, as for Powertools' own metrics
                return
            for document in documents:
                print(json.dumps(document, separators=(",", ":")))
        except Exception:
            logger.exception("metrics could not be written; they are dropped")


_current: contextvars.ContextVar[MetricsRecorder | None] = contextvars.ContextVar(
    "mlhooks_metrics", default=None
)
_calls: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar("mlhooks_calls", default=None)


def add(metric: Metric, value: float, entity: str | None = None, **dimensions: str) -> None:
    """Record a datapoint in this invocation's metrics; nothing outside an invocation. Never raises."""
    recorder = _current.get()
    if recorder is None:
        return
    try:
        recorder.add(metric, value, entity, **dimensions)
    except Exception:
        logger.exception("metric dropped", extra={"metric": metric.name})


@contextmanager
def recording(settings: Settings | None = None) -> Iterator[MetricsRecorder]:
    """Record what runs inside into one recorder, written when it ends."""
    recorder = MetricsRecorder(settings or get_settings())
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)
        recorder.flush()


def log_metrics[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """The handlers' decorator: the invocation's metrics, written once at its end (as Powertools'
    `Metrics.log_metrics`, without a class-wide metric set that the local runtime's functions, which
    share one process, would mix)."""

    @functools.wraps(handler)
    def invoked(event: Any, context: Any) -> Any:
        with recording():
            return handler(event, context)

    return invoked  # type: ignore[return-value]


# ---- AWS calls, counted per delivery ---------------------------------------------------------------


def _count_call(event_name: str, **_: Any) -> None:
    counter = _calls.get()
    if counter is not None:
        counter[event_name.split(".")[1]] += 1


def count_calls(client: Any) -> Any:
    """Have this boto3 client count its API calls into the `counting_calls` block they run in
    (once per call, whatever botocore's retries do). Registering twice counts once."""
    client.meta.events.register("before-call", _count_call, unique_id=_COUNTER_ID)
    return client


@contextmanager
def counting_calls() -> Iterator[Counter[str]]:
    """The API calls of counted clients (`count_calls`) made in this block, by service id, on this
    thread (or in this context)."""
    counter: Counter[str] = Counter()
    token = _calls.set(counter)
    try:
        yield counter
    finally:
        _calls.reset(token)


# ---- lag --------------------------------------------------------------------------------------------


def lag_seconds(event_time: dt.datetime | str, now: dt.datetime | None = None) -> float:
    """Seconds from an event's `time` to now; 0 for a publisher whose clock runs ahead of ours."""
    if isinstance(event_time, str):
        event_time = dt.datetime.fromisoformat(event_time)
    if event_time.tzinfo is None:
        event_time = event_time.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (now - event_time).total_seconds())
