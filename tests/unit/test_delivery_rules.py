"""Delivery rules: what is retried, how long to wait, deterministic ids, Slack escaping."""

from __future__ import annotations

import random

import pytest

from mlhooks.matcher import execution_id
from mlhooks.models.automation import NotificationAction
from mlhooks.models.events import Publisher
from mlhooks.outcome import DeliveryError, Outcome, judged, parse_retry_after
from mlhooks.senders import Sender
from mlhooks.settings import Settings
from mlhooks.slack import build_message


@pytest.mark.parametrize(
    ("status", "ok", "retryable"),
    [
        (200, True, False),
        (204, True, False),
        (301, False, False),
        (400, False, False),
        (404, False, False),
        (408, False, True),
        (410, False, False),
        (429, False, True),
        (500, False, True),
        (503, False, True),
    ],
)
def test_an_answer_is_judged_by_its_status(status, ok, retryable):
    outcome = judged(Outcome(status_code=status), now=0)
    assert (outcome.ok, outcome.retryable) == (ok, retryable)
    assert outcome.error_class is (None if ok else DeliveryError.HTTP_STATUS)


def test_retry_after_is_read_whatever_the_case_of_its_name():
    for name in ("Retry-After", "retry-after", "RETRY-AFTER"):
        outcome = judged(Outcome(status_code=503, headers={name: "30"}), now=0)
        assert outcome.retry_after == 30


def test_a_failure_before_any_answer_is_kept_as_it_is():
    timeout = Outcome.failure(DeliveryError.TIMEOUT, "Timed out", retryable=True)
    assert judged(timeout, now=0) == timeout


def test_retry_after_in_seconds_or_http_date():
    assert parse_retry_after("120", now=0) == 120
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40) == 60
    assert parse_retry_after("soon", now=0) is None and parse_retry_after(None, now=0) is None


class _Parts:
    def __init__(self, settings):
        self.settings, self.store = settings, None


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    sender = Sender(_Parts(Settings(retry_base_seconds=10, retry_max_seconds=300)), "q", rng=random.Random(7))
    delays = [sender._retry_delay(n, None) for n in range(1, 8)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(300, 10 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert sender._retry_delay(1, 90) == 90  # Retry-After wins
    assert sender._retry_delay(1, 10**9) == 12 * 60 * 60  # SQS's visibility ceiling


def test_execution_id_is_deterministic_per_publisher_event_and_automation():
    assert execution_id("evt-1", "au_1") == execution_id("evt-1", "au_1")
    by_key = Publisher(via="api", key_id="k1", member="bob")
    ids = {
        execution_id("evt-1", "au_1"),
        execution_id("evt-2", "au_1"),
        execution_id("evt-1", "au_2"),
        execution_id("evt-1", "au_1", by_key),  # a key cannot take the bus's event id first
        execution_id("evt-1", "au_1", Publisher(via="api", key_id="k2", member="bob")),
    }
    assert len(ids) == 5
    assert execution_id("evt-1", "au_1", by_key) == execution_id("evt-1", "au_1", by_key)


def test_slack_message_escapes_event_values():
    action = NotificationAction(
        type="NOTIFICATION", slack="s", title="New ${alias}", message="by ${event_author}"
    )
    message = build_message(action, "C1", {"alias": "<!channel>", "event_author": "a&b"})
    assert message["text"].endswith("New &lt;!channel&gt;")
    assert message["attachments"][0]["blocks"][1]["text"]["text"] == "by a&amp;b"
