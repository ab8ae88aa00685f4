"""Changes at once: an automation created, edited, enabled, disabled or deleted governs the very next
event, even in a matcher container whose cache is warm; and a job queued before the change is never
delivered for an automation that is no longer enabled.

The finding this guards: `POST …/disable` answered `enabled: false` while events published after it
were still delivered (3 of 3), and a new automation missed events for up to 30 s (the matcher kept
automations 30 s; senders never checked `enabled`). The `aws` fixture turns the matcher's cache off;
here it lives an hour, so only the entity's automations revision can make a change seen."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pipelines import Pipeline, alias_event, register_run_queue, use_slack

from mlhooks.components import get_components
from mlhooks.matcher import execution_id

pytestmark = pytest.mark.suite("changes at once")

CACHE_SECONDS = "3600"
TO_STAGING = {"type": "ADD_ARTIFACT_ALIAS", "filter": {"$and": [{"alias": {"$regex": "^stag"}}]}}


@pytest.fixture
def warm(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """The pipeline in a fresh set of containers whose matcher keeps its automations an hour."""
    pipeline.configure(monkeypatch, MLHOOKS_MATCH_CACHE_SECONDS=CACHE_SECONDS)
    assert get_components().settings.match_cache_seconds == float(CACHE_SECONDS)
    return pipeline


def publish(pipeline: Pipeline, event_id: str, **detail: Any) -> dict[str, Any]:
    """One event through the matcher container (the same one each time: its cache stays warm)."""
    return pipeline.match(alias_event(event_id=event_id, **detail))


def automation_url(pipeline: Pipeline, automation: dict[str, Any]) -> str:
    return f"{pipeline.base}/automations/{automation['id']}"


def disable(pipeline: Pipeline, automation: dict[str, Any]) -> dict[str, Any]:
    reply = pipeline.team.member.post(f"{automation_url(pipeline, automation)}/disable")
    assert reply.status == 200 and reply.json["enabled"] is False, reply.raw
    return reply.json


def delete(pipeline: Pipeline, automation: dict[str, Any]) -> None:
    assert pipeline.team.member.delete(automation_url(pipeline, automation)).status == 204


@contextmanager
def dynamodb_calls() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB call made meanwhile on the containers' client: (operation, request body)."""
    events = get_components().store.client.meta.events
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(event_name: str, params: dict[str, Any], **_: Any) -> None:
        calls.append((event_name.rsplit(".", 1)[1], json.loads(params["body"])))

    events.register("before-call.dynamodb.*", record)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb.*", record)


def queries(calls: list[tuple[str, dict[str, Any]]]) -> int:
    return sum(operation == "Query" for operation, _ in calls)


def target(body: dict[str, Any]) -> str:
    """The item a single-item call reads or writes: its sort key in an entity's partition, else
    its partition key (rate windows live outside the entity's partition)."""
    key = body.get("Key") or body["Item"]
    return key["SK"]["S"] if key["PK"]["S"].startswith("E#") else key["PK"]["S"]


# ---- the matcher -----------------------------------------------------------------------------------


def test_a_disabled_automation_does_not_fire_on_the_very_next_event(warm, receiver):
    automation = warm.automation()
    assert publish(warm, "before")["created"] == 1  # the cache now holds it, enabled
    warm.drain()
    disable(warm, automation)
    assert publish(warm, "after")["created"] == 0
    warm.drain()
    assert [e["id"] for e in warm.executions()] == [execution_id("before", automation["id"])]
    assert len(receiver.requests) == 1


def test_an_enabled_automation_fires_on_the_very_next_event(warm, receiver):
    automation = warm.automation(enabled=False)
    assert publish(warm, "before")["created"] == 0  # the cache now holds none
    reply = warm.team.member.post(f"{automation_url(warm, automation)}/enable")
    assert reply.status == 200 and reply.json["enabled"] is True
    assert publish(warm, "after")["created"] == 1
    warm.drain()
    [delivered] = receiver.requests
    assert delivered.json["client_payload"]["alias"] == "production"


def test_a_new_automation_fires_on_the_very_next_event(warm, receiver):
    assert publish(warm, "before")["created"] == 0  # the cache holds this scope, without it
    warm.automation()
    assert publish(warm, "after")["created"] == 1
    warm.drain()
    assert len(receiver.requests) == 1


def test_an_edited_filter_governs_the_very_next_event(warm):
    automation = warm.automation()  # aliases starting "prod"
    assert publish(warm, "production-before", alias="production")["created"] == 1
    reply = warm.team.member.patch(automation_url(warm, automation), {"event": TO_STAGING})
    assert reply.status == 200, reply.raw
    assert publish(warm, "production-after", alias="production")["created"] == 0
    assert publish(warm, "staging-after", alias="staging")["created"] == 1


def test_a_deleted_automation_does_not_fire_on_the_very_next_event(warm, receiver):
    automation = warm.automation()
    assert publish(warm, "before")["created"] == 1
    warm.drain()
    delete(warm, automation)
    assert publish(warm, "after")["created"] == 0
    warm.drain()
    assert [e["id"] for e in warm.executions()] == [execution_id("before", automation["id"])]
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("alias", ["production", "staging"], ids=["matching", "not-matching"])
def test_a_warm_matcher_reads_only_the_revision_besides_the_execution_it_writes(warm, alias):
    automation = warm.automation()
    publish(warm, "warms-the-cache")
    with dynamodb_calls() as calls:
        report = publish(warm, "measured", alias=alias)
    execution = f"EXEC#{execution_id('measured', automation['id'])}"
    expected = [("GetItem", "#AUTOMATIONS")]  # is the cache still good? (consistent, one attribute)
    if alias == "production":
        assert report["created"] == 1
        expected += [
            ("GetItem", execution),  # seen before? (EventBridge delivers at least once)
            ("UpdateItem", f"RATE#dev#{automation['id']}"),  # the per-minute rate limit
            ("PutItem", execution),
            ("UpdateItem", f"AUTOMATION#{automation['id']}"),  # its last execution (W&B's column)
            ("UpdateItem", execution),  # marked enqueued
        ]
    assert Counter((operation, target(body)) for operation, body in calls) == Counter(expected)
    assert queries(calls) == 0
    [revision] = [body for _, body in calls if target(body) == "#AUTOMATIONS"]
    assert revision["ConsistentRead"] is True


def test_another_entitys_automation_changes_keep_this_entitys_cache(warm, other_team):
    warm.automation()
    publish(warm, "warms-the-cache")
    globex = other_team
    body = {
        "name": "globex's own",
        "scope": {"type": "ENTITY"},
        "event": {"type": "ADD_ARTIFACT_ALIAS"},
        "action": {"type": "NO_OP"},
    }
    theirs = globex.member.post(f"{globex.base}/automations", body)
    assert theirs.status == 201, theirs.raw
    url = f"{globex.base}/automations/{theirs.json['id']}"
    changes = [
        lambda: globex.member.post(f"{url}/disable"),
        lambda: globex.member.patch(url, {"description": "edited"}),
        lambda: globex.member.delete(url),
    ]
    for n, change in enumerate(changes):
        assert change().status in (200, 204)
        with dynamodb_calls() as calls:
            assert publish(warm, f"after-globex-change-{n}")["created"] == 1
        assert queries(calls) == 0, f"change {n}"
    # A change of this entity's own is read again at once: the count above could have seen it.
    warm.automation(name="another of ours")
    with dynamodb_calls() as calls:
        assert publish(warm, "after-ours")["created"] == 2
    assert queries(calls) > 0


# ---- the senders -----------------------------------------------------------------------------------
# Each kind of action: the automation's action, and what its destination received.

Probe = Callable[[], list[Any]]


def webhook_action(pipeline: Pipeline, request: pytest.FixtureRequest) -> tuple[dict[str, Any], Probe]:
    receiver = request.getfixturevalue("receiver")
    return {
        "type": "GENERIC_WEBHOOK",
        "webhook": "github",
        "payload": {"alias": "${alias}"},
    }, lambda: receiver.requests


def slack_action(pipeline: Pipeline, request: pytest.FixtureRequest) -> tuple[dict[str, Any], Probe]:
    inbox = request.getfixturevalue("slack")
    use_slack(pipeline, inbox, request.getfixturevalue("monkeypatch"), "xoxb-changes-at-once")
    return {"type": "NOTIFICATION", "slack": "alerts", "title": "New ${alias}"}, lambda: inbox.slack_messages


def job_action(pipeline: Pipeline, request: pytest.FixtureRequest) -> tuple[dict[str, Any], Probe]:
    url = register_run_queue(pipeline.team, pipeline.sqs)

    def launched() -> list[Any]:
        return pipeline.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])

    return {"type": "QUEUE_JOB", "queue": "gpu", "job": "evaluate"}, launched


ACTIONS = {"Webhook": webhook_action, "Slack": slack_action, "Job": job_action}


def queued_job(pipeline: Pipeline, request: pytest.FixtureRequest, kind: str) -> tuple[dict, Probe]:
    """An automation of this kind whose job is on its queue, not yet sent."""
    action, delivered = ACTIONS[kind](pipeline, request)
    automation = pipeline.automation(action=action)
    assert publish(pipeline, "queued")["enqueued"] == 1
    assert pipeline.queue_depth(f"{kind}Queue") == 1
    return automation, delivered


def assert_skipped_and_gone(pipeline: Pipeline, kind: str, delivered: Probe) -> str:
    """The job ended SKIPPED with no attempt and nothing sent, its message deleted; its reason."""
    pipeline.drain(kind)
    [summary] = pipeline.executions()
    execution = pipeline.execution(summary["id"])
    assert execution["state"] == "SKIPPED" and execution["attempts"] == [], execution
    assert execution["attempt_count"] == 0
    assert delivered() == []
    for queue in (f"{kind}Queue", f"{kind}DLQ"):
        assert pipeline.queue_depth(queue) == 0 and pipeline.invisible(queue) == 0, queue
    return execution["reason"]


KINDS = pytest.mark.parametrize("kind", list(ACTIONS))


@KINDS
def test_a_job_queued_for_an_unchanged_automation_is_delivered(warm, request, kind):
    _, delivered = queued_job(warm, request, kind)
    warm.drain(kind)
    [summary] = warm.executions()
    assert summary["state"] == "FINISHED" and summary["attempt_count"] == 1
    assert len(delivered()) == 1


@KINDS
def test_a_job_queued_before_its_automation_was_disabled_ends_skipped_unsent(warm, request, kind):
    automation, delivered = queued_job(warm, request, kind)
    disabled = disable(warm, automation)
    reason = assert_skipped_and_gone(warm, kind, delivered)
    assert "disabled" in reason and disabled["updated_at"] in reason


@KINDS
def test_a_job_queued_before_its_automation_was_deleted_ends_skipped_unsent(warm, request, kind):
    automation, delivered = queued_job(warm, request, kind)
    delete(warm, automation)
    reason = assert_skipped_and_gone(warm, kind, delivered)
    assert "deleted" in reason
