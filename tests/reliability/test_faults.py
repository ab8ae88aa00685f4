"""Faults: endpoints that time out, reset, answer slowly or refuse; AWS errors inside the functions;
poison messages; a sender failing halfway through a batch. For each: the execution ends in the right
state, nothing acknowledged is delivered twice, nothing is dropped silently."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from pipelines import Postponements, use_slack
from samples import load_event

from mlhooks.components import get_components
from mlhooks.senders.base import LEASE_SECONDS, MAX_VISIBILITY_SECONDS, VISIBILITY_MARGIN_SECONDS

pytestmark = pytest.mark.suite("faults")


@pytest.fixture
def short_timeouts(monkeypatch, pipeline):
    return pipeline.configure(monkeypatch, MLHOOKS_HTTP_READ_TIMEOUT_SECONDS="0.5")


def deliver_one(pipeline, *, rounds: int = 20) -> dict:
    pipeline.automation()
    pipeline.match(load_event("platform-alias-added.json"))
    pipeline.drain(rounds=rounds)
    [summary] = pipeline.executions()
    return pipeline.execution(summary["id"])


def acknowledged(receiver) -> int:
    """Requests the receiver answered with 2xx: each is a delivery the sender saw succeed."""
    return sum(1 for r in receiver.answered if 200 <= r < 300)


@pytest.mark.parametrize(
    ("script", "state", "classes"),
    [
        ([("sleep", 2)], "FINISHED", ["timeout", None]),
        (["reset"], "FINISHED", ["connection_error", None]),
        ([("sleep", 0.05)], "FINISHED", [None]),  # slow, well within the 0.5 s read timeout
        ([503, 502], "FINISHED", ["http_status", "http_status", None]),
        ([429], "FINISHED", ["http_status", None]),
        ([("sleep", 2)] * 3, "FAILED", ["timeout"] * 3),
        (["reset"] * 3, "FAILED", ["connection_error"] * 3),
        ([500] * 3, "FAILED", ["http_status"] * 3),
        ([400], "FAILED", ["http_status"]),
        ([410], "FAILED", ["http_status"]),
    ],
    ids=[
        "timeout-then-ok",
        "reset-then-ok",
        "slow-but-in-time",
        "5xx-twice",
        "429-no-retry-after",
        "always-times-out",
        "always-resets",
        "always-5xx",
        "400-at-once",
        "410-gone",
    ],
)
def test_endpoint_faults_end_in_the_right_state(short_timeouts, receiver, script, state, classes):
    receiver.statuses = list(script)
    execution = deliver_one(short_timeouts)
    assert execution["state"] == state
    assert [a["error_class"] for a in execution["attempts"]] == classes
    assert acknowledged(receiver) == (1 if state == "FINISHED" else 0)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one id across retries
    dead = short_timeouts.queue_depth("WebhookDLQ")
    retried_out = state == "FAILED" and len(classes) == 3
    assert dead == (1 if retried_out else 0)  # given up after retries: kept in the DLQ, never dropped


def test_retry_after_on_5xx_delays_the_next_attempt(pipeline, receiver, monkeypatch):
    postponed = Postponements(monkeypatch)
    receiver.statuses = [503]
    receiver.extra_headers = {"Retry-After": "7"}
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    assert len(receiver.requests) == 1 and pipeline.executions()[0]["state"] == "PENDING"
    assert postponed.delays == [7]  # the receiver's wish, not the backoff (zero in tests)
    assert pipeline.invisible("WebhookQueue") == 1
    postponed.release()
    receiver.extra_headers = {}
    pipeline.drain()
    assert pipeline.executions()[0]["state"] == "FINISHED" and len(receiver.requests) == 2


def test_a_retry_after_longer_than_sqs_allows_waits_as_long_as_sqs_allows(pipeline, receiver, monkeypatch):
    postponed = Postponements(monkeypatch)
    receiver.statuses = [503]
    receiver.extra_headers = {"Retry-After": "86400"}  # a day: past SQS's 12-hour visibility ceiling
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    [delay] = postponed.delays
    # The whole wait a message may still have, counted from when it was first received, less a margin.
    ceiling = MAX_VISIBILITY_SECONDS - VISIBILITY_MARGIN_SECONDS
    assert ceiling - 60 <= delay <= ceiling
    assert pipeline.executions()[0]["state"] == "PENDING" and pipeline.invisible("WebhookQueue") == 1


def test_secrets_manager_throttling_in_the_sender_is_retried(pipeline, receiver, monkeypatch):
    client = get_components().vault.client
    real, calls = client.get_secret_value, {"n": 0}

    def throttled(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetSecretValue"
            )
        return real(**kwargs)

    monkeypatch.setattr(client, "get_secret_value", throttled)
    execution = deliver_one(pipeline)
    assert execution["state"] == "FINISHED"
    assert [a["error_class"] for a in execution["attempts"]] == ["internal", None]
    assert execution["attempts"][0]["error"].startswith("ThrottlingException: ")
    assert acknowledged(receiver) == 1


def test_dynamodb_throttling_in_the_matcher_leaves_the_event_to_be_retried(pipeline, receiver, monkeypatch):
    pipeline.automation()
    store = get_components().store
    real = store.create_execution

    def throttled(record):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
        )

    monkeypatch.setattr(store, "create_execution", throttled)
    with pytest.raises(ClientError):
        pipeline.match(load_event("platform-alias-added.json"))  # EventBridge retries the event
    monkeypatch.setattr(store, "create_execution", real)
    pipeline.deliver(load_event("platform-alias-added.json"))
    assert [e["state"] for e in pipeline.executions()] == ["FINISHED"] and acknowledged(receiver) == 1


@pytest.mark.parametrize("kind", ["Webhook", "Slack", "Job"])
def test_a_poison_message_on_each_queue_ends_in_its_dead_letter_queue(pipeline, kind):
    pipeline.sqs.send_message(QueueUrl=pipeline.stack.refs[f"{kind}Queue"], MessageBody='{"not": "a job"}')
    pipeline.drain(kind)
    assert pipeline.queue_depth(f"{kind}DLQ") == 1 and pipeline.queue_depth(f"{kind}Queue") == 0


def test_a_malformed_event_on_the_bus_ends_in_the_events_dead_letter_queue(pipeline):
    pipeline.match({"source": "mlhooks.platform", "detail-type": "Artifact Alias Added", "detail": "garbage"})
    [message] = pipeline.sqs.receive_message(QueueUrl=pipeline.stack.refs["EventsDLQ"])["Messages"]
    assert json.loads(message["Body"])["reason"] == "invalid detail"


def test_sender_failing_halfway_through_a_batch_delivers_nothing_twice(pipeline, receiver, monkeypatch):
    from mlhooks.senders import WebhookSender

    pipeline.automation()
    for i in range(3):
        pipeline.match(
            load_event("platform-alias-added.json")
            | {"detail": {**load_event("platform-alias-added.json")["detail"], "event_id": f"batch-{i}"}}
        )
    real, crashed = WebhookSender.deliver, {"done": False}

    def crash_once(self, execution, redactor):
        if execution.event["event_id"] == "batch-1" and not crashed["done"]:
            crashed["done"] = True
            raise RuntimeError("the function crashed halfway through the batch")
        return real(self, execution, redactor)

    monkeypatch.setattr(WebhookSender, "deliver", crash_once)
    pipeline.drain()
    executions = {e["id"]: pipeline.execution(e["id"]) for e in pipeline.executions()}
    assert sorted(e["state"] for e in executions.values()) == ["FINISHED"] * 3
    crashed_one = next(e for e in executions.values() if e["event"]["event_id"] == "batch-1")
    assert [a["error_class"] for a in crashed_one["attempts"]] == ["internal", None]
    assert crashed_one["attempts"][0]["error"].startswith("RuntimeError: ")
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 3 and len(set(ids)) == 3  # the two delivered before the crash were not sent again


def test_slack_outage_is_retried_then_recovers(pipeline, slack, monkeypatch):
    from mlhooks.local.inbox import SLACK_PATH

    use_slack(pipeline, slack, monkeypatch, "xoxb-outage")
    pipeline.automation(action={"type": "NOTIFICATION", "slack": "alerts", "title": "New ${alias}"})
    slack.script(SLACK_PATH, [503])
    pipeline.match(load_event("platform-alias-added.json"))
    pipeline.drain("Slack")
    execution = pipeline.execution(pipeline.executions()[0]["id"])
    assert execution["state"] == "FINISHED" and [a["status_code"] for a in execution["attempts"]] == [
        503,
        200,
    ]
    assert len(slack.slack_messages) == 1


def test_two_copies_of_one_job_in_flight_deliver_once(pipeline, receiver):
    """SQS delivers at least once: two copies of a message (one id, two receipts) reach two sender
    containers together. The lease's conditional write lets one deliver; the other is kept, not
    deleted, and when it comes back it finds the job done."""
    from mlhooks.local.sources import sqs_record
    from mlhooks.senders import WebhookSender

    arrived, release = threading.Event(), threading.Event()
    receiver.statuses = [("hold", arrived, release)]  # both copies in flight at once
    pipeline.automation()
    pipeline.match(load_event("platform-alias-added.json"))
    url, arn = pipeline.stack.refs["WebhookQueue"], pipeline.stack.arns["WebhookQueue"]
    copies = [
        pipeline.sqs.receive_message(QueueUrl=url, AttributeNames=["All"], VisibilityTimeout=0)["Messages"][0]
        for _ in range(2)
    ]
    assert copies[0]["MessageId"] == copies[1]["MessageId"]
    assert copies[0]["ReceiptHandle"] != copies[1]["ReceiptHandle"]
    components = get_components()

    def container(message: dict) -> dict:
        return WebhookSender(components, url).handle_batch({"Records": [sqs_record(message, arn)]})

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(container, copies[0])
        assert arrived.wait(30)  # the first copy holds the lease and waits on the receiver
        kept = pool.submit(container, copies[1]).result()  # finds the lease held: keeps its message
        release.set()
        answers = [first.result(), kept]
    assert len(receiver.requests) == 1
    assert sorted(len(a["batchItemFailures"]) for a in answers) == [0, 1]  # one done, one kept
    assert [e["state"] for e in pipeline.executions()] == ["FINISHED"]
    # The kept copy comes back (at once here, rather than after the lease) and is deleted unsent.
    pipeline.sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=copies[1]["ReceiptHandle"], VisibilityTimeout=0
    )
    assert pipeline.drain() == 1 and len(receiver.requests) == 1
    assert pipeline.queue_depth("WebhookQueue") + pipeline.invisible("WebhookQueue") == 0
    assert pipeline.queue_depth("WebhookDLQ") == 0


def test_a_conditional_check_conflict_on_the_lease_keeps_the_job(pipeline, receiver, monkeypatch):
    """DynamoDB refuses the sender's claim (ConditionalCheckFailed): the job is postponed, never
    dropped, and delivered once when it comes back."""
    postponed = Postponements(monkeypatch)
    table = get_components().store.table
    real, refused = table.update_item, []

    def conflict_once(**kwargs):
        if kwargs["UpdateExpression"].startswith("SET lease_owner") and not refused:
            refused.append(kwargs["Key"])
            raise ClientError(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": "conflict"}}, "UpdateItem"
            )
        return real(**kwargs)

    monkeypatch.setattr(table, "update_item", conflict_once)
    pipeline.automation()
    pipeline.deliver(load_event("platform-alias-added.json"))
    assert refused and not receiver.requests
    assert [e["state"] for e in pipeline.executions()] == ["PENDING"]
    assert pipeline.invisible("WebhookQueue") == 1
    assert postponed.delays == [LEASE_SECONDS]  # back when the other copy's lease would have run out
    postponed.release()
    pipeline.drain()
    assert [e["state"] for e in pipeline.executions()] == ["FINISHED"] and len(receiver.requests) == 1
    assert pipeline.queue_depth("WebhookQueue") == 0 and pipeline.queue_depth("WebhookDLQ") == 0
