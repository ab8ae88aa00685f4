"""Webhook health: after a run of consecutive failures over a minimum time a webhook is disabled,
its automations say so, the chosen Slack integration is told, and an admin turns it back on."""

from __future__ import annotations

import time

import pytest
from pipelines import Pipeline, alias_event, use_slack

from mlhooks.components import get_components
from mlhooks.health import DisabledAlert, WebhookHealthMonitor
from mlhooks.local.inbox import SLACK_PATH

pytestmark = pytest.mark.suite("webhook health")


def configure(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, failures: int, seconds: float) -> None:
    pipeline.configure(
        monkeypatch,
        MLHOOKS_WEBHOOK_DISABLE_AFTER_FAILURES=str(failures),
        MLHOOKS_WEBHOOK_DISABLE_AFTER_SECONDS=str(seconds),
    )


def publish(pipeline: Pipeline, n: int) -> None:
    pipeline.deliver(alias_event(event_id=f"health-{n}"))


def webhook(pipeline: Pipeline) -> dict:
    return pipeline.team.viewer.get(f"{pipeline.base}/webhooks/github").json


def by_event(pipeline: Pipeline) -> dict[str, dict]:
    return {e["event"]["event_id"]: e for e in (pipeline.execution(s["id"]) for s in pipeline.executions())}


@pytest.fixture
def alerted(pipeline, slack, monkeypatch):
    """The pipeline with a Slack integration `alerts` chosen to hear about the webhook's health."""
    use_slack(pipeline, slack, monkeypatch, "xoxb-health")
    reply = pipeline.team.admin.patch(f"{pipeline.base}/webhooks/github", {"alert_slack": "alerts"})
    assert reply.status == 200 and reply.json["alert_slack"] == "alerts"
    return pipeline


def test_a_webhook_failing_long_enough_is_disabled_reported_alerted_and_reenabled(
    alerted, receiver, slack, monkeypatch
):
    pipeline = alerted
    configure(pipeline, monkeypatch, failures=3, seconds=3600)
    automation = pipeline.automation()
    receiver.status = 500

    publish(pipeline, 1)  # three failed attempts (the attempt limit) in well under a second
    health = webhook(pipeline)["health"]
    assert webhook(pipeline)["enabled"] is True  # enough failures, but not for long enough
    assert (health["state"], health["consecutive_failures"]) == ("FAILING", 3)
    assert health["last_error"] == "HTTP 500" and health["failing_since"]
    status = pipeline.team.viewer.get(f"{pipeline.base}/automations/{automation['id']}").json["action_status"]
    assert status["state"] == "FAILING" and "3 failed deliveries in a row" in status["reason"]

    # The sender's clock, an hour on: the fourth failure comes over an hour after the first.
    sender = pipeline.fns.module("WebhookSenderFunction").sender
    sender.health.clock = lambda: time.time() + 3601
    publish(pipeline, 2)  # enough failures, and for long enough: disabled
    hook = webhook(pipeline)
    assert hook["enabled"] is False and hook["disabled_at"]
    assert "4 failed deliveries in a row" in hook["disabled_reason"] and "HTTP 500" in hook["disabled_reason"]
    assert hook["health"]["state"] == "DISABLED"
    assert len(receiver.requests) == 4  # the second execution was not tried again once disabled
    second = by_event(pipeline)["health-2"]
    assert second["state"] == "FAILED" and "is disabled" in second["reason"]

    # Its automations report it, one by one and in lists.
    got = pipeline.team.viewer.get(f"{pipeline.base}/automations/{automation['id']}").json
    assert got["action_status"] == {"state": "DISABLED", "reason": hook["disabled_reason"]}
    [listed] = pipeline.team.viewer.get(f"{pipeline.base}/automations").json["items"]
    assert listed["action_status"]["state"] == "DISABLED"

    # The team is told, once, in the channel it chose.
    pipeline.drain("Slack")
    [message] = slack.slack_messages
    assert message["channel"] == "C0123ABCD" and "github" in message["text"]
    assert "4 failed deliveries in a row" in str(message["attachments"])
    alert = webhook(pipeline)["health"]["alert"]
    assert (alert["slack"], alert["state"], alert["error"]) == ("alerts", "SENT", None)

    # While disabled, events are recorded and fail at once without calling the receiver.
    publish(pipeline, 3)
    assert by_event(pipeline)["health-3"]["state"] == "FAILED" and len(receiver.requests) == 4

    # Only an admin re-enables it; the failure count starts afresh and deliveries flow again.
    member = pipeline.team.member.patch(f"{pipeline.base}/webhooks/github", {"enabled": True})
    assert member.status == 403
    receiver.status = 200
    hook = pipeline.team.admin.patch(f"{pipeline.base}/webhooks/github", {"enabled": True}).json
    assert hook["enabled"] is True and hook["disabled_reason"] is None and hook["disabled_at"] is None
    assert hook["health"] == {
        "state": "HEALTHY",
        "consecutive_failures": 0,
        "failing_since": None,
        "last_failure_at": None,
        "last_error": None,
        "alert": None,
    }
    third = by_event(pipeline)["health-3"]["id"]
    assert pipeline.team.member.post(f"{pipeline.base}/executions/{third}/redeliver", {}).status == 202
    pipeline.drain()
    publish(pipeline, 4)
    states = {event: e["state"] for event, e in by_event(pipeline).items()}
    assert states == {
        "health-1": "FAILED",
        "health-2": "FAILED",
        "health-3": "FINISHED",
        "health-4": "FINISHED",
    }
    got = pipeline.team.viewer.get(f"{pipeline.base}/automations/{automation['id']}").json
    assert got["action_status"] == {"state": "READY", "reason": None}


def test_a_success_ends_the_run_of_failures(pipeline, receiver, monkeypatch):
    configure(pipeline, monkeypatch, failures=3, seconds=0)
    pipeline.automation()
    for n in range(3):  # six failures in all, but never three in a row
        receiver.statuses = [503, 503]
        publish(pipeline, n)
        assert webhook(pipeline)["health"]["consecutive_failures"] == 0
    assert webhook(pipeline)["enabled"] is True
    assert [e["state"] for e in pipeline.executions()] == ["FINISHED"] * 3


@pytest.mark.parametrize(("failures", "disabled"), [(0, False), (2, True)], ids=["never", "after-2"])
def test_the_limit_is_configurable_and_zero_never_disables(
    pipeline, receiver, monkeypatch, failures, disabled
):
    configure(pipeline, monkeypatch, failures=failures, seconds=0)
    pipeline.automation()
    receiver.status = 500
    publish(pipeline, 1)
    assert webhook(pipeline)["enabled"] is not disabled
    assert len(receiver.requests) == (2 if disabled else 3)


def test_410_gone_disables_at_once_and_alerts(alerted, receiver, slack):
    alerted.automation()
    receiver.status = 410
    publish(alerted, 1)
    hook = webhook(alerted)
    assert hook["enabled"] is False and "410 Gone" in hook["disabled_reason"]
    alerted.drain("Slack")
    assert len(slack.slack_messages) == 1 and webhook(alerted)["health"]["alert"]["state"] == "SENT"
    receiver.status = 200
    publish(alerted, 2)
    assert len(receiver.requests) == 1  # not called while disabled
    assert alerted.team.admin.patch(f"{alerted.base}/webhooks/github", {"enabled": True}).json["enabled"]
    publish(alerted, 3)
    assert len(receiver.requests) == 2  # and called again once re-enabled


def test_an_alert_slack_refuses_to_answer_is_recorded_as_failed(alerted, receiver, slack, monkeypatch):
    # A bot token Slack refuses: final, so the alert is kept as FAILED rather than retried forever.
    alerted.team.admin.put(f"{alerted.base}/secrets/SLACK_BOT", {"value": "revoked-token"})
    monkeypatch.setenv("MLHOOKS_SECRET_CACHE_SECONDS", "0")
    alerted.automation()
    receiver.status = 410
    publish(alerted, 1)
    alerted.drain("Slack")
    alert = webhook(alerted)["health"]["alert"]
    assert (alert["state"], alert["error"]) == ("FAILED", "invalid_auth") and not slack.slack_messages
    assert alerted.queue_depth("SlackQueue") == 0 and alerted.queue_depth("SlackDLQ") == 0


def test_a_slack_outage_delays_the_alert_but_does_not_lose_it(alerted, receiver, slack):
    slack.script(SLACK_PATH, [503])
    alerted.automation()
    receiver.status = 410
    publish(alerted, 1)
    alerted.drain("Slack")
    assert len(slack.slack_messages) == 1 and webhook(alerted)["health"]["alert"]["state"] == "SENT"


def test_racing_senders_disable_once_and_alert_once(pipeline, monkeypatch):
    """Eight senders see the limit crossed, all from a read taken before any of them wrote: the
    conditional write on the webhook's revision lets exactly one disable it and alert. (They run
    one after another: moto's in-process table does not make concurrent writes atomic, DynamoDB
    does, and the stale read is what the race comes down to.)"""
    configure(pipeline, monkeypatch, failures=1, seconds=0)
    components = get_components()
    pipeline.team.admin.post(f"{pipeline.base}/secrets", {"name": "BOT", "value": "xoxb-health-alerts"})
    body = {"name": "ops", "bot_token_secret": "BOT", "channel_id": "C0123ABCD", "channel_name": "ops"}
    pipeline.team.admin.post(f"{pipeline.base}/slack", body)
    pipeline.team.admin.patch(f"{pipeline.base}/webhooks/github", {"alert_slack": "ops"})
    seen = components.store.get_webhook("dev", "github")
    for _ in range(8):
        WebhookHealthMonitor(components).failed(seen, "HTTP 500")
    hook = webhook(pipeline)
    assert hook["enabled"] is False and hook["health"]["consecutive_failures"] == 8
    messages = components.sqs.receive_message(
        QueueUrl=pipeline.stack.refs["SlackQueue"], MaxNumberOfMessages=10
    )
    alerts = [DisabledAlert.parse(m["Body"]) for m in messages.get("Messages", [])]
    assert len(alerts) == 1 and alerts[0].webhook == "github" and alerts[0].slack == "ops"


def test_the_alert_slack_must_exist_and_stays_while_chosen(pipeline, slack, monkeypatch):
    admin, base = pipeline.team.admin, pipeline.base
    reply = admin.patch(f"{base}/webhooks/github", {"alert_slack": "nope"})
    assert reply.status == 422 and reply.json["error"]["field"] == "alert_slack"
    use_slack(pipeline, slack, monkeypatch, "xoxb-keep")
    assert admin.patch(f"{base}/webhooks/github", {"alert_slack": "alerts"}).status == 200
    refused = admin.delete(f"{base}/slack/alerts")
    assert refused.status == 409 and "webhook 'github'" in refused.json["error"]["message"]
    assert admin.patch(f"{base}/webhooks/github", {"alert_slack": None}).status == 200
    assert admin.delete(f"{base}/slack/alerts").status == 204
