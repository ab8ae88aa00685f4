"""W&B's wire form over REST: automations built with the real `wandb.automations` classes (the pinned
`wandb` package), their event filter and action sent exactly as the SDK's `create_automation` would
send them (`prepare_to_create`), accepted as-is and behaving as W&B documents.

Only the envelope is mapped here: W&B names a scope and an integration by GraphQL id, mlhooks' REST
body by name. Everything inside the event and the action is W&B's own JSON."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pipelines import Pipeline, use_slack
from samples import load_event
from wandb.automations import (
    ArtifactEvent,
    DoNothing,
    OnAddArtifactAlias,
    OnAddArtifactTag,
    OnAddCollectionTag,
    OnCreateArtifact,
    OnLinkArtifact,
    OnRemoveArtifactTag,
    OnRemoveCollectionTag,
    OnRunMetric,
    OnRunState,
    OnUnlinkArtifact,
    ProjectScope,
    RunEvent,
    SendNotification,
    SendWebhook,
    SlackIntegration,
    WebhookIntegration,
)
from wandb.automations._inputs import prepare_to_create
from wandb.automations._run_state_filters import ReportedRunState
from wandb.automations.scopes import _ArtifactSequenceScope

# What a W&B user gets from api.project(...), api.artifact_collection(...) and api.integrations(...).
REGISTRY = ProjectScope.model_validate(
    {"__typename": "Project", "id": "UHJvamVjdDox", "name": "wandb-registry-model"}
)
TRAINING = ProjectScope.model_validate({"__typename": "Project", "id": "UHJvamVjdDoy", "name": "training"})
RESNET = _ArtifactSequenceScope.model_validate(
    {"__typename": "ArtifactSequence", "id": "QXJ0OjE=", "name": "resnet50"}
)
HOOK = WebhookIntegration.model_validate(
    {
        "__typename": "GenericWebhookIntegration",
        "id": "SW50OjE=",
        "name": "github",
        "urlEndpoint": "https://x",
    }
)
SLACK = SlackIntegration.model_validate(
    {"__typename": "SlackIntegration", "id": "SW50OjI=", "teamName": "ml", "channelName": "ml-alerts"}
)
SCOPES = {
    REGISTRY.id: {"type": "PROJECT", "project": "wandb-registry-model"},
    TRAINING.id: {"type": "PROJECT", "project": "training"},
    RESNET.id: {"type": "ARTIFACT_COLLECTION", "project": "wandb-registry-model", "collection": "resnet50"},
}
INTEGRATIONS = {HOOK.id: "github", SLACK.id: "alerts"}
PAYLOAD = {"version": "${artifact_version}", "string": "${artifact_version_string}", "run": "${run_name}"}


def rest_body(automation: Any, name: str) -> dict[str, Any]:
    """The SDK's create input, with the scope and integration ids resolved to mlhooks' names."""
    wire = prepare_to_create(automation, name=name).model_dump(mode="json", by_alias=True)
    [(_, config)] = wire["triggeredActionConfig"].items()
    action: dict[str, Any] = {"type": wire["triggeredActionType"], **config}
    integration = action.pop("integrationID", None)
    if wire["triggeredActionType"] == "GENERIC_WEBHOOK":
        action |= {"webhook": INTEGRATIONS[integration], "payload": action.pop("requestPayload")}
    elif wire["triggeredActionType"] == "NOTIFICATION":
        action["slack"] = INTEGRATIONS[integration]
    else:
        action.pop("noOp", None)
    return {
        "name": wire["name"],
        "enabled": wire["enabled"],
        "scope": SCOPES[wire["scopeID"]],
        "event": {"type": wire["triggeringEventType"], "filter": wire["eventFilter"]},
        "action": action,
    }


WEBHOOK = SendWebhook.from_integration(HOOK, payload=PAYLOAD)
ARTIFACT_EVENTS = {
    "create, no filter": OnCreateArtifact(scope=RESNET),
    "link, no filter": OnLinkArtifact(scope=REGISTRY),
    "link, alias regex (the SDK's docstring)": OnLinkArtifact(
        scope=REGISTRY, filter=ArtifactEvent.alias.matches_regex("^prod")
    ),
    "unlink": OnUnlinkArtifact(scope=REGISTRY),
    "alias regex": OnAddArtifactAlias(scope=REGISTRY, filter=ArtifactEvent.alias.matches_regex("^prod")),
    "alias equals, or": OnAddArtifactAlias(
        scope=RESNET, filter=(ArtifactEvent.alias == "production") | (ArtifactEvent.alias == "staging")
    ),
    "alias in": OnAddArtifactAlias(
        scope=REGISTRY, filter=ArtifactEvent.alias.in_(["production", "champion"])
    ),
    "artifact tag": OnAddArtifactTag(scope=REGISTRY, filter=ArtifactEvent.tag == "approved"),
    "artifact tag removed": OnRemoveArtifactTag(scope=REGISTRY),
    "collection tag": OnAddCollectionTag(scope=RESNET, filter=ArtifactEvent.tag.matches_regex("^release")),
    "collection tag removed": OnRemoveCollectionTag(scope=REGISTRY),
}
METRIC = RunEvent.metric("loss")
RUN_EVENTS = {
    "threshold, last value": OnRunMetric(scope=TRAINING, filter=METRIC > 2),
    "threshold, mean of 5": OnRunMetric(scope=TRAINING, filter=METRIC.mean(5) < 0.1),
    "threshold, max of 10, run name": OnRunMetric(
        scope=TRAINING, filter=(METRIC.max(10) >= 3) & RunEvent.name.contains("resnet")
    ),
    "threshold, min of 3": OnRunMetric(scope=TRAINING, filter=METRIC.min(3) <= 0.5),
    "change, absolute increase": OnRunMetric(scope=TRAINING, filter=METRIC.increases_by(diff=0.5)),
    "change, relative decrease of the mean": OnRunMetric(
        scope=TRAINING, filter=METRIC.avg(5).decreases_by(frac=0.1)
    ),
    "change, any": OnRunMetric(scope=TRAINING, filter=METRIC.changes_by(diff=1)),
    "z-score 30": OnRunMetric(scope=TRAINING, filter=METRIC.zscore(30) > 3),
    "z-score 500, either way": OnRunMetric(scope=TRAINING, filter=abs(METRIC.zscore(500)) > 2),
    "run state failed or crashed": OnRunState(
        scope=TRAINING, filter=RunEvent.state.in_([ReportedRunState.FAILED, ReportedRunState.CRASHED])
    ),
    "run state finished, run name": OnRunState(
        scope=TRAINING, filter=(RunEvent.state == ReportedRunState.FINISHED) & (RunEvent.name == "exp-42")
    ),
}
ACTIONS = {
    "webhook": WEBHOOK,
    "notification with W&B's defaults": SendNotification.from_integration(SLACK),
    "notification": SendNotification.from_integration(
        SLACK, title="New ${alias}", text="by ${event_author}", level="WARN"
    ),
    "no-op": DoNothing(),
}


@pytest.fixture
def wandb_team(pipeline: Pipeline, slack, monkeypatch) -> Pipeline:
    use_slack(pipeline, slack, monkeypatch, "xoxb-wandb-wire")
    return pipeline


@pytest.mark.parametrize("name", [*ARTIFACT_EVENTS, *RUN_EVENTS])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_what_the_sdk_sends_is_accepted_as_is(wandb_team, name, action):
    event = ARTIFACT_EVENTS.get(name) or RUN_EVENTS[name]
    body = rest_body(event >> ACTIONS[action], name)
    reply = wandb_team.team.member.post(f"{wandb_team.base}/automations", body)
    assert reply.status == 201, reply.raw
    # Answered in the language's one documented form, whatever form was sent.
    assert reply.json["event"]["type"] == {
        "LINK_MODEL": "LINK_ARTIFACT",
        "RUN_METRIC": "RUN_METRIC_THRESHOLD",
    }.get(body["event"]["type"], body["event"]["type"])
    assert not isinstance(reply.json["event"].get("filter"), str)


def created(pipeline: Pipeline, automation: Any, name: str) -> dict[str, Any]:
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", rest_body(automation, name))
    assert reply.status == 201, reply.raw
    return reply.json


def test_no_filter_reads_as_no_filter_and_fires_for_every_event(pipeline, receiver):
    automation = created(pipeline, OnAddArtifactAlias(scope=REGISTRY) >> WEBHOOK, "any alias")
    assert automation["event"] == {"type": "ADD_ARTIFACT_ALIAS", "filter": None}
    pipeline.deliver(load_event("platform-alias-added.json"))
    assert len(receiver.requests) == 1


def test_run_conditions_read_in_the_languages_form(pipeline):
    mean = created(pipeline, OnRunMetric(scope=TRAINING, filter=METRIC.mean(5) < 0.1) >> DoNothing(), "mean")
    assert mean["event"] == {
        "type": "RUN_METRIC_THRESHOLD",
        "filter": None,
        "metric": {"name": "loss", "agg": "AVERAGE", "window": 5, "cmp": "$lt", "threshold": 0.1},
    }
    change = created(
        pipeline, OnRunMetric(scope=TRAINING, filter=METRIC.avg(5).decreases_by(frac=0.1)) >> DoNothing(), "c"
    )
    assert change["event"]["metric"] == {
        "name": "loss",
        "agg": "AVERAGE",
        "window": 5,
        "prior_window": 5,
        "change_type": "RELATIVE",
        "change_dir": "DECREASE",
        "threshold": 0.1,
    }
    zscore = created(
        pipeline, OnRunMetric(scope=TRAINING, filter=abs(METRIC.zscore(500)) > 2) >> DoNothing(), "z"
    )
    assert zscore["event"]["metric"] == {"name": "loss", "window": 500, "threshold": 2.0, "change_dir": "ANY"}
    named = created(
        pipeline,
        OnRunState(
            scope=TRAINING, filter=(RunEvent.state == ReportedRunState.FINISHED) & (RunEvent.name == "exp-42")
        )
        >> DoNothing(),
        "s",
    )
    assert named["event"] == {
        "type": "RUN_STATE",
        "filter": {"$and": [{"display_name": {"$eq": "exp-42"}}]},
        "states": ["FINISHED"],
    }


def linked(event_id: str, aliases: list[str]) -> dict[str, Any]:
    envelope = copy.deepcopy(load_event("platform-artifact-linked.json"))
    envelope["detail"]["event_id"] = event_id
    envelope["detail"]["artifact"]["aliases"] = aliases
    return envelope


def test_a_link_filtered_on_alias_fires_when_any_alias_given_at_link_time_matches(pipeline, receiver):
    event = OnLinkArtifact(scope=REGISTRY, filter=ArtifactEvent.alias.matches_regex("^prod"))
    created(pipeline, event >> WEBHOOK, "deploy")
    pipeline.deliver(linked("link-without", ["latest", "staging"]))
    assert receiver.requests == []
    pipeline.deliver(linked("link-with", ["latest", "production"]))
    assert len(receiver.requests) == 1


def run_state(state: str, event_id: str) -> dict[str, Any]:
    envelope = copy.deepcopy(load_event("platform-run-failed.json"))
    envelope["detail"]["event_id"] = event_id
    envelope["detail"]["run"]["state"] = state
    return envelope


def test_a_crashed_run_is_a_failed_run_as_in_wandb(pipeline, receiver):
    """`ReportedRunState.CRASHED = FAILED`: the SDK sends FAILED, and a crash fires it."""
    created(
        pipeline,
        OnRunState(scope=TRAINING, filter=RunEvent.state == ReportedRunState.CRASHED) >> WEBHOOK,
        "failed",
    )
    pipeline.deliver(run_state("CRASHED", "crash-1"))
    pipeline.deliver(run_state("FINISHED", "finish-1"))
    pipeline.deliver(run_state("FAILED", "fail-1"))
    assert [r.json["run"] for r in receiver.requests] == ["resnet50-lr3e-4", "resnet50-lr3e-4"]
    states = sorted(
        e["event"]["run"]["state"] for e in map(pipeline.execution, (s["id"] for s in pipeline.executions()))
    )
    assert states == ["CRASHED", "FAILED"]


def test_crashed_alone_still_watches_crashes_only(pipeline, receiver):
    pipeline.automation(
        name="crashes",
        scope={"type": "PROJECT", "project": "training"},
        event={"type": "RUN_STATE", "states": ["CRASHED"]},
    )
    pipeline.deliver(run_state("FAILED", "fail-2"))
    pipeline.deliver(run_state("CRASHED", "crash-2"))
    assert len(receiver.requests) == 1


def test_the_artifact_variables_take_wandbs_documented_forms(pipeline, receiver):
    created(pipeline, OnAddArtifactAlias(scope=REGISTRY) >> WEBHOOK, "variables")
    pipeline.deliver(load_event("platform-alias-added.json"))
    [request] = receiver.requests
    assert request.json == {
        "version": "wandb-artifact://_id/QXJ0aWZhY3Q6MTIzNDU2",
        "string": "dev/wandb-registry-model/resnet50:production",  # the alias the event is about
        "run": "",
    }
    receiver.requests.clear()
    created(pipeline, OnCreateArtifact(scope=RESNET) >> WEBHOOK, "created")
    pipeline.deliver(load_event("platform-artifact-version-created.json"))
    [request] = receiver.requests
    assert request.json["string"].endswith("/resnet50:v3")  # no alias: the version


def test_a_notification_with_wandbs_defaults_gets_a_title(wandb_team, slack):
    created(
        wandb_team, OnAddArtifactAlias(scope=REGISTRY) >> SendNotification.from_integration(SLACK), "defaults"
    )
    wandb_team.match(load_event("platform-alias-added.json"))
    wandb_team.drain("Slack")
    [message] = slack.slack_messages
    assert message["text"].endswith("defaults: ADD_ARTIFACT_ALIAS")


@pytest.mark.parametrize(
    ("event", "field", "said"),
    [
        ({"type": "ADD_ARTIFACT_ALIAS", "filter": "{not json"}, "event", "not JSON text"),
        (
            {
                "type": "RUN_STATE",
                "filter": json.dumps(
                    {"run_filter": "{}", "run_metric_filter": {"zscore_filter": {"name": "x"}}}
                ),
            },
            "event",
            "the condition of RUN_METRIC_ZSCORE events, not of RUN_STATE",
        ),
        (
            {"type": "RUN_METRIC", "filter": {"run_filter": "{}", "metric_filter": {"name": "loss"}}},
            "event",
            "retired form",
        ),
        (
            {
                "type": "RUN_METRIC_ZSCORE",
                "filter": {"run_metric_filter": {"zscore_filter": {"name": "l", "window_size": 1001}}},
            },
            "event.metric.window",
            "less than or equal to 1000",
        ),
    ],
)
def test_a_malformed_wandb_filter_is_a_clear_error(pipeline, event, field, said):
    body = {
        "name": "bad",
        "scope": {"type": "PROJECT", "project": "training"},
        "event": event,
        "action": {"type": "NO_OP"},
    }
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", body)
    assert reply.status == 400, reply.raw
    assert reply.error["field"].startswith(field) and said in reply.error["message"], reply.error


def test_an_automation_shows_when_it_last_executed(pipeline, receiver):
    automation = created(pipeline, OnAddArtifactAlias(scope=REGISTRY) >> WEBHOOK, "last execution")
    assert automation["last_executed_at"] is None
    pipeline.deliver(load_event("platform-alias-added.json"))
    [execution] = pipeline.executions()
    url = f"{pipeline.base}/automations/{automation['id']}"
    assert pipeline.team.viewer.get(url).json["last_executed_at"] == execution["created_at"]
    # An edit keeps it, and lists show it.
    edited = pipeline.team.member.patch(url, {"description": "edited"})
    assert edited.status == 200 and edited.json["last_executed_at"] == execution["created_at"]
    [listed] = pipeline.team.viewer.get(f"{pipeline.base}/automations").json["items"]
    assert listed["last_executed_at"] == execution["created_at"]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"alias":' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"alias": 1' + "0" * 5000 + "}",
    ],
    ids=["nested 100,000 deep", "a value nested 50,000 deep", "a number of 5,000 digits"],
)
def test_a_filter_in_json_text_that_cannot_be_read_is_refused_not_a_500(pipeline, text):
    body = {
        "name": "hostile",
        "scope": {"type": "ENTITY"},
        "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": text},
        "action": {"type": "NO_OP"},
    }
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", body)
    assert reply.status in (400, 422), reply.raw
    assert reply.error["field"].startswith("event") and "JSON" in reply.error["message"]
