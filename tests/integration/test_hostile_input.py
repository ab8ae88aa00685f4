"""No input gets a 500, whoever sends it: any role of the entity, or another entity's key.

Bodies are screened before routing (Powertools parses them ahead of the routes' own entity and role
checks): too deep, or holding a number Python will not read, is a 400 on `body`; a path in another
entity is the 404 any foreign path gets, whatever the body.
"""

from __future__ import annotations

import json

import boto3
import pytest
from pipelines import alias_event

pytestmark = pytest.mark.suite("no 500")

ROLES = ["ADMIN", "MEMBER", "VIEWER"]
CALLERS = [*ROLES, "FOREIGN"]
# JSON nested 2,000 deep: Python's parser recurses once per level and runs out of stack.
TOO_DEEP = b'{"name": ' + b"[" * 2000 + b"]" * 2000 + b"}"
# An integer of 4,301 digits: Python refuses to convert it (its int-digits limit) with a ValueError.
TOO_LONG_NUMBER = b'{"name": ' + b"7" * 4301 + b"}"
AUTOMATION = {
    "name": "hostile input",
    "scope": {"type": "ENTITY"},
    "event": {"type": "CREATE_ARTIFACT"},
    "action": {"type": "NO_OP"},
}
# Routes of every kind that take a body: (method, path under /v1/entities/<entity>, headers).
ROUTES = [
    ("POST", "/projects", {}),
    ("POST", "/automations", {}),
    ("PATCH", "/automations/{automation_id}", {"If-Match": '"1"'}),
    ("POST", "/automations/dry-run", {}),
    ("POST", "/automations/{automation_id}/dry-run", {}),
    ("PUT", "/secrets/SOME_SECRET", {}),
    ("PATCH", "/members/bob", {}),
    ("POST", "/webhooks/none/test", {}),
]


@pytest.fixture
def automation_id(team):
    reply = team.admin.post(f"{team.base}/automations", AUTOMATION)
    assert reply.status == 201, reply.raw
    return reply.json["id"]


@pytest.fixture
def as_caller(team, other_team):
    def api(caller: str):
        return other_team.admin if caller == "FOREIGN" else getattr(team, caller.lower())

    return api


def assert_error_shape(reply, status, code):
    assert reply.status == status, reply.raw
    assert reply.headers.get("Content-Type", "").startswith("application/json")
    assert set(reply.error) == {"code", "message", "field", "details"}
    assert reply.error["code"] == code and reply.error["message"], reply.raw


def foreign_answer(other_team, team):
    """What another entity's key gets for a path in this entity when it sends no body at all."""
    return other_team.admin.get(f"{team.base}/projects")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "route", "headers"), ROUTES, ids=[f"{m} {r}" for m, r, _ in ROUTES])
@pytest.mark.parametrize("body", [TOO_DEEP, TOO_LONG_NUMBER], ids=["2000-deep", "4301-digits"])
def test_hostile_body_is_400_on_body_for_members_and_404_for_foreign_keys(
    team, other_team, as_caller, automation_id, caller, method, route, headers, body
):
    path = team.base + route.format(automation_id=automation_id)
    reply = as_caller(caller).call(method, path, raw=body, headers=headers)
    if caller == "FOREIGN":
        assert_error_shape(reply, 404, "not_found")
        assert reply.json == foreign_answer(other_team, team).json
    else:
        assert_error_shape(reply, 400, "validation_error")
        assert reply.error["field"] == "body"


@pytest.mark.parametrize("caller", CALLERS)
def test_hostile_body_to_publish_is_400_for_any_key(as_caller, caller):
    """POST /v1/events names no entity in its path: every key publishes to its own."""
    for body in (TOO_DEEP, TOO_LONG_NUMBER):
        reply = as_caller(caller).post("/v1/events", raw=body)
        assert_error_shape(reply, 400, "validation_error")
        assert reply.error["field"] == "body"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("if_match", ["1" * 5000, "²", '"' + "9" * 19 + '"', "W/" + "3" * 4400])
def test_if_match_that_is_no_version_is_412_never_a_500(
    team, other_team, as_caller, automation_id, caller, if_match
):
    path = f"{team.base}/automations/{automation_id}"
    reply = as_caller(caller).patch(path, {"description": "x"}, headers={"If-Match": if_match})
    expected = {
        "ADMIN": (412, "precondition_failed"),
        "MEMBER": (412, "precondition_failed"),
        "VIEWER": (403, "forbidden"),
        "FOREIGN": (404, "not_found"),
    }[caller]
    assert_error_shape(reply, *expected)
    if caller in ("ADMIN", "MEMBER"):
        assert reply.error["field"] == "If-Match"


def test_if_match_with_the_current_version_still_updates(team, automation_id):
    current = team.admin.get(f"{team.base}/automations/{automation_id}")
    reply = team.member.patch(
        f"{team.base}/automations/{automation_id}",
        {"description": "still works"},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert reply.status == 200, reply.raw
    assert reply.json["description"] == "still works"


@pytest.mark.parametrize("caller", ROLES)
def test_foreign_key_gets_the_same_404_whatever_the_body(team, other_team, caller):
    """Another entity's paths do not exist for the caller: no answer tells them apart, so nothing
    about a foreign route's body handling (or its role check) is observable."""
    foreign = getattr(other_team, caller.lower())
    expected = foreign_answer(other_team, team).json
    assert expected["error"]["code"] == "not_found"
    bodies = [b"{}", b"not json", TOO_DEEP, json.dumps(AUTOMATION).encode()]
    for body in bodies:
        reply = foreign.post(f"{team.base}/automations", raw=body)
        assert (reply.status, reply.json) == (404, expected), body[:40]


def test_nesting_at_the_limit_reaches_validation_and_one_deeper_is_refused(team):
    """64 levels (the documented limit) are read and validated as usual; 65 are refused unread."""

    def nested(depth: int) -> bytes:  # the object itself is the first level
        return b'{"name": "p", "extra": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"

    at_limit = team.admin.post(f"{team.base}/projects", raw=nested(64))
    assert_error_shape(at_limit, 400, "validation_error")
    assert at_limit.error["field"] == "extra"  # the model's own verdict: no such field
    beyond = team.admin.post(f"{team.base}/projects", raw=nested(65))
    assert_error_shape(beyond, 400, "validation_error")
    assert beyond.error["field"] == "body" and "64" in beyond.error["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(team):
    name = "[" * 3000  # too long for a project name, but not deep
    reply = team.admin.post(f"{team.base}/projects", {"name": name})
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "name"


def test_long_but_readable_number_is_validated_not_refused(team):
    reply = team.admin.post(f"{team.base}/projects", raw=b'{"name": ' + b"7" * 4300 + b"}")
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "name"


# ---- media types -------------------------------------------------------------------------------------
# Media types are case-insensitive (RFC 9110): `Application/Json` passed the screen and then met
# Powertools' own, case-sensitive check, whose refusal nothing mapped: a 500. A body-less POST with any
# Content-Type went the same way.

MIXED_CASE = ["Application/Json", "APPLICATION/JSON; charset=UTF-8"]
OPENAPI_BASE = "/v1/entities/{entity}"


def body_routes(team, receiver, automation_id):
    """Every operation that takes a body, as (method, documented path) -> (caller, path, body, the
    status it answers): each one a request that succeeds."""
    queue = boto3.client("sqs", region_name="us-east-1").create_queue(
        QueueName=f"mlhooks-runs-{team.entity}-gpu"
    )
    alias = {k: v for k, v in alias_event(entity=team.entity)["detail"].items() if k != "author"}
    slack = {"name": "alerts", "bot_token_secret": "BOT", "channel_id": "C0123ABCD", "channel_name": "alerts"}
    base, admin, member = team.base, team.admin, team.member
    routes = {
        ("POST", "/members"): (admin, "/members", {"username": "dan", "role": "VIEWER"}, 201),
        ("PATCH", "/members/{username}"): (admin, "/members/carol", {"role": "MEMBER"}, 200),
        ("POST", "/api-keys"): (member, "/api-keys", {"name": "ci"}, 201),
        ("POST", "/secrets"): (admin, "/secrets", {"name": "NEW", "value": "a-new-secret"}, 201),
        ("PUT", "/secrets/{name}"): (admin, "/secrets/BOT", {"value": "xoxb-rotated-bot"}, 200),
        ("POST", "/webhooks"): (admin, "/webhooks", {"name": "other", "url": receiver.url}, 201),
        ("PATCH", "/webhooks/{name}"): (admin, "/webhooks/gh", {"description": "d"}, 200),
        ("POST", "/webhooks/{name}/test"): (admin, "/webhooks/gh/test", {}, 200),
        ("POST", "/slack"): (admin, "/slack", slack, 201),
        # This stack has no Slack app: both answer so after the body was taken.
        ("POST", "/slack/connect"): (
            admin,
            "/slack/connect",
            {"name": "connected", "redirect_uri": "https://console.example.com/cb"},
            409,
        ),
        ("POST", "/slack/connect/complete"): (
            admin,
            "/slack/connect/complete",
            {"state": "s", "code": "c"},
            409,
        ),
        ("POST", "/run-queues"): (admin, "/run-queues", {"name": "gpu", "url": queue["QueueUrl"]}, 201),
        ("POST", "/sources"): (
            admin,
            "/sources",
            {"name": "w", "kind": "wandb", "signing_secret": "BOT"},
            201,
        ),
        ("POST", "/projects"): (member, "/projects", {"name": "q"}, 201),
        ("POST", "/projects/{project}/collections"): (member, "/projects/p/collections", {"name": "c"}, 201),
        ("POST", "/automations"): (member, "/automations", {**AUTOMATION, "name": "another"}, 201),
        ("PATCH", "/automations/{automation_id}"): (
            member,
            f"/automations/{automation_id}",
            {"description": "d"},
            200,
        ),
        ("POST", "/automations/dry-run"): (
            member,
            "/automations/dry-run",
            {"automation": {**AUTOMATION, "name": "a draft"}},
            200,
        ),
        ("POST", "/automations/{automation_id}/dry-run"): (
            member,
            f"/automations/{automation_id}/dry-run",
            {"event": {"detail_type": "Artifact Alias Added", "detail": alias}},
            200,
        ),
        # Nothing here is PENDING: the 404 for the execution comes after the body was taken.
        ("POST", "/executions/{execution_id}/cancel"): (
            member,
            "/executions/none/cancel",
            {"reason": "r"},
            404,
        ),
    }
    routes = {
        (m, OPENAPI_BASE + p): (api, base + path, body, status)
        for (m, p), (api, path, body, status) in routes.items()
    }
    events = {"events": [{"detail_type": "Artifact Alias Added", "detail": alias}]}
    routes["POST", "/v1/events"] = (member, "/v1/events", events, 202)
    return routes


@pytest.fixture
def entity_with_everything(team, allow_loopback, receiver, automation_id):
    """Something for every body route to act on: a webhook, a bot token, a project, an automation."""
    assert team.admin.post(f"{team.base}/secrets", {"name": "BOT", "value": "xoxb-bot-token"}).status == 201
    assert team.admin.post(f"{team.base}/webhooks", {"name": "gh", "url": receiver.url}).status == 201
    assert team.member.post(f"{team.base}/projects", {"name": "p"}).status == 201
    return body_routes(team, receiver, automation_id)


def test_the_body_routes_below_are_every_operation_that_takes_a_body(gateway, team, receiver):
    status, _, document = gateway.handle("GET", "/v1/openapi.json", "", {}, b"")
    assert status == 200
    taking_a_body = {
        (method.upper(), path)
        for path, item in json.loads(document)["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }
    assert set(body_routes(team, receiver, "au_x")) == taking_a_body


@pytest.mark.parametrize("content_type", MIXED_CASE)
@pytest.mark.parametrize(
    "route",
    [
        ("POST", "/members"),
        ("PATCH", "/members/{username}"),
        ("POST", "/api-keys"),
        ("POST", "/secrets"),
        ("PUT", "/secrets/{name}"),
        ("POST", "/webhooks"),
        ("PATCH", "/webhooks/{name}"),
        ("POST", "/webhooks/{name}/test"),
        ("POST", "/slack"),
        ("POST", "/slack/connect"),
        ("POST", "/slack/connect/complete"),
        ("POST", "/run-queues"),
        ("POST", "/sources"),
        ("POST", "/projects"),
        ("POST", "/projects/{project}/collections"),
        ("POST", "/automations"),
        ("PATCH", "/automations/{automation_id}"),
        ("POST", "/automations/dry-run"),
        ("POST", "/automations/{automation_id}/dry-run"),
        ("POST", "/executions/{execution_id}/cancel"),
        ("POST", "/v1/events"),
    ],
    ids=lambda route: f"{route[0]} {route[1]}" if isinstance(route, tuple) else route,
)
def test_json_in_any_case_is_accepted_on_every_body_route(entity_with_everything, route, content_type):
    method, path = route
    api, url, body, expected = entity_with_everything[
        method, path if path == "/v1/events" else OPENAPI_BASE + path
    ]
    reply = api.call(method, url, body, headers={"Content-Type": content_type})
    assert reply.status == expected, reply.raw


@pytest.mark.parametrize("route", ["enable", "disable", "redeliver"])
def test_a_body_less_post_with_a_text_content_type_answers_as_without_a_body(pipeline, receiver, route):
    automation = pipeline.automation()
    receiver.status = 400  # the delivery fails at once: an execution to redeliver
    pipeline.deliver(alias_event())
    [execution] = pipeline.executions()
    path = {
        "enable": f"/automations/{automation['id']}/enable",
        "disable": f"/automations/{automation['id']}/disable",
        "redeliver": f"/executions/{execution['id']}/redeliver",
    }[route]
    reply = pipeline.team.member.post(pipeline.base + path, headers={"Content-Type": "text/plain"})
    assert reply.status == {"enable": 200, "disable": 200, "redeliver": 202}[route], reply.raw
