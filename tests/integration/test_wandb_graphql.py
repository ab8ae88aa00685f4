"""W&B's GraphQL API, driven by the unmodified `wandb` SDK (the pinned package, its `wandb-core`
sidecar and all): `wandb.Api(api_key=KEY, overrides={"base_url": URL})` against the API served over
real HTTP on 127.0.0.1, with moto behind it. Automations made this way are read back by the SDK as
it sent them and fire as if made through REST."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
import requests
import wandb
from pipelines import Pipeline, register_run_queue, use_slack
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
    RunEvent,
    SendNotification,
    SendWebhook,
)
from wandb.automations._inputs import prepare_to_create, prepare_to_update
from wandb.automations._run_state_filters import ReportedRunState
from wandb.errors import CommError
from wandb.sdk.lib.service.service_connection import WandbApiFailedError

from mlhooks.local.apigw import LocalApiGateway, http_handler

PAYLOAD = {"version": "${artifact_version_string}", "by": "${event_author}"}


@pytest.fixture
def served(pipeline: Pipeline, slack, template, monkeypatch, tmp_path) -> Iterator[str]:
    """The API of this test's stack over HTTP, as `make dev` serves it; its URL."""
    use_slack(pipeline, slack, monkeypatch, "xoxb-graphql")
    for variable in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(variable, str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), http_handler(LocalApiGateway(pipeline.fns, template)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def sdk(url: str, key: str) -> wandb.Api:
    return wandb.Api(api_key=key, overrides={"base_url": url})


@pytest.fixture
def api(served: str, pipeline: Pipeline) -> wandb.Api:
    return sdk(served, pipeline.team.keys["MEMBER"])


# ---- the script from the issue, unchanged -------------------------------------------------------------


def test_a_wandb_users_script_runs_unchanged_and_its_automation_fires(api, pipeline, receiver):
    hook = next(h for h in api.webhook_integrations(entity="dev") if h.name == "github")
    project = api.project("wandb-registry-model", entity="dev")
    event = OnAddArtifactAlias(scope=project, filter=ArtifactEvent.alias.matches_regex("^prod"))
    auto = api.create_automation(event >> SendWebhook.from_integration(hook, payload=PAYLOAD), name="deploy")
    assert [a.name for a in api.automations(entity="dev")] == ["deploy"]
    assert api.automation("deploy", entity="dev").id == auto.id

    pipeline.deliver(load_event("platform-alias-added.json"))
    [request] = receiver.requests
    assert request.json == {"version": "dev/wandb-registry-model/resnet50:production", "by": "alice"}

    disabled = api.update_automation(auto, enabled=False)
    assert disabled.enabled is False
    pipeline.deliver(another(load_event("platform-alias-added.json")))
    assert len(receiver.requests) == 1

    api.delete_automation(auto)
    assert list(api.automations(entity="dev")) == []
    assert pipeline.team.viewer.get(f"{pipeline.base}/automations").json["items"] == []


def another(envelope: dict[str, Any]) -> dict[str, Any]:
    """The same event again, as a new event (not a redelivery of the first)."""
    envelope["detail"]["event_id"] += "-again"
    return envelope


# ---- every event type, scope and action --------------------------------------------------------------


def scopes(api: wandb.Api) -> dict[str, Any]:
    return {
        "registry": api.project("wandb-registry-model", entity="dev"),
        "collection": api.artifact_collection("model", "dev/wandb-registry-model/resnet50"),
        "project": api.project("training", entity="dev"),
        "team": api.team("dev"),
    }


LOSS = RunEvent.metric("loss")
# (the event, built from the scopes; the sample event it must fire on)
EVENTS = {
    "create artifact, collection": (
        lambda s: OnCreateArtifact(scope=s["collection"]),
        "artifact-version-created",
    ),
    "link, registry": (lambda s: OnLinkArtifact(scope=s["registry"]), "artifact-linked"),
    "link, alias regex, team": (
        lambda s: OnLinkArtifact(scope=s["team"], filter=ArtifactEvent.alias.matches_regex("^prod")),
        "artifact-linked",  # linked with the aliases latest and production
    ),
    "unlink, collection": (lambda s: OnUnlinkArtifact(scope=s["collection"]), "artifact-unlinked"),
    "alias, registry": (
        lambda s: OnAddArtifactAlias(scope=s["registry"], filter=ArtifactEvent.alias.matches_regex("^prod")),
        "alias-added",
    ),
    "alias in, collection": (
        lambda s: OnAddArtifactAlias(scope=s["collection"], filter=ArtifactEvent.alias.in_(["staging"])),
        None,
    ),
    "artifact tag, team": (
        lambda s: OnAddArtifactTag(scope=s["team"], filter=ArtifactEvent.tag == "candidate"),
        "artifact-tag-added",
    ),
    "artifact tag removed, registry": (
        lambda s: OnRemoveArtifactTag(scope=s["registry"]),
        "artifact-tag-removed",
    ),
    "collection tag, collection": (
        lambda s: OnAddCollectionTag(scope=s["collection"]),
        "collection-tag-added",
    ),
    "collection tag removed, team": (
        lambda s: OnRemoveCollectionTag(scope=s["team"]),
        "collection-tag-removed",
    ),
    "run failed, project": (
        lambda s: OnRunState(scope=s["project"], filter=RunEvent.state == ReportedRunState.FAILED),
        "run-failed",
    ),
    "run finished, team": (
        lambda s: OnRunState(scope=s["team"], filter=RunEvent.state == ReportedRunState.FINISHED),
        None,
    ),
    "metric threshold, project": (
        lambda s: OnRunMetric(scope=s["project"], filter=LOSS > 0.4),
        "run-metrics",
    ),
    "metric threshold, run name, team": (
        lambda s: OnRunMetric(scope=s["team"], filter=(LOSS < 0.5) & RunEvent.name.contains("resnet")),
        "run-metrics",
    ),
    "metric change, project": (
        lambda s: OnRunMetric(scope=s["project"], filter=LOSS.avg(5).decreases_by(frac=0.1)),
        None,  # one value is no change
    ),
    "metric z-score 500, team": (
        lambda s: OnRunMetric(scope=s["team"], filter=abs(LOSS.zscore(500)) > 2),
        None,
    ),
}


def action(api: wandb.Api, kind: str) -> Any:
    if kind == "webhook":
        hook = next(h for h in api.webhook_integrations(entity="dev") if h.name == "github")
        return SendWebhook.from_integration(hook, payload=PAYLOAD)
    if kind == "webhook, no payload":
        return SendWebhook.from_integration(next(iter(api.webhook_integrations(entity="dev"))))
    if kind == "slack":
        slack = next(s for s in api.slack_integrations(entity="dev") if s.team_name == "alerts")
        return SendNotification.from_integration(
            slack, title="New ${alias}", text="by ${event_author}", level="WARN"
        )
    return DoNothing()


def sent(automation: Any) -> dict[str, Any]:
    """What the SDK sends for an automation, as its create input (the name and scope aside)."""
    wire = prepare_to_create(automation, name="x").model_dump(mode="json", by_alias=True)
    return {k: v for k, v in wire.items() if k not in ("name", "scopeID", "enabled", "description")}


def read_back(saved: Any) -> dict[str, Any]:
    wire = prepare_to_update(saved).model_dump(mode="json", by_alias=True)
    return {k: v for k, v in wire.items() if k not in ("id", "name", "scopeID", "enabled", "description")}


def parsed(wire: dict[str, Any]) -> dict[str, Any]:
    """JSON text inside the input parsed, so that `2` and `2.0` compare as the same number."""
    event_filter = json.loads(wire["eventFilter"])
    if isinstance(event_filter.get("run_filter"), str):
        event_filter["run_filter"] = json.loads(event_filter["run_filter"])
    return {**wire, "eventFilter": event_filter}


@pytest.mark.parametrize("kind", ["webhook", "webhook, no payload", "slack", "no-op"])
@pytest.mark.parametrize("name", list(EVENTS))
def test_every_event_and_action_round_trips_through_the_sdk(api, name, kind):
    event = EVENTS[name][0](scopes(api))
    automation = event >> action(api, kind)
    created = api.create_automation(automation, name=name, description="made with wandb")
    found = api.automation(name, entity="dev")
    assert found.id == created.id and found.description == "made with wandb"
    assert found.scope.id == event.scope.id
    if kind == "webhook, no payload":  # the SDK sends no payload; mlhooks sends its default one
        assert json.loads(
            read_back(found)["triggeredActionConfig"]["genericWebhookActionInput"]["requestPayload"]
        )
        return
    assert parsed(read_back(found)) == parsed(sent(automation))


@pytest.mark.parametrize("name", list(EVENTS))
def test_automations_made_with_the_sdk_fire_as_rest_ones_do(api, pipeline, receiver, name):
    build, sample = EVENTS[name]
    api.create_automation(build(scopes(api)) >> action(api, "webhook"), name=name)
    for other in {s for _, s in EVENTS.values() if s}:
        pipeline.deliver(load_event(f"platform-{other}.json"))
    assert len(receiver.requests) == (1 if sample else 0)
    if sample:
        [execution] = pipeline.executions()
        assert execution["automation_name"] == name and execution["state"] == "FINISHED"


def test_a_slack_notification_made_with_the_sdk_posts_to_slack(api, pipeline, slack):
    registry = api.project("wandb-registry-model", entity="dev")
    api.create_automation(OnAddArtifactAlias(scope=registry) >> action(api, "slack"), name="tell the team")
    pipeline.match(load_event("platform-alias-added.json"))
    pipeline.drain("Slack")
    [message] = slack.slack_messages
    assert message["channel"] == "C0123ABCD" and "New production" in json.dumps(message)


def test_the_sdks_older_project_by_project_listing_works_too(api):
    """Without an entity the SDK walks the viewer's projects (W&B's older API), as
    `create_automation(fetch_existing=True)` does for a taken name."""
    registry = api.project("wandb-registry-model", entity="dev")
    first = api.create_automation(OnAddArtifactAlias(scope=registry) >> DoNothing(), name="deploy")
    collection = api.artifact_collection("model", "dev/wandb-registry-model/resnet50")
    api.create_automation(OnCreateArtifact(scope=collection) >> DoNothing(), name="new version")
    api.create_automation(OnLinkArtifact(scope=api.team("dev")) >> DoNothing(), name="entity-wide")
    # Entity-wide automations are on no project: W&B's older listing leaves them out, as here.
    assert sorted(a.name for a in api.automations()) == ["deploy", "new version"]
    again = api.create_automation(
        OnLinkArtifact(scope=registry) >> DoNothing(), name="deploy", fetch_existing=True
    )
    assert again.id == first.id


# ---- what W&B users meet when something is wrong ------------------------------------------------------


def test_a_taken_name_is_what_the_sdk_calls_exists(api):
    registry = api.project("wandb-registry-model", entity="dev")
    api.create_automation(OnAddArtifactAlias(scope=registry) >> DoNothing(), name="deploy")
    with pytest.raises(CommError, match="exists"):
        api.create_automation(OnLinkArtifact(scope=registry) >> DoNothing(), name="deploy")


def test_updating_a_deleted_automation_is_what_the_sdk_calls_not_found(api):
    registry = api.project("wandb-registry-model", entity="dev")
    auto = api.create_automation(OnAddArtifactAlias(scope=registry) >> DoNothing(), name="deploy")
    api.delete_automation(auto)
    with pytest.raises(CommError, match="not found"):
        api.update_automation(auto, enabled=False)


def test_a_viewer_reads_but_cannot_create(served, pipeline, api):
    registry = api.project("wandb-registry-model", entity="dev")
    api.create_automation(OnAddArtifactAlias(scope=registry) >> DoNothing(), name="deploy")
    viewer = sdk(served, pipeline.team.keys["VIEWER"])
    assert [a.name for a in viewer.automations(entity="dev")] == ["deploy"]
    with pytest.raises(CommError, match="MEMBER role"):
        viewer.create_automation(OnLinkArtifact(scope=registry) >> DoNothing(), name="mine")


def test_a_bad_filter_is_refused_with_what_is_wrong(api):
    registry = api.project("wandb-registry-model", entity="dev")
    bad = OnAddArtifactAlias(scope=registry, filter=ArtifactEvent.alias.matches_regex("(a+)+\\1"))
    with pytest.raises(CommError, match="does not compile under RE2"):
        api.create_automation(bad >> DoNothing(), name="backreference")
    assert list(api.automations(entity="dev")) == []


def test_another_entitys_objects_do_not_exist_for_the_sdk(served, pipeline, api, gateway):
    from apiclient import make_team

    other = make_team(gateway, "globex")
    other.admin.post(f"{other.base}/projects", {"name": "secret-project"})
    theirs = sdk(served, other.keys["ADMIN"]).project("secret-project", entity="globex")
    # Their ids, sent with this entity's key, name nothing here.
    with pytest.raises(CommError, match="No Project with this id"):
        api.create_automation(OnLinkArtifact(scope=theirs) >> DoNothing(), name="sneaky")
    with pytest.raises(WandbApiFailedError, match="No entity globex"):
        list(api.automations(entity="globex"))
    with pytest.raises(ValueError, match="secret-project not found"):
        _ = api.project("secret-project", entity="globex").id  # the look-up happens on first use
    assert pipeline.team.viewer.get(f"{pipeline.base}/automations").json["items"] == []


def test_what_mlhooks_does_not_serve_is_refused_by_name(served, pipeline, api):
    with pytest.raises(RuntimeError, match="Registry search"):
        api.registries()  # a feature mlhooks says it lacks
    key = pipeline.team.keys["MEMBER"]
    reply = graphql(served, key, "query Sweeps { viewer { sweeps { id } } }")
    assert reply.status_code == 200
    [error] = reply.json()["errors"]
    assert "does not serve Sweeps" in error["message"] and "sweeps" in error["message"]


def test_an_automation_w_and_b_cannot_express_is_left_out_of_its_lists(api, pipeline):
    from test_run_queues import job_draft  # a QUEUE_JOB automation, which the SDK cannot read

    register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    assert (
        pipeline.team.member.post(f"{pipeline.base}/automations", job_draft({"queue": "gpu"})).status == 201
    )
    registry = api.project("wandb-registry-model", entity="dev")
    api.create_automation(OnAddArtifactAlias(scope=registry) >> DoNothing(), name="deploy")
    assert [a.name for a in api.automations(entity="dev")] == ["deploy"]


# ---- the endpoint itself ------------------------------------------------------------------------------


def graphql(url: str, key: str, query: Any, variables: Any = None, **extra: Any) -> requests.Response:
    token = base64.b64encode(f"api:{key}".encode()).decode()
    body = {"query": query, **({"variables": variables} if variables is not None else {}), **extra}
    return requests.post(f"{url}/graphql", json=body, headers={"Authorization": f"Basic {token}"}, timeout=30)


@pytest.mark.parametrize(
    "body",
    [
        {"query": 1},
        {"query": "{ viewer { id "},
        {"query": "query($x: String!) { entity(name: $x) { id } }", "variables": {"x": 5}},
        {"query": "{ viewer { id } }", "variables": []},
        {"query": "{" + "viewer { teams { edges { node { " * 400 + "}"},
        {"query": 'mutation { deleteTrigger(input: {triggerID: "bm90IGFuIGlk"}) { success } }'},
        {"query": 'mutation { deleteTrigger(input: {triggerID: "VHJpZ2dlcjpbMV0="}) { success } }'},
        {
            "query": '{ entity(name: "dev") { triggers(filters: "{\\"owner\\": 1}") { edges { node { id } } } } }'  # noqa: E501
        },
        {"query": '{ entity(name: "dev") { integrations(after: "-1") { edges { node { id } } } } }'},
        {
            "query": 'query($f: JSONString) { entity(name: "dev") { triggers(filters: $f) { edges { node { id } } } } }',  # noqa: E501
            "variables": {"f": {"name": "deploy"}},
        },
        {"query": '{ entity(name: "dev") { triggers(first: 99999999999) { edges { node { id } } } } }'},
        {
            "query": 'query($n: Int) { entity(name: "dev") { triggers(first: $n) { edges { node { id } } } } }',  # noqa: E501
            "variables": {"n": "100"},
        },
    ],
    ids=[
        "query not text",
        "syntax error",
        "variable of the wrong type",
        "variables not an object",
        "nested past the token bound",
        "an id that is not one",
        "an id of the wrong shape",
        "a filter mlhooks has not",
        "a cursor it never gave",
        "JSON where JSON text belongs",
        "a number GraphQL's Int cannot hold",
        "a page size of the wrong type",
    ],
)
def test_bad_documents_get_a_clear_error_and_never_a_500(served, pipeline, body):
    token = base64.b64encode(f"api:{pipeline.team.keys['MEMBER']}".encode()).decode()
    reply = requests.post(
        f"{served}/graphql", json=body, headers={"Authorization": f"Basic {token}"}, timeout=30
    )
    assert reply.status_code in (200, 400), reply.text
    errors = reply.json()["errors"]
    assert errors and all(e["message"] and e["extensions"]["code"] != "internal_error" for e in errors)


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Basic",
        "Basic bm9wZQ==",
        "Basic " + base64.b64encode(b"api:mlh_000000000000_" + b"a" * 43).decode(),
    ],
    ids=["none", "no credentials", "no key", "unknown key"],
)
def test_graphql_needs_a_valid_key(served, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    reply = requests.post(
        f"{served}/graphql", json={"query": "{ viewer { id } }"}, headers=headers, timeout=30
    )
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "unauthorized"


def test_a_wrong_key_fails_where_wandb_checks_it(served):
    with pytest.raises(Exception, match=r"(?i)api key|auth|401"):
        sdk(served, "mlh_000000000000_" + "a" * 43)


def forged(kind: str, *parts: str) -> str:
    return base64.b64encode(f"{kind}:{json.dumps(list(parts))}".encode()).decode()


CREATE = """mutation($input: CreateFilterTriggerInput!) {
  createFilterTrigger(input: $input) { trigger { id } }
}"""
DELETE = """mutation($id: ID!) { deleteTrigger(input: {triggerID: $id}) { success } }"""


def create_input(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "forged",
        "enabled": True,
        "scopeType": "PROJECT",
        "scopeID": forged("Project", "dev", "wandb-registry-model"),
        "triggeringEventType": "ADD_ARTIFACT_ALIAS",
        "eventFilter": '{"$or":[{"$and":[]}]}',
        "triggeredActionType": "NO_OP",
        "triggeredActionConfig": {"noOpActionInput": {"noOp": True}},
        **overrides,
    }


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (DELETE, {"id": forged("Trigger", "dev", "a", "b")}, "triggerID"),
        (DELETE, {"id": forged("Trigger", "dev")}, "triggerID"),
        (DELETE, {"id": forged("Trigger", "dev", "")}, "triggerID"),
        (CREATE, {"input": create_input(scopeID=forged("Project", "dev"))}, "scopeID"),
        (CREATE, {"input": create_input(scopeID=forged("Project", "dev", "training", "x"))}, "scopeID"),
        (
            CREATE,
            {
                "input": create_input(
                    scopeType="ARTIFACT_COLLECTION",
                    scopeID=forged("ArtifactCollection", "dev", "wandb-registry-model"),
                )
            },
            "scopeID",
        ),
        (
            CREATE,
            {"input": create_input(scopeID=forged("Entity", "dev", "zzz"), scopeType="ENTITY")},
            "scopeID",
        ),
        (
            CREATE,
            {
                "input": create_input(
                    triggeredActionType="GENERIC_WEBHOOK",
                    triggeredActionConfig={
                        "genericWebhookActionInput": {
                            "integrationID": forged("GenericWebhookIntegration", "dev", "github", "x")
                        }
                    },
                )
            },
            "triggeredActionConfig.genericWebhookActionInput.integrationID",
        ),
        (CREATE, {"input": create_input(eventFilter="[" * 100_000 + "]" * 100_000)}, "eventFilter"),
        (
            CREATE,
            {"input": create_input(eventFilter='{"alias":' + "[" * 50_000 + "]" * 50_000 + "}")},
            "eventFilter",
        ),
    ],
    ids=[
        "an automation id with a name too many",
        "an automation id with no name",
        "an automation id with an empty name",
        "a project id with no name",
        "a project id with a name too many",
        "a collection id with no collection",
        "an entity id with a name too many",
        "a webhook id with a name too many",
        "a filter nested 100,000 deep",
        "a filter value nested 50,000 deep",
    ],
)
def test_forged_ids_and_hostile_values_are_refused_by_field(served, pipeline, query, variables, field):
    reply = graphql(served, pipeline.team.keys["MEMBER"], query, variables)
    assert reply.status_code == 200, reply.text
    [error] = reply.json()["errors"]
    assert (
        error["extensions"]["code"] in ("invalid_input", "validation_error")
        and error["extensions"]["field"] == field
    )
    assert pipeline.team.viewer.get(f"{pipeline.base}/automations").json["items"] == []


def nested_fragments(depth: int) -> str:
    """A small document that asks for 2^depth lists: each fragment spreads the one below it twice."""
    fragments = ["fragment F0 on Entity { triggers { edges { node { id } } } }"]
    for level in range(1, depth + 1):
        twice = " ".join(
            f"{alias}: user {{ teams {{ edges {{ node {{ ...F{level - 1} }} }} }} }}" for alias in "ab"
        )
        fragments.append(f"fragment F{level} on Entity {{ {twice} }}")
    return f"query Q {{ entity {{ ...F{depth} }} }} " + " ".join(fragments)


def test_a_small_document_that_asks_for_too_much_is_refused_before_it_runs(served, pipeline):
    reply = graphql(served, pipeline.team.keys["VIEWER"], nested_fragments(12))
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert "at most 50,000" in error["message"] and error["extensions"]["field"] == "query"
    # A modest one is answered, each list read once however often it is spread.
    small = graphql(served, pipeline.team.keys["VIEWER"], nested_fragments(1))
    assert small.status_code == 200 and "errors" not in small.json()


def test_another_entitys_name_is_an_error_the_user_can_read(api):
    # The SDK raises its paginators' errors as they come, its other calls' as CommError.
    with pytest.raises(WandbApiFailedError, match="No entity acme for this API key"):
        list(api.webhook_integrations(entity="acme"))
    with pytest.raises(WandbApiFailedError, match="No entity acme"):
        api.team("acme")


def test_names_are_unique_in_the_entity_as_wandb_finds_them_there(api):
    registry = api.project("wandb-registry-model", entity="dev")
    api.create_automation(OnAddArtifactAlias(scope=api.team("dev")) >> DoNothing(), name="deploy")
    with pytest.raises(CommError, match="exists"):
        api.create_automation(OnAddArtifactAlias(scope=registry) >> DoNothing(), name="deploy")
    other = api.create_automation(OnLinkArtifact(scope=registry) >> DoNothing(), name="link")
    with pytest.raises(CommError, match="named deploy exists"):
        api.update_automation(other, name="deploy")
    assert sorted(a.name for a in api.automations(entity="dev")) == ["deploy", "link"]


def test_an_update_cannot_make_an_automation_the_sdk_could_not_read(served, pipeline, api):
    registry = api.project("wandb-registry-model", entity="dev")
    hook = next(iter(api.webhook_integrations(entity="dev")))
    auto = api.create_automation(
        OnAddArtifactAlias(scope=registry) >> SendWebhook.from_integration(hook), name="d"
    )
    update = """mutation($input: UpdateFilterTriggerInput!) {
      updateFilterTrigger(input: $input) { trigger { id } }
    }"""
    config = {"genericWebhookActionInput": {"integrationID": hook.id, "requestPayload": "[1, 2]"}}
    changes = {"id": auto.id, "triggeredActionType": "GENERIC_WEBHOOK", "triggeredActionConfig": config}
    reply = graphql(served, pipeline.team.keys["MEMBER"], update, {"input": changes})
    [error] = reply.json()["errors"]
    assert "JSON object" in error["message"]
    assert [a.name for a in api.automations(entity="dev")] == ["d"]
    # One W&B's form cannot say (a QUEUE_JOB) is not changed through it either.
    register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    job = {
        "name": "queue a job",
        "scope": {"type": "ENTITY"},
        "event": {"type": "ADD_ARTIFACT_ALIAS"},
        "action": {"type": "QUEUE_JOB", "queue": "gpu", "job": "evaluate-model"},
    }
    made = pipeline.team.member.post(f"{pipeline.base}/automations", job).json
    rename = {"id": forged("Trigger", "dev", made["id"]), "name": "renamed"}
    [error] = graphql(served, pipeline.team.keys["MEMBER"], update, {"input": rename}).json()["errors"]
    assert "change it over REST" in error["message"]
    assert pipeline.team.viewer.get(f"{pipeline.base}/automations/{made['id']}").json["name"] == "queue a job"


def test_an_answer_larger_than_its_bound_is_refused_whatever_the_estimate(served, pipeline, monkeypatch):
    """A project's automations are a list without pages: the estimate prices it at 10 items, so the
    execution itself counts what it answers."""
    from mlhooks.api.wandb import engine

    for i in range(30):
        body = {
            "name": f"a{i}",
            "scope": {"type": "PROJECT", "project": "training"},
            "event": {"type": "RUN_STATE", "states": ["FAILED"]},
            "action": {"type": "NO_OP"},
        }
        assert pipeline.team.member.post(f"{pipeline.base}/automations", body).status == 201
    nested = (
        '{ project(name: "training") { triggers { scope { ... on Project { triggers { id name } } } } } }'
    )
    monkeypatch.setattr(engine, "MAX_RESOLVED", 1_000)  # 30 x 30 x 2 fields and more
    reply = graphql(served, pipeline.team.keys["VIEWER"], nested)
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert "more than 1,000 fields" in error["message"]
    monkeypatch.setattr(engine, "MAX_RESOLVED", 10_000)
    answered = graphql(served, pipeline.team.keys["VIEWER"], nested).json()
    assert len(answered["data"]["project"]["triggers"]) == 30
