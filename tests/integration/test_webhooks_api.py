"""Webhook integrations: the outbound guard at save time, references to secrets, and the test call."""

from __future__ import annotations

import pytest
from receivers import standard_webhooks_verified, wandb_signature

TOKEN = "ghp_token-value-webhook-test"
SIGNING = "signing-secret-webhook-test"
EXTRA = "extra-secret-webhook-test"


@pytest.fixture
def secrets(team):
    for name, value in (("GITHUB_TOKEN", TOKEN), ("SIGNING", SIGNING), ("EXTRA", EXTRA)):
        assert team.admin.post(f"{team.base}/secrets", {"name": name, "value": value}).status == 201


def webhook(url, **extra):
    return {
        "name": "github",
        "url": url,
        "access_token_secret": "GITHUB_TOKEN",
        "signing_secret": "SIGNING",
        "secrets": ["EXTRA"],
        **extra,
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://2130706433/hook",
        "ftp://example.com/hook",
        "https://user:pass@example.com/hook",
    ],
)
def test_internal_or_malformed_urls_are_refused_at_save(team, secrets, url):
    reply = team.admin.post(f"{team.base}/webhooks", webhook(url))
    assert reply.status == 422
    assert reply.error["code"] == "blocked_destination" and reply.error["field"] == "url"
    assert team.admin.get(f"{team.base}/webhooks").json["items"] == []


def test_create_get_list_and_no_secret_values(team, secrets, allow_loopback, receiver):
    reply = team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    assert reply.status == 201
    assert reply.json["access_token_secret"] == "GITHUB_TOKEN" and reply.json["signature_encoding"] == "hex"
    listed = team.viewer.get(f"{team.base}/webhooks").json["items"]
    assert [w["name"] for w in listed] == ["github"]
    for body in (reply.raw, team.viewer.get(f"{team.base}/webhooks/github").raw):
        assert not any(v in body.decode() for v in (TOKEN, SIGNING, EXTRA))


def test_unknown_secret_reference_is_422_naming_field(team, secrets, allow_loopback, receiver):
    reply = team.admin.post(f"{team.base}/webhooks", webhook(receiver.url, signing_secret="MISSING"))
    assert reply.status == 422 and reply.error["field"] == "signing_secret"


def test_duplicate_name_is_409(team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    assert team.admin.post(f"{team.base}/webhooks", webhook(receiver.url)).status == 409


def test_update_changes_fields_and_rechecks_url(team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    reply = team.admin.patch(f"{team.base}/webhooks/github", {"signature_encoding": "base64", "secrets": []})
    assert (
        reply.status == 200 and reply.json["signature_encoding"] == "base64" and reply.json["secrets"] == []
    )
    blocked = team.admin.patch(f"{team.base}/webhooks/github", {"url": "https://10.0.0.1/x"})
    assert blocked.status == 422
    assert team.admin.get(f"{team.base}/webhooks/github").json["url"] == receiver.url


def test_removing_secret_from_webhook_frees_it_for_deletion(team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    assert team.admin.delete(f"{team.base}/secrets/EXTRA").status == 409
    team.admin.patch(f"{team.base}/webhooks/github", {"secrets": []})
    assert team.admin.delete(f"{team.base}/secrets/EXTRA").status == 204


def test_test_call_is_signed_like_a_delivery(team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    payload = {
        "event_type": "${event_type}",
        "client_payload": {"token": "${EXTRA}", "v": "${artifact_version_string}"},
    }
    reply = team.admin.post(f"{team.base}/webhooks/github/test", {"payload": payload})
    assert reply.status == 200, reply.raw
    result = reply.json
    assert result["ok"] is True and result["status_code"] == 200 and result["error"] is None

    [request] = receiver.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["X-Wandb-Signature"] == wandb_signature(SIGNING, request.body)
    assert standard_webhooks_verified(SIGNING, request) == request.json
    assert request.headers["User-Agent"].startswith("mlhooks/")
    assert request.json == {
        "event_type": "ADD_ARTIFACT_ALIAS",
        "client_payload": {"token": EXTRA, "v": "acme/sample-project/sample-model:production"},
    }


def test_test_call_answer_is_relayed_with_secrets_redacted(team, secrets, allow_loopback, receiver):
    receiver.reply = f'{{"echo": "{TOKEN}"}}'.encode()
    receiver.status = 418
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    result = team.admin.post(f"{team.base}/webhooks/github/test", {}).json
    assert result["ok"] is False and result["status_code"] == 418
    assert TOKEN not in result["body_excerpt"] and "[REDACTED]" in result["body_excerpt"]


def test_base64_signature_option(team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url, signature_encoding="base64"))
    team.admin.post(f"{team.base}/webhooks/github/test", {})
    [request] = receiver.requests
    assert request.headers["X-Wandb-Signature"] == wandb_signature(SIGNING, request.body, "base64")


def test_test_call_to_closed_port_reports_network_error(team, secrets, allow_loopback):
    team.admin.post(f"{team.base}/webhooks", webhook("http://127.0.0.1:9/hook"))
    result = team.admin.post(f"{team.base}/webhooks/github/test", {}).json
    assert result["ok"] is False and result["status_code"] is None
    assert result["error_class"] == "connection_error"


def test_test_payload_with_unknown_variable_is_422(team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    reply = team.admin.post(f"{team.base}/webhooks/github/test", {"payload": {"x": "${NOT_ATTACHED}"}})
    assert reply.status == 422 and reply.error["field"] == "payload"
    assert receiver.requests == []


def test_only_admins_manage_or_test_webhooks(team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    for api in (team.member, team.viewer):
        assert api.post(f"{team.base}/webhooks", webhook(receiver.url, name="x")).status == 403
        assert api.post(f"{team.base}/webhooks/github/test", {}).status == 403
        assert api.delete(f"{team.base}/webhooks/github").status == 403
    assert receiver.requests == []


def test_other_entity_cannot_see_or_test_webhook(team, other_team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    assert other_team.admin.get(f"{team.base}/webhooks/github").status == 404
    assert other_team.admin.post(f"{team.base}/webhooks/github/test", {}).status == 404
    assert other_team.admin.get(f"{other_team.base}/webhooks/github").status == 404
    assert receiver.requests == []


def test_slack_integration_lifecycle(team, secrets):
    body = {
        "name": "alerts",
        "bot_token_secret": "GITHUB_TOKEN",
        "channel_id": "C012AB3CD",
        "channel_name": "#ml-alerts",
    }
    assert team.admin.post(f"{team.base}/slack", body).status == 201
    assert team.admin.post(f"{team.base}/slack", body).status == 409
    assert [s["name"] for s in team.viewer.get(f"{team.base}/slack").json["items"]] == ["alerts"]
    assert team.admin.delete(f"{team.base}/secrets/GITHUB_TOKEN").status == 409
    assert team.admin.delete(f"{team.base}/slack/alerts").status == 204
    assert team.admin.get(f"{team.base}/slack/alerts").status == 404


def test_slack_with_unknown_secret_or_bad_channel_is_refused(team, secrets):
    missing = {"name": "a", "bot_token_secret": "NOPE", "channel_id": "C012AB3CD", "channel_name": "ml"}
    assert team.admin.post(f"{team.base}/slack", missing).status == 422
    bad = {**missing, "bot_token_secret": "GITHUB_TOKEN", "channel_id": "not-a-channel"}
    reply = team.admin.post(f"{team.base}/slack", bad)
    assert reply.status == 400 and reply.error["field"] == "channel_id"


def test_null_url_is_400_but_null_signing_secret_removes_it(team, secrets, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", webhook(receiver.url))
    assert team.admin.patch(f"{team.base}/webhooks/github", {"url": None}).status == 400
    reply = team.admin.patch(f"{team.base}/webhooks/github", {"signing_secret": None})
    assert reply.status == 200 and reply.json["signing_secret"] is None
    assert team.admin.delete(f"{team.base}/secrets/SIGNING").status == 204
