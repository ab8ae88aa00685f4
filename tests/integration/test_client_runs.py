"""The run logger against a real HTTP server standing in for the API's `POST /v1/events`: batches of
ten, retries that resend the same events, refusals that drop only the refused event, a bounded
buffer, and a training loop that is never held up by the API."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from receivers import Receiver

import mlhooks
from mlhooks.client import runs
from mlhooks.client.runs import BATCH

ACCEPTED = json.dumps({"published": []}).encode()


@pytest.fixture
def api() -> Iterator[Receiver]:
    server = Receiver(status=202, reply=ACCEPTED)
    yield server
    server.close()


def client_of(server: Receiver) -> mlhooks.Client:
    return mlhooks.Client(server.url.removesuffix("/hook"), "test-key", entity="dev")


def sent_events(server: Receiver) -> list[dict[str, Any]]:
    """Every event of every request the API answered with 2xx, in order."""
    ok = [r for r, status in zip(server.requests, server.answered, strict=False) if 200 <= status < 300]
    return [event for request in ok for event in request.json["events"]]


def test_metrics_go_in_batches_of_ten_in_order_and_the_run_ends_with_its_state(api: Receiver) -> None:
    run = client_of(api).run(project="training", name="exp-42")
    for step in range(25):
        run.log({"loss": 1 / (step + 1), "acc": step / 25})
    assert run.finish() is True

    assert all(len(r.json["events"]) <= BATCH for r in api.requests)
    events = sent_events(api)
    assert [e["detail"]["run"]["step"] for e in events[:-1]] == list(range(25))
    assert events[-1]["detail_type"] == "Run State Changed"
    assert events[-1]["detail"]["run"] == {
        "id": run.id,
        "display_name": "exp-42",
        "state": "FINISHED",
        "step": 24,
    }
    assert len({e["detail"]["event_id"] for e in events}) == 26
    assert (run.sent, run.dropped) == (26, 0)
    assert api.requests[0].headers["Authorization"] == "Bearer test-key"
    assert api.requests[0].path == "/v1/events"


def test_explicit_steps_and_non_finite_values_travel_as_json_can_carry_them(api: Receiver) -> None:
    run = client_of(api).run(project="training", name="exp")
    run.log({"loss": float("nan"), "grad": float("inf")}, step=7)
    run.log({"loss": 0.5, "image": object()})  # not a number: skipped, the rest kept
    run.finish()
    metrics = [e["detail"]["run"] for e in sent_events(api)[:2]]
    assert metrics[0]["step"] == 7 and metrics[0]["metrics"] == {"loss": "NaN", "grad": "Infinity"}
    assert metrics[1]["step"] == 8 and metrics[1]["metrics"] == {"loss": 0.5}


def test_a_failing_api_is_retried_with_the_same_events_until_it_answers(api: Receiver) -> None:
    api.statuses = [503, "reset", 429]
    run = client_of(api).run(project="training", name="exp")
    for step in range(5):
        run.log({"loss": step}, step=step)
    assert run.finish() is True

    attempts = [[e["detail"]["event_id"] for e in r.json["events"]] for r in api.requests]
    # The same events each time (their ids dedupe a batch that landed but whose answer was lost).
    assert attempts[0] == attempts[1] == attempts[2]
    assert [e["detail"]["run"]["step"] for e in sent_events(api)[:5]] == [0, 1, 2, 3, 4]
    assert (run.sent, run.dropped) == (6, 0)


def test_an_event_the_api_refuses_is_dropped_alone_and_counted(
    api: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = {"error": {"code": "invalid_input", "message": "too long", "field": "events[2].detail.run"}}
    api.statuses = [422]
    api.echo = lambda _: (json.dumps(refusal).encode() if len(api.requests) == 1 else ACCEPTED, {})
    run = client_of(api).run(project="training", name="exp", flush_seconds=60)
    for step in range(BATCH):
        run.log({"loss": step}, step=step)
    assert run.finish() is False  # not everything logged was sent

    steps = [
        e["detail"]["run"].get("step") for e in sent_events(api) if e["detail_type"] == "Run Metrics Logged"
    ]
    assert steps == [0, 1, 3, 4, 5, 6, 7, 8, 9]
    assert run.dropped == 1
    assert "refused Run Metrics Logged: 422 invalid_input: too long" in caplog.text


def test_the_training_loop_goes_on_while_the_api_holds_a_request(api: Receiver) -> None:
    """The first batch is held by the API (no answer until the test says so). The loop logs all its
    steps meanwhile: `log` never waits for the network. No clock is involved."""
    arrived, release = threading.Event(), threading.Event()
    api.statuses = [("hold", arrived, release)]
    run = client_of(api).run(project="training", name="exp")
    for step in range(BATCH):
        run.log({"loss": step})
    assert arrived.wait(10)
    for step in range(BATCH, 500):
        run.log({"loss": step})
    assert not release.is_set() and run.pending == 500  # all logged while the first call is held
    release.set()
    assert run.finish() is True
    assert run.sent == 501 and run.dropped == 0


def test_a_full_buffer_drops_the_oldest_events_counts_them_and_warns_once(
    api: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    arrived, release = threading.Event(), threading.Event()
    api.statuses = [("hold", arrived, release)]
    run = client_of(api).run(project="training", name="exp", buffer=20)
    for step in range(BATCH):
        run.log({"loss": step}, step=step)
    assert arrived.wait(10)
    for step in range(BATCH, 100):
        run.log({"loss": step}, step=step)
    assert run.dropped == 70  # 10 in flight, 20 kept, the 70 oldest of the rest gone
    assert caplog.text.count("buffer full") == 1
    release.set()
    run.finish()  # its state event pushes out one more: the newest are kept
    assert run.dropped == 71
    steps = [
        e["detail"]["run"].get("step") for e in sent_events(api) if e["detail_type"] == "Run Metrics Logged"
    ]
    assert steps == [*range(10), *range(81, 100)]


def test_an_unreachable_api_never_raises_into_training(caplog: pytest.LogCaptureFixture) -> None:
    closed = Receiver()
    url = closed.url.removesuffix("/hook")
    closed.close()
    closed.server.server_close()
    run = mlhooks.Client(url, "k", entity="dev").run(project="training", name="exp", buffer=50)
    with caplog.at_level(logging.WARNING, "mlhooks.client"):
        for step in range(200):
            run.log({"loss": step})
        assert run.finish(timeout=1) is False
    assert run.sent == 0 and run.dropped == 151 and run.pending == 50
    assert "cannot send metrics yet" in caplog.text
    runs._open_runs.discard(run)  # its exit warning would come after pytest closed its streams


def test_the_context_manager_ends_a_crashed_loop_failed(api: Receiver) -> None:
    with pytest.raises(ZeroDivisionError), client_of(api).run(project="training", name="exp") as run:
        run.log({"loss": 1.0})
        _ = 1 / 0
    assert sent_events(api)[-1]["detail"]["run"]["state"] == "FAILED"


def test_logged_events_are_flushed_when_the_script_exits_without_finishing(api: Receiver) -> None:
    script = textwrap.dedent(
        f"""
        import mlhooks
        run = mlhooks.Client({api.url.removesuffix("/hook")!r}, "k", entity="dev").run(
            project="training", name="exp", flush_seconds=3600)
        for step in range(3):
            run.log({{"loss": step}})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert [e["detail"]["run"]["step"] for e in sent_events(api)] == [0, 1, 2]


def test_a_value_logged_after_finish_is_counted_not_kept(
    api: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    run = client_of(api).run(project="training", name="exp")
    run.log({"loss": 1.0})
    assert run.finish() is True
    run.log({"loss": 0.5})
    assert (run.sent, run.dropped, run.pending) == (2, 1, 0)
    assert "logged after finish()" in caplog.text


def test_what_training_code_gets_wrong_is_warned_about_never_raised(
    api: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    run = client_of(api).run(project="training", name="exp")
    run.log("loss")  # type: ignore[arg-type]
    run.log({"loss": 1.0}, step="3")  # type: ignore[arg-type]
    run.log({"loss": 1.0}, step=2**60)
    run.log({"loss": 1.0}, step=True)  # type: ignore[arg-type]
    run.log({"loss": True})  # a truth value is no metric: nothing left to send
    run.log({"loss": 0.5}, step=4)
    assert run.finish() is True
    events = sent_events(api)
    assert [e["detail"]["run"]["step"] for e in events] == [4, 4]  # the good step, then the state's
    assert "takes a dict of metrics" in caplog.text and "a step is a whole number" in caplog.text


def test_a_script_that_exits_while_mlhooks_is_down_says_what_was_not_sent() -> None:
    closed = Receiver()
    url = closed.url.removesuffix("/hook")
    closed.close()
    closed.server.server_close()
    script = textwrap.dedent(
        f"""
        import mlhooks
        run = mlhooks.Client({url!r}, "k", entity="dev").run(project="training", name="exp")
        for step in range(3):
            run.log({{"loss": step}})
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "3 events not sent at exit" in done.stderr
