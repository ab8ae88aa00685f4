"""No secret value in any response, log line or stored record: one test drives every route, every
delivery path (webhook, Slack, job; retries, failures, a redelivery, the disabled-webhook alert), the
error paths and the execution history with recognisable values, then searches everything that left
or stayed: API replies (bodies and headers), logs, the table, every queue, what reached Slack and
the run queue.

The values are hostile: quotes, backslashes, non-ASCII characters, a long one; a line break is tried
and refused. The receiver echoes what it got, JSON-escaped and repr'd, placed so that the token
crosses the cut of both excerpts (the stored attempt's and the test call's). The search looks for
every form of every value (escaped, encoded, quoted), not only the raw one."""

from __future__ import annotations

import copy
import json
import logging

import boto3
import pytest
from pipelines import SIGNING, TOKEN, Pipeline, register_run_queue
from receivers import Received
from samples import load_event

from mlhooks.components import reset_components
from mlhooks.local.inbox import SLACK_PATH
from mlhooks.local.sources import run_rule
from mlhooks.redaction import secret_forms

pytestmark = pytest.mark.suite("secrets")

VALUES = {
    "GITHUB_TOKEN": 'LEAKCHECK"tok\\en-7f3a9c',  # a header token: any visible ASCII
    "SIGNING": 'LEAKCHECK-signing-é€"\\-51be02',
    "EXTRA": 'LEAKCHECK-extra-ä"\\' + "x" * 3000 + "-c0ffee",  # long, for the payload
    "SLACK_BOT": 'xoxb-LEAKCHECK-"d00d\\',  # the fake Slack wants a bot token's prefix
}
ROTATED = 'LEAKCHECK-rotated-ü"9e9e9e'
REFUSED = "LEAKCHECK-crlf-c0de\r\n"  # pasted from a terminal: refused, and never echoed


def forms_of(value: str) -> set[str]:
    """Every form of the value, and every form of its JSON-escaped form (a stored document is JSON
    inside JSON), long enough not to match by chance."""
    forms = secret_forms(value) | secret_forms(json.dumps(value)[1:-1])
    return {form for form in forms if len(form) >= 8}


def echo_across_the_cuts(received: Received) -> tuple[bytes, dict[str, str]]:
    """An answer that quotes the request back, with the bearer token starting five characters before
    each excerpt's cut (1,024 for a stored attempt, 4,096 for the test call)."""
    auth = received.headers.get("Authorization", "")
    escaped = json.dumps(auth)[1:-1]
    reply = repr(("Authorization", auth))
    for cut in (1024, 4096):
        reply += "p" * (cut - 5 - len("Bearer ") - len(reply)) + escaped
    reply += json.dumps(received.body.decode())[1:-1] + repr(dict(received.headers))
    return reply.encode(), {"X-Echo-Authorization": auth}


def event(detail_type_file: str, event_id: str) -> dict:
    envelope = copy.deepcopy(load_event(detail_type_file))
    envelope["detail"].update(entity="acme", project="p", event_id=event_id)
    return envelope


def test_no_secret_value_escapes(
    aws, gateway, team, allow_loopback, receiver, slack, monkeypatch, capfd, caplog, record_figure
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MLHOOKS_SLACK_API_URL", slack.slack_api_url)
    reset_components()
    pipeline = Pipeline(team, aws, gateway.fns, boto3.client("sqs", region_name="us-east-1"))
    receiver.echo = echo_across_the_cuts
    api, base = team.admin, team.base
    replies = []

    def call(method, path, body=None, **kw):
        reply = api.call(method, base + path, body, **kw)
        replies.append(reply)
        return reply

    for name, value in VALUES.items():
        assert call("POST", "/secrets", {"name": name, "value": value}).status == 201
    assert call("POST", "/secrets", {"name": "CRLF", "value": REFUSED}).status == 400
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
    assert test.json["body_excerpt"].count("[REDACTED]") >= 2  # the echo was there, and was cut after
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

    # Every delivery path: a webhook, a Slack notification and a job for each event.
    register_run_queue(team, pipeline.sqs, "leakcheck")
    for name, action in [
        ("s", {"type": "NOTIFICATION", "slack": "alerts", "title": "${event_type}", "message": "${alias}"}),
        ("j", {"type": "QUEUE_JOB", "queue": "leakcheck", "job": "eval", "overrides": {"k": "v"}}),
    ]:
        body = {
            "name": name,
            "scope": {"type": "PROJECT", "project": "p"},
            "event": {"type": "CREATE_ARTIFACT"},
        }
        assert call("POST", "/automations", {**body, "action": action}).status == 201
    call("PATCH", "/webhooks/gh", {"alert_slack": "alerts"})

    def deliver(event_id: str) -> None:
        pipeline.match(event("platform-artifact-version-created.json", event_id))
        for kind in ("Webhook", "Slack", "Job"):
            pipeline.drain(kind)

    deliver("leak-ok")  # delivered at once
    receiver.statuses = [500, 500, 500]  # the echoing receiver fails until the attempts run out
    slack.script(SLACK_PATH, [503])  # and Slack fails once
    deliver("leak-failing")
    failed = call("GET", "/executions", query="state=FAILED").json["items"]
    assert [e["action_type"] for e in failed] == ["GENERIC_WEBHOOK"]
    assert call("POST", f"/executions/{failed[0]['id']}/redeliver", {}).status == 202
    pipeline.drain()
    receiver.status = 410  # gone: the webhook is disabled and the team alerted through Slack
    deliver("leak-gone")
    assert call("GET", "/webhooks/gh").json["health"]["alert"]["state"] == "SENT"

    # The execution history of every action type, every way it is listed.
    history = call("GET", "/executions").json["items"]
    assert {e["action_type"] for e in history} == {"GENERIC_WEBHOOK", "NOTIFICATION", "QUEUE_JOB"}
    assert {e["state"] for e in history} == {"FINISHED", "FAILED"}
    for execution in history:
        call("GET", f"/executions/{execution['id']}")
        call("GET", f"/automations/{execution['automation_id']}/executions")
    call("GET", "/projects/p/executions")

    # The receiver and Slack did get the real values: the leak check below is not vacuous.
    assert receiver.requests[0].json["extra"] == VALUES["EXTRA"]
    assert receiver.requests[0].headers["Authorization"] == f"Bearer {VALUES['GITHUB_TOKEN']}"
    deliveries = [r for r in receiver.requests if not r.headers["webhook-id"].startswith("msg_test_")]
    assert len(deliveries) == 1 + 3 + 1 + 1 and all(r.json["extra"] == VALUES["EXTRA"] for r in deliveries)
    assert len(slack.slack_messages) == 3 + 1  # three notifications and the alert

    searched = {value[:24]: forms_of(value) for value in [*VALUES.values(), ROTATED, REFUSED]}

    def leaks(text: str) -> list[str]:
        return [name for name, forms in searched.items() if any(form in text for form in forms)]

    for reply in replies:
        text = reply.raw.decode() + str(reply.headers)
        assert not leaks(text), (reply.status, leaks(text))

    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "authorized" in logs  # logging was captured
    assert not leaks(logs)

    table = boto3.resource("dynamodb", region_name="us-east-1").Table("mlhooks-local-Table")
    page = table.scan()
    items = page["Items"]
    while "LastEvaluatedKey" in page:
        page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
        items += page["Items"]
    stored = str(items)
    assert "GITHUB_TOKEN" in stored and "EXEC#" in stored
    assert not leaks(stored)
    assert "present" in stored  # signatures are kept as "present", never their value

    # What is still queued (nothing should be, but a DLQ keeps what it gets) and what left for
    # Slack and the run queue.
    queued = [
        m["Body"]
        for url in pipeline.sqs.list_queues()["QueueUrls"]
        for m in pipeline.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
    ]
    assert any('"job": "eval"' in body for body in queued)  # the jobs sent to the run queue
    sent = str(queued) + str(slack.slack_messages)
    assert not leaks(sent)
    record_figure(
        "secrets searched",
        f"{len(replies)} API replies, {len(logs.splitlines())} log lines, {len(items)} stored items, "
        f"{len(queued) + len(slack.slack_messages)} queued or sent messages",
    )


# ---- no redaction oracle -----------------------------------------------------------------------------
# A stored request body once was the sent body with every secret value matched and redacted: a member
# who put a guess in an event's metadata could read in the execution whether it equals a secret. It is
# now rendered again with each secret's placeholder set to the marker; event data is never matched.

PAYLOAD_SECRET = "payload-secret-value-42"
ORACLE_PAYLOAD = {
    "guess": "${artifact_metadata.guess}",
    "token": "${ACCESS_TOKEN}",
    "extra": "${EXTRA}",
}


@pytest.mark.parametrize("guess", [TOKEN, SIGNING], ids=["the access token", "the signing secret"])
def test_event_data_equal_to_a_secret_is_stored_unchanged_while_placeholders_are_redacted(
    pipeline, receiver, guess
):
    admin, member, base = pipeline.team.admin, pipeline.team.member, pipeline.base
    admin.post(f"{base}/secrets", {"name": "EXTRA", "value": PAYLOAD_SECRET})
    assert admin.patch(f"{base}/webhooks/github", {"secrets": ["EXTRA"]}).status == 200
    pipeline.automation(action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": ORACLE_PAYLOAD})
    detail = {k: v for k, v in load_event("platform-alias-added.json")["detail"].items() if k != "author"}
    detail["artifact"]["metadata"] = {"guess": guess}
    published = member.post(
        "/v1/events", {"events": [{"detail_type": "Artifact Alias Added", "detail": detail}]}
    )
    assert published.status == 202, published.raw
    assert run_rule(
        pipeline.fns, pipeline.sqs, "MatcherFunction", pipeline.stack.rule_taps["MatcherFunction"]
    )
    pipeline.drain()
    [request] = receiver.requests
    assert request.json == {"guess": guess, "token": TOKEN, "extra": PAYLOAD_SECRET}  # what was sent
    [summary] = member.get(f"{base}/executions").json["items"]
    stored = member.get(f"{base}/executions/{summary['id']}").json["request"]["body"]
    assert json.loads(stored) == {"guess": guess, "token": "[REDACTED]", "extra": "[REDACTED]"}
