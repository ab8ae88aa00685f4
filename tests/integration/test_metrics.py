"""The metrics a delivery and an event emit, read back from the embedded metric format (EMF) lines the
functions write to stdout, as CloudWatch Logs would receive them: real deliveries through the
template's functions, against moto and a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from pipelines import alias_event
from samples import load_event

from mlhooks.clock import iso
from mlhooks.components import get_components

SERVICE = "mlhooks-local"  # the stack's name: the local runtime's, as POWERTOOLS_SERVICE_NAME gives it
WEBHOOK = "GENERIC_WEBHOOK"


@dataclass(frozen=True)
class Datapoints:
    """One metric of one EMF document: its unit, dimension sets, dimension values and values."""

    name: str
    unit: str
    dimension_sets: list[list[str]]
    dimensions: dict[str, str]
    values: list[float]
    document: dict[str, Any]


def emitted(capsys: pytest.CaptureFixture[str]) -> list[Datapoints]:
    """Every metric in the EMF documents written to stdout since the last call."""
    found = []
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "mlhooks"
            names = {name for dimension_set in directive["Dimensions"] for name in dimension_set}
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                found.append(
                    Datapoints(
                        name=metric["Name"],
                        unit=metric["Unit"],
                        dimension_sets=directive["Dimensions"],
                        dimensions={name: document[name] for name in names},
                        values=value if isinstance(value, list) else [value],
                        document=document,
                    )
                )
    return found


def only(points: list[Datapoints], name: str, **dimensions: str) -> Datapoints:
    [point] = [
        p for p in points if p.name == name and all(p.dimensions.get(k) == v for k, v in dimensions.items())
    ]
    return point


def total(points: list[Datapoints], name: str, **dimensions: str) -> float:
    return sum(
        sum(p.values)
        for p in points
        if p.name == name and all(p.dimensions.get(k) == v for k, v in dimensions.items())
    )


def recent_event(seconds_ago: float = 5.0, **detail: Any) -> dict[str, Any]:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)
    return alias_event(time=iso(moment), **detail)


class AwsCalls:
    """Every DynamoDB and Secrets Manager call the functions' clients make, counted apart from the
    metrics' own per-delivery counting (a second hook, on every thread)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        components = get_components()
        for client in (components.store.table.meta.client, components.vault.client):
            client.meta.events.register("before-call", self._count, unique_id="test-metrics-aws-calls")

    def _count(self, event_name: str, **_: Any) -> None:
        self.counts[event_name.split(".")[1]] += 1

    def made(self) -> Counter[str]:
        """The calls so far (the test's own reads through the API come after)."""
        return Counter(self.counts)


# ---- a delivery --------------------------------------------------------------------------------------


def test_a_delivery_emits_its_outcome_latency_lag_and_aws_calls(pipeline, receiver, capsys):
    pipeline.automation()
    pipeline.match(recent_event(seconds_ago=5))
    emitted(capsys)  # the matcher's
    receiver.statuses = [("sleep", 0.3)]  # the attempt takes at least 300 ms
    calls = AwsCalls()
    assert pipeline.drain() == 1
    points, made = emitted(capsys), calls.made()

    [execution] = pipeline.executions()
    assert execution["state"] == "FINISHED"
    deliveries = only(points, "Deliveries")
    assert deliveries.unit == "Count" and deliveries.values == [1.0]
    assert deliveries.dimensions == {"service": SERVICE, "action": WEBHOOK, "outcome": "finished"}
    assert sorted(deliveries.dimension_sets[0]) == ["action", "outcome", "service"]
    assert len(deliveries.dimension_sets) == 1  # no entity dimension unless asked for

    latency = only(points, "AttemptLatency")
    assert latency.unit == "Milliseconds" and latency.dimensions == {"service": SERVICE, "action": WEBHOOK}
    [attempt] = pipeline.execution(execution["id"])["attempts"]
    assert latency.values == [attempt["duration_ms"]] and 300 <= latency.values[0] < 5000

    lag = only(points, "DeliveryLag")
    assert lag.unit == "Seconds" and lag.dimensions == {"service": SERVICE, "action": WEBHOOK}
    assert 5.3 <= lag.values[0] < 60  # the event was 5 s old, and the attempt took 0.3 s

    # The webhook has an access token and a signing secret: two reads, the first time.
    secrets = only(points, "SecretsManagerCallsPerDelivery")
    assert secrets.unit == "Count" and secrets.values == [2.0] == [made["secrets-manager"]]
    dynamodb = only(points, "DynamoDBCallsPerDelivery")
    assert dynamodb.unit == "Count" and dynamodb.values == [made["dynamodb"]]
    assert dynamodb.values[0] >= 4  # the execution, its claim, the automation, the webhook, the save
    assert {p.name for p in points} == {
        "Deliveries",
        "AttemptLatency",
        "DeliveryLag",
        "SecretsManagerCallsPerDelivery",
        "DynamoDBCallsPerDelivery",
    }


def test_a_second_delivery_reads_its_secrets_from_the_cache(pipeline, receiver, capsys):
    pipeline.automation()
    pipeline.deliver(recent_event(event_id="first"))
    emitted(capsys)
    pipeline.deliver(recent_event(event_id="second"))
    points = emitted(capsys)
    assert only(points, "SecretsManagerCallsPerDelivery").values == [0.0]
    assert only(points, "Deliveries").dimensions["outcome"] == "finished"


def test_a_batch_of_deliveries_is_one_document_per_outcome_with_a_value_each(pipeline, receiver, capsys):
    pipeline.automation()
    for number in range(3):
        pipeline.match(recent_event(event_id=f"batch-{number}"))
    emitted(capsys)
    assert pipeline.drain() == 3
    points = emitted(capsys)
    deliveries = only(points, "Deliveries", outcome="finished")
    assert deliveries.values == [1.0, 1.0, 1.0]
    # Counted per delivery although the three ran at once on the sender's threads.
    assert len(only(points, "DynamoDBCallsPerDelivery").values) == 3
    assert only(points, "SecretsManagerCallsPerDelivery").values.count(0.0) >= 1  # the cache, shared


def test_a_retried_then_failed_delivery_counts_each_attempt_and_no_lag(pipeline, receiver, capsys):
    receiver.status = 500
    pipeline.automation()
    pipeline.match(recent_event())
    emitted(capsys)
    pipeline.drain()  # three attempts (the tests' MaxAttempts), one invocation each
    points = emitted(capsys)

    [execution] = pipeline.executions()
    assert execution["state"] == "FAILED" and execution["attempt_count"] == 3
    assert total(points, "Deliveries", outcome="retried", action=WEBHOOK) == 2
    assert total(points, "Deliveries", outcome="failed", action=WEBHOOK) == 1
    assert total(points, "Deliveries", outcome="finished") == 0
    assert sum(len(p.values) for p in points if p.name == "AttemptLatency") == 3
    assert not [p for p in points if p.name == "DeliveryLag"]  # nothing was delivered


def test_a_delivery_for_a_disabled_automation_is_skipped_and_sends_nothing(pipeline, receiver, capsys):
    automation = pipeline.automation()
    pipeline.match(recent_event())
    pipeline.team.member.post(f"{pipeline.base}/automations/{automation['id']}/disable")
    emitted(capsys)
    pipeline.drain()
    points = emitted(capsys)
    assert only(points, "Deliveries").dimensions["outcome"] == "skipped"
    assert not [p for p in points if p.name in ("AttemptLatency", "DeliveryLag")]
    assert receiver.requests == []


def test_a_webhook_disabled_by_410_gone_is_counted(pipeline, receiver, capsys):
    receiver.status = 410
    pipeline.automation()
    pipeline.match(recent_event())
    emitted(capsys)
    pipeline.drain()
    points = emitted(capsys)
    disabled = only(points, "WebhooksDisabled")
    assert disabled.values == [1.0] and disabled.dimensions == {"service": SERVICE}
    assert only(points, "Deliveries").dimensions["outcome"] == "failed"


# ---- the matcher -------------------------------------------------------------------------------------


def test_the_matcher_counts_events_matched_and_executions_created_with_their_lag(pipeline, capsys):
    pipeline.automation()
    pipeline.automation(name="another", scope={"type": "ENTITY"}, event={"type": "ADD_ARTIFACT_ALIAS"})
    emitted(capsys)
    calls = AwsCalls()
    report = pipeline.match(recent_event(seconds_ago=10))
    points, made = emitted(capsys), calls.made()

    assert report["created"] == 2
    assert only(points, "EventsReceived").values == [1.0]
    assert only(points, "EventsMatched").values == [1.0]
    created = only(points, "ExecutionsCreated")
    assert created.values == [2.0] and created.dimensions == {"service": SERVICE}
    lag = only(points, "ExecutionLag")
    assert lag.unit == "Seconds" and 10 <= lag.values[0] < 60
    assert only(points, "DynamoDBCallsPerEvent").values == [made["dynamodb"]]
    assert not [p for p in points if p.name in ("EventsRejected", "EventsDeadLettered")]


def test_an_event_no_automation_matches_is_received_and_nothing_more(pipeline, capsys):
    pipeline.automation()
    emitted(capsys)
    pipeline.match(recent_event(alias="staging"))
    points = emitted(capsys)
    assert {p.name for p in points} == {"EventsReceived", "DynamoDBCallsPerEvent"}


def test_a_malformed_event_is_rejected_and_dead_lettered(pipeline, capsys):
    emitted(capsys)
    report = pipeline.match(load_event("platform-malformed.json"))
    points = emitted(capsys)
    assert report["rejected"] == "invalid detail"
    assert only(points, "EventsReceived").values == [1.0]
    assert only(points, "EventsRejected").values == [1.0]
    assert only(points, "EventsDeadLettered").values == [1.0]
    assert not [
        p for p in points if p.name in ("EventsMatched", "ExecutionsCreated", "DynamoDBCallsPerEvent")
    ]


def test_an_event_the_dead_letter_queue_refuses_is_rejected_but_not_dead_lettered(
    pipeline, capsys, monkeypatch
):
    sqs = get_components().sqs

    def refuse(**_: Any) -> None:
        raise RuntimeError("SQS is down")

    monkeypatch.setattr(sqs, "send_message", refuse)
    emitted(capsys)
    with pytest.raises(RuntimeError, match="SQS is down"):  # EventBridge retries, then its own DLQ
        pipeline.match(load_event("platform-malformed.json"))
    points = emitted(capsys)  # written although the invocation failed
    assert only(points, "EventsRejected").values == [1.0]
    assert not [p for p in points if p.name == "EventsDeadLettered"]


# ---- options -----------------------------------------------------------------------------------------


def test_metrics_by_entity_add_a_dimension_set_with_the_entity(pipeline, receiver, capsys, monkeypatch):
    pipeline.configure(monkeypatch, MLHOOKS_METRICS_BY_ENTITY="ENABLED")
    pipeline.automation()
    pipeline.match(recent_event())
    emitted(capsys)
    pipeline.drain()
    deliveries = only(emitted(capsys), "Deliveries")
    assert sorted(map(sorted, deliveries.dimension_sets)) == [
        ["action", "entity", "outcome", "service"],
        ["action", "outcome", "service"],
    ]
    assert deliveries.dimensions["entity"] == "dev"


@pytest.mark.parametrize(
    ("level", "said"), [("WARN", "WARN"), ("ERROR", "ERROR"), ("INFO", None), ("", None)]
)
def test_metric_lines_pass_lambdas_log_level_filter(pipeline, capsys, monkeypatch, level, said):
    """Lambda files a JSON line without a `level` as INFO, and drops it when the function's log level
    is WARN or ERROR: metric lines then say the level that passes."""
    # Powertools' logger at the same level, as the template sets both from LogLevel.
    logger_level = {"WARN": "WARNING"}.get(level, level or "INFO")
    pipeline.configure(monkeypatch, AWS_LAMBDA_LOG_LEVEL=level, POWERTOOLS_LOG_LEVEL=logger_level)
    emitted(capsys)
    pipeline.match(recent_event())
    [document] = {id(p.document): p.document for p in emitted(capsys)}.values()
    assert document.get("level") == said


def test_metrics_disabled_write_nothing(pipeline, receiver, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    pipeline.automation()
    pipeline.deliver(recent_event())
    assert emitted(capsys) == []
    assert pipeline.executions()[0]["state"] == "FINISHED"


def test_metrics_that_cannot_be_written_never_fail_a_delivery(pipeline, receiver, capsys, monkeypatch):
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

    def broken(*_: Any, **__: Any) -> None:
        raise ValueError("no EMF today")

    monkeypatch.setattr(cloudwatch.AmazonCloudWatchEMFProvider, "serialize_metric_set", broken)
    pipeline.automation()
    pipeline.match(recent_event())
    assert pipeline.drain() == 1
    assert pipeline.executions()[0]["state"] == "FINISHED"
    assert emitted(capsys) == []
    assert len(receiver.requests) == 1
