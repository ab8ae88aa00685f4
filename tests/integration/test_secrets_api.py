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


def test_list_shows_names_and_timestamps_only(team):
    team.admin.post(f"{team.base}/secrets", {"name": "A", "value": VALUE})
    items = team.viewer.get(f"{team.base}/secrets").json["items"]
    assert [set(i) for i in items] == [{"name", "created_at", "updated_at"}]


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
