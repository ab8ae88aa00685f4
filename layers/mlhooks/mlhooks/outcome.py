"""What one delivery attempt came to, whatever it delivered (a webhook, a Slack message, a job), and
the closed set of ways it can fail.

Every sender, the outbound HTTP client and the Slack client answer with an `Outcome`; the senders
judge it (finish, retry later, fail, skip) and record it as an attempt. Failures are one of the
`DeliveryError` classes, each with its own meaning, never an open string compared as a literal:
the detail (an HTTP status, Slack's error, an AWS error code) goes in the outcome's `error` text.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

# Statuses worth another attempt besides 5xx: the receiver timed out on its side, or asked us to slow down.
RETRYABLE_STATUS = frozenset({408, 429})


class DeliveryError(StrEnum):
    """Why an attempt did not deliver. The values are what `attempts[].error_class` shows."""

    TIMEOUT = "timeout"
    CONNECTION = "connection_error"
    REQUEST = "request_error"
    BLOCKED_DESTINATION = "blocked_destination"
    UNRESOLVABLE_DESTINATION = "unresolvable_destination"
    HTTP_STATUS = "http_status"
    SLACK = "slack_error"
    QUEUE = "queue_error"
    CONFIGURATION = "configuration"
    INTERNAL = "internal"

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    DeliveryError.TIMEOUT: "the receiver did not answer in time",
    DeliveryError.CONNECTION: "the connection could not be made, or was reset",
    DeliveryError.REQUEST: "the request could not be made as configured",
    DeliveryError.BLOCKED_DESTINATION: "the outbound guard refused the destination (see its configuration)",
    DeliveryError.UNRESOLVABLE_DESTINATION: "the destination's host name did not resolve",
    DeliveryError.HTTP_STATUS: "the receiver answered with an error status",
    DeliveryError.SLACK: "Slack refused the message",
    DeliveryError.QUEUE: "SQS refused the job",
    DeliveryError.CONFIGURATION: "the automation or its integration cannot deliver as it is configured",
    DeliveryError.INTERNAL: "mlhooks failed on its side (an AWS error, an outage, a bug); it is retried",
}


@dataclass(frozen=True)
class Outcome:
    """One attempt: what came back, and what it means for the execution."""

    status_code: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    excerpt: str = ""
    error: str | None = None
    error_class: DeliveryError | None = None
    duration_ms: int = 0
    # Worth another attempt (a 5xx, a timeout), and how soon the other side asked for it.
    retryable: bool = False
    retry_after: float | None = None
    # What was sent, as the execution keeps it (secrets redacted); None when nothing was.
    request: dict[str, Any] | None = None
    # Nothing was sent, and nothing should be: the automation was disabled or deleted meanwhile.
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_class is None and self.skipped is None

    @classmethod
    def failure(
        cls, error_class: DeliveryError, error: str, *, retryable: bool = False, **details: Any
    ) -> Outcome:
        return cls(error=error, error_class=error_class, retryable=retryable, **details)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever case the other side spelled its name in."""
    wanted = name.casefold()
    return next((value for key, value in headers.items() if key.casefold() == wanted), None)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait, from Retry-After's delay-seconds or HTTP-date form; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def status_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def judged(outcome: Outcome, now: float) -> Outcome:
    """An HTTP answer judged by its status: a 2xx delivered; 408, 429 and any 5xx worth another attempt
    (no sooner than the receiver's Retry-After); any other status final."""
    status = outcome.status_code
    if outcome.error_class is not None or status is None or 200 <= status < 300:
        return outcome
    return replace(
        outcome,
        error=f"HTTP {status}",
        error_class=DeliveryError.HTTP_STATUS,
        retryable=status_retryable(status),
        retry_after=parse_retry_after(header(outcome.headers, "Retry-After"), now),
    )
