"""Executions, their attempts, and the events published through the API."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, Field, StringConstraints, model_validator

from mlhooks.models.base import Input, Output
from mlhooks.models.names import PlainText
from mlhooks.models.vocabulary import ActionType, EventType, ExecutionState
from mlhooks.outcome import DeliveryError


class AttemptOut(Output):
    number: int
    at: str
    status_code: int | None
    response_excerpt: str
    error: str | None
    error_class: str | None = Field(
        description="Why the attempt did not deliver, one of: "
        + "; ".join(f"`{e.value}`: {e.meaning}" for e in DeliveryError)
        + ". Attempts recorded by earlier versions keep the text they were recorded with."
    )
    duration_ms: int


class ExecutionCount(Output):
    """How many executions a collection's history holds (W&B's count on a collection)."""

    project: str
    collection: str
    total: int
    by_state: dict[ExecutionState, int] = Field(description="Every state, zero included.")


class ExecutionSummary(Output):
    id: str
    automation_id: str
    automation_name: str
    project: str
    collection: str | None = Field(None, description="The collection the event was about, if any.")
    event_type: EventType
    action_type: ActionType
    state: ExecutionState
    reason: str | None
    attempt_count: int
    deliveries: int
    publisher: dict[str, Any] | None = Field(
        description="Who published the event: `via` api (with the key id and member) or eventbridge."
    )
    created_at: str
    updated_at: str
    canceled_by: str | None = Field(None, description="Who canceled it (`CANCELED` executions).")
    canceled_at: str | None = None


class ExecutionOut(ExecutionSummary):
    event: dict[str, Any]
    request: dict[str, Any] | None = Field(
        description="The rendered request, secrets redacted; a webhook's URL whole for admins only."
    )
    attempts: list[AttemptOut]


class ExecutionCancel(Input):
    """Why the execution is canceled (optional; the body may be left out)."""

    reason: Annotated[str, StringConstraints(max_length=500), PlainText] | None = Field(
        None, description="Kept in the execution's `reason`."
    )


class PublishedEvent(Input):
    """One event: `{"detail_type", "detail"}`, or an EventBridge envelope as the files in `events/`
    are (`detail-type`, `detail`, and EventBridge's own fields, which the bus sets anew)."""

    detail_type: str = Field(
        validation_alias=AliasChoices("detail_type", "detail-type"),
        description="One of the platform event detail-types, e.g. `Artifact Alias Added`.",
    )
    detail: dict[str, Any] = Field(
        description="The event, by its detail-type's schema; `entity` may be left out (the key's entity)."
    )
    # EventBridge's envelope, as a file from events/ has it: taken and set anew by the bus.
    version: str | None = None
    id: str | None = None
    source: str | None = None
    account: str | None = None
    time: str | None = None
    region: str | None = None
    resources: list[str] | None = None


class PublishRequest(Input):
    """Up to 10 events; or one event (or envelope) as the whole body, as `events/` files are."""

    events: list[PublishedEvent] = Field(min_length=1, max_length=10)

    @model_validator(mode="before")
    @classmethod
    def _one_event(cls, data: Any) -> Any:
        if isinstance(data, dict) and "events" not in data and "detail" in data:
            return {"events": [data]}
        return data


class PublishResult(Output):
    event_id: str
    eventbridge_id: str


class PublishResponse(Output):
    published: list[PublishResult]
