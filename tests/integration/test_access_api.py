"""Members, API keys and roles: who may do what, and nobody sees another entity."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from mlhooks.access import hash_api_key

pytestmark = pytest.mark.suite("access")

QUEUE_BASE = "https://sqs.us-east-1.amazonaws.com/123456789012"
# Every route, with the least role that may call it (the path is inside the caller's entity).
ROUTES = [
    ("GET", "/members", None, "VIEWER"),
    ("POST", "/members", {"username": "dave", "role": "VIEWER"}, "ADMIN"),
    ("PATCH", "/members/carol", {"role": "VIEWER"}, "ADMIN"),
    ("DELETE", "/members/nobody", None, "ADMIN"),
    ("GET", "/api-keys", None, "VIEWER"),
    ("POST", "/api-keys", {"name": "k"}, "VIEWER"),
    ("DELETE", "/api-keys/none", None, "VIEWER"),
    ("GET", "/secrets", None, "VIEWER"),
    ("POST", "/secrets", {"name": "S", "value": "matrix-secret-value"}, "ADMIN"),
    ("GET", "/secrets/S", None, "VIEWER"),
    ("PUT", "/secrets/S", {"value": "matrix-secret-value-2"}, "ADMIN"),
    ("DELETE", "/secrets/NONE", None, "ADMIN"),
    ("GET", "/webhooks", None, "VIEWER"),
    ("POST", "/webhooks", {"name": "w", "url": "https://10.1.1.1/"}, "ADMIN"),
    ("GET", "/webhooks/none", None, "VIEWER"),
    ("PATCH", "/webhooks/none", {}, "ADMIN"),
    ("DELETE", "/webhooks/none", None, "ADMIN"),
    ("POST", "/webhooks/none/test", {}, "ADMIN"),
    ("GET", "/slack", None, "VIEWER"),
    (
        "POST",
        "/slack",
        {"name": "s", "bot_token_secret": "NONE", "channel_id": "C0123", "channel_name": "x"},
        "ADMIN",
    ),
    ("POST", "/slack/connect", {"name": "s", "redirect_uri": "https://console.example.com/cb"}, "ADMIN"),
    ("POST", "/slack/connect/complete", {"state": "none", "code": "none"}, "ADMIN"),
    ("GET", "/slack/none", None, "VIEWER"),
    ("DELETE", "/slack/none", None, "ADMIN"),
    ("GET", "/run-queues", None, "VIEWER"),
    ("POST", "/run-queues", {"name": "q", "url": f"{QUEUE_BASE}/mlhooks-runs-x"}, "ADMIN"),
    ("GET", "/run-queues/none", None, "VIEWER"),
    ("DELETE", "/run-queues/none", None, "ADMIN"),
    ("GET", "/sources", None, "VIEWER"),
    ("POST", "/sources", {"name": "s", "kind": "wandb", "signing_secret": "S"}, "ADMIN"),
    ("GET", "/sources/none", None, "VIEWER"),
    ("DELETE", "/sources/none", None, "ADMIN"),
    ("GET", "/sources/none/deliveries", None, "VIEWER"),
    ("GET", "/projects", None, "VIEWER"),
    ("POST", "/projects", {"name": "p"}, "MEMBER"),
    ("GET", "/projects/none", None, "VIEWER"),
    ("GET", "/projects/none/collections", None, "VIEWER"),
    ("POST", "/projects/none/collections", {"name": "c"}, "MEMBER"),
    ("GET", "/automations", None, "VIEWER"),
    (
        "POST",
        "/automations",
        {
            "name": "a",
            "scope": {"type": "ENTITY"},
            "event": {"type": "CREATE_ARTIFACT"},
            "action": {"type": "NO_OP"},
        },
        "MEMBER",
    ),
    ("GET", "/automations/none", None, "VIEWER"),
    ("PATCH", "/automations/none", {}, "MEMBER"),
    ("POST", "/automations/none/enable", None, "MEMBER"),
    ("POST", "/automations/none/disable", None, "MEMBER"),
    ("DELETE", "/automations/none", None, "MEMBER"),
    ("POST", "/automations/none/dry-run", {}, "VIEWER"),
    (
        "POST",
        "/automations/dry-run",
        {
            "automation": {
                "name": "a",
                "scope": {"type": "ENTITY"},
                "event": {"type": "CREATE_ARTIFACT"},
                "action": {"type": "NO_OP"},
            }
        },
        "MEMBER",
    ),
    ("GET", "/automations/none/executions", None, "VIEWER"),
    ("GET", "/projects/none/executions", None, "VIEWER"),
    ("GET", "/projects/none/collections/none/executions", None, "VIEWER"),
    ("GET", "/projects/none/collections/none/executions/count", None, "VIEWER"),
    ("GET", "/executions", None, "VIEWER"),
    ("GET", "/executions/none", None, "VIEWER"),
    ("POST", "/executions/none/redeliver", None, "MEMBER"),
    ("POST", "/executions/none/retry", None, "MEMBER"),
    ("POST", "/executions/none/cancel", None, "MEMBER"),
]
RANK = {"VIEWER": 0, "MEMBER": 1, "ADMIN": 2}


def test_the_matrix_has_a_row_for_every_documented_route(gateway):
    """A new route without a row here fails: its role is then decided, not forgotten."""
    status, _, document = gateway.handle("GET", "/v1/openapi.json", "", {}, b"")
    assert status == 200
    entity_base = "/v1/entities/{entity}"
    every = {
        (method.upper(), path) for path, item in json.loads(document)["paths"].items() for method in item
    }
    # The routes outside an entity, each with its own test of who may call it.
    assert {(m, p) for m, p in every if not p.startswith(entity_base)} == {
        ("POST", "/v1/events"),
        ("GET", "/v1/me"),
    }
    documented = {(m, p.removeprefix(entity_base)) for m, p in every if p.startswith(entity_base)}
    templates = {(m, p): re.compile(re.sub(r"\{[a-z_]+\}", "[^/]+", p)) for m, p in documented}
    rows = set()
    for method, path, _, _ in ROUTES:
        matched = [t for t, pattern in templates.items() if t[0] == method and pattern.fullmatch(path)]
        assert matched, f"the row {method} {path} matches no documented route"
        rows.add(matched[0])
    assert rows == documented


def test_every_key_may_ask_who_it_is(team):
    for role, key in team.keys.items():
        reply = team.admin.as_key(key).get("/v1/me")
        assert reply.status == 200, reply.raw
        assert reply.json["entity"] == team.entity and reply.json["role"] == role
    assert team.admin.as_key("not-a-key").get("/v1/me").status == 401


def test_publishing_events_takes_a_member(team):
    reply = team.viewer.post("/v1/events", {"events": [{"detail_type": "Artifact Created", "detail": {}}]})
    assert reply.status == 403 and reply.error["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path", "body", "least"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
def test_route_role_matrix(team, other_team, method, path, body, least):
    for role, key in team.keys.items():
        reply = team.admin.as_key(key).call(method, team.base + path, body)
        if RANK[role] < RANK[least]:
            assert reply.status == 403, (role, reply.raw)
            assert reply.error["code"] == "forbidden"
        else:
            assert reply.status != 403, (role, reply.raw)
            assert reply.status < 500
        # The same route in another entity does not exist for this caller, whatever the role.
        foreign = team.admin.as_key(key).call(method, other_team.base + path, body)
        assert foreign.status == 404 and foreign.error["code"] == "not_found"
    # No key, a malformed one, and a revoked admin key: 401 before anything runs.
    revoked = team.admin.post(f"{team.base}/api-keys", {"name": "soon revoked"}).json
    team.admin.delete(f"{team.base}/api-keys/{revoked['id']}")
    for key in (None, "not-a-key", revoked["key"]):
        reply = team.admin.as_key(key).call(method, team.base + path, body)
        assert reply.status == 401 and reply.error["code"] == "unauthorized", (key, reply.raw)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer mlh_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_missing_or_bad_keys_are_401(team, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = team.admin.as_key(None).get(f"{team.base}/members", headers=headers)
    assert reply.status == 401 and reply.error["code"] == "unauthorized"


def test_keys_are_shown_once_and_stored_only_as_hash(team):
    reply = team.viewer.post(f"{team.base}/api-keys", {"name": "laptop"})
    assert reply.status == 201
    key = reply.json["key"]
    assert key.startswith("mlh_") and reply.json["member"] == "carol"
    listed = team.viewer.get(f"{team.base}/api-keys").json["items"]
    assert all("key" not in k for k in listed) and key not in str(listed)
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("mlhooks-local-Table")
    dump = str(table.scan()["Items"])
    assert key not in dump and hash_api_key(key) in dump
    assert team.admin.as_key(key).get(f"{team.base}/members").status == 200


def test_revoked_key_stops_working_at_once(team):
    created = team.viewer.post(f"{team.base}/api-keys", {"name": "temp"}).json
    assert team.viewer.delete(f"{team.base}/api-keys/{created['id']}").status == 204
    assert team.admin.as_key(created["key"]).get(f"{team.base}/members").status == 401


def test_non_admin_sees_and_revokes_only_own_keys(team):
    admin_keys = team.admin.get(f"{team.base}/api-keys").json["items"]
    viewer_keys = team.viewer.get(f"{team.base}/api-keys").json["items"]
    assert {k["member"] for k in viewer_keys} == {"carol"}
    assert len(admin_keys) == 3
    alice_key = next(k for k in admin_keys if k["member"] == "alice")
    assert team.viewer.delete(f"{team.base}/api-keys/{alice_key['id']}").status == 404
    assert team.viewer.post(f"{team.base}/api-keys", {"name": "x", "member": "alice"}).status == 403
    assert team.admin.post(f"{team.base}/api-keys", {"name": "x", "member": "carol"}).status == 201


def test_role_change_takes_effect_on_next_request(team):
    assert team.viewer.post(f"{team.base}/projects", {"name": "p1"}).status == 403
    assert team.admin.patch(f"{team.base}/members/carol", {"role": "MEMBER"}).json["role"] == "MEMBER"
    assert team.viewer.post(f"{team.base}/projects", {"name": "p1"}).status == 201


def test_removed_member_keys_stop_working(team):
    assert team.admin.delete(f"{team.base}/members/carol").status == 204
    assert team.viewer.get(f"{team.base}/members").status == 401


def test_last_admin_cannot_be_demoted_or_removed(team):
    demote = team.admin.patch(f"{team.base}/members/alice", {"role": "MEMBER"})
    assert demote.status == 409 and demote.error["field"] == "role"
    assert team.admin.delete(f"{team.base}/members/alice").status == 409
    team.admin.patch(f"{team.base}/members/bob", {"role": "ADMIN"})
    assert team.admin.patch(f"{team.base}/members/alice", {"role": "MEMBER"}).status == 200


def test_duplicate_member_is_409_and_bad_role_is_400(team):
    assert team.admin.post(f"{team.base}/members", {"username": "bob", "role": "VIEWER"}).status == 409
    reply = team.admin.post(f"{team.base}/members", {"username": "eve", "role": "OWNER"})
    assert reply.status == 400 and reply.error["field"] == "role"


def test_keys_of_a_removed_member_do_not_return_with_the_name(team, monkeypatch):
    from mlhooks.components import get_components

    old_key = team.keys["VIEWER"]

    def housekeeping_fails(_key):
        raise RuntimeError("DynamoDB throttled")

    # The member goes, but removing their key items fails: the keys must stay dead anyway.
    monkeypatch.setattr(get_components().store, "delete_api_key", housekeeping_fails)
    assert team.admin.delete(f"{team.base}/members/carol").status == 500
    monkeypatch.undo()
    assert team.admin.as_key(old_key).get(f"{team.base}/members").status == 401
    assert team.admin.post(f"{team.base}/members", {"username": "carol", "role": "ADMIN"}).status == 201
    assert team.admin.as_key(old_key).get(f"{team.base}/members").status == 401
