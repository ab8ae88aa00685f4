"""A secret whose value cannot be sent where it is used is refused when it is set, with a clear
error that never quotes it; one that slipped in anyway (written to Secrets Manager by hand) fails
its deliveries at once, without leaking, without retries and without blaming the endpoint."""

from __future__ import annotations

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
    pipeline.match(load_event("platform-alias-added.json"))
    pipeline.drain()
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
