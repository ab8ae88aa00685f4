"""The event pipeline against moto: EventBridge envelope -> matcher -> SQS -> senders -> receivers.

Queues are driven the way Lambda's event source mappings drive them (`run_batch`), including
ReportBatchItemFailures, visibility-timeout retries and redrive to the dead-letter queues.
"""

from __future__ import annotations

import json

import pytest
from apiclient import make_team
from pipelines import SIGNING, TOKEN, Postponements, alias_event, register_run_queue, use_slack
from receivers import standard_webhooks_verified, wandb_signature
from samples import load_event

from mlhooks.components import get_components
from mlhooks.local.apigw import LocalApiGateway
from mlhooks.local.sources import run_rule


def test_alias_event_delivers_signed_repository_dispatch(pipeline, receiver):
    automation = pipeline.automation()
    report = pipeline.match(load_event("platform-alias-added.json"))
    assert report["created"] == 1 and report["enqueued"] == 1
    assert pipeline.drain() == 1

    [request] = receiver.requests
    assert request.json == {
        "event_type": "DEPLOY_MODEL",
        "client_payload": {
            "version": "dev/wandb-registry-model/resnet50:production",
            "alias": "production",
            "author": "alice",
            "accuracy": "0.953",
            "automation": "dispatch on production",
        },
    }
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["X-Wandb-Signature"] == wandb_signature(SIGNING, request.body)
    assert standard_webhooks_verified(SIGNING, request) == request.json

    [summary] = pipeline.executions()
    assert summary["state"] == "FINISHED" and summary["automation_id"] == automation["id"]
    assert request.headers["webhook-id"] == summary["id"]
    execution = pipeline.execution(summary["id"])
    assert [a["status_code"] for a in execution["attempts"]] == [200]
    assert execution["request"]["headers"]["Authorization"] == "[REDACTED]"
    assert TOKEN not in json.dumps(execution) and SIGNING not in json.dumps(execution)


def test_filter_and_scope_decide_what_fires(pipeline, receiver):
    pipeline.automation()
    pipeline.match(alias_event(event_id="e-staging", alias="staging"))
    pipeline.match(alias_event(event_id="e-other", collection="other-model"))
    assert pipeline.executions() == []
    pipeline.automation(name="any project", scope={"type": "ENTITY"}, event={"type": "ADD_ARTIFACT_ALIAS"})
    pipeline.match(alias_event(event_id="e-any", alias="staging", project="elsewhere"))
    assert [e["automation_name"] for e in pipeline.executions()] == ["any project"]


def test_duplicate_event_delivers_once(pipeline, receiver):
    pipeline.automation()
    first = pipeline.match(load_event("platform-alias-added.json"))
    again = pipeline.match(load_event("platform-alias-added.json"))
    assert first["created"] == 1 and again["created"] == 0 and again["duplicates"] == 1
    pipeline.drain()
    assert len(receiver.requests) == 1 and len(pipeline.executions()) == 1


def test_disabled_automation_does_not_fire(pipeline, receiver):
    automation = pipeline.automation()
    pipeline.team.member.post(f"{pipeline.base}/automations/{automation['id']}/disable")
    assert pipeline.match(load_event("platform-alias-added.json"))["created"] == 0


def test_no_op_finishes_without_a_job(pipeline):
    pipeline.automation(action={"type": "NO_OP"})
    assert pipeline.match(load_event("platform-alias-added.json"))["enqueued"] == 0
    [execution] = pipeline.executions()
    assert execution["state"] == "FINISHED" and execution["action_type"] == "NO_OP"


def test_rate_limit_records_skipped(pipeline, monkeypatch):
    pipeline.configure(monkeypatch, MLHOOKS_RATE_LIMIT_PER_MINUTE="2")
    pipeline.automation()
    for i in range(4):
        pipeline.match(alias_event(event_id=f"burst-{i}"))
    states = sorted(e["state"] for e in pipeline.executions())
    assert states == ["PENDING", "PENDING", "SKIPPED", "SKIPPED"]
    skipped = pipeline.executions(state="SKIPPED")[0]
    assert "rate limit" in skipped["reason"]


def test_malformed_event_goes_to_dead_letter_queue_with_reason(pipeline):
    pipeline.automation()
    report = pipeline.match(load_event("platform-malformed.json"))
    assert report["rejected"] == "invalid detail" and pipeline.executions() == []
    [message] = pipeline.sqs.receive_message(QueueUrl=pipeline.stack.refs["EventsDLQ"]).get("Messages", [])
    body = json.loads(message["Body"])
    assert body["reason"] == "invalid detail" and body["errors"][0]["field"] == "artifact"
    assert body["event"]["detail"]["event_id"] == "evt-bad-0001"


def test_always_failing_endpoint_ends_in_dlq_then_redelivers(pipeline, receiver):
    receiver.status = 500
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    [summary] = pipeline.executions()
    assert summary["state"] == "FAILED" and summary["attempt_count"] == 3
    assert "gave up after 3 attempts" in summary["reason"]
    assert pipeline.queue_depth("WebhookDLQ") == 1 and pipeline.queue_depth("WebhookQueue") == 0

    receiver.status = 200
    reply = pipeline.team.member.post(f"{pipeline.base}/executions/{summary['id']}/redeliver")
    assert reply.status == 202 and reply.json["state"] == "PENDING"
    pipeline.drain()
    execution = pipeline.execution(summary["id"])
    assert execution["state"] == "FINISHED" and execution["deliveries"] == 2
    assert [a["status_code"] for a in execution["attempts"]] == [500, 500, 500, 200]


def test_dlq_redrive_sends_jobs_again(pipeline, receiver):
    from mlhooks.redrive import redrive

    receiver.status = 500
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    receiver.status = 200
    components = get_components()
    assert (
        redrive(
            pipeline.sqs,
            components.store,
            pipeline.stack.refs["WebhookDLQ"],
            pipeline.stack.refs["WebhookQueue"],
        )
        == 1
    )
    pipeline.drain()
    assert pipeline.executions()[0]["state"] == "FINISHED"


def test_client_error_fails_at_once_without_dlq(pipeline, receiver):
    receiver.status = 400
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    [summary] = pipeline.executions()
    assert summary["state"] == "FAILED" and summary["attempt_count"] == 1
    assert pipeline.queue_depth("WebhookDLQ") == 0


def test_retry_after_sets_the_next_attempt(pipeline, receiver):
    receiver.status = 429
    receiver.extra_headers = {"Retry-After": "120"}
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    # The job waits out Retry-After: invisible on the queue, not yet retried.
    assert len(receiver.requests) == 1
    attributes = pipeline.sqs.get_queue_attributes(
        QueueUrl=pipeline.stack.refs["WebhookQueue"], AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert pipeline.executions()[0]["state"] == "PENDING"


def test_slack_notification_reaches_fake_slack(pipeline, slack, monkeypatch):
    use_slack(pipeline, slack, monkeypatch, "xoxb-pipeline-test-token")
    pipeline.automation(
        name="run failed",
        scope={"type": "PROJECT", "project": "training"},
        event={"type": "RUN_STATE", "states": ["FAILED", "CRASHED"]},
        action={
            "type": "NOTIFICATION",
            "slack": "alerts",
            "title": "Run ${run_name} ${run_status}",
            "message": "Started by ${event_author}",
            "severity": "ERROR",
        },
    )
    pipeline.match(load_event("platform-run-failed.json"))
    pipeline.drain("Slack")
    [message] = slack.slack_messages
    assert message["channel"] == "C0123ABCD"
    assert message["text"] == ":rotating_light: Run resnet50-lr3e-4 FAILED"
    blocks = message["attachments"][0]["blocks"]
    assert blocks[0]["text"]["text"] == "Run resnet50-lr3e-4 FAILED"
    assert "Started by bob" in blocks[1]["text"]["text"]
    assert message["attachments"][0]["color"] == "#E01E5A"
    assert pipeline.executions()[0]["state"] == "FINISHED"


def test_slack_invalid_token_fails_without_retry(pipeline, slack, monkeypatch):
    use_slack(pipeline, slack, monkeypatch, "not-a-bot-token")
    pipeline.automation(action={"type": "NOTIFICATION", "slack": "alerts", "title": "New ${alias}"})
    pipeline.match(load_event("platform-alias-added.json"))
    pipeline.drain("Slack")
    [summary] = pipeline.executions()
    assert summary["state"] == "FAILED" and summary["reason"] == "invalid_auth"
    assert "not-a-bot-token" not in json.dumps(pipeline.execution(summary["id"]))


def test_queue_job_lands_on_the_run_queue(pipeline):
    run_queue = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    pipeline.automation(
        action={
            "type": "QUEUE_JOB",
            "queue": "gpu",
            "job": "evaluate-model",
            "version": "v2",
            "overrides": {"epochs": 1},
            "destination_project": "training",
        }
    )
    pipeline.match(load_event("platform-alias-added.json"))
    pipeline.drain("Job")
    [message] = pipeline.sqs.receive_message(QueueUrl=run_queue)["Messages"]
    job = json.loads(message["Body"])
    assert job["job"] == "evaluate-model" and job["version"] == "v2" and job["overrides"] == {"epochs": 1}
    assert job["destination_project"] == "training"
    assert job["event"]["artifact_version_string"] == "dev/wandb-registry-model/resnet50:production"
    assert pipeline.executions()[0]["state"] == "FINISHED"


def published_detail(**changes):
    """The sample alias event as a member publishes it: the author is left to default to the member."""
    detail = {k: v for k, v in load_event("platform-alias-added.json")["detail"].items() if k != "author"}
    return {**detail, **changes}


def test_publish_api_forwards_through_the_bus_as_the_publishing_member(pipeline, receiver):
    pipeline.automation()
    events = [{"detail_type": "Artifact Alias Added", "detail": published_detail()}]
    reply = pipeline.team.member.post("/v1/events", {"events": events})
    assert reply.status == 202, reply.raw
    assert reply.json["published"][0]["event_id"] == "evt-alias-0001"
    assert (
        run_rule(pipeline.fns, pipeline.sqs, "MatcherFunction", pipeline.stack.rule_taps["MatcherFunction"])
        == 1
    )
    pipeline.drain()
    assert json.loads(receiver.requests[0].body)["client_payload"]["author"] == "bob"
    [execution] = pipeline.executions()
    assert execution["publisher"] == {
        "via": "api",
        "key_id": pipeline.team.keys["MEMBER"].split("_")[1],
        "member": "bob",
        "service": False,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"detail_type": "Model Exploded"}, "events[0].detail_type"),
        ({"detail": {"event_id": "x"}}, "events[0].detail.time"),
        ({"detail": published_detail(entity="someone-else")}, "events[0].detail.entity"),
    ],
)
def test_publish_api_rejects_bad_events_whole(pipeline, change, field):
    envelope = load_event("platform-alias-added.json")
    event = {"detail_type": envelope["detail-type"], "detail": envelope["detail"], **change}
    reply = pipeline.team.member.post("/v1/events", {"events": [event]})
    assert reply.status == 422 and reply.error["field"] == field
    assert (
        pipeline.sqs.receive_message(QueueUrl=pipeline.stack.rule_taps["MatcherFunction"]).get("Messages")
        is None
    )


def test_a_collections_history_lists_the_executions_of_events_about_it_with_counts(pipeline, receiver):
    """W&B shows an automation history on each artifact collection, with a count."""
    pipeline.automation(
        name="any alias",
        scope={"type": "ENTITY"},
        event={"type": "ADD_ARTIFACT_ALIAS"},
        action={"type": "NO_OP"},
    )
    pipeline.automation(
        name="every run",
        scope={"type": "ENTITY"},
        event={"type": "RUN_STATE", "states": ["FAILED"]},
        action={"type": "NO_OP"},
    )
    for i in range(3):
        pipeline.match(alias_event(event_id=f"resnet-{i}"))
    other = alias_event(event_id="other-0")
    other["detail"]["collection"] = "other-model"
    pipeline.match(other)
    pipeline.match(load_event("platform-run-failed.json"))
    base, viewer = pipeline.base, pipeline.team.viewer
    resnet = viewer.get(f"{base}/projects/wandb-registry-model/collections/resnet50/executions").json["items"]
    assert len(resnet) == 3 and {e["collection"] for e in resnet} == {"resnet50"}
    paged = viewer.get(
        f"{base}/projects/wandb-registry-model/collections/resnet50/executions", query="limit=2"
    ).json
    assert len(paged["items"]) == 2 and paged["next_token"]
    count = viewer.get(f"{base}/projects/wandb-registry-model/collections/other-model/executions/count").json
    assert count == {
        "project": "wandb-registry-model",
        "collection": "other-model",
        "total": 1,
        "by_state": {"PENDING": 0, "FINISHED": 1, "FAILED": 0, "SKIPPED": 0, "CANCELED": 0},
    }
    assert (
        viewer.get(f"{base}/projects/wandb-registry-model/collections/resnet50/executions/count").json[
            "total"
        ]
        == 3
    )
    missing = viewer.get(f"{base}/projects/wandb-registry-model/collections/nope/executions")
    assert missing.status == 404 and missing.error["code"] == "not_found"
    # The run's execution belongs to its project's history, on no collection.
    [run] = [e for e in pipeline.executions() if e["automation_name"] == "every run"]
    assert run["collection"] is None


def test_execution_listings_filters_and_isolation(pipeline, receiver, gateway):
    first = pipeline.automation()
    pipeline.automation(
        name="on any alias",
        scope={"type": "ENTITY"},
        event={"type": "ADD_ARTIFACT_ALIAS"},
        action={"type": "NO_OP"},
    )
    for i in range(3):
        pipeline.match(alias_event(event_id=f"list-{i}"))
    pipeline.drain()
    base = pipeline.base
    everything = pipeline.executions()
    assert len(everything) == 6
    assert [e["created_at"] for e in everything] == sorted(
        (e["created_at"] for e in everything), reverse=True
    )
    per_automation = pipeline.team.viewer.get(f"{base}/automations/{first['id']}/executions").json["items"]
    assert {e["automation_id"] for e in per_automation} == {first["id"]} and len(per_automation) == 3
    per_project = pipeline.team.viewer.get(
        f"{base}/projects/wandb-registry-model/executions", query="limit=4"
    ).json
    assert len(per_project["items"]) == 4 and per_project["next_token"]
    assert len(pipeline.executions(state="FINISHED")) == 6
    finished = everything[0]["id"]
    assert pipeline.team.member.post(f"{base}/executions/{finished}/redeliver").status == 409
    other = make_team(LocalApiGateway(pipeline.fns, pipeline.fns.template), "globex")
    assert other.admin.get(f"{base}/executions/{finished}").status == 404
    assert other.admin.get(f"{other.base}/executions/{finished}").status == 404


def test_slack_rate_limit_is_retried_after_retry_after(pipeline, slack, monkeypatch):

    from mlhooks.local.inbox import SLACK_PATH

    use_slack(pipeline, slack, monkeypatch, "xoxb-rate-limited")
    postponed = Postponements(monkeypatch)
    pipeline.automation(action={"type": "NOTIFICATION", "slack": "alerts", "title": "New ${alias}"})
    slack.script(SLACK_PATH, [429])
    pipeline.match(load_event("platform-alias-added.json"))
    pipeline.drain("Slack")
    assert pipeline.executions()[0]["state"] == "PENDING" and slack.slack_messages == []
    assert postponed.delays == [1]  # the fake Slack said Retry-After: 1
    postponed.release()
    pipeline.drain("Slack")
    execution = pipeline.execution(pipeline.executions()[0]["id"])
    assert execution["state"] == "FINISHED"
    assert [a["status_code"] for a in execution["attempts"]] == [429, 200]
    assert len(slack.slack_messages) == 1


def test_matcher_failing_to_enqueue_is_completed_by_the_retry(pipeline, receiver, monkeypatch):
    pipeline.automation()
    sqs = get_components().sqs
    real = sqs.send_message_batch

    def unavailable(**_):
        raise RuntimeError("SQS is unavailable")

    monkeypatch.setattr(sqs, "send_message_batch", unavailable)
    with pytest.raises(RuntimeError):
        pipeline.match(load_event("platform-alias-added.json"))  # EventBridge will retry the event
    assert pipeline.executions()[0]["state"] == "PENDING"
    monkeypatch.setattr(sqs, "send_message_batch", real)
    report = pipeline.match(load_event("platform-alias-added.json"))
    assert report["created"] == 0 and report["enqueued"] == 1
    pipeline.drain()
    assert len(receiver.requests) == 1 and pipeline.executions()[0]["state"] == "FINISHED"


def test_redelivery_that_cannot_be_queued_stays_failed(pipeline, receiver, monkeypatch):
    receiver.status = 500
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    [summary] = pipeline.executions()

    def unavailable(**_):
        raise RuntimeError("SQS is unavailable")

    monkeypatch.setattr(get_components().sqs, "send_message", unavailable)
    reply = pipeline.team.member.post(f"{pipeline.base}/executions/{summary['id']}/redeliver")
    assert reply.status == 500
    assert pipeline.execution(summary["id"])["state"] == "FAILED"
