"""What every source kind shares: a delivery as received, what it translates into, and why one is
refused.

A kind's module verifies a delivery (`verify`) and translates it (`translate`) into mlhooks' own
events: (detail-type, detail) pairs in the schema of `models/events.py`, which the service validates
with the same models the matcher reads them with, so nothing malformed ever reaches the bus.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from mlhooks.errors import MlhooksError


class Unverified(MlhooksError):
    """The delivery is not provably from the platform: nothing of it is read further."""

    status, code = 401, "unverified_delivery"


class Unreadable(MlhooksError):
    """Verified, but not what the platform sends: the delivery is refused and nothing published."""

    status, code = 422, "invalid_input"


@dataclass(frozen=True)
class Delivery:
    """One inbound request: its headers (names lower-cased) and its exact body bytes."""

    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class State:
    what: str  # e.g. "approval <package ARN>"
    value: str
    as_of: str  # sortable: ISO 8601 UTC with microseconds
    event: int | None = None  # the index of the event that stands for this state being new


@dataclass
class Translation:
    """What a delivery became: events to publish, or none and why (`ignored`)."""

    platform_event: str | None = None
    platform_delivery_id: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ignored: str | None = None
    # States the platform reports with every change, without saying whether they changed (SageMaker
    # sends a package's approval with any edit of it, and its "Completed" for ever after). The source
    # keeps the latest of each it saw, by the platform's own time; an event standing for one is
    # published only if it is newer and says something else.
    states: list[State] = field(default_factory=list)
    # What makes two deliveries one, per event (default: the event's id), when the event id must
    # differ from it (W&B: the same body later is a new event with a new id).
    dedupe: dict[int, str] = field(default_factory=dict)


def as_of(value: Any, fallback: Any = None) -> str:
    """A platform's time as sortable text, one format for all (ISO 8601 UTC, microseconds): epoch
    milliseconds or ISO strings (with `Z` or an offset); anything else falls back, else ""."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = dt.datetime.fromtimestamp(value / 1000, dt.UTC)
        elif isinstance(value, str):
            moment = dt.datetime.fromisoformat(value)
            moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
        else:
            raise ValueError(value)
        return moment.isoformat(timespec="microseconds")
    except (ValueError, OverflowError, OSError):
        return "" if fallback is None else as_of(fallback)


def same(given: str, expected: str) -> bool:
    """Constant-time comparison, so that timing tells nothing about how much of a guess was right."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def digest_id(*parts: str, length: int = 32) -> str:
    """A stable id from the parts that make an event what it is: the same change delivered again
    gets the same event id, which the matcher and the source's dedupe both key on."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:length]


def text(data: dict[str, Any], name: str, where: str, *, required: bool = True) -> str | None:
    """A string field of a platform's payload, or a clear refusal naming it."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise Unreadable(f"{where}.{name} must be a non-empty string.", field=f"{where}.{name}")
    return value


def version_number(data: dict[str, Any], name: str, where: str) -> int:
    """A registry version (MLflow sends "3", SageMaker 3): a whole number from 0."""
    value = data.get(name)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | str)
        or not re.fullmatch(r"[0-9]{1,15}", str(value))
    ):
        raise Unreadable(f"{where}.{name} must be a version number.", field=f"{where}.{name}")
    return int(value)


_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_NAME = 128


def mlhooks_name(name: str) -> str:
    """A platform's name for a model or project (MLflow's "Fraud Detector", "modèle-français") as an
    mlhooks name: accents dropped, any run of other characters one "-", starting with a letter or
    digit, at most 128 characters. A name that had to change gets a short digest of the original,
    so two names that read alike stay two; the original is in the artifact's metadata."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = _NOT_IN_NAMES.sub("-", plain).lstrip("_.-")
    if cleaned == name and len(name) <= MAX_NAME:
        return name
    suffix = "-" + digest_id(name, length=8)
    return (cleaned[: MAX_NAME - len(suffix)] or "model") + suffix
