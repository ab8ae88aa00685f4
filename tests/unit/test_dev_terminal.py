"""The `mlhooks dev` terminal's lines: one per delivery attempt, saying when, which execution, which
automation, where to, what came of it, which attempt of how many and when the next one is."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mlhooks.local.terminal import (
    DeliveryReport,
    Terminal,
    attempt_report,
    outcome_text,
    rejection_report,
    skip_report,
)
from mlhooks.models.records import Attempt, ExecutionRecord
from mlhooks.models.vocabulary import ActionType, EventType, ExecutionState

AT = "2026-03-01T14:02:09.120Z"
HOOK = "webhook github → api.example.com"


@pytest.fixture(autouse=True)
def utc_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The terminal shows local time; these tests read it in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def execution(state: ExecutionState, *attempts: Attempt, reason: str | None = None) -> ExecutionRecord:
    return ExecutionRecord(
        entity="dev",
        id="ex_0123456789abcdef0123456789abcdef",
        automation_id="au_1",
        automation_name="deploy on production alias",
        project="registry",
        event_type=EventType.ADD_ARTIFACT_ALIAS,
        detail_type="Artifact Alias Added",
        event={},
        action_type=ActionType.GENERIC_WEBHOOK,
        state=state,
        reason=reason,
        attempts=list(attempts),
        created_at=AT,
        updated_at=AT,
    )


def attempt(number: int = 1, **fields: Any) -> Attempt:
    return Attempt(number=number, at=AT, **fields)


def test_a_delivered_attempt_says_when_which_execution_automation_destination_outcome_and_attempt():
    done = attempt(status_code=200)
    line = attempt_report(execution(ExecutionState.FINISHED, done), done, HOOK, 8).line()
    assert line == (
        '14:02:09  ex_0123456789abcdef0123456789abcdef  "deploy on production alias"  '
        "webhook github → api.example.com  delivered 200  attempt 1/8"
    )


def test_a_failed_attempt_to_be_retried_says_when_the_next_one_is():
    failed = attempt(2, status_code=503, error="HTTP 503", error_class="http_status")
    line = attempt_report(execution(ExecutionState.PENDING, failed), failed, HOOK, 8, 40).line()
    assert line.endswith("failed 503  attempt 2/8  next retry in 40 s (14:02:49)")


def test_a_retry_without_a_wait_says_at_once():
    failed = attempt(status_code=500, error="HTTP 500", error_class="http_status")
    line = attempt_report(execution(ExecutionState.PENDING, failed), failed, HOOK, 3, 0).line()
    assert line.endswith("attempt 1/3  next retry at once")


def test_the_last_attempt_says_the_execution_failed_and_why():
    last = attempt(3, error="connection refused", error_class="connection_error")
    record = execution(ExecutionState.FAILED, last, reason="gave up after 3 attempts: connection refused")
    line = attempt_report(record, last, HOOK, 3).line()
    assert line.endswith(
        "error connection_error  attempt 3/3  FAILED: gave up after 3 attempts: connection refused"
    )


def test_an_error_whose_class_does_not_say_it_all_adds_its_text():
    refused = attempt(error="webhook github is disabled: HTTP 410 Gone", error_class="configuration")
    assert outcome_text(refused) == "error configuration: webhook github is disabled: HTTP 410 Gone"
    assert outcome_text(attempt(error="timed out after 10 s", error_class="timeout")) == "error timeout"


def test_an_attempt_recorded_before_error_classes_still_reads():
    assert outcome_text(attempt(status_code=502, error="HTTP 502")) == "failed 502"
    assert (
        outcome_text(attempt(error="ThrottlingException: slow down"))
        == "error: ThrottlingException: slow down"
    )


def test_a_job_sent_to_a_queue_is_delivered_without_a_status():
    assert outcome_text(attempt(response_excerpt="MessageId 1")) == "delivered"


def test_a_skipped_execution_says_why_without_an_attempt():
    record = execution(ExecutionState.SKIPPED, reason="the automation was deleted after the event matched")
    line = skip_report(record, HOOK).line()
    assert line.endswith(f"{HOOK}  skipped: the automation was deleted after the event matched")
    assert "attempt" not in line


def test_a_rejected_event_says_which_and_why():
    event = {"source": "mlhooks.platform", "detail-type": "Nonsense", "detail": {"event_id": "ev-1"}}
    at = dt.datetime(2026, 3, 1, 14, 2, 9, tzinfo=dt.UTC)
    line = rejection_report(event, "unknown detail-type 'Nonsense'", at).line()
    assert line == (
        "14:02:09  event rejected ('Nonsense' from mlhooks.platform, event ev-1): "
        "unknown detail-type 'Nonsense'"
    )


def test_the_json_record_holds_the_same_facts():
    failed = attempt(2, status_code=503, error="HTTP 503", error_class="http_status")
    report = attempt_report(execution(ExecutionState.PENDING, failed), failed, HOOK, 8, 40)
    assert isinstance(report, DeliveryReport)
    assert report.record() == {
        "kind": "delivery_attempt",
        "at": "2026-03-01T14:02:09.120000+00:00",
        "execution_id": "ex_0123456789abcdef0123456789abcdef",
        "automation": "deploy on production alias",
        "destination": HOOK,
        "outcome": "failed 503",
        "state": "PENDING",
        "attempt": 2,
        "max_attempts": 8,
        "reason": None,
        "status_code": 503,
        "error_class": "http_status",
        "next_retry_seconds": 40,
    }


def test_a_rejected_event_names_the_fields_at_fault_as_the_matcher_reports_them():
    out = io.StringIO()
    event = {"source": "mlhooks.platform", "detail-type": "Artifact Linked", "detail": {"event_id": "ev-2"}}
    report = {"rejected": "invalid detail", "problems": [{"field": "artifact", "message": "Field required"}]}
    Terminal(out).event_done("MatcherFunction", event, report)
    assert (
        out.getvalue()
        .rstrip()
        .endswith(
            "event rejected ('Artifact Linked' from mlhooks.platform, "
            "event ev-2): invalid detail: artifact: Field required"
        )
    )
