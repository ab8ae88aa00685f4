"""Time as mlhooks writes it: UTC, ISO 8601, to the millisecond, with a `Z`, everywhere (records,
answers, messages), so that one answer never mixes two spellings and strings sort as times do."""

from __future__ import annotations

import datetime as dt


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(dt.datetime.now(dt.UTC))


def iso_from_epoch(seconds: float | None) -> str | None:
    return None if seconds is None else iso(dt.datetime.fromtimestamp(seconds, dt.UTC))
