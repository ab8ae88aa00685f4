"""Automations: validated in full at save time, unique per scope, updated without lost updates."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import boto3
import pytest
from pipelines import register_run_queue

TOKEN = "automation-test-token-value"


@pytest.fixture
def setup(team, allow_loopback, receiver):
    admin, base = team.admin, team.base
    admin.post(f"{base}/secrets", {"name": "GITHUB_TOKEN", "value": TOKEN})
    admin.post(f"{base}/secrets", {"name": "SLACK_BOT", "value": "xoxb-automation-test"})
    admin.post(f"{base}/secrets", {"name": "UNATTACHED", "value": "unattached-value"})
    assert (
        admin.post(
            f"{base}/webhooks", {"name": "github", "url": receiver.url, "access_token_secret": "GITHUB_TOKEN"}
        ).status
        == 201
    )
    admin.post(
        f"{base}/slack",
        {
            "name": "alerts",
            "bot_token_secret": "SLACK_BOT",
            "channel_id": "C0123ABCD",
            "channel_name": "ml-alerts",
        },
    )
    admin.post(f"{base}/projects", {"name": "wandb-registry-model", "registry": True})
    admin.post(f"{base}/projects", {"name": "training"})
    admin.post(f"{base}/projects/wandb-registry-model/collections", {"name": "resnet", "type": "model"})
    return team


def alias_automation(**overrides):
    body = {
        "name": "deploy on production",
        "scope": {"type": "ARTIFACT_COLLECTION", "project": "wandb-registry-model", "collection": "resnet"},
        "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"$and": [{"alias": {"$regex": "^prod"}}]}},
        "action": {
            "type": "GENERIC_WEBHOOK",
            "webhook": "github",
            "payload": {
                "event_type": "${event_type}",
                "client_payload": {"version": "${artifact_version_string}", "token": "${ACCESS_TOKEN}"},
            },
        },
    }
    body.update(overrides)
    return body


def test_member_creates_webhook_automation(setup):
    reply = setup.member.post(f"{setup.base}/automations", alias_automation())
    assert reply.status == 201, reply.raw
    created = reply.json
    assert created["id"].startswith("au_") and created["version"] == 1 and created["enabled"] is True
    assert created["created_by"] == "bob" and reply.headers["ETag"] == '"1"'
    fetched = setup.viewer.get(f"{setup.base}/automations/{created['id']}")
    assert fetched.json == created


def test_payload_given_as_json_text_is_stored_as_json(setup):
    body = alias_automation()
    body["action"]["payload"] = '{"event_type": "${event_type}"}'
    created = setup.member.post(f"{setup.base}/automations", body).json
    assert created["action"]["payload"] == {"event_type": "${event_type}"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (alias_automation(scope={"type": "PROJECT", "project": "nope"}), "scope.project"),
        (
            alias_automation(scope={"type": "ARTIFACT_COLLECTION", "project": "training", "collection": "x"}),
            "scope.collection",
        ),
        (
            alias_automation(event={"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "(a)\\1"}}}),
            "event.filter.alias.$regex",
        ),
        (
            alias_automation(event={"type": "ADD_ARTIFACT_ALIAS", "filter": {"display_name": "x"}}),
            "event.filter.display_name",
        ),
        (
            alias_automation(event={"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$where": "1"}}}),
            "event.filter.alias.$where",
        ),
        (
            alias_automation(action={"type": "GENERIC_WEBHOOK", "webhook": "nope", "payload": {}}),
            "action.webhook",
        ),
        (
            alias_automation(action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": "{not json"}),
            "action.payload",
        ),
        (
            alias_automation(
                action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": {"a": "${bogus}"}}
            ),
            "action.payload",
        ),
        (
            alias_automation(
                action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": {"a": "${UNATTACHED}"}}
            ),
            "action.payload",
        ),
        (alias_automation(action={"type": "NOTIFICATION", "slack": "nope", "title": "t"}), "action.slack"),
        (
            alias_automation(action={"type": "NOTIFICATION", "slack": "alerts", "title": "${GITHUB_TOKEN}"}),
            "action.title",
        ),
        (alias_automation(action={"type": "QUEUE_JOB", "queue": "unregistered", "job": "j"}), "action.queue"),
    ],
)
def test_invalid_automation_is_422_with_field_and_not_saved(setup, body, field):
    reply = setup.member.post(f"{setup.base}/automations", body)
    assert reply.status == 422, reply.raw
    assert reply.error["code"] == "invalid_input" and reply.error["field"] == field
    assert setup.viewer.get(f"{setup.base}/automations").json["items"] == []


def test_run_event_on_a_registry_is_refused(setup):
    body = alias_automation(
        scope={"type": "PROJECT", "project": "wandb-registry-model"},
        event={"type": "RUN_STATE", "states": ["FAILED"]},
    )
    reply = setup.member.post(f"{setup.base}/automations", body)
    assert reply.status == 422 and reply.error["field"] == "event.type"


def test_run_event_on_a_collection_is_refused(setup):
    body = alias_automation(event={"type": "RUN_STATE", "states": ["FAILED"]})
    assert setup.member.post(f"{setup.base}/automations", body).error["field"] == "event.type"


@pytest.mark.parametrize(
    ("metric", "field"),
    [
        ({"name": "loss", "cmp": "$lt", "threshold": 0.1, "window": 0}, "event.metric.window"),
        ({"name": "loss", "cmp": "$eq", "threshold": 0.1}, "event.metric.cmp"),
        ({"name": "loss", "cmp": "$lt"}, "event.metric.threshold"),
        ({"name": "loss", "cmp": "$lt", "threshold": 0.1, "agg": "MEDIAN"}, "event.metric.agg"),
    ],
)
def test_malformed_metric_threshold_is_400_with_field(setup, metric, field):
    body = alias_automation(
        scope={"type": "PROJECT", "project": "training"},
        event={"type": "RUN_METRIC_THRESHOLD", "metric": metric},
    )
    reply = setup.member.post(f"{setup.base}/automations", body)
    assert reply.status == 400
    assert reply.error["field"].startswith(field), reply.error


def test_change_amount_must_be_positive(setup):
    metric = {"name": "acc", "change_type": "RELATIVE", "change_dir": "DECREASE", "threshold": 0}
    body = alias_automation(
        scope={"type": "PROJECT", "project": "training"},
        event={"type": "RUN_METRIC_CHANGE", "metric": metric},
    )
    reply = setup.member.post(f"{setup.base}/automations", body)
    assert reply.status == 400 and reply.error["field"] == "event.metric.threshold"


def test_run_automations_of_every_kind_are_accepted(setup):
    project = {"type": "PROJECT", "project": "training"}
    slack = {
        "type": "NOTIFICATION",
        "slack": "alerts",
        "title": "${run_name} ${run_status}",
        "severity": "ERROR",
    }
    events = [
        {
            "type": "RUN_METRIC_THRESHOLD",
            "metric": {"name": "val_loss", "agg": "AVERAGE", "window": 5, "cmp": "$lt", "threshold": 0.1},
            "filter": {"display_name": {"$contains": "resnet"}},
        },
        {
            "type": "RUN_METRIC_THRESHOLD",
            "metric": {
                "$and": [
                    {"name": "acc", "cmp": "$gt", "threshold": 0.95},
                    {"name": "loss", "cmp": "$lt", "threshold": 0.1},
                ]
            },
        },
        {
            "type": "RUN_METRIC_CHANGE",
            "metric": {
                "name": "acc",
                "agg": "AVERAGE",
                "window": 3,
                "prior_window": 6,
                "change_type": "RELATIVE",
                "change_dir": "DECREASE",
                "threshold": 0.1,
            },
        },
        {"type": "RUN_METRIC_ZSCORE", "metric": {"name": "grad_norm"}},
        {"type": "RUN_STATE", "states": ["FAILED", "CRASHED"], "filter": {"user": "bob"}},
        {"type": "RUN_METRIC", "metric": {"name": "loss", "cmp": "$lte", "threshold": 1}},
    ]
    for i, event in enumerate(events):
        reply = setup.member.post(
            f"{setup.base}/automations",
            {"name": f"run-{i}", "scope": project, "event": event, "action": slack},
        )
        assert reply.status == 201, reply.raw
    zscore = setup.viewer.get(f"{setup.base}/automations", query="event_type=RUN_METRIC_ZSCORE").json["items"]
    assert zscore[0]["event"]["metric"] == {
        "name": "grad_norm",
        "window": 30,
        "threshold": 3.0,
        "change_dir": "ANY",
    }
    legacy = setup.viewer.get(f"{setup.base}/automations", query="event_type=RUN_METRIC_THRESHOLD").json[
        "items"
    ]
    assert len(legacy) == 3  # RUN_METRIC was upgraded to RUN_METRIC_THRESHOLD


def test_legacy_link_model_is_stored_as_link_artifact(setup):
    body = alias_automation(event={"type": "LINK_MODEL"})
    created = setup.member.post(f"{setup.base}/automations", body).json
    assert created["event"]["type"] == "LINK_ARTIFACT"


def test_queue_job_and_no_op_actions_are_stored_as_given(setup):
    register_run_queue(setup, boto3.client("sqs", region_name="us-east-1"), "gpu")
    job = {
        "type": "QUEUE_JOB",
        "queue": "gpu",
        "job": "evaluate-model",
        "overrides": {"epochs": 3},
        "destination_project": "training",
    }
    created = setup.member.post(f"{setup.base}/automations", alias_automation(action=job))
    assert created.status == 201
    assert created.json["action"] == {**job, "version": "latest"}
    no_op = setup.member.post(
        f"{setup.base}/automations", alias_automation(name="noop", action={"type": "NO_OP"})
    )
    stored = setup.viewer.get(f"{setup.base}/automations/{no_op.json['id']}").json
    assert stored["action"] == {"type": "NO_OP"} and stored["action_status"]["state"] == "READY"


def test_name_is_unique_within_scope_only(setup):
    assert setup.member.post(f"{setup.base}/automations", alias_automation()).status == 201
    duplicate = setup.member.post(f"{setup.base}/automations", alias_automation(name="Deploy On Production"))
    assert duplicate.status == 409 and duplicate.error["field"] == "name"
    elsewhere = alias_automation(scope={"type": "PROJECT", "project": "wandb-registry-model"})
    assert setup.member.post(f"{setup.base}/automations", elsewhere).status == 201


def test_list_filters_and_paginates(setup):
    for i in range(7):
        scope = {"type": "PROJECT", "project": "training" if i % 2 else "wandb-registry-model"}
        setup.member.post(
            f"{setup.base}/automations", alias_automation(name=f"a{i}", scope=scope, enabled=i != 3)
        )
    seen, token = [], None
    while True:
        query = "limit=3" + (f"&next_token={token}" if token else "")
        page = setup.viewer.get(f"{setup.base}/automations", query=query).json
        assert len(page["items"]) <= 3
        seen += [a["name"] for a in page["items"]]
        token = page["next_token"]
        if not token:
            break
    assert sorted(seen) == [f"a{i}" for i in range(7)]
    training = setup.viewer.get(f"{setup.base}/automations", query="project=training").json["items"]
    assert sorted(a["name"] for a in training) == ["a1", "a3", "a5"]
    disabled = setup.viewer.get(f"{setup.base}/automations", query="enabled=false").json["items"]
    assert [a["name"] for a in disabled] == ["a3"]
    assert setup.viewer.get(f"{setup.base}/automations", query="scope=ENTITY").json["items"] == []


def test_forged_page_token_is_400(setup, other_team):
    import base64
    import json

    forged = base64.urlsafe_b64encode(json.dumps({"PK": "E#globex", "SK": "AUTOMATION#x"}).encode()).decode()
    reply = setup.viewer.get(f"{setup.base}/automations", query=f"next_token={forged}")
    assert reply.status == 400 and reply.error["field"] == "next_token"
    assert setup.viewer.get(f"{setup.base}/automations", query="next_token=%%%").status == 400


def test_partial_update_bumps_version_and_keeps_other_fields(setup):
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    url = f"{setup.base}/automations/{created['id']}"
    reply = setup.member.patch(url, {"description": "ship it"}, headers={"If-Match": '"1"'})
    assert reply.status == 200 and reply.json["version"] == 2 and reply.headers["ETag"] == '"2"'
    assert reply.json["description"] == "ship it" and reply.json["action"] == created["action"]


def test_stale_if_match_is_412_and_changes_nothing(setup):
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    url = f"{setup.base}/automations/{created['id']}"
    setup.member.patch(url, {"description": "first"}, headers={"If-Match": '"1"'})
    stale = setup.member.patch(url, {"description": "second"}, headers={"If-Match": '"1"'})
    assert stale.status == 412 and stale.error["code"] == "precondition_failed"
    assert setup.member.patch(url, {"description": "x", "version": 1}).status == 412
    assert setup.viewer.get(url).json["description"] == "first"


def test_update_is_validated_like_create(setup):
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    url = f"{setup.base}/automations/{created['id']}"
    bad = setup.member.patch(
        url, {"event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "("}}}}
    )
    assert bad.status == 422
    assert setup.viewer.get(url).json["version"] == 1


def test_rename_frees_old_name(setup):
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    setup.member.patch(f"{setup.base}/automations/{created['id']}", {"name": "renamed"})
    assert setup.member.post(f"{setup.base}/automations", alias_automation()).status == 201


def test_enable_disable(setup):
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    url = f"{setup.base}/automations/{created['id']}"
    assert setup.member.post(f"{url}/disable").json["enabled"] is False
    assert setup.member.post(f"{url}/enable").json["enabled"] is True
    assert setup.viewer.post(f"{url}/disable").status == 403


def test_integration_in_use_cannot_be_deleted_until_automation_goes(setup):
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    reply = setup.admin.delete(f"{setup.base}/webhooks/github")
    assert reply.status == 409 and "deploy on production" in reply.error["message"]
    assert setup.member.delete(f"{setup.base}/automations/{created['id']}").status == 204
    assert setup.admin.delete(f"{setup.base}/webhooks/github").status == 204


def test_switching_action_moves_the_reference(setup):
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    slack = {"type": "NOTIFICATION", "slack": "alerts", "title": "New ${alias}"}
    assert setup.member.patch(f"{setup.base}/automations/{created['id']}", {"action": slack}).status == 200
    assert setup.admin.delete(f"{setup.base}/webhooks/github").status == 204
    assert setup.admin.delete(f"{setup.base}/slack/alerts").status == 409


def test_removing_access_token_used_by_automation_is_409(setup):
    setup.member.post(f"{setup.base}/automations", alias_automation())
    reply = setup.admin.patch(f"{setup.base}/webhooks/github", {"access_token_secret": None})
    assert reply.status == 409


def test_viewer_cannot_write_and_other_entity_sees_nothing(setup, other_team):
    assert setup.viewer.post(f"{setup.base}/automations", alias_automation()).status == 403
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    url = f"{setup.base}/automations/{created['id']}"
    assert other_team.admin.get(url).status == 404
    assert other_team.admin.delete(url).status == 404
    assert other_team.admin.get(f"{other_team.base}/automations/{created['id']}").status == 404


@pytest.mark.parametrize("field", ["name", "enabled", "scope", "event", "action"])
def test_null_in_partial_update_is_400_not_a_silent_change(setup, field):
    created = setup.member.post(f"{setup.base}/automations", alias_automation()).json
    reply = setup.member.patch(f"{setup.base}/automations/{created['id']}", {field: None})
    assert reply.status == 400 and reply.error["code"] == "validation_error"
    assert setup.viewer.get(f"{setup.base}/automations/{created['id']}").json["version"] == 1


def test_lists_filter_by_exact_name_and_an_automation_is_fetched_by_name(setup):
    base = f"{setup.base}/automations"
    first = setup.member.post(base, alias_automation()).json
    setup.member.post(base, alias_automation(name="deploy on production, again"))
    setup.member.post(base, alias_automation(name='Deploy "quoted" / ünïcode'))
    named = setup.viewer.get(base, query="name=deploy%20on%20production").json["items"]
    assert [a["id"] for a in named] == [first["id"]]  # exact: not the longer name that contains it
    quoted = setup.viewer.get(base, query=urlencode({"name": 'Deploy "quoted" / ünïcode'})).json["items"]
    assert [a["name"] for a in quoted] == ['Deploy "quoted" / ünïcode']
    assert setup.viewer.get(base, query="name=nobody").json["items"] == []
    by_name = setup.viewer.get(f"{base}/deploy%20on%20production")
    assert by_name.status == 200 and by_name.json["id"] == first["id"]
    assert setup.viewer.get(f"{base}/nobody").status == 404


def test_every_route_under_an_automation_takes_its_name_as_well_as_its_id(setup):
    """A person (and the command line) uses names: `GET` was not the only route that must read one."""
    base = f"{setup.base}/automations"
    created = setup.member.post(base, alias_automation(name='Deploy "x" / ünïcode')).json
    path = f"{base}/{quote('Deploy "x" / ünïcode', safe='')}"
    assert setup.member.post(f"{path}/disable").json["enabled"] is False
    assert setup.member.post(f"{path}/enable").json["enabled"] is True
    assert (
        setup.member.patch(path, {"description": "renamed by name"}).json["description"] == "renamed by name"
    )
    assert setup.viewer.get(f"{path}/executions").status == 200
    assert setup.viewer.post(f"{path}/dry-run", {}).status == 200
    assert setup.member.delete(path).status == 204
    assert setup.viewer.get(f"{base}/{created['id']}").status == 404


def test_a_name_shaped_like_an_id_is_refused_as_it_would_find_another_automation(setup):
    base = f"{setup.base}/automations"
    first = setup.member.post(base, alias_automation()).json
    reply = setup.member.post(base, alias_automation(name=first["id"]))
    assert (
        reply.status == 400 and reply.error["field"] == "name" and "automation id" in reply.error["message"]
    )
    renamed = setup.member.patch(f"{base}/{first['id']}", {"name": "au_0123abcd"})
    assert renamed.status == 400 and renamed.error["field"] == "name"
    assert setup.member.post(base, alias_automation(name="au revoir")).status == 201


def test_the_history_of_an_automation_by_name_and_of_a_deleted_one_by_its_id(setup):
    base = f"{setup.base}/automations"
    first = setup.member.post(base, alias_automation()).json
    by_name = setup.viewer.get(f"{base}/{quote(first['name'], safe='')}/executions")
    assert by_name.status == 200 and by_name.json["items"] == []
    assert setup.viewer.get(f"{base}/nobody/executions").status == 404
    assert setup.member.delete(f"{base}/{first['id']}").status == 204
    assert setup.viewer.get(f"{base}/{first['id']}/executions").status == 200


def test_a_name_used_in_two_scopes_is_not_guessed(setup):
    base = f"{setup.base}/automations"
    first = setup.member.post(base, alias_automation()).json
    elsewhere = alias_automation(scope={"type": "PROJECT", "project": "wandb-registry-model"})
    second = setup.member.post(base, elsewhere)
    assert second.status == 201
    reply = setup.viewer.get(f"{base}/deploy%20on%20production")
    assert reply.status == 409 and "use the id" in reply.error["message"]
    assert first["id"] in reply.error["message"] and second.json["id"] in reply.error["message"]


@pytest.mark.parametrize(
    "path",
    ["/automations?nmae=deploy", "/automations?collection=resnet", "/executions?colection=x", "/members?x=1"],
)
def test_an_unknown_query_parameter_is_refused_not_ignored(setup, path):
    route, query = path.split("?")
    reply = setup.viewer.get(setup.base + route, query=query)
    assert reply.status == 400 and reply.error["code"] == "bad_request"
    assert reply.error["field"] == path.split("?")[1].split("=")[0]
    assert "this route takes" in reply.error["message"]
