"""Automations as the API takes and gives them, and their dry runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from mlhooks.models.api.executions import PublishedEvent
from mlhooks.models.automation import Action, AutomationSpec, Event, Scope
from mlhooks.models.base import Input, Output, refuse_nulls
from mlhooks.models.dry_run import Check, DryRun, Reason
from mlhooks.models.names import AutomationName, Description
from mlhooks.models.vocabulary import ActionType
from mlhooks.templating import variables_table

# ---- automations --------------------------------------------------------------------------------------


# Generated from templating.PAYLOAD_VARIABLES, the one place the variables are defined.
ACTION_DESCRIPTION = (
    "What the automation does. Its texts are templates with `${variable}` placeholders: a "
    "`GENERIC_WEBHOOK`'s `payload`, a `NOTIFICATION`'s `title` and `message`, a `QUEUE_JOB`'s "
    "`overrides`. The variables each event type's events carry:\n\n" + variables_table()
)


class AutomationCreate(AutomationSpec):
    """The REST body of an automation: the language itself (which reads W&B's legacy event type names
    and W&B's wire form of an event too)."""

    action: Action = Field(description=ACTION_DESCRIPTION)


class AutomationUpdate(Input):
    """Partial update: fields left out keep their value; `scope`, `event` and `action` are replaced whole."""

    name: AutomationName | None = None
    description: Description | None = None
    enabled: bool | None = None
    scope: Scope | None = None
    event: Event | None = None
    action: Action | None = Field(None, description=ACTION_DESCRIPTION)
    version: int | None = Field(None, ge=1, le=10**18, description="Optimistic concurrency, like `If-Match`.")

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return refuse_nulls(data, ("name", "description", "enabled", "scope", "event", "action"))


class ActionStatus(Output):
    """Whether the action can deliver: its webhook may be failing, or disabled."""

    state: Literal["READY", "FAILING", "DISABLED"]
    reason: str | None = None


class AutomationOut(Output):
    id: str
    name: str
    description: str
    enabled: bool
    scope: Scope
    event: Event
    action: Action = Field(description=ACTION_DESCRIPTION)
    action_status: ActionStatus
    version: int
    created_by: str
    created_at: str
    updated_at: str
    last_executed_at: str | None = Field(
        None, description='When it last executed (an execution was created; W&B\'s "Last execution").'
    )


# ---- dry runs -----------------------------------------------------------------------------------------

EVENT_DESCRIPTION = (
    "The event to try, as `POST /v1/events` takes one (`detail_type` and `detail`, or a file of "
    "`events/`); `entity`, `event_id`, `time` and `author` may be left out. Without it, a sample of the "
    "automation's event type, in its scope, with the values its filter names where that is simple."
)


class AutomationDryRun(Input):
    """A saved automation's dry run: nothing is sent, nothing is written."""

    event: PublishedEvent | None = Field(None, description=EVENT_DESCRIPTION)


class DraftDryRun(Input):
    """An unsaved automation's dry run: checked as creating it would be (its name's uniqueness
    aside), and then run as a saved one would, with no history, executions or rate count of its own."""

    automation: AutomationCreate
    event: PublishedEvent | None = Field(None, description=EVENT_DESCRIPTION)


class DryRunCheckOut(Output):
    check: Check = Field(description="One of the matcher's checks, in its order.")
    passed: bool | None = Field(description="`null`: not evaluated, as an earlier check already decides.")
    message: str


class DryRunReasonOut(Output):
    code: Reason = Field(
        description="`disabled`, `event_type`, `scope`, `filter`, `condition`, `duplicate` (the event was "
        "already handled for this automation) or `rate_limit`."
    )
    message: str


class DryRunEventOut(Output):
    detail_type: str
    detail: dict[str, Any]
    sample: bool = Field(description="Whether it is a sample made up from the automation (none was given).")


class DryRunActionOut(Output):
    type: ActionType
    status: ActionStatus = Field(
        description="Whether the action can deliver: `DISABLED` when its webhook is disabled, or what it "
        "uses (webhook, secret, Slack integration, run queue) no longer exists or may not be used."
    )
    request: dict[str, Any] | None = Field(
        description="What would be sent. GENERIC_WEBHOOK: `method`, `url`, `headers` (`Authorization` "
        "redacted, each signature `present`), `signatures` (the signature headers sent), `body` (the exact "
        "text, each secret as `[REDACTED]`). NOTIFICATION: Slack's chat.postMessage `method`, `url`, "
        "`headers`, `body` (channel, text, Block Kit attachments). QUEUE_JOB: `queue`, `queue_url`, "
        "`message_body`, `message_attributes` (and a FIFO queue's group and deduplication ids). NO_OP: null."
    )


class DryRunOut(Output):
    """What an automation would do with one event; nothing was sent or written."""

    would_fire: bool = Field(description="Whether the event would create an execution to deliver.")
    would_deliver: bool = Field(description="Whether it would fire and its action could deliver.")
    summary: str = Field(description="The answer in one sentence, for people.")
    reason: DryRunReasonOut | None = Field(description="Why it would not fire: the first check that fails.")
    checks: list[DryRunCheckOut]
    event: DryRunEventOut
    variables: dict[str, str] = Field(description="The payload variables' values for this event.")
    action: DryRunActionOut

    @classmethod
    def of(cls, run: DryRun) -> DryRunOut:
        action = run.action
        return cls(
            would_fire=run.would_fire,
            would_deliver=run.would_deliver,
            summary=run.summary,
            reason=None
            if run.reason is None
            else DryRunReasonOut(code=run.reason, message=run.reason_message or ""),
            checks=[DryRunCheckOut(check=c.check, passed=c.passed, message=c.message) for c in run.checks],
            event=DryRunEventOut(detail_type=run.detail_type, detail=run.event, sample=run.sample),
            variables=run.variables,
            action=DryRunActionOut(
                type=action.type,
                status=ActionStatus(state=action.state, reason=action.reason),
                request=action.request,
            ),
        )
