"""No secret value in any response, log line or stored record: one test drives every route and
error path with recognisable values and then searches everything that left or stayed."""

from __future__ import annotations

import logging

import boto3
import pytest

pytestmark = pytest.mark.suite("secrets")

VALUES = {
    "GITHUB_TOKEN": "LEAKCHECK-token-7f3a9c",
    "SIGNING": "LEAKCHECK-signing-51be02",
    "EXTRA": "LEAKCHECK-extra-c0ffee",
    "SLACK_BOT": "LEAKCHECK-xoxb-d00d",
}
ROTATED = "LEAKCHECK-rotated-9e9e9e"


def test_no_secret_value_escapes(team, allow_loopback, receiver, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    receiver.reply = b"echo: " + VALUES["GITHUB_TOKEN"].encode()  # a receiver that echoes what it got
    api, base = team.admin, team.base
    replies = []

    def call(method, path, body=None, **kw):
        reply = api.call(method, base + path, body, **kw)
        replies.append(reply)
        return reply

    for name, value in VALUES.items():
        assert call("POST", "/secrets", {"name": name, "value": value}).status == 201
    call("POST", "/secrets", {"name": "GITHUB_TOKEN", "value": VALUES["GITHUB_TOKEN"]})  # 409
    call("POST", "/secrets", {"name": "bad-name", "value": VALUES["EXTRA"]})  # 400
    call("POST", "/secrets", {"name": "X", "value": VALUES["EXTRA"], "oops": VALUES["SIGNING"]})  # 400
    call(
        "POST",
        "/secrets",
        raw=f"name=X&value={VALUES['EXTRA']}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # 415
    call("POST", "/secrets", raw=f'{{"name": "X", "value": "{VALUES["EXTRA"]}"'.encode())  # bad JSON
    call("PUT", "/secrets/SIGNING", {"value": ROTATED})
    call("PUT", "/secrets/NOPE", {"value": VALUES["EXTRA"]})  # 404
    call("GET", "/secrets")
    call("GET", "/secrets/SIGNING")
    call(
        "POST",
        "/webhooks",
        {
            "name": "gh",
            "url": receiver.url,
            "access_token_secret": "GITHUB_TOKEN",
            "signing_secret": "SIGNING",
            "secrets": ["EXTRA"],
        },
    )
    call("POST", "/webhooks", {"name": "bad", "url": "https://169.254.169.254/", "signing_secret": "SIGNING"})
    call(
        "POST",
        "/slack",
        {
            "name": "alerts",
            "bot_token_secret": "SLACK_BOT",
            "channel_id": "C0123ABCD",
            "channel_name": "alerts",
        },
    )
    call("GET", "/webhooks")
    call("GET", "/webhooks/gh")
    call("GET", "/slack")
    payload = {"auth": "${ACCESS_TOKEN}", "extra": "${EXTRA}", "v": "${artifact_version_string}"}
    test = call("POST", "/webhooks/gh/test", {"payload": payload})
    assert test.json["status_code"] == 200
    call("POST", "/webhooks/gh/test", {"payload": {"x": "${SLACK_BOT}"}})  # 422: not attached
    call("POST", "/projects", {"name": "p"})
    created = call(
        "POST",
        "/automations",
        {
            "name": "a",
            "scope": {"type": "PROJECT", "project": "p"},
            "event": {"type": "CREATE_ARTIFACT"},
            "action": {"type": "GENERIC_WEBHOOK", "webhook": "gh", "payload": payload},
        },
    )
    assert created.status == 201
    call("GET", "/automations")
    call("PATCH", f"/automations/{created.json['id']}", {"description": "d"})
    call("DELETE", "/secrets/EXTRA")  # 409: in use
    call("GET", "/members")
    call("GET", "/api-keys")

    # The receiver did get the real values: the leak check below is not vacuous.
    assert receiver.requests[0].json["extra"] == VALUES["EXTRA"]
    assert receiver.requests[0].headers["Authorization"] == f"Bearer {VALUES['GITHUB_TOKEN']}"

    secrets = [*VALUES.values(), ROTATED]
    for reply in replies:
        text = reply.raw.decode() + str(reply.headers)
        assert not [s for s in secrets if s in text], (reply.status, text)

    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "authorized" in logs  # logging was captured
    assert not [s for s in secrets if s in logs]

    table = boto3.resource("dynamodb", region_name="us-east-1").Table("mlhooks-local-Table")
    stored = str(table.scan()["Items"])
    assert "GITHUB_TOKEN" in stored
    assert not [s for s in secrets if s in stored]
