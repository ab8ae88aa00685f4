"""Retrying and canceling an execution that waits for its next attempt.

A retry queues a new job and names it in the execution; the job it replaces is still on the queue
(postponed by the backoff) and, when it comes back, is dropped unsent. A cancel ends the execution,
and its job is dropped when it comes back. The execution decides which job is current, in the same
conditional writes that take a delivery's lease, so there is never more than one attempt at a time.

The backoff here is real (minutes), so a postponed message stays invisible until the test brings it
back (`Postponements.release`), as if its delay had passed.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from apiclient import Api
from pipelines import Postponements, alias_event
from samples import ROOT

from mlhooks.components import get_components
from mlhooks.local.apigw import LocalApiGateway
from mlhooks.local.functions import Functions

HELD = 10  # seconds a held call waits for its release before giving up (never reached when green)


@pytest.fixture
def waiting(pipeline, monkeypatch):
    """The pipeline with a backoff of minutes between attempts, and its postponements recorded."""
    pipeline.configure(monkeypatch, MLHOOKS_RETRY_BASE_SECONDS="600")
    pipeline.automation()
    return pipeline, Postponements(monkeypatch)


def failed_once(pipeline, receiver) -> str:
    """An execution whose first attempt got a 503: PENDING, its job postponed for minutes."""
    receiver.statuses = [503]
    pipeline.match(alias_event())
    pipeline.drain()
    [summary] = pipeline.executions()
    assert summary["state"] == "PENDING" and len(receiver.requests) == 1
    assert pipeline.invisible("WebhookQueue") == 1
    return summary["id"]


def url(pipeline, execution_id: str, action: str) -> str:
    return f"{pipeline.base}/executions/{execution_id}/{action}"


def queue_empty(pipeline) -> bool:
    return (
        pipeline.queue_depth("WebhookQueue") == 0
        and pipeline.invisible("WebhookQueue") == 0
        and pipeline.queue_depth("WebhookDLQ") == 0
    )


def hold(monkeypatch, target, method: str) -> tuple[threading.Event, threading.Event]:
    """Hold the first call of target.method until released: (reached, release)."""
    real, reached, release = getattr(target, method), threading.Event(), threading.Event()

    def held(*args, **kwargs):
        if not reached.is_set():
            reached.set()
            assert release.wait(HELD), "the held call was never released"
        return real(*args, **kwargs)

    monkeypatch.setattr(target, method, held)
    return reached, release


# ---- retry now ------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["retry", "redeliver"])
def test_retry_delivers_a_waiting_execution_at_once_and_its_old_job_never_delivers(waiting, receiver, route):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    assert min(postponed.delays) >= 300  # waiting out the backoff

    reply = pipeline.team.member.post(url(pipeline, execution_id, route))
    assert reply.status == 202, reply.raw
    assert reply.json["state"] == "PENDING" and reply.json["deliveries"] == 2
    pipeline.drain()
    execution = pipeline.execution(execution_id)
    assert execution["state"] == "FINISHED"
    assert [a["status_code"] for a in execution["attempts"]] == [503, 200]

    postponed.release()  # the replaced job's backoff ends
    pipeline.drain()
    assert len(receiver.requests) == 2 and receiver.answered == [503, 200]
    assert pipeline.execution(execution_id)["attempts"] == execution["attempts"]
    assert queue_empty(pipeline)


def test_a_retry_that_fails_again_is_retried_on_its_own_job_alone(waiting, receiver):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    receiver.statuses = [503]
    assert pipeline.team.member.post(url(pipeline, execution_id, "retry")).status == 202
    pipeline.drain()
    assert pipeline.execution(execution_id)["state"] == "PENDING" and len(receiver.requests) == 2

    postponed.release()  # both jobs come back: the replaced one is dropped, the retry's delivers
    pipeline.drain()
    execution = pipeline.execution(execution_id)
    assert execution["state"] == "FINISHED"
    assert [a["status_code"] for a in execution["attempts"]] == [503, 503, 200]
    assert len(receiver.requests) == 3 and queue_empty(pipeline)


def test_two_retries_in_a_row_deliver_once(waiting, receiver):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    first = pipeline.team.member.post(url(pipeline, execution_id, "retry"))
    second = pipeline.team.member.post(url(pipeline, execution_id, "retry"))
    assert (first.status, second.status) == (202, 202)
    assert second.json["deliveries"] == 3
    pipeline.drain()
    postponed.release()
    pipeline.drain()
    assert receiver.answered == [503, 200]
    assert pipeline.execution(execution_id)["state"] == "FINISHED" and queue_empty(pipeline)


@pytest.mark.parametrize("trial", range(5))
def test_two_retries_at_once_deliver_once(waiting, receiver, template, trial):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    second = Api(LocalApiGateway(Functions(ROOT, template), template), pipeline.team.keys["MEMBER"])
    start = threading.Barrier(2)

    def retry(api: Api):
        start.wait()
        return api.post(url(pipeline, execution_id, "retry"))

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(retry, [pipeline.team.member, second]))
    assert {r.status for r in replies} <= {202, 409} and 202 in {r.status for r in replies}
    for reply in replies:
        if reply.status == 409:
            assert reply.error["field"] == "state"
    pipeline.drain()
    postponed.release()
    pipeline.drain()
    assert receiver.answered == [503, 200]
    assert pipeline.execution(execution_id)["state"] == "FINISHED" and queue_empty(pipeline)


def test_a_retry_keeps_the_attempt_a_sender_recorded_while_it_was_decided(waiting, receiver, monkeypatch):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    receiver.statuses = [503]
    reached, release = hold(monkeypatch, get_components().store, "replace_execution")
    with ThreadPoolExecutor(1) as pool:
        retrying = pool.submit(pipeline.team.member.post, url(pipeline, execution_id, "retry"))
        assert reached.wait(HELD)  # the retry read the execution with one attempt
        postponed.release()
        pipeline.drain()  # meanwhile the backoff ended: a second attempt, 503 again
        release.set()
        assert retrying.result().status == 202
    pipeline.drain()
    execution = pipeline.execution(execution_id)
    assert [a["status_code"] for a in execution["attempts"]] == [503, 503, 200]
    assert execution["state"] == "FINISHED" and execution["deliveries"] == 2


def test_a_job_replaced_between_its_read_and_its_claim_does_not_deliver(waiting, receiver, monkeypatch):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    postponed.release()  # the backoff ends: the sender reads the execution, then is held at its claim
    reached, release = hold(monkeypatch, get_components().store, "claim_execution")
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(pipeline.drain, rounds=1)
        assert reached.wait(HELD)
        assert pipeline.team.member.post(url(pipeline, execution_id, "retry")).status == 202
        release.set()
        sending.result()
    assert len(receiver.requests) == 1  # the replaced job claimed nothing and sent nothing
    postponed.release()
    pipeline.drain()
    assert receiver.answered == [503, 200]
    assert pipeline.execution(execution_id)["state"] == "FINISHED" and queue_empty(pipeline)


@pytest.mark.parametrize("action", ["retry", "cancel"])
def test_nothing_is_retried_or_canceled_while_an_attempt_is_being_delivered(waiting, receiver, action):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    arrived, answer = threading.Event(), threading.Event()
    receiver.statuses = [("hold", arrived, answer)]  # the next attempt waits to be answered (200)
    postponed.release()
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(pipeline.drain)
        assert arrived.wait(HELD)
        reply = pipeline.team.member.post(url(pipeline, execution_id, action))
        answer.set()
        sending.result()
    assert reply.status == 409 and reply.error["code"] == "conflict"
    assert reply.error["field"] == "state" and "being delivered right now" in reply.error["message"]
    execution = pipeline.execution(execution_id)
    assert execution["state"] == "FINISHED" and [a["status_code"] for a in execution["attempts"]] == [
        503,
        200,
    ]
    assert len(receiver.requests) == 2 and queue_empty(pipeline)


def test_a_retry_that_cannot_be_queued_leaves_the_execution_waiting_for_its_job(
    waiting, receiver, monkeypatch
):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    before = pipeline.execution(execution_id)

    def unavailable(**_):
        raise RuntimeError("SQS is unavailable")

    monkeypatch.setattr(get_components().sqs, "send_message", unavailable)
    reply = pipeline.team.member.post(url(pipeline, execution_id, "retry"))
    assert reply.status == 500 and reply.error["code"] == "internal_error"
    after = pipeline.execution(execution_id)
    assert (after["state"], after["deliveries"], after["attempts"]) == ("PENDING", 1, before["attempts"])
    postponed.release()  # its own job still delivers
    pipeline.drain()
    assert pipeline.execution(execution_id)["state"] == "FINISHED" and receiver.answered == [503, 200]


def test_jobs_of_a_retried_execution_redriven_from_the_dead_letter_queue_deliver_once(
    pipeline, receiver, monkeypatch
):
    from mlhooks.redrive import redrive

    receiver.status = 500
    pipeline.automation()
    pipeline.deliver(alias_event())
    [summary] = pipeline.executions()
    assert pipeline.team.member.post(url(pipeline, summary["id"], "retry")).status == 202
    pipeline.drain()
    assert pipeline.execution(summary["id"])["state"] == "FAILED"
    assert pipeline.queue_depth("WebhookDLQ") == 2  # the matcher's job and the retry's

    receiver.status = 200
    refs = pipeline.stack.refs
    assert redrive(pipeline.sqs, get_components().store, refs["WebhookDLQ"], refs["WebhookQueue"]) == 2
    postponed = Postponements(monkeypatch)
    pipeline.drain()  # the redrive takes either job; the one that finds the other delivering waits
    postponed.release()
    pipeline.drain()
    assert receiver.answered == [500] * 6 + [200]
    assert pipeline.execution(summary["id"])["state"] == "FINISHED" and queue_empty(pipeline)


# ---- cancel ---------------------------------------------------------------------------------------


def test_cancel_ends_a_waiting_execution_and_its_job_is_dropped_unsent(waiting, receiver):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    reply = pipeline.team.member.post(url(pipeline, execution_id, "cancel"), {"reason": "wrong model"})
    assert reply.status == 200, reply.raw
    assert reply.json["state"] == "CANCELED" and reply.json["reason"] == "canceled by bob: wrong model"
    assert pipeline.execution(execution_id) == reply.json
    assert reply.json["canceled_by"] == "bob" and reply.json["canceled_at"]

    postponed.release()
    pipeline.drain()
    assert len(receiver.requests) == 1  # no further attempt
    execution = pipeline.execution(execution_id)
    assert execution["state"] == "CANCELED" and [a["status_code"] for a in execution["attempts"]] == [503]
    assert queue_empty(pipeline)  # the job was deleted, not left for the dead-letter queue


def test_cancel_before_the_first_attempt_sends_nothing(pipeline, receiver):
    pipeline.automation()
    pipeline.match(alias_event())
    [summary] = pipeline.executions()
    reply = pipeline.team.member.post(url(pipeline, summary["id"], "cancel"))
    assert reply.status == 200 and reply.json["reason"] == "canceled by bob"
    pipeline.drain()
    assert receiver.requests == [] and queue_empty(pipeline)
    assert pipeline.execution(summary["id"])["attempts"] == []


def test_a_cancel_between_a_senders_read_and_its_claim_stops_the_attempt(waiting, receiver, monkeypatch):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    postponed.release()
    reached, release = hold(monkeypatch, get_components().store, "claim_execution")
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(pipeline.drain, rounds=1)
        assert reached.wait(HELD)  # the sender read the execution PENDING
        assert pipeline.team.member.post(url(pipeline, execution_id, "cancel")).status == 200
        release.set()
        sending.result()
    postponed.release()
    pipeline.drain()
    assert len(receiver.requests) == 1 and queue_empty(pipeline)
    assert pipeline.execution(execution_id)["state"] == "CANCELED"


def test_a_canceled_execution_is_sent_again_by_a_retry_and_its_old_job_stays_dropped(waiting, receiver):
    pipeline, postponed = waiting
    execution_id = failed_once(pipeline, receiver)
    pipeline.team.member.post(url(pipeline, execution_id, "cancel"))
    reply = pipeline.team.member.post(url(pipeline, execution_id, "retry"))
    assert reply.status == 202 and reply.json["state"] == "PENDING" and reply.json["reason"] is None
    pipeline.drain()
    postponed.release()
    pipeline.drain()
    assert receiver.answered == [503, 200]
    assert pipeline.execution(execution_id)["state"] == "FINISHED" and queue_empty(pipeline)


def test_a_failed_execution_is_sent_again_by_a_retry(pipeline, receiver):
    receiver.status = 400  # fails at once, no retry
    pipeline.automation()
    pipeline.deliver(alias_event())
    [summary] = pipeline.executions()
    assert summary["state"] == "FAILED"
    receiver.status = 200
    reply = pipeline.team.member.post(url(pipeline, summary["id"], "retry"))
    assert reply.status == 202 and reply.json["deliveries"] == 2
    pipeline.drain()
    assert pipeline.execution(summary["id"])["state"] == "FINISHED" and receiver.answered == [400, 200]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"reason": "x" * 501}, "reason"), ({"reson": "typo"}, "reson"), ({"reason": 7}, "reason")],
    ids=["too-long", "unknown-field", "not-text"],
)
def test_a_cancel_with_a_body_it_cannot_take_is_a_400_on_the_field(pipeline, body, field):
    pipeline.automation()
    pipeline.match(alias_event())
    [summary] = pipeline.executions()
    reply = pipeline.team.member.post(url(pipeline, summary["id"], "cancel"), body)
    assert reply.status == 400 and reply.error["code"] == "validation_error"
    assert reply.error["field"] == field
    assert pipeline.execution(summary["id"])["state"] == "PENDING"


def test_a_body_less_cancel_with_a_text_content_type_is_taken(pipeline):
    pipeline.automation()
    pipeline.match(alias_event())
    [summary] = pipeline.executions()
    reply = pipeline.team.member.post(
        url(pipeline, summary["id"], "cancel"), headers={"Content-Type": "text/plain"}
    )
    assert reply.status == 200 and reply.json["state"] == "CANCELED"


# ---- states, listings, refusals -------------------------------------------------------------------


def test_canceled_executions_are_filtered_counted_and_documented(pipeline, receiver, gateway):
    pipeline.automation()
    for i in range(3):
        pipeline.match(alias_event(event_id=f"control-{i}"))
    first = pipeline.executions()[0]
    pipeline.team.member.post(url(pipeline, first["id"], "cancel"))
    pipeline.drain()
    assert [e["id"] for e in pipeline.executions(state="CANCELED")] == [first["id"]]
    assert len(pipeline.executions(state="FINISHED")) == 2
    count = pipeline.team.viewer.get(
        f"{pipeline.base}/projects/wandb-registry-model/collections/resnet50/executions/count"
    ).json
    assert count["by_state"] == {"PENDING": 0, "FINISHED": 2, "FAILED": 0, "SKIPPED": 0, "CANCELED": 1}
    assert count["total"] == 3
    status, _, body = gateway.handle("GET", "/v1/openapi.json", "", {}, b"")
    assert status == 200
    document = json.loads(body)
    [state] = [
        p
        for p in document["paths"]["/v1/entities/{entity}/executions"]["get"]["parameters"]
        if p["name"] == "state"
    ]
    assert {"$ref": "#/components/schemas/ExecutionState"} in state["schema"]["anyOf"]
    assert "CANCELED" in document["components"]["schemas"]["ExecutionState"]["enum"]


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("FINISHED", "retry"),
        ("FINISHED", "redeliver"),
        ("SKIPPED", "retry"),
        ("FINISHED", "cancel"),
        ("FAILED", "cancel"),
        ("CANCELED", "cancel"),
        ("SKIPPED", "cancel"),
    ],
)
def test_an_execution_in_a_state_the_action_does_not_apply_to_is_a_409_on_state(
    pipeline, receiver, monkeypatch, state, action
):
    if state == "SKIPPED":
        pipeline.configure(monkeypatch, MLHOOKS_RATE_LIMIT_PER_MINUTE="1")
    receiver.status = 400 if state == "FAILED" else 200
    pipeline.automation()
    for i in range(2):
        pipeline.match(alias_event(event_id=f"refused-{i}"))
    if state == "CANCELED":
        pending = pipeline.executions(state="PENDING")[0]["id"]
        pipeline.team.member.post(url(pipeline, pending, "cancel"))
    pipeline.drain()
    [target] = pipeline.executions(state=state)[:1]
    reply = pipeline.team.member.post(url(pipeline, target["id"], action))
    assert reply.status == 409 and reply.error["code"] == "conflict", reply.raw
    assert reply.error["field"] == "state" and state in reply.error["message"]
    assert pipeline.execution(target["id"])["state"] == state


@pytest.mark.parametrize("action", ["retry", "redeliver", "cancel"])
@pytest.mark.parametrize(
    "execution_id", ["nope", "x" * 2000, "%F0%9F%A6%84"], ids=["unknown", "long", "emoji"]
)
def test_an_unknown_execution_is_a_404(pipeline, action, execution_id):
    reply = pipeline.team.member.post(url(pipeline, execution_id, action))
    assert reply.status == 404 and reply.error["code"] == "not_found", reply.raw
    assert reply.error["field"] == "execution_id"


def test_a_viewer_can_neither_retry_nor_cancel(pipeline):
    pipeline.automation()
    pipeline.match(alias_event())
    [summary] = pipeline.executions()
    for action in ("retry", "cancel"):
        reply = pipeline.team.viewer.post(url(pipeline, summary["id"], action))
        assert reply.status == 403 and reply.error["code"] == "forbidden"
    assert pipeline.execution(summary["id"])["state"] == "PENDING"
