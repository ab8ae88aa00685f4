"""A secret whose value cannot be sent where it is used is refused when it is set, with a clear
error that never quotes it; one that slipped in anyway (written to Secrets Manager by hand) fails
its deliveries at once, without leaking, without retries and without blaming the endpoint."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from pipelines import use_slack
from samples import load_event

from mlhooks.redaction import secret_forms

pytestmark = pytest.mark.suite("secrets")

UNSTORABLE = {
    "trailing newline": "ghp_Secret123\n",
    "trailing CRLF": "ghp_Secret123\r\n",
    "inner line break": "ghp_Secret\n123",
    "tab": "ghp\tSecret123",
    "NUL": "ghp_Secret\x00123",
    "DEL": "ghp_Secret\x7f123",
    "C1 control": "ghp_Secret\x85123",
    "lone surrogate": "ghp_Secret\ud800",
}
NOT_A_HEADER_TOKEN = {
    "space": "ghp Secret123",
    "euro sign": "ghp_Secret€123",
    "latin-1 letter": "ghp_Secrét123",
    "emoji": "ghp_Secret🔑123",
}


def no_form_of(value: str, text: str) -> bool:
    return not any(form in text for form in secret_forms(value) if len(form) >= 6)


def raw_body(payload: dict) -> bytes:
    # json.dumps writes a lone surrogate as \ud800, which the API's parser turns back into one.
    return json.dumps(payload).encode()


@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=list(UNSTORABLE))
def test_a_value_that_cannot_be_sent_anywhere_is_refused_on_create_and_rotate(team, value):
    # Half a surrogate pair is no text at all: the body itself is refused, before any field.
    field = "body" if "\ud800" in value else "value"
    create = team.admin.post(f"{team.base}/secrets", raw=raw_body({"name": "TOKEN", "value": value}))
    assert create.status == 400 and create.error["field"] == field
    assert no_form_of(value, create.raw.decode()), create.raw
    assert team.admin.get(f"{team.base}/secrets/TOKEN").status == 404
    team.admin.post(f"{team.base}/secrets", {"name": "TOKEN", "value": "ghp_fine"})
    rotate = team.admin.put(f"{team.base}/secrets/TOKEN", raw=raw_body({"value": value}))
    assert rotate.status == 400 and rotate.error["field"] == field
    assert no_form_of(value, rotate.raw.decode())


def test_a_trailing_newline_is_named_in_the_message(team):
    reply = team.admin.post(f"{team.base}/secrets", {"name": "TOKEN", "value": "ghp_Secret123\n"})
    assert "ends with a line break" in reply.error["message"]


@pytest.mark.parametrize("value", NOT_A_HEADER_TOKEN.values(), ids=list(NOT_A_HEADER_TOKEN))
def test_a_value_fine_in_a_payload_is_refused_as_a_header_token(team, allow_loopback, receiver, value):
    assert team.admin.post(f"{team.base}/secrets", {"name": "TOKEN", "value": value}).status == 201
    webhook = {"name": "gh", "url": receiver.url, "access_token_secret": "TOKEN"}
    created = team.admin.post(f"{team.base}/webhooks", webhook)
    assert created.status == 422 and created.error["field"] == "access_token_secret"
    assert "visible ASCII" in created.error["message"] and no_form_of(value, created.raw.decode())
    # As an extra secret for the payload it is fine: JSON carries any text.
    assert (
        team.admin.post(
            f"{team.base}/webhooks", {**webhook, "access_token_secret": None, "secrets": ["TOKEN"]}
        ).status
        == 201
    )
    patched = team.admin.patch(f"{team.base}/webhooks/gh", {"access_token_secret": "TOKEN"})
    assert patched.status == 422 and patched.error["field"] == "access_token_secret"
    slack = {"name": "s", "bot_token_secret": "TOKEN", "channel_id": "C0123ABCD", "channel_name": "ml"}
    refused = team.admin.post(f"{team.base}/slack", slack)
    assert refused.status == 422 and refused.error["field"] == "bot_token_secret"


def test_a_token_cannot_be_rotated_to_a_value_that_is_not_sendable(team, allow_loopback, receiver):
    team.admin.post(f"{team.base}/secrets", {"name": "TOKEN", "value": "ghp_fine"})
    team.admin.post(
        f"{team.base}/webhooks", {"name": "gh", "url": receiver.url, "access_token_secret": "TOKEN"}
    )
    reply = team.admin.put(f"{team.base}/secrets/TOKEN", {"value": "ghp fine"})
    assert reply.status == 422 and reply.error["field"] == "value"
    assert "webhook gh" in reply.error["message"]
    team.admin.post(f"{team.base}/secrets", {"name": "PAYLOAD_ONLY", "value": "payload-value"})
    assert team.admin.put(f"{team.base}/secrets/PAYLOAD_ONLY", {"value": "any text, €"}).status == 200


@pytest.fixture
def slipped_in(pipeline):
    """The access token of webhook `github` overwritten in Secrets Manager itself with a value the
    API would refuse (as an operator with console access might)."""
    value = "ghp_Secret€123"
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId="mlhooks/mlhooks-local/dev/GITHUB_TOKEN", SecretString=value
    )
    return value


def test_the_test_call_with_an_unsendable_token_is_a_clear_422(pipeline, receiver, slipped_in):
    reply = pipeline.team.admin.post(f"{pipeline.base}/webhooks/github/test", {})
    assert reply.status == 422 and reply.error["code"] == "unsendable_secret"
    assert "GITHUB_TOKEN" in reply.error["message"] and no_form_of(slipped_in, reply.raw.decode())
    assert not receiver.requests


def test_a_delivery_with_an_unsendable_token_fails_at_once_and_leaks_nothing(pipeline, receiver, slipped_in):
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    [summary] = pipeline.executions()
    execution = pipeline.execution(summary["id"])
    assert execution["state"] == "FAILED" and len(execution["attempts"]) == 1  # no retries: they cannot help
    assert "GITHUB_TOKEN" in execution["reason"] and not receiver.requests
    webhook = pipeline.team.viewer.get(f"{pipeline.base}/webhooks/github").json
    # It cannot deliver, and its health and every automation using it say so, and why.
    assert webhook["health"]["state"] == "FAILING" and "GITHUB_TOKEN" in webhook["health"]["last_error"]
    automations = pipeline.team.viewer.get(f"{pipeline.base}/automations").json
    everything = json.dumps([execution, webhook, automations])
    assert no_form_of(slipped_in, everything)
    assert pipeline.queue_depth("WebhookDLQ") == 0


def test_a_slack_bot_token_that_cannot_be_sent_fails_without_leaking(pipeline, slack, monkeypatch):
    use_slack(pipeline, slack, monkeypatch, "xoxb-fine")
    pipeline.automation(action={"type": "NOTIFICATION", "slack": "alerts", "title": "${alias}"})
    bad = "xoxb-bad\u00e4token"
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId="mlhooks/mlhooks-local/dev/SLACK_BOT", SecretString=bad
    )
    pipeline.match(load_event("platform-alias-added.json"))
    pipeline.drain("Slack")
    execution = pipeline.execution(pipeline.executions()[0]["id"])
    assert execution["state"] == "FAILED" and "bot token cannot be sent" in execution["reason"]
    assert not slack.slack_messages and no_form_of(bad, json.dumps(execution))


# ---- lengths --------------------------------------------------------------------------------------------
# A value of a few characters is guessable, and would be redacted wherever those characters appear in
# an answer; a value past 4,096 characters makes every encoded form of it too long to look for.


@pytest.mark.parametrize("value", ["", "x", "1234567"], ids=["empty", "one character", "seven characters"])
def test_a_value_shorter_than_8_characters_is_refused_on_create_and_rotate(team, value):
    create = team.admin.post(f"{team.base}/secrets", {"name": "SHORT", "value": value})
    assert create.status == 400 and create.error["field"] == "value", create.raw
    assert "at least 8 characters" in create.error["message"]
    assert team.admin.get(f"{team.base}/secrets/SHORT").status == 404
    assert team.admin.post(f"{team.base}/secrets", {"name": "SHORT", "value": "12345678"}).status == 201
    rotate = team.admin.put(f"{team.base}/secrets/SHORT", {"value": value})
    assert rotate.status == 400 and rotate.error["field"] == "value", rotate.raw
    assert "at least 8 characters" in rotate.error["message"]


def test_4096_characters_is_the_longest_value(team):
    assert team.admin.post(f"{team.base}/secrets", {"name": "LONG", "value": "v" * 4096}).status == 201
    assert team.admin.put(f"{team.base}/secrets/LONG", {"value": "w" * 4096}).status == 200
    for reply in (
        team.admin.post(f"{team.base}/secrets", {"name": "LONGER", "value": "v" * 4097}),
        team.admin.put(f"{team.base}/secrets/LONG", {"value": "w" * 4097}),
    ):
        assert reply.status == 400 and reply.error["field"] == "value", reply.raw
        assert "at most 4096 characters" in reply.error["message"]


# ---- Standard Webhooks signing secrets ---------------------------------------------------------------
# A `whsec_` value is a Standard Webhooks secret: the key is the base64 after the prefix. One that does
# not decode signed with other bytes than every receiver's library uses, so no signature verified.

WHSEC_VALID = "whsec_" + base64.b64encode(b"a standard webhooks key").decode()


def plant(entity: str, name: str, value: str) -> None:
    """Write a value into Secrets Manager itself, past the API's checks (as an operator might)."""
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=f"mlhooks/mlhooks-local/{entity}/{name}", SecretString=value
    )


@pytest.mark.parametrize("value", ["whsec_@@@", "whsec_"], ids=["not base64", "no key at all"])
def test_a_whsec_value_that_is_no_base64_key_cannot_sign_a_webhook(team, allow_loopback, receiver, value):
    team.admin.post(f"{team.base}/secrets", {"name": "SIGNING", "value": WHSEC_VALID})
    plant(team.entity, "SIGNING", value)  # "whsec_" alone is too short to be set through the API
    webhook = {"name": "gh", "url": receiver.url, "signing_secret": "SIGNING"}
    created = team.admin.post(f"{team.base}/webhooks", webhook)
    assert created.status == 422 and created.error["field"] == "signing_secret", created.raw
    assert "base64" in created.error["message"] and "@@@" not in created.error["message"]
    assert team.admin.get(f"{team.base}/webhooks/gh").status == 404
    plant(team.entity, "SIGNING", WHSEC_VALID)  # a key in base64 signs
    assert team.admin.post(f"{team.base}/webhooks", webhook).status == 201


def test_a_secret_signing_a_webhook_cannot_be_rotated_to_a_whsec_value_that_is_no_base64_key(
    team, allow_loopback, receiver
):
    team.admin.post(f"{team.base}/secrets", {"name": "SIGNING", "value": "a-signing-secret"})
    webhook = {"name": "gh", "url": receiver.url, "signing_secret": "SIGNING"}
    assert team.admin.post(f"{team.base}/webhooks", webhook).status == 201
    rotated = team.admin.put(f"{team.base}/secrets/SIGNING", {"value": "whsec_@@@"})
    assert rotated.status == 422 and rotated.error["field"] == "value", rotated.raw
    assert "signs a webhook" in rotated.error["message"]
    assert team.admin.put(f"{team.base}/secrets/SIGNING", {"value": WHSEC_VALID}).status == 200
    # A secret that signs nothing may hold any text, this too.
    team.admin.post(f"{team.base}/secrets", {"name": "UNUSED", "value": "unused-value"})
    assert team.admin.put(f"{team.base}/secrets/UNUSED", {"value": "whsec_@@@"}).status == 200
