"""Dry runs: whether an automation would fire on an event, why not, and the request its action would
send, with secrets redacted; nothing sent, nothing written."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import boto3
import pytest
from pipelines import SIGNING, TOKEN, alias_event, register_run_queue
from samples import load_event

from mlhooks.components import get_components
from mlhooks.store import keys

# Secrets whose JSON-escaped forms differ from the raw value, so that both are looked for.
ESCAPED_TOKEN = 'dry"run\\token-4711'  # visible ASCII: a header can carry it
PAYLOAD_SECRET = 'dëploy "key" </script> 4711'
SLACK_TOKEN = "xoxb-dry-run-slack-token"
SECRET_VALUES = (TOKEN, SIGNING, ESCAPED_TOKEN, PAYLOAD_SECRET, SLACK_TOKEN)
PAYLOAD = {
    "event_type": "DEPLOY_MODEL",
    "client_payload": {
        "version": "${artifact_version_string}",
        "alias": "${alias}",
        "token": "${ACCESS_TOKEN}",
        "key": "${DEPLOY_KEY}",
        "accuracy": "${artifact_metadata.accuracy}",
    },
}
LOSS_BELOW = {
    "type": "RUN_METRIC_THRESHOLD",
    "metric": {"name": "loss", "agg": "AVERAGE", "window": 3, "cmp": "$lt", "threshold": 0.1},
}


@pytest.fixture
def setup(pipeline):
    admin, base = pipeline.team.admin, pipeline.base
    for name, value in (
        ("ESCAPED", ESCAPED_TOKEN),
        ("DEPLOY_KEY", PAYLOAD_SECRET),
        ("SLACK_BOT", SLACK_TOKEN),
    ):
        assert admin.post(f"{base}/secrets", {"name": name, "value": value}).status == 201
    reply = admin.patch(
        f"{base}/webhooks/github", {"access_token_secret": "ESCAPED", "secrets": ["DEPLOY_KEY"]}
    )
    assert reply.status == 200, reply.raw
    slack = {
        "name": "alerts",
        "bot_token_secret": "SLACK_BOT",
        "channel_id": "C0123ABCD",
        "channel_name": "ml",
    }
    assert admin.post(f"{base}/slack", slack).status == 201
    return pipeline


def dry_run(pipeline, automation: dict[str, Any], event: dict[str, Any] | None = None, api=None):
    body = {} if event is None else {"event": event}
    return (api or pipeline.team.viewer).post(f"{pipeline.base}/automations/{automation['id']}/dry-run", body)


def webhook_automation(pipeline, **overrides: Any) -> dict[str, Any]:
    return pipeline.automation(
        action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": PAYLOAD}, **overrides
    )


def run_automation(pipeline, event: dict[str, Any], name: str = "loss alert") -> dict[str, Any]:
    return pipeline.automation(
        name=name,
        scope={"type": "PROJECT", "project": "training"},
        event=event,
        action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": {"values": "${metric_values}"}},
    )


def metrics_event(step: int, run_id: str = "run-1", **metrics: float) -> dict[str, Any]:
    envelope = copy.deepcopy(load_event("platform-run-metrics.json"))
    envelope["detail"]["event_id"] = f"{run_id}-{step}"
    envelope["detail"]["run"].update({"id": run_id, "step": step, "metrics": metrics})
    return envelope


def check(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in answer["checks"] if c["check"] == name)


def assert_no_secret(raw: bytes) -> None:
    text = raw.decode("utf-8")
    for value in SECRET_VALUES:
        for form in (value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
            assert form not in text, form


def written_state(pipeline) -> tuple[int, dict[str, int]]:
    """Every item of the table, and every message of every queue (the run queues' too)."""
    table = get_components().store.table
    items, kwargs = 0, {"Select": "COUNT"}
    while True:
        page = table.scan(**kwargs)
        items += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    depths = {}
    for url in pipeline.sqs.list_queues().get("QueueUrls", []):
        attributes = pipeline.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[url] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return items, depths


@pytest.fixture
def queue_url(setup):
    return register_run_queue(setup.team, boto3.client("sqs", region_name="us-east-1"), "gpu")


# ---- the request each action would send -------------------------------------------------------------


def test_webhook_dry_run_shows_the_signed_request_with_every_secret_redacted(setup, receiver):
    automation = webhook_automation(setup)
    reply = dry_run(setup, automation, alias_event(), api=setup.team.admin)  # who sees webhook URLs
    assert reply.status == 200, reply.raw
    answer = reply.json
    assert answer["would_fire"] is True and answer["would_deliver"] is True and answer["reason"] is None
    assert [c["passed"] for c in answer["checks"]] == [True] * 7
    request = answer["action"]["request"]
    assert request["method"] == "POST" and request["url"] == receiver.url
    headers = request["headers"]
    assert headers["Authorization"] == "[REDACTED]"
    assert headers["X-Wandb-Signature"] == "present" and headers["webhook-signature"] == "present"
    assert headers["Content-Type"] == "application/json" and headers["webhook-id"].startswith("ex_")
    assert headers["User-Agent"].startswith("mlhooks/")
    assert request["signatures"] == ["X-Wandb-Signature", "webhook-signature"]
    assert json.loads(request["body"]) == {
        "event_type": "DEPLOY_MODEL",
        "client_payload": {
            "version": "dev/wandb-registry-model/resnet50:production",
            "alias": "production",
            "token": "[REDACTED]",
            "key": "[REDACTED]",
            "accuracy": "0.953",
        },
    }
    assert answer["action"]["status"] == {"state": "READY", "reason": None}
    assert answer["summary"] == f"Would fire and send POST to {receiver.url}."
    assert_no_secret(reply.raw)
    assert receiver.requests == []


def test_a_dry_run_writes_and_sends_nothing(setup, receiver, queue_url):
    automations = [
        webhook_automation(setup),
        run_automation(setup, LOSS_BELOW),
        setup.automation(name="queue", action={"type": "QUEUE_JOB", "queue": "gpu", "job": "train"}),
    ]
    setup.match(metrics_event(1, loss=0.05))  # a run history for the condition to read
    before = written_state(setup)
    for automation, event in zip(
        automations, (alias_event(), metrics_event(2, loss=0.05), alias_event()), strict=False
    ):
        assert dry_run(setup, automation, event).status == 200
        assert dry_run(setup, automation).status == 200
    assert written_state(setup) == before
    assert receiver.requests == []


def test_queue_job_dry_run_shows_the_message_and_queues_nothing(setup, queue_url):
    automation = setup.automation(
        action={
            "type": "QUEUE_JOB",
            "queue": "gpu",
            "job": "evaluate-model",
            "overrides": {"model": "${artifact_version_string}"},
        }
    )
    answer = dry_run(setup, automation, alias_event()).json
    request = answer["action"]["request"]
    assert request["queue"] == "gpu" and request["queue_url"] == queue_url
    body = request["message_body"]
    assert body["job"] == "evaluate-model" and body["version"] == "latest"
    assert body["overrides"] == {"model": "dev/wandb-registry-model/resnet50:production"}
    assert body["automation"] == {"id": automation["id"], "name": automation["name"]}
    assert body["execution_id"].startswith("ex_") and body["destination_project"] == "wandb-registry-model"
    assert request["message_attributes"]["mlhooks.entity"] == {"DataType": "String", "StringValue": "dev"}
    assert (
        answer["would_deliver"] is True and answer["summary"] == "Would fire and send a job on run queue gpu."
    )
    messages = setup.sqs.receive_message(QueueUrl=queue_url).get("Messages", [])
    assert messages == []


def test_slack_dry_run_shows_the_chat_post_message_request_without_the_bot_token(setup):
    automation = setup.automation(
        action={"type": "NOTIFICATION", "slack": "alerts", "title": "New ${alias}", "message": "*${alias}*"}
    )
    reply = dry_run(setup, automation, alias_event())
    request = reply.json["action"]["request"]
    assert request["method"] == "POST" and request["url"].endswith("/chat.postMessage")
    assert request["headers"]["Authorization"] == "[REDACTED]"
    body = request["body"]
    assert body["channel"] == "C0123ABCD" and body["text"] == ":information_source: New production"
    blocks = body["attachments"][0]["blocks"]
    assert blocks[0]["text"]["text"] == "New production"
    assert blocks[1]["text"]["text"] == "*production*"
    assert_no_secret(reply.raw)


def test_no_op_fires_and_delivers_nothing(setup):
    automation = setup.automation(action={"type": "NO_OP"})
    answer = dry_run(setup, automation, alias_event()).json
    assert answer["would_fire"] is True and answer["would_deliver"] is False
    assert answer["action"]["request"] is None
    assert check(answer, "rate_limit")["message"].startswith("A NO_OP execution")


# ---- why not --------------------------------------------------------------------------------------


def test_disabled_automation_would_not_fire(setup):
    automation = webhook_automation(setup)
    setup.team.member.post(f"{setup.base}/automations/{automation['id']}/disable")
    answer = dry_run(setup, automation, alias_event()).json
    assert answer["would_fire"] is False and answer["reason"]["code"] == "disabled"
    assert answer["summary"].startswith("Would not fire (disabled)")
    assert answer["action"]["request"]["url"]  # what it would send, were it enabled


def test_event_of_another_type_would_not_fire_and_the_rest_is_not_evaluated(setup):
    automation = webhook_automation(setup)
    tag_event = load_event("platform-artifact-tag-added.json")
    answer = dry_run(setup, automation, tag_event).json
    assert answer["reason"]["code"] == "event_type"
    assert (
        "ADD_ARTIFACT_ALIAS" in answer["reason"]["message"]
        and "Artifact Alias Added" in answer["reason"]["message"]
    )
    assert check(answer, "filter")["passed"] is None and check(answer, "condition")["passed"] is None


def test_event_outside_the_scope_would_not_fire(setup):
    automation = webhook_automation(setup)
    answer = dry_run(setup, automation, alias_event(collection="other-model")).json
    assert answer["reason"] == {
        "code": "scope",
        "message": "The event is in project wandb-registry-model, collection other-model; the automation "
        "watches collection resnet50 of project wandb-registry-model.",
    }


def test_event_the_filter_refuses_would_not_fire(setup):
    automation = webhook_automation(setup)
    answer = dry_run(setup, automation, alias_event(alias="staging")).json
    assert answer["reason"]["code"] == "filter"
    assert '"alias": "staging"' in answer["reason"]["message"] and "^prod" in answer["reason"]["message"]


def test_run_in_a_state_the_automation_does_not_watch_would_not_fire(setup):
    automation = run_automation(setup, {"type": "RUN_STATE", "states": ["FAILED"]})
    event = load_event("platform-run-failed.json")
    event["detail"]["run"]["state"] = "FINISHED"
    answer = dry_run(setup, automation, event).json
    assert answer["reason"] == {
        "code": "condition",
        "message": "The run is FINISHED; the automation watches FAILED.",
    }
    event["detail"]["run"]["state"] = "CRASHED"
    crashed = dry_run(setup, automation, event).json
    assert crashed["would_fire"] is True and "counts as failed" in check(crashed, "condition")["message"]


def test_metric_condition_without_history_says_it_cannot_fire_yet(setup):
    automation = run_automation(setup, LOSS_BELOW)
    answer = dry_run(setup, automation, metrics_event(1, loss=0.01)).json
    assert answer["would_fire"] is False and answer["reason"]["code"] == "condition"
    message = answer["reason"]["message"]
    assert "cannot be evaluated yet: it needs 3 values of loss (it has 1)" in message
    assert "No history is stored for run run-1" in message


def test_metric_condition_is_evaluated_on_the_stored_history_which_stays_unchanged(setup):
    automation = run_automation(setup, LOSS_BELOW)
    setup.match(metrics_event(1, loss=0.05))
    setup.match(metrics_event(2, loss=0.06))
    store = get_components().store
    run_key = keys.run("training", "bob", "run-1")
    history = store.get_run_states("dev", run_key, [automation["id"]])
    answer = dry_run(setup, automation, metrics_event(3, loss=0.07)).json
    assert answer["would_fire"] is True, answer
    assert answer["variables"]["metric_values"] == "[0.05, 0.06, 0.07]"
    assert json.loads(answer["action"]["request"]["body"]) == {"values": "[0.05, 0.06, 0.07]"}
    assert "stored history (2 of loss (to step 2))" in check(answer, "condition")["message"]
    assert store.get_run_states("dev", run_key, [automation["id"]]) == history
    # The real third step still fires: the dry run changed nothing it depends on.
    setup.match(metrics_event(3, loss=0.07))
    assert [e["event_type"] for e in setup.executions()] == ["RUN_METRIC_THRESHOLD"]


def test_a_condition_that_already_holds_does_not_fire_again(setup):
    automation = run_automation(setup, {**LOSS_BELOW, "metric": {**LOSS_BELOW["metric"], "window": 1}})
    setup.match(metrics_event(1, loss=0.05))
    answer = dry_run(setup, automation, metrics_event(2, loss=0.04)).json
    assert answer["reason"]["code"] == "condition"
    assert "held already before this step" in answer["reason"]["message"]


def test_rate_limited_automation_would_be_skipped_and_the_dry_run_takes_no_token(setup, monkeypatch):
    setup.configure(monkeypatch, MLHOOKS_RATE_LIMIT_PER_MINUTE="2")
    for attempt in range(2):  # the window is the minute: try again, should one begin midway
        minute = int(time.time()) // 60
        automation = webhook_automation(setup, name=f"rate limited {attempt}")
        setup.match(alias_event(event_id=f"first-{attempt}"))
        before = [dry_run(setup, automation, alias_event(event_id="next")).json for _ in range(3)]
        setup.match(alias_event(event_id=f"second-{attempt}"))
        full = dry_run(setup, automation, alias_event(event_id="next")).json
        if int(time.time()) // 60 == minute:
            break
    assert [answer["would_fire"] for answer in before] == [True] * 3
    assert "1 of its 2 executions a minute used" in check(before[0], "rate_limit")["message"]
    executions = setup.team.viewer.get(f"{setup.base}/automations/{automation['id']}/executions").json
    assert [e["state"] for e in executions["items"]] == ["PENDING", "PENDING"]  # the dry runs took none
    assert full["would_fire"] is False and full["reason"]["code"] == "rate_limit"
    assert "recorded as SKIPPED" in full["reason"]["message"]


def test_an_event_already_handled_is_a_duplicate(setup):
    automation = webhook_automation(setup)
    keys_list = setup.team.member.get(f"{setup.base}/api-keys").json["items"]
    key_id = next(k["id"] for k in keys_list if k["member"] == "bob")
    envelope = alias_event(event_id="published-once")
    envelope["source"] = "mlhooks.api"
    envelope["detail"]["publisher"] = {"via": "api", "key_id": key_id, "member": "bob", "service": False}
    envelope["detail"]["author"] = "bob"
    setup.match(envelope)
    event = {"detail_type": "Artifact Alias Added", "detail": envelope["detail"]}
    answer = dry_run(setup, automation, event, api=setup.team.member).json
    assert answer["reason"]["code"] == "duplicate"
    assert setup.executions()[0]["id"] in answer["reason"]["message"]


# ---- the action's status ------------------------------------------------------------------------------


def test_disabled_webhook_would_not_deliver_and_the_request_is_still_shown(setup):
    automation = webhook_automation(setup)
    assert setup.team.admin.patch(f"{setup.base}/webhooks/github", {"enabled": False}).status == 200
    answer = dry_run(setup, automation, alias_event()).json
    assert answer["would_fire"] is True and answer["would_deliver"] is False
    assert answer["action"]["status"]["state"] == "DISABLED"
    assert answer["summary"].startswith("Would fire, but would not deliver: Webhook github is disabled")
    assert json.loads(answer["action"]["request"]["body"])["client_payload"]["key"] == "[REDACTED]"


def test_a_run_queue_gone_from_under_an_automation_would_not_deliver(setup):
    register_run_queue(setup.team, boto3.client("sqs", region_name="us-east-1"), "gone")
    automation = setup.automation(action={"type": "QUEUE_JOB", "queue": "gone", "job": "evaluate"})
    # A run queue in use cannot be removed through the API: its record vanishes as after a restore.
    get_components().store.table.delete_item(Key=keys.item("dev", keys.run_queue("gone")))
    answer = dry_run(setup, automation, alias_event()).json
    assert answer["would_fire"] is True and answer["would_deliver"] is False
    assert answer["action"]["status"] == {
        "state": "DISABLED",
        "reason": "run queue gone no longer exists: the execution would fail, nothing queued.",
    }
    request = answer["action"]["request"]
    assert request["queue_url"] is None and request["message_body"]["job"] == "evaluate"


# ---- samples ----------------------------------------------------------------------------------------


def test_without_an_event_a_sample_in_the_scope_that_passes_the_filter_is_used(setup):
    automation = webhook_automation(
        setup,
        event={"type": "ADD_ARTIFACT_ALIAS", "filter": {"$and": [{"alias": {"$in": ["staging", "qa"]}}]}},
    )
    answer = dry_run(setup, automation).json
    assert answer["event"]["sample"] is True and answer["event"]["detail_type"] == "Artifact Alias Added"
    detail = answer["event"]["detail"]
    assert (detail["project"], detail["collection"], detail["alias"]) == (
        "wandb-registry-model",
        "resnet50",
        "staging",
    )
    assert answer["would_fire"] is True
    assert json.loads(answer["action"]["request"]["body"])["client_payload"]["accuracy"] == "sample accuracy"


def test_a_sample_that_cannot_pass_the_filter_says_so(setup):
    automation = webhook_automation(
        setup, event={"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "^v[0-9]+$"}}}
    )
    answer = dry_run(setup, automation).json
    assert answer["would_fire"] is False and answer["reason"]["code"] == "filter"
    assert "This is the sample event" in answer["reason"]["message"]


def test_a_sample_run_metrics_event_passes_a_single_value_threshold(setup):
    automation = run_automation(
        setup, {"type": "RUN_METRIC_THRESHOLD", "metric": {"name": "loss", "cmp": "$lt", "threshold": 0.1}}
    )
    answer = dry_run(setup, automation).json
    assert answer["event"]["detail"]["run"]["metrics"] == {"loss": -0.9}
    assert answer["would_fire"] is True and answer["variables"]["metric_name"] == "loss"


# ---- unsaved automations --------------------------------------------------------------------------


def draft(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "draft",
        "scope": {"type": "ARTIFACT_COLLECTION", "project": "wandb-registry-model", "collection": "resnet50"},
        "event": {"type": "ADD_ARTIFACT_ALIAS"},
        "action": {"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": PAYLOAD},
    }
    return body | overrides


def test_an_unsaved_automation_is_dry_run_and_nothing_is_saved(setup):
    before = written_state(setup)
    reply = setup.team.member.post(
        f"{setup.base}/automations/dry-run", {"automation": draft(), "event": alias_event()}
    )
    assert reply.status == 200, reply.raw
    answer = reply.json
    assert answer["would_fire"] is True
    assert answer["action"]["request"]["headers"]["webhook-id"] == "(the execution's id)"
    assert check(answer, "duplicate")["message"] == "An unsaved automation has handled no events."
    assert written_state(setup) == before
    assert_no_secret(reply.raw)


def test_an_unsaved_automation_is_refused_as_create_would_refuse_it(setup):
    bad = draft(action={"type": "GENERIC_WEBHOOK", "webhook": "nope", "payload": {}})
    reply = setup.team.member.post(f"{setup.base}/automations/dry-run", {"automation": bad})
    assert reply.status == 422 and reply.error["field"] == "automation.action.webhook"
    typo = draft(
        action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": {"v": "${artifact_versio}"}}
    )
    reply = setup.team.member.post(f"{setup.base}/automations/dry-run", {"automation": typo})
    assert reply.status == 422 and reply.error["field"] == "automation.action.payload"
    assert "did you mean ${artifact_version}?" in reply.error["message"]


def test_an_unsaved_run_automation_has_no_history(setup):
    body = {
        "automation": draft(
            scope={"type": "PROJECT", "project": "training"},
            event=LOSS_BELOW,
            action={"type": "NO_OP"},
        ),
        "event": metrics_event(1, loss=0.01),
    }
    answer = setup.team.member.post(f"{setup.base}/automations/dry-run", body).json
    assert "An unsaved automation has no history" in answer["reason"]["message"]


# ---- who may, and what is refused ---------------------------------------------------------------------


def test_viewers_dry_run_saved_automations_and_members_unsaved_ones(setup):
    automation = webhook_automation(setup)
    assert dry_run(setup, automation, api=setup.team.viewer).status == 200
    reply = setup.team.viewer.post(f"{setup.base}/automations/dry-run", {"automation": draft()})
    assert reply.status == 403 and reply.error["code"] == "forbidden"


def test_unknown_automation_is_404(setup):
    reply = dry_run(setup, {"id": "au_nope"})
    assert reply.status == 404 and reply.error["code"] == "not_found"


def test_a_saved_automation_is_dry_run_by_name_and_without_a_body(setup):
    webhook_automation(setup)
    reply = setup.team.viewer.post(f"{setup.base}/automations/dispatch%20on%20production/dry-run")
    assert reply.status == 200, reply.raw
    assert reply.json["event"]["sample"] is True


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"detail_type": "Artifact Polished", "detail": {}}, "event.detail_type"),
        ({"detail_type": "Artifact Alias Added", "detail": {"project": "p"}}, "event.detail.collection"),
        (
            {"detail_type": "Artifact Alias Added", "detail": {**alias_event()["detail"], "entity": "acme"}},
            "event.detail.entity",
        ),
        (
            {
                "detail_type": "Run Metrics Logged",
                "detail": {**metrics_event(1)["detail"], "run": {"id": "r"}},
            },
            "event.detail.run.display_name",
        ),
    ],
)
def test_an_unacceptable_event_is_422_naming_the_field(setup, event, field):
    automation = webhook_automation(setup)
    reply = dry_run(setup, automation, event)
    assert reply.status == 422, reply.raw
    assert reply.error["code"] == "invalid_input" and reply.error["field"] == field
    assert reply.error["message"]


@pytest.mark.parametrize("body", [{"event": "x"}, {"event": {"detail": {}}}, {"events": []}, []])
def test_a_body_of_the_wrong_shape_is_400(setup, body):
    automation = webhook_automation(setup)
    reply = setup.team.viewer.post(f"{setup.base}/automations/{automation['id']}/dry-run", body)
    assert reply.status == 400 and reply.error["code"] == "validation_error", reply.raw


def test_both_dry_runs_are_documented(gateway):
    _, _, document = gateway.handle("GET", "/v1/openapi.json", "", {}, b"")
    paths = json.loads(document)["paths"]
    for path in (
        "/v1/entities/{entity}/automations/dry-run",
        "/v1/entities/{entity}/automations/{automation_id}/dry-run",
    ):
        responses = paths[path]["post"]["responses"]
        assert "200" in responses and "422" in responses and "404" in responses
        assert responses["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/DryRunOut"
        }
