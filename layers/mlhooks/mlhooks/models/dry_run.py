"""What a dry run answers (dry_run.py works it out): whether an automation would fire on an event,
which of the matcher's checks decided, and the request its action would send.

Kept apart from the logic so that the API's models (models/api/), and the clients that read them,
need nothing of what a dry run reads with.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from mlhooks.models.vocabulary import ActionType

ActionState = Literal["READY", "FAILING", "DISABLED"]


class Check(StrEnum):
    """The matcher's checks, in its order."""

    ENABLED = "enabled"
    EVENT_TYPE = "event_type"
    SCOPE = "scope"
    FILTER = "filter"
    CONDITION = "condition"
    DUPLICATE = "duplicate"
    RATE_LIMIT = "rate_limit"


class Reason(StrEnum):
    """Why an automation would not fire: the first check that fails."""

    DISABLED = "disabled"
    EVENT_TYPE = "event_type"
    SCOPE = "scope"
    FILTER = "filter"
    CONDITION = "condition"
    DUPLICATE = "duplicate"
    RATE_LIMIT = "rate_limit"


# The reason a failed check gives: its own name, but for the first, which says what is wrong.
REASON_OF: dict[Check, Reason] = {
    Check.ENABLED: Reason.DISABLED,
    **{check: Reason(check.value) for check in Check if check is not Check.ENABLED},
}


@dataclass(frozen=True)
class CheckResult:
    check: Check
    passed: bool | None  # None: not evaluated, as an earlier check already decides
    message: str


@dataclass(frozen=True)
class ActionPreview:
    type: ActionType
    state: ActionState  # as an automation's action_status says it
    reason: str | None
    request: dict[str, Any] | None  # None for NO_OP

    @property
    def url(self) -> str | None:
        """The webhook URL the request would go to (not a Slack or queue URL: none of those is a
        credential)."""
        if self.type is ActionType.GENERIC_WEBHOOK and self.request:
            return self.request.get("url")
        return None


@dataclass(frozen=True)
class DryRun:
    would_fire: bool
    would_deliver: bool
    summary: str
    reason: Reason | None
    reason_message: str | None
    checks: list[CheckResult]
    detail_type: str
    event: dict[str, Any]
    sample: bool
    variables: dict[str, str]
    action: ActionPreview
