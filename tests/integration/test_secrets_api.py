"""Secrets: values go to Secrets Manager under the stack prefix and nowhere else."""

from __future__ import annotations

import boto3
import pytest

from mlhooks.components import get_components

VALUE = "s3cr3t-value-for-secrets-api-test"


def sm():
    return boto3.client("secretsmanager", region_name="us-east-1")


def test_create_stores_value_only_in_secrets_manager_under_prefix(team):
    reply = team.admin.post(f"{team.base}/secrets", {"name": "GITHUB_TOKEN", "value": VALUE})
    assert reply.status == 201
    assert reply.json["name"] == "GITHUB_TOKEN" and VALUE not in reply.raw.decode()
    stored = sm().get_secret_value(SecretId="mlhooks/mlhooks-local/acme/GITHUB_TOKEN")["SecretString"]
    assert stored == VALUE


def test_list_shows_names_timestamps_and_users_only(team):
    team.admin.post(f"{team.base}/secrets", {"name": "A", "value": VALUE})
    items = team.viewer.get(f"{team.base}/secrets").json["items"]
    assert [set(i) for i in items] == [{"name", "created_at", "updated_at", "used_by"}]


def test_duplicate_name_is_409(team):
    team.admin.post(f"{team.base}/secrets", {"name": "A", "value": VALUE})
    reply = team.admin.post(f"{team.base}/secrets", {"name": "A", "value": "other-value"})
    assert reply.status == 409 and reply.error["field"] == "name"


@pytest.mark.parametrize("name", ["has-dash", "has space", "", "x" * 65, "ünïcode"])
def test_invalid_names_are_400_with_field(team, name):
    reply = team.admin.post(f"{team.base}/secrets", {"name": name, "value": VALUE})
    assert reply.status == 400
    assert reply.error["code"] == "validation_error" and reply.error["field"] == "name"
    assert VALUE not in reply.raw.decode()


def test_rotate_replaces_value_and_updates_timestamp(team):
    created = team.admin.post(f"{team.base}/secrets", {"name": "A", "value": VALUE}).json
    reply = team.admin.put(f"{team.base}/secrets/A", {"value": "rotated-value"})
    assert reply.status == 200 and reply.json["updated_at"] >= created["updated_at"]
    assert sm().get_secret_value(SecretId="mlhooks/mlhooks-local/acme/A")["SecretString"] == "rotated-value"


def test_rotate_unknown_secret_is_404_and_writes_nothing(team):
    reply = team.admin.put(f"{team.base}/secrets/NOPE", {"value": VALUE})
    assert reply.status == 404
    assert sm().list_secrets()["SecretList"] == []


def test_delete_removes_record_and_value(team):
    team.admin.post(f"{team.base}/secrets", {"name": "A", "value": VALUE})
    assert team.admin.delete(f"{team.base}/secrets/A").status == 204
    assert team.admin.get(f"{team.base}/secrets/A").status == 404
    assert sm().list_secrets()["SecretList"] == []


def test_delete_secret_used_by_webhook_is_409_naming_it(team, allow_loopback):
    team.admin.post(f"{team.base}/secrets", {"name": "TOKEN", "value": VALUE})
    team.admin.post(
        f"{team.base}/webhooks",
        {"name": "ci", "url": "http://127.0.0.1:9/hook", "access_token_secret": "TOKEN"},
    )
    reply = team.admin.delete(f"{team.base}/secrets/TOKEN")
    assert reply.status == 409
    assert "webhook ci" in reply.error["message"]
    assert team.admin.get(f"{team.base}/secrets/TOKEN").status == 200


def test_failed_secrets_manager_write_leaves_no_record(team, monkeypatch):
    client = get_components().vault.client

    def refuse(**_):
        raise RuntimeError("Secrets Manager is unavailable")

    monkeypatch.setattr(client, "create_secret", refuse)
    reply = team.admin.post(f"{team.base}/secrets", {"name": "A", "value": VALUE})
    assert reply.status == 500 and VALUE not in reply.raw.decode()
    monkeypatch.undo()
    assert team.admin.get(f"{team.base}/secrets").json["items"] == []


def test_value_left_by_a_create_that_died_is_adopted_by_next_create(team, monkeypatch):
    store = get_components().store

    def fail(*_, **__):
        raise RuntimeError("DynamoDB is unavailable")

    # The value is written, then releasing the claim on the name fails, as if the request died.
    monkeypatch.setattr(store, "release_secret_claim", fail)
    assert team.admin.post(f"{team.base}/secrets", {"name": "A", "value": "first-value"}).status == 500
    monkeypatch.undo()
    assert team.admin.get(f"{team.base}/secrets/A").status == 404  # a claimed name is invisible
    assert team.admin.get(f"{team.base}/secrets").json["items"] == []
    busy = team.admin.post(f"{team.base}/secrets", {"name": "A", "value": "second-value"})
    assert busy.status == 409 and "being created" in busy.error["message"]
    # Once the claim is stale (the request that held it is surely gone), the next create adopts it.
    monkeypatch.setattr("mlhooks.secrets.time.time", lambda: 10**10)
    assert team.admin.post(f"{team.base}/secrets", {"name": "A", "value": "second-value"}).status == 201
    assert sm().get_secret_value(SecretId="mlhooks/mlhooks-local/acme/A")["SecretString"] == "second-value"
    assert [s["name"] for s in team.admin.get(f"{team.base}/secrets").json["items"]] == ["A"]


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
def test_only_admins_write_secrets(team, role):
    api = team.admin.as_key(team.keys[role])
    assert api.post(f"{team.base}/secrets", {"name": "A", "value": VALUE}).status == 403
    assert api.get(f"{team.base}/secrets").status == 200


def test_other_entity_secrets_do_not_exist_for_caller(team, other_team):
    other_team.admin.post(f"{other_team.base}/secrets", {"name": "THEIRS", "value": VALUE})
    assert team.admin.get(f"{other_team.base}/secrets").status == 404
    assert team.admin.get(f"{other_team.base}/secrets/THEIRS").status == 404
    assert team.admin.delete(f"{other_team.base}/secrets/THEIRS").status == 404
    assert other_team.admin.get(f"{other_team.base}/secrets/THEIRS").status == 200


# ---- what uses a secret -----------------------------------------------------------------------------


def use_secrets_everywhere(team):
    """Secrets used by a webhook (token, signing secret, payload secrets), a Slack integration and a
    source, and one nothing uses."""
    admin, base = team.admin, team.base
    for name in ("TOKEN", "SIGNING", "EXTRA", "BOT", "SOURCE_KEY", "UNUSED"):
        assert admin.post(f"{base}/secrets", {"name": name, "value": f"xoxb-{name}-value"}).status == 201
    hook = {
        "name": "ci",
        "url": "http://127.0.0.1:9/hook",
        "access_token_secret": "TOKEN",
        "signing_secret": "SIGNING",
        "secrets": ["EXTRA", "BOT"],
    }
    assert admin.post(f"{base}/webhooks", hook).status == 201
    slack = {"name": "alerts", "bot_token_secret": "BOT", "channel_id": "C0123ABCD", "channel_name": "x"}
    assert admin.post(f"{base}/slack", slack).status == 201
    source = {"name": "wb", "kind": "wandb", "signing_secret": "SOURCE_KEY"}
    assert admin.post(f"{base}/sources", source).status == 201


WEBHOOK_CI = {"kind": "webhook", "name": "ci"}
USERS = {
    "BOT": [WEBHOOK_CI, {"kind": "slack", "name": "alerts"}],
    "EXTRA": [WEBHOOK_CI],
    "SIGNING": [WEBHOOK_CI],
    "SOURCE_KEY": [{"kind": "source", "name": "wb"}],
    "TOKEN": [WEBHOOK_CI],
    "UNUSED": [],
}


def test_secrets_say_what_uses_them_when_listed_and_read(team, allow_loopback):
    use_secrets_everywhere(team)
    listed = team.viewer.get(f"{team.base}/secrets").json["items"]
    assert {s["name"]: s["used_by"] for s in listed} == USERS
    for name, users in USERS.items():
        assert team.viewer.get(f"{team.base}/secrets/{name}").json["used_by"] == users
    page = team.viewer.get(f"{team.base}/secrets", query="limit=2").json["items"]
    assert [(s["name"], s["used_by"]) for s in page] == [("BOT", USERS["BOT"]), ("EXTRA", USERS["EXTRA"])]


def test_used_by_is_what_keeps_a_secret_from_being_deleted(team, allow_loopback):
    use_secrets_everywhere(team)
    for name, users in USERS.items():
        if users:
            refused = team.admin.delete(f"{team.base}/secrets/{name}")
            assert refused.status == 409 and all(u["name"] in refused.error["message"] for u in users), name
    assert team.admin.delete(f"{team.base}/secrets/UNUSED").status == 204
    assert team.admin.delete(f"{team.base}/webhooks/ci").status == 204
    assert team.viewer.get(f"{team.base}/secrets/TOKEN").json["used_by"] == []
    assert team.viewer.get(f"{team.base}/secrets/BOT").json["used_by"] == USERS["BOT"][1:]
    assert team.admin.delete(f"{team.base}/secrets/TOKEN").status == 204


def test_listing_reads_the_users_once_for_every_secret(team, allow_loopback, monkeypatch):
    use_secrets_everywhere(team)
    table = get_components().store.table
    query, asked = table.query, []

    def counted(**request):
        asked.append(request)
        return query(**request)

    monkeypatch.setattr(table, "query", counted)
    assert len(team.viewer.get(f"{team.base}/secrets").json["items"]) == len(USERS)
    assert len(asked) == 4  # the secrets; then the webhooks, the Slack integrations and the sources
