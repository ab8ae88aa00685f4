"""The metrics recorder: what an invocation records is written once, as valid EMF, grouped by its
dimension values; nothing outside an invocation; nothing that can fail a delivery."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.metrics import MetricUnit
from moto import mock_aws

from mlhooks import metrics
from mlhooks.models.vocabulary import ActionType
from mlhooks.settings import Settings


def written(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def settings(**values: Any) -> Settings:
    return Settings(**values)


def test_every_metric_has_a_cloudwatch_unit_and_a_unique_name():
    units = {unit.value for unit in MetricUnit}
    assert all(metric.unit in units for metric in metrics.CATALOGUE.values())
    assert len(metrics.CATALOGUE) == 13


def test_outside_an_invocation_nothing_is_recorded_or_written(capsys):
    metrics.add(metrics.EVENTS_RECEIVED, 1)
    with metrics.recording(settings()):
        pass
    assert written(capsys) == []


def test_an_invocation_writes_one_document_per_group_of_dimension_values(capsys):
    with metrics.recording(settings(metrics_service="stack-a")):
        metrics.add(metrics.DELIVERIES, 1, action="GENERIC_WEBHOOK", outcome="finished")
        metrics.add(metrics.DELIVERIES, 1, action="GENERIC_WEBHOOK", outcome="finished")
        metrics.add(metrics.DELIVERIES, 1, action="GENERIC_WEBHOOK", outcome="retried")
        metrics.add(metrics.ATTEMPT_LATENCY, 120, action="GENERIC_WEBHOOK")
        metrics.add(metrics.EVENTS_RECEIVED, 1)
        assert written(capsys) == []  # nothing before the invocation ends
    documents = written(capsys)
    by_dimensions = {
        tuple(sorted((k, d[k]) for k in d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0])): d
        for d in documents
    }
    assert len(documents) == 4
    finished = by_dimensions[(("action", "GENERIC_WEBHOOK"), ("outcome", "finished"), ("service", "stack-a"))]
    assert finished["Deliveries"] == [1.0, 1.0]
    assert finished["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "mlhooks"
    assert finished["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "Deliveries", "Unit": "Count"}]
    latency = by_dimensions[(("action", "GENERIC_WEBHOOK"), ("service", "stack-a"))]
    assert latency["AttemptLatency"] == [120.0]
    assert by_dimensions[(("service", "stack-a"),)]["EventsReceived"] == [1.0]


def test_a_metric_with_the_wrong_dimensions_is_dropped_and_the_rest_kept(capsys):
    with metrics.recording(settings()):
        metrics.add(metrics.DELIVERIES, 1, action="GENERIC_WEBHOOK")  # no outcome
        metrics.add(metrics.EVENTS_RECEIVED, 1, automation="a-high-cardinality-id")
        metrics.add(metrics.EVENTS_MATCHED, 1)
    [document] = written(capsys)
    assert document["EventsMatched"] == [1.0] and "Deliveries" not in document


def test_more_than_99_values_of_a_metric_go_in_several_documents(capsys):
    with metrics.recording(settings()):
        for value in range(250):
            metrics.add(metrics.EXECUTION_LAG, value)
        metrics.add(metrics.EVENTS_RECEIVED, 250)
    documents = written(capsys)
    values = [d["ExecutionLag"] for d in documents]
    assert [len(v) for v in values] == [99, 99, 52]
    assert sorted(x for v in values for x in v) == [float(v) for v in range(250)]
    assert [d.get("EventsReceived") for d in documents] == [[250.0], None, None]


def test_deliveries_recorded_from_many_threads_are_all_counted(capsys):
    def deliver() -> None:
        for _ in range(50):
            metrics.add(metrics.DELIVERIES, 1, action="NOTIFICATION", outcome="finished")

    with metrics.recording(settings()):
        import contextvars

        threads = [threading.Thread(target=contextvars.copy_context().run, args=(deliver,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(sum(d["Deliveries"]) for d in written(capsys)) == 400


def test_the_entity_is_a_dimension_only_when_asked_for(capsys):
    with metrics.recording(settings()):
        metrics.add(metrics.EVENTS_MATCHED, 1, "acme")
    [plain] = written(capsys)
    assert "entity" not in plain and plain["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    with metrics.recording(settings(metrics_by_entity="ENABLED")):
        metrics.add(metrics.EVENTS_MATCHED, 1, "acme")
        metrics.add(metrics.EVENTS_MATCHED, 1, "globex")
    documents = written(capsys)
    assert sorted(d["entity"] for d in documents) == ["acme", "globex"]
    assert documents[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["service", "entity"]]


def test_a_failure_to_write_is_logged_and_swallowed(capsys, monkeypatch):
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

    def broken(*_: Any, **__: Any) -> None:
        raise ValueError("no EMF today")

    monkeypatch.setattr(cloudwatch.AmazonCloudWatchEMFProvider, "serialize_metric_set", broken)

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> str:
        metrics.add(metrics.EVENTS_RECEIVED, 1)
        return "answered"

    assert handler({}, None) == "answered"
    assert written(capsys) == []


def test_the_handler_decorator_writes_even_when_the_handler_raises(capsys):
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> None:
        metrics.add(metrics.EVENTS_REJECTED, 1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler({}, None)
    [document] = written(capsys)
    assert document["EventsRejected"] == [1.0]


def test_calls_are_counted_per_block_and_per_thread_once_each():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        metrics.count_calls(client)
        metrics.count_calls(client)  # registering twice counts once
        seen: dict[str, int] = {}

        def other_thread() -> None:
            with metrics.counting_calls() as calls:
                client.list_tables()
                seen["other"] = calls[metrics.DYNAMODB]

        with metrics.counting_calls() as calls:
            client.list_tables()
            client.list_tables()
            thread = threading.Thread(target=other_thread)
            thread.start()
            thread.join()
        client.list_tables()  # outside any block: counted nowhere
    assert calls[metrics.DYNAMODB] == 2 and seen["other"] == 1


def test_lag_is_from_the_event_time_and_never_negative():
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert metrics.lag_seconds("2026-01-01T11:59:30Z", now) == 30
    assert metrics.lag_seconds("2026-01-01T11:59:30.500+00:00", now) == 29.5
    assert metrics.lag_seconds(dt.datetime(2026, 1, 1, 11, 0), now) == 3600  # naive: UTC
    assert metrics.lag_seconds("2026-01-01T12:00:05Z", now) == 0  # a publisher's clock ahead of ours


def test_deliverable_actions_are_the_action_dimension_values():
    """The template's dashboard and lag alarm name one series per action type that delivers."""
    assert {a.value for a in ActionType} - {"NO_OP"} == {"GENERIC_WEBHOOK", "NOTIFICATION", "QUEUE_JOB"}
