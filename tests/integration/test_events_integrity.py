"""What an event says is what is applied, and who published it is on record.

The findings these specify:
- a NaN metric was accepted (202), re-serialised as null, and the matcher dead-lettered the whole
  event, losing the finite metrics beside it: non-finite values now travel as strings and are ignored
  and counted by conditions; values that are not numbers at all are refused whole;
- two values of 1e308 under AVERAGE overflowed and failed the event for every automation, and a step of
  10**30 was accepted and froze the run: aggregates cannot overflow and steps are bounded (MAX_STEP);
- a member could publish with any `author`, signed and delivered as such, and nothing recorded which
  key published: a member's key publishes as its member, a service key (made by an admin) for anyone,
  and every execution records its publisher."""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import boto3
import pytest
from pipelines import Pipeline, alias_event
from samples import EVENTS, load_event

from mlhooks.components import get_components
from mlhooks.conditions import RunConditionState
from mlhooks.local.sources import run_rule
from mlhooks.models.events import API_SOURCE, MAX_STEP
from mlhooks.store import keys

pytestmark = pytest.mark.suite("events")

LARGEST = sys.float_info.max
SMALLEST = 5e-324  # the smallest positive (subnormal) float
LOSS_LOW = {
    "type": "RUN_METRIC_THRESHOLD",
    "metric": {"name": "loss", "agg": "AVERAGE", "window": 2, "cmp": "$lt", "threshold": 1.0},
}
GRAD_HIGH = {"type": "RUN_METRIC_THRESHOLD", "metric": {"name": "grad_norm", "cmp": "$gt", "threshold": 10.0}}
# Fires on the last event of the huge-value tests only, beside the automation under test.
LOSS_BELOW_TENTH = {
    "type": "RUN_METRIC_THRESHOLD",
    "metric": {"name": "loss", "cmp": "$lt", "threshold": 0.1},
}
NOT_A_NUMBER = pytest.mark.parametrize(
    "value", ["abc", "", [0.3], {"value": 0.3}], ids=["word", "empty string", "list", "object"]
)

_checked = {"events": 0}


@pytest.fixture(autouse=True)
def _events_checked(record_figure):
    yield
    record_figure("events checked", _checked["events"])


# ---- helpers ------------------------------------------------------------------------------------------


def run_detail(step: int, run_id: str = "run-1", **metrics: Any) -> dict[str, Any]:
    """A run-metrics detail as a member publishes it: no author (it defaults to the member, bob, who
    is also the run's user in the sample)."""
    detail = copy.deepcopy(load_event("platform-run-metrics.json")["detail"])
    del detail["author"]
    detail["event_id"] = f"{run_id}-{step}"
    detail["run"].update({"id": run_id, "step": step, "metrics": metrics})
    return detail


def run_envelope(step: int, run_id: str = "run-1", **metrics: Any) -> dict[str, Any]:
    """The same event as a platform puts it straight on the bus."""
    envelope = copy.deepcopy(load_event("platform-run-metrics.json"))
    envelope["detail"] = {**run_detail(step, run_id, **metrics), "author": "ci-bot"}
    return envelope


def alias_detail(**changes: Any) -> dict[str, Any]:
    detail = {k: v for k, v in load_event("platform-alias-added.json")["detail"].items() if k != "author"}
    return {**detail, **changes}


def publish(api: Any, *details: dict[str, Any], detail_type: str = "Run Metrics Logged") -> Any:
    """POST /v1/events as raw JSON text, which may hold NaN and the infinities as literals."""
    _checked["events"] += len(details)
    body = {"events": [{"detail_type": detail_type, "detail": d} for d in details]}
    return api.post("/v1/events", raw=json.dumps(body).encode())


def match(pipeline: Pipeline, envelope: dict[str, Any]) -> dict[str, Any]:
    _checked["events"] += 1
    return pipeline.match(envelope)


def tap(pipeline: Pipeline) -> str:
    return pipeline.stack.rule_taps["MatcherFunction"]


def on_the_bus(pipeline: Pipeline) -> list[dict[str, Any]]:
    """The events waiting for the matcher, left where they are."""
    found = pipeline.sqs.receive_message(QueueUrl=tap(pipeline), MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


def run_matcher(pipeline: Pipeline) -> int:
    return run_rule(pipeline.fns, pipeline.sqs, "MatcherFunction", tap(pipeline))


def dead_letters(pipeline: Pipeline) -> list[dict[str, Any]]:
    found = pipeline.sqs.receive_message(
        QueueUrl=pipeline.stack.refs["EventsDLQ"], MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


def watch(pipeline: Pipeline, name: str, event: dict[str, Any]) -> str:
    """A run automation on project "training" that records its firings (NO_OP); its id."""
    return pipeline.automation(
        name=name, scope={"type": "PROJECT", "project": "training"}, event=event, action={"type": "NO_OP"}
    )["id"]


def threshold(metric: str, agg: str, window: int, cmp: str, value: float) -> dict[str, Any]:
    return {
        "type": "RUN_METRIC_THRESHOLD",
        "metric": {"name": metric, "agg": agg, "window": window, "cmp": cmp, "threshold": value},
    }


def fired(pipeline: Pipeline) -> list[str]:
    return sorted(e["automation_name"] for e in pipeline.executions())


def run_state(automation_id: str, run_id: str = "run-1") -> RunConditionState | None:
    run_key = keys.run("training", "bob", run_id)
    found = get_components().store.get_run_states("dev", run_key, [automation_id])
    if automation_id not in found:
        return None
    return RunConditionState.model_validate_json(found[automation_id][0])


def key_id(key: str) -> str:
    return key.split("_")[1]


def service_key(pipeline: Pipeline, member: str = "bob") -> Any:
    """A service key an admin made for `member`."""
    reply = pipeline.team.admin.post(
        f"{pipeline.base}/api-keys", {"name": "platform", "member": member, "service": True}
    )
    assert reply.status == 201, reply.raw
    return pipeline.team.admin.as_key(reply.json["key"]), reply.json["id"]


# ---- non-finite metric values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "literal"),
    [(float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity")],
    ids=["NaN", "Infinity", "-Infinity"],
)
def test_a_non_finite_json_literal_through_the_api_is_counted_and_loss_still_fires(pipeline, value, literal):
    loss = watch(pipeline, "loss low", LOSS_LOW)
    grad = watch(pipeline, "grad high", GRAD_HIGH)
    for step in (1, 2):
        detail = run_detail(step, loss=0.3, grad_norm=value)
        raw = json.dumps({"events": [{"detail_type": "Run Metrics Logged", "detail": detail}]})
        assert f'"grad_norm": {literal}}}' in raw  # a bare JSON literal, as Python's json writes it
        _checked["events"] += 1
        reply = pipeline.team.member.post("/v1/events", raw=raw.encode())
        assert reply.status == 202, reply.raw
    # On the bus the value is a string, never null.
    assert [e["detail"]["run"]["metrics"]["grad_norm"] for e in on_the_bus(pipeline)] == [literal] * 2
    assert run_matcher(pipeline) == 2
    assert dead_letters(pipeline) == []
    assert fired(pipeline) == ["loss low"]
    assert run_state(grad).non_finite_ignored == 2
    assert run_state(loss).points == {"loss": [(1, 0.3), (2, 0.3)]}


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", None], ids=["NaN", "Infinity", "-Infinity", "null"]
)
def test_a_non_finite_value_on_the_bus_is_counted_and_loss_still_fires(pipeline, value):
    loss = watch(pipeline, "loss low", LOSS_LOW)
    grad = watch(pipeline, "grad high", GRAD_HIGH)
    for step in (1, 2):
        report = match(pipeline, run_envelope(step, loss=0.3, grad_norm=value))
        assert report["rejected"] is None, report
    assert dead_letters(pipeline) == []
    assert fired(pipeline) == ["loss low"]
    assert run_state(grad).non_finite_ignored == 2
    assert run_state(loss).points == {"loss": [(1, 0.3), (2, 0.3)]}


@NOT_A_NUMBER
def test_a_metric_that_is_not_a_number_refuses_the_whole_publish_and_names_it(pipeline, value):
    watch(pipeline, "loss low", LOSS_LOW)
    reply = publish(pipeline.team.member, run_detail(1, loss=0.3), run_detail(2, loss=0.3, grad_norm=value))
    assert 400 <= reply.status < 500, reply.raw
    assert reply.error["field"] == "events[1].detail.run.metrics.grad_norm"
    assert on_the_bus(pipeline) == []  # not even the good first event


@NOT_A_NUMBER
def test_a_metric_that_is_not_a_number_on_the_bus_is_dead_lettered_and_nothing_applied(pipeline, value):
    loss = watch(pipeline, "loss low", LOSS_LOW)
    match(pipeline, run_envelope(1, loss=0.3))
    report = match(pipeline, run_envelope(2, loss=0.3, grad_norm=value))
    assert report["rejected"] == "invalid detail"
    [letter] = dead_letters(pipeline)
    assert letter["reason"] == "invalid detail" and letter["event"]["detail"]["event_id"] == "run-1-2"
    assert [e["field"] for e in letter["errors"]] == ["run.metrics.grad_norm"]
    # Step 2's loss was not applied: the window of two is not full and nothing fired.
    assert run_state(loss).points == {"loss": [(1, 0.3)]}
    assert fired(pipeline) == []


# ---- huge values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "average"),
    [
        ((1e308, 1e308), 1e308),
        ((-1e308, -1e308), -1e308),
        ((1e308, -1e308), 0.0),
        ((LARGEST, LARGEST), LARGEST),
        ((LARGEST, SMALLEST), LARGEST / 2),
    ],
    ids=["two 1e308", "two -1e308", "1e308 and -1e308", "two of the largest", "the largest and the smallest"],
)
def test_the_average_of_huge_values_is_exact_and_other_automations_still_fire(pipeline, values, average):
    watch(pipeline, "at least the average", threshold("x", "AVERAGE", 2, "$gte", average))
    watch(pipeline, "above the average", threshold("x", "AVERAGE", 2, "$gt", average))
    watch(pipeline, "loss below 0.1", LOSS_BELOW_TENTH)
    match(pipeline, run_envelope(1, x=values[0], loss=0.5))
    match(pipeline, run_envelope(2, x=values[1], loss=0.05))
    assert fired(pipeline) == ["at least the average", "loss below 0.1"]


def test_the_average_of_three_of_the_largest_values_does_not_overflow(pipeline):
    watch(pipeline, "at least the largest", threshold("x", "AVERAGE", 3, "$gte", LARGEST))
    watch(pipeline, "loss below 0.1", LOSS_BELOW_TENTH)
    for step in (1, 2, 3):
        match(pipeline, run_envelope(step, x=LARGEST, loss=0.5 if step < 3 else 0.05))
    assert fired(pipeline) == ["at least the largest", "loss below 0.1"]


ZSCORE_RISE = {
    "type": "RUN_METRIC_ZSCORE",
    "metric": {"name": "x", "window": 5, "threshold": 3, "change_dir": "INCREASE"},
}
ZSCORE_DROP = {
    "type": "RUN_METRIC_ZSCORE",
    "metric": {"name": "x", "window": 5, "threshold": 3, "change_dir": "DECREASE"},
}


@pytest.mark.parametrize(
    ("history", "newest", "verdict"),
    [
        ((1e307, 2e307, 1e307, 2e307, 1e307), LARGEST, ["z rises"]),
        ((-1e307, -2e307, -1e307, -2e307, -1e307), -LARGEST, ["z drops"]),
        ((1e-300, 2e-300, 1e-300, 2e-300, 1e-300), 1e308, ["z rises"]),
        ((1e308, -1e308, 1e308, -1e308, 1e308), 1e308, []),
    ],
    ids=["far above huge values", "far below huge negatives", "huge after tiny", "within huge swings"],
)
def test_a_zscore_over_huge_values_is_right_and_other_automations_still_fire(
    pipeline, history, newest, verdict
):
    watch(pipeline, "z rises", ZSCORE_RISE)
    watch(pipeline, "z drops", ZSCORE_DROP)
    watch(pipeline, "loss below 0.1", LOSS_BELOW_TENTH)
    for step, x in enumerate(history, start=1):
        match(pipeline, run_envelope(step, x=x, loss=0.5))
    match(pipeline, run_envelope(len(history) + 1, x=newest, loss=0.05))
    assert fired(pipeline) == sorted([*verdict, "loss below 0.1"])


@pytest.mark.parametrize(
    ("metric", "values"),
    [
        ({"change_type": "ABSOLUTE", "change_dir": "INCREASE", "threshold": 1}, (-LARGEST, LARGEST)),
        ({"change_type": "RELATIVE", "change_dir": "INCREASE", "threshold": 1}, (SMALLEST, 1e308)),
        (
            {
                "agg": "AVERAGE",
                "window": 2,
                "change_type": "ABSOLUTE",
                "change_dir": "DECREASE",
                "threshold": 1,
            },
            (LARGEST, LARGEST, -LARGEST, -LARGEST),
        ),
    ],
    ids=[
        "absolute rise across the range",
        "relative rise from the smallest",
        "average fall across the range",
    ],
)
def test_a_change_over_huge_values_fires_and_other_automations_still_fire(pipeline, metric, values):
    watch(pipeline, "x changes", {"type": "RUN_METRIC_CHANGE", "metric": {"name": "x", **metric}})
    watch(pipeline, "loss below 0.1", LOSS_BELOW_TENTH)
    for step, x in enumerate(values, start=1):
        match(pipeline, run_envelope(step, x=x, loss=0.5 if step < len(values) else 0.05))
    assert fired(pipeline) == ["loss below 0.1", "x changes"]


# ---- steps -------------------------------------------------------------------------------------------------

PAST_MAX = pytest.mark.parametrize("step", [MAX_STEP + 1, 10**30], ids=["MAX_STEP + 1", "10**30"])


@PAST_MAX
def test_a_step_past_max_step_is_refused_by_the_api_naming_the_field(pipeline, step):
    reply = publish(pipeline.team.member, run_detail(step, loss=0.3))
    assert reply.status == 422 and reply.error["field"] == "events[0].detail.run.step", reply.raw
    assert on_the_bus(pipeline) == []


@PAST_MAX
def test_a_step_past_max_step_on_the_bus_is_dead_lettered_and_the_run_keeps_counting(pipeline, step):
    loss = watch(pipeline, "loss low", LOSS_LOW)
    match(pipeline, run_envelope(1, loss=0.3))
    assert match(pipeline, run_envelope(step, loss=0.3))["rejected"] == "invalid detail"
    [letter] = dead_letters(pipeline)
    assert [e["field"] for e in letter["errors"]] == ["run.step"]
    match(pipeline, run_envelope(2, loss=0.3))  # not out of order: the huge step never counted
    assert fired(pipeline) == ["loss low"]
    assert run_state(loss).points == {"loss": [(1, 0.3), (2, 0.3)]}


def test_a_step_at_max_step_is_accepted_through_the_api_and_counts(pipeline):
    loss = watch(pipeline, "loss low", LOSS_LOW)
    reply = publish(pipeline.team.member, run_detail(MAX_STEP - 1, loss=0.3), run_detail(MAX_STEP, loss=0.3))
    assert reply.status == 202, reply.raw
    assert run_matcher(pipeline) == 2
    assert fired(pipeline) == ["loss low"]
    assert run_state(loss).points == {"loss": [(MAX_STEP - 1, 0.3), (MAX_STEP, 0.3)]}


# ---- authors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "admin"])
def test_a_key_that_is_not_a_service_key_cannot_publish_as_another_author(pipeline, role):
    someone_else = {"member": "alice", "admin": "bob"}[role]
    reply = publish(
        getattr(pipeline.team, role), alias_detail(author=someone_else), detail_type="Artifact Alias Added"
    )
    assert reply.status == 403 and reply.error["field"] == "events[0].detail.author", reply.raw
    assert "service key" in reply.error["message"]
    assert on_the_bus(pipeline) == []


def test_a_member_cannot_publish_a_run_of_another_user(pipeline):
    detail = run_detail(1, loss=0.3)
    detail["run"]["user"] = "alice"
    reply = publish(pipeline.team.member, detail)
    assert reply.status == 403 and reply.error["field"] == "events[0].detail.run.user", reply.raw
    assert on_the_bus(pipeline) == []


def test_an_omitted_author_is_the_publishing_member_in_the_delivered_webhook(pipeline, receiver):
    pipeline.automation()
    reply = publish(pipeline.team.member, alias_detail(), detail_type="Artifact Alias Added")
    assert reply.status == 202, reply.raw
    assert run_matcher(pipeline) == 1
    pipeline.drain()
    [request] = receiver.requests
    assert request.json["client_payload"]["author"] == "bob"


def test_an_omitted_run_user_is_the_publishing_member(pipeline):
    watch(pipeline, "loss low", LOSS_LOW)
    details = [run_detail(step, loss=0.3) for step in (1, 2)]
    for detail in details:
        del detail["run"]["user"]
    reply = publish(pipeline.team.member, *details)
    assert reply.status == 202, reply.raw
    assert run_matcher(pipeline) == 2
    [execution] = pipeline.executions()
    assert pipeline.execution(execution["id"])["event"]["run"]["user"] == "bob"


def test_a_service_key_made_by_an_admin_publishes_for_another_author_and_it_is_delivered(pipeline, receiver):
    pipeline.automation()
    platform, _ = service_key(pipeline, member="bob")
    reply = publish(platform, alias_detail(author="alice"), detail_type="Artifact Alias Added")
    assert reply.status == 202, reply.raw
    run_matcher(pipeline)
    pipeline.drain()
    [request] = receiver.requests
    assert request.json["client_payload"]["author"] == "alice"


def test_a_member_cannot_make_a_service_key(pipeline):
    reply = pipeline.team.member.post(f"{pipeline.base}/api-keys", {"name": "platform", "service": True})
    assert reply.status == 403 and reply.error["field"] == "service", reply.raw
    keys = pipeline.team.admin.get(f"{pipeline.base}/api-keys").json["items"]
    assert [k["name"] for k in keys if k["service"]] == []


def test_the_api_key_list_shows_which_keys_are_service_keys(pipeline):
    _, platform_id = service_key(pipeline)
    keys = pipeline.team.admin.get(f"{pipeline.base}/api-keys").json["items"]
    assert {k["id"]: k["service"] for k in keys} == {
        platform_id: True,
        **{key_id(key): False for key in pipeline.team.keys.values()},
    }


# ---- publishers ------------------------------------------------------------------------------------------


def test_an_execution_records_the_key_and_member_that_published_it(pipeline):
    watch(pipeline, "loss low", LOSS_LOW)
    publish(pipeline.team.member, run_detail(1, loss=0.3), run_detail(2, loss=0.3))
    run_matcher(pipeline)
    [execution] = pipeline.executions()
    member_key = key_id(pipeline.team.keys["MEMBER"])
    assert execution["publisher"] == {"via": "api", "key_id": member_key, "member": "bob", "service": False}


def test_an_execution_records_a_service_key_as_such(pipeline):
    pipeline.automation(action={"type": "NO_OP"})
    platform, platform_id = service_key(pipeline)
    publish(platform, alias_detail(author="alice"), detail_type="Artifact Alias Added")
    run_matcher(pipeline)
    [execution] = pipeline.executions()
    assert execution["publisher"] == {"via": "api", "key_id": platform_id, "member": "bob", "service": True}


def test_an_execution_records_eventbridge_for_an_event_put_straight_on_the_bus(pipeline):
    pipeline.automation(action={"type": "NO_OP"})
    envelope = alias_event()
    _checked["events"] += 1
    answer = boto3.client("events", region_name="us-east-1").put_events(
        Entries=[
            {
                "Source": envelope["source"],
                "DetailType": envelope["detail-type"],
                "Detail": json.dumps(envelope["detail"]),
                "EventBusName": pipeline.stack.refs["EventBus"],
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0
    assert run_matcher(pipeline) == 1
    [execution] = pipeline.executions()
    assert execution["publisher"] == {"via": "eventbridge", "key_id": None, "member": None, "service": False}


FORGED = {"via": "api", "key_id": "000000000000", "member": "alice", "service": True}


@pytest.mark.parametrize(
    "forged", [FORGED, {"via": "eventbridge"}], ids=["an admin's service key", "eventbridge"]
)
def test_a_publisher_in_a_published_event_is_overwritten_with_the_real_one(pipeline, forged):
    pipeline.automation(action={"type": "NO_OP"})
    reply = publish(pipeline.team.member, alias_detail(publisher=forged), detail_type="Artifact Alias Added")
    assert reply.status == 202, reply.raw
    [event] = on_the_bus(pipeline)
    real = {"via": "api", "key_id": key_id(pipeline.team.keys["MEMBER"]), "member": "bob", "service": False}
    assert event["detail"]["publisher"] == real
    run_matcher(pipeline)
    [execution] = pipeline.executions()
    assert execution["publisher"] == real


def test_a_publisher_in_an_event_put_straight_on_the_bus_is_not_trusted(pipeline):
    pipeline.automation(action={"type": "NO_OP"})
    match(pipeline, alias_event(publisher=FORGED))
    [execution] = pipeline.executions()
    assert execution["publisher"]["via"] == "eventbridge" and execution["publisher"]["member"] is None


# ---- the events API for a platform's own code -------------------------------------------------------------

SAMPLES = sorted(
    path.name for path in EVENTS.glob("platform-*.json") if path.name != "platform-malformed.json"
)


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_file_from_events_is_a_whole_request_body(pipeline, sample):
    """`curl -d @events/<file> …/v1/events`: the same files `mlhooks publish` puts on the bus."""
    platform, _ = service_key(pipeline)  # the samples are authored by alice and bob
    envelope = load_event(sample)
    reply = platform.post("/v1/events", envelope)
    assert reply.status == 202, reply.raw
    [published] = reply.json["published"]
    assert published["event_id"] == envelope["detail"]["event_id"]
    [on_bus] = on_the_bus(pipeline)
    # EventBridge's own fields are the bus's to set: the event goes out as the API's.
    assert on_bus["detail-type"] == envelope["detail-type"] and on_bus["source"] == API_SOURCE


def test_envelopes_and_the_short_form_mix_in_one_batch(pipeline):
    platform, _ = service_key(pipeline)
    envelope = load_event("platform-alias-added.json")
    short = {"detail_type": "Run State Changed", "detail": load_event("platform-run-failed.json")["detail"]}
    reply = platform.post("/v1/events", {"events": [envelope, short]})
    assert reply.status == 202, reply.raw
    assert len(on_the_bus(pipeline)) == 2


def test_the_entity_is_the_keys_when_an_event_leaves_it_out(pipeline):
    detail = {k: v for k, v in load_event("platform-run-failed.json")["detail"].items() if k != "entity"}
    reply = pipeline.team.member.post("/v1/events", {"detail_type": "Run State Changed", "detail": detail})
    assert reply.status == 202, reply.raw
    [on_bus] = on_the_bus(pipeline)
    assert on_bus["detail"]["entity"] == pipeline.team.entity


def test_every_problem_of_every_event_is_reported_in_one_answer(pipeline):
    run = load_event("platform-run-failed.json")["detail"]
    no_project = {k: v for k, v in run.items() if k not in ("project", "event_id")}
    bad_state = {**run, "run": {**run["run"], "state": "EXPLODED"}}
    events = [
        {"detail_type": "Run State Changed", "detail": {**no_project, "entity": "globex"}},
        {"detail_type": "Run State Changed", "detail": bad_state},
        {"detail_type": "Run Exploded", "detail": run},
    ]
    reply = pipeline.team.member.post("/v1/events", {"events": events})
    assert reply.status == 422, reply.raw
    fields = {detail["field"] for detail in reply.error["details"]}
    assert {
        "events[0].detail.entity",
        "events[0].detail.project",
        "events[0].detail.event_id",
        "events[1].detail.run.state",
        "events[2].detail_type",
    } <= fields
    assert reply.error["field"] == reply.error["details"][0]["field"] and "4 more" in reply.error["message"]
    assert on_the_bus(pipeline) == []


def test_the_answer_to_publishing_is_documented_as_202_with_its_shape(gateway):
    _, _, body = gateway.handle("GET", "/v1/openapi.json", "", {}, b"")
    operation = json.loads(body)["paths"]["/v1/events"]["post"]
    [success] = [s for s in operation["responses"] if s.startswith("2")]
    assert success == "202"
    schema = operation["responses"]["202"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/PublishResponse")
