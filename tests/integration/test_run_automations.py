"""Run automations against moto: state per (automation, run), once-only firing under concurrency,
bounded DynamoDB calls, and the payload variables of a firing."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from pipelines import Pipeline, use_slack
from samples import load_event

from mlhooks.components import get_components
from mlhooks.conditions import RunConditionState
from mlhooks.matcher import EventMatcher
from mlhooks.store import keys

LOSS_BELOW = {
    "type": "RUN_METRIC_THRESHOLD",
    "metric": {"name": "loss", "agg": "AVERAGE", "window": 3, "cmp": "$lt", "threshold": 0.1},
}


def metrics_event(
    step: int, run_id: str = "run-1", state: str = "RUNNING", **metrics: float
) -> dict[str, Any]:
    envelope = copy.deepcopy(load_event("platform-run-metrics.json"))
    detail = envelope["detail"]
    detail["event_id"] = f"{run_id}-{step}"
    detail["author"] = "ci-bot"  # the service that logged it; ${event_author} is the run's user
    detail["run"].update({"id": run_id, "step": step, "metrics": metrics, "state": state})
    return envelope


def webhook_automation(pipeline: Pipeline, event: dict[str, Any], name: str = "loss alert") -> dict[str, Any]:
    return pipeline.automation(
        name=name,
        scope={"type": "PROJECT", "project": "training"},
        event=event,
        action={
            "type": "GENERIC_WEBHOOK",
            "webhook": "github",
            "payload": {
                "metric": "${metric_name}",
                "values": "${metric_values}",
                "run": "${run_name}",
                "by": "${event_author}",
                "status": "${run_status}",
            },
        },
    )


def test_threshold_fires_once_at_the_crossing_with_the_deciding_window(pipeline, receiver):
    webhook_automation(pipeline, LOSS_BELOW)
    curve = [0.5, 0.3, 0.2, 0.1, 0.08, 0.06, 0.05, 0.04, 0.2, 0.03]
    for step, loss in enumerate(curve, start=1):
        pipeline.match(metrics_event(step, loss=loss))
    pipeline.drain()
    # average of last 3: step 6 -> (0.1 + 0.08 + 0.06) / 3 = 0.08 is the first below 0.1
    [request] = receiver.requests
    assert request.json == {
        "metric": "loss",
        "values": "[0.1, 0.08, 0.06]",
        "run": "resnet50-lr3e-4",
        "by": "bob",
        "status": "RUNNING",
    }
    [execution] = pipeline.executions()
    assert execution["event_type"] == "RUN_METRIC_THRESHOLD" and execution["state"] == "FINISHED"


def test_each_run_has_its_own_state(pipeline, receiver):
    webhook_automation(
        pipeline, {"type": "RUN_METRIC_THRESHOLD", "metric": {"name": "loss", "cmp": "$lt", "threshold": 0.1}}
    )
    for run_id in ("run-a", "run-b"):
        pipeline.match(metrics_event(1, run_id, loss=0.5))
        pipeline.match(metrics_event(2, run_id, loss=0.05))
    assert len(pipeline.executions()) == 2


def test_run_filters_and_killed_runs(pipeline):
    webhook_automation(
        pipeline,
        {
            **LOSS_BELOW,
            "metric": {"name": "loss", "cmp": "$lt", "threshold": 0.1},
            "filter": {"display_name": {"$regex": "^resnet"}},
        },
    )
    pipeline.match(metrics_event(1, "killed", state="KILLED", loss=0.01))
    envelope = metrics_event(1, "other", loss=0.01)
    envelope["detail"]["run"]["display_name"] = "vit-base"
    pipeline.match(envelope)
    assert pipeline.executions() == []
    pipeline.match(metrics_event(1, "kept", loss=0.01))
    assert len(pipeline.executions()) == 1


def test_change_and_zscore_automations_fire(pipeline):
    webhook_automation(
        pipeline,
        {
            "type": "RUN_METRIC_CHANGE",
            "metric": {
                "name": "accuracy",
                "change_type": "ABSOLUTE",
                "change_dir": "DECREASE",
                "threshold": 0.1,
            },
        },
        "acc drop",
    )
    webhook_automation(
        pipeline,
        {"type": "RUN_METRIC_ZSCORE", "metric": {"name": "grad_norm", "window": 5, "threshold": 3}},
        "grad spike",
    )
    for step, (acc, grad) in enumerate(
        [(0.9, 1.0), (0.91, 1.1), (0.92, 0.9), (0.9, 1.0), (0.9, 1.05), (0.75, 9.0)], start=1
    ):
        pipeline.match(metrics_event(step, accuracy=acc, grad_norm=grad))
    assert sorted(e["automation_name"] for e in pipeline.executions()) == ["acc drop", "grad spike"]


def test_non_finite_values_are_ignored_and_recorded_as_logged(pipeline, receiver):
    webhook_automation(
        pipeline, {"type": "RUN_METRIC_THRESHOLD", "metric": {"name": "loss", "cmp": "$lt", "threshold": 0.1}}
    )
    pipeline.match(metrics_event(1, loss=float("nan"), accuracy=0.5))
    pipeline.deliver(metrics_event(2, loss=0.05, accuracy=float("inf")))
    [execution] = pipeline.executions()
    # Kept in the record as the bus spells them, so it shows what was logged (and ignored).
    assert pipeline.execution(execution["id"])["event"]["run"]["metrics"] == {
        "loss": 0.05,
        "accuracy": "Infinity",
    }
    assert receiver.requests[0].json["values"] == "[0.05]"


def test_two_matchers_on_interleaved_events_of_one_run_fire_once(pipeline, receiver):
    """A reads the run's state, B handles a later step and commits, then A writes: A's conditional
    write fails, A re-reads and folds again; the crossing fires exactly once."""
    webhook_automation(
        pipeline, {"type": "RUN_METRIC_THRESHOLD", "metric": {"name": "loss", "cmp": "$lt", "threshold": 0.1}}
    )
    pipeline.match(metrics_event(1, loss=0.5))
    components = get_components()
    first, second = EventMatcher(components), EventMatcher(components)
    store = components.store
    read_done, b_committed = threading.Event(), threading.Event()
    original = store.get_run_states
    calls = {"A": 0}

    def slow_read(entity, run_id, automation_ids):
        found = original(entity, run_id, automation_ids)
        if threading.current_thread().name == "A" and calls["A"] == 0:
            calls["A"] += 1
            read_done.set()
            b_committed.wait(10)  # B commits between A's read and A's write
        return found

    store.get_run_states = slow_read  # type: ignore[method-assign]
    reports = {}

    def run_a():
        reports["A"] = first.handle(metrics_event(2, loss=0.05))

    thread = threading.Thread(target=run_a, name="A")
    thread.start()
    read_done.wait(10)
    reports["B"] = second.handle(metrics_event(3, loss=0.04))
    b_committed.set()
    thread.join(10)
    store.get_run_states = original  # type: ignore[method-assign]

    assert len(reports["A"].created) + len(reports["B"].created) == 1
    assert len(pipeline.executions()) == 1
    run_key = keys.run("training", "bob", "run-1")
    doc, version = original("dev", run_key, [pipeline.executions()[0]["automation_id"]]).popitem()[1]
    state = RunConditionState.model_validate_json(doc)
    # B's newer value is the window; A's step 2 arrived after step 3 and was ignored, and counted.
    assert state.points == {"loss": [(3, 0.04)]} and state.out_of_order_ignored == 1
    assert version == 3  # step 1, B's step 3, then A's retry: every write went through its condition


def test_metrics_event_costs_a_bounded_number_of_dynamodb_calls(pipeline):
    metrics = {f"m{i}": 1.0 for i in range(10)}
    for i in range(50):
        webhook_automation(
            pipeline,
            {
                "type": "RUN_METRIC_THRESHOLD",
                "metric": {"name": f"m{i % 10}", "cmp": "$gt", "threshold": 100},
            },
            name=f"watch-{i}",
        )
    components = get_components()
    matcher = EventMatcher(components)
    matcher.cache.ttl = 60
    matcher.handle(metrics_event(1, **metrics))  # warms the automation look-ups (cache)
    calls: list[str] = []
    components.store.client.meta.events.register(
        "before-call.dynamodb.*", lambda event_name, **_: calls.append(event_name.rsplit(".", 1)[1])
    )
    matcher.handle(metrics_event(2, **metrics))
    # The automations revision (is the cache still good?), the run states, their new values.
    assert calls.count("GetItem") == 1
    assert calls.count("BatchGetItem") == 1 and calls.count("TransactWriteItems") == 1
    assert len(calls) == 3, calls  # nothing fired, so nothing else


def test_slack_message_for_a_run_event_states_the_condition(pipeline, slack, monkeypatch):
    use_slack(pipeline, slack, monkeypatch, "xoxb-run-alert")
    pipeline.automation(
        name="loss below",
        scope={"type": "PROJECT", "project": "training"},
        event=LOSS_BELOW,
        action={"type": "NOTIFICATION", "slack": "alerts", "title": "${run_name}: loss is low"},
    )
    for step, loss in enumerate([0.3, 0.09, 0.08, 0.07], start=1):
        pipeline.match(metrics_event(step, loss=loss))
    pipeline.drain("Slack")
    [message] = slack.slack_messages
    context = message["attachments"][0]["blocks"][-1]["elements"][0]["text"]
    assert "loss (average of last 3) &lt; 0.1: [0.09, 0.08, 0.07]" in context
    assert "run *resnet50-lr3e-4* (RUNNING)" in context


@pytest.mark.parametrize("state", ["KILLED"])
def test_killed_is_not_a_watchable_state(pipeline, state):
    reply = pipeline.team.member.post(
        f"{pipeline.base}/automations",
        {
            "name": "x",
            "scope": {"type": "PROJECT", "project": "training"},
            "event": {"type": "RUN_STATE", "states": [state]},
            "action": {"type": "NO_OP"},
        },
    )
    assert reply.status == 400 and reply.error["field"] == "event.states"
