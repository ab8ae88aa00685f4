"""The automation language: scopes, events, run metric conditions and actions, in W&B Automations'
terms. It is what the matcher, the conditions and the senders work with, what automations are
stored as, and what every wire format maps onto: mlhooks' REST API (models/api/) is one, W&B's own
is another.

Models here forbid unknown fields when read from a request and drop them when read from storage
(models/base.py), so an item written before a field was removed stays readable.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mlhooks.models.base import Input
from mlhooks.models.names import (
    AutomationName,
    CollectionName,
    Description,
    IntegrationName,
    MultilineText,
    PlainText,
    ProjectName,
)
from mlhooks.models.vocabulary import (
    LEGACY_EVENT_TYPES,
    ActionType,
    Aggregation,
    ChangeDirection,
    ChangeType,
    Comparison,
    EventType,
    RunState,
    ScopeType,
    Severity,
)
from mlhooks.models.wandb_wire import event_from_wandb


class EntityScope(Input):
    type: Literal[ScopeType.ENTITY]


class ProjectScope(Input):
    type: Literal[ScopeType.PROJECT]
    project: ProjectName


class CollectionScope(Input):
    type: Literal[ScopeType.ARTIFACT_COLLECTION]
    project: ProjectName
    collection: CollectionName


Scope = Annotated[EntityScope | ProjectScope | CollectionScope, Field(discriminator="type")]

# Window sizes are bounded so that the per-run state of run metric conditions stays small: a run's
# state holds at most the last `window` values of a threshold, `window + prior_window` of a change,
# and `window + 1` of a z-score (W&B users write `.zscore(500)`).
MAX_WINDOW = 100
MAX_ZSCORE_WINDOW = 1000
WindowSize = Annotated[int, Field(ge=1, le=MAX_WINDOW)]
MetricName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Filter = Annotated[dict[str, Any], Field(description="MongoDB-style filter over the event's fields.")]


def _no_aggregation(value: Any) -> Any:
    return Aggregation.NONE if value is None else value  # W&B sends `"agg_op": null`


Agg = Annotated[Aggregation, BeforeValidator(_no_aggregation)]


class MetricThreshold(Input):
    """W&B `MetricThresholdFilter`: aggregate of the last `window` values compared to `threshold`.
    W&B's wire names (`agg_op`, `window_size`, `cmp_op`) are accepted too."""

    name: MetricName
    agg: Agg = Field(Aggregation.NONE, validation_alias=AliasChoices("agg", "agg_op"))
    window: WindowSize = Field(1, validation_alias=AliasChoices("window", "window_size"))
    cmp: Comparison = Field(validation_alias=AliasChoices("cmp", "cmp_op"))
    threshold: FiniteFloat


class MetricThresholdAll(Input):
    all_of: list[MetricThreshold] = Field(alias="$and", min_length=1, max_length=10)


class MetricThresholdAny(Input):
    any_of: list[MetricThreshold] = Field(alias="$or", min_length=1, max_length=10)


def _threshold_shape(value: Any) -> str:
    """Which shape a threshold condition is, from its keys: a list under `$and` or `$or`, or one
    condition. Deciding first means a mistake is reported in the shape meant, not in all three."""
    if isinstance(value, dict):
        return (
            "MetricThresholdAll"
            if "$and" in value
            else "MetricThresholdAny"
            if "$or" in value
            else "MetricThreshold"
        )
    return type(value).__name__


# Tags are the class names: the error renderer leaves capitalised location parts out of field paths.
ThresholdCondition = Annotated[
    Annotated[MetricThreshold, Tag("MetricThreshold")]
    | Annotated[MetricThresholdAll, Tag("MetricThresholdAll")]
    | Annotated[MetricThresholdAny, Tag("MetricThresholdAny")],
    Discriminator(_threshold_shape),
]


class MetricChange(Input):
    """W&B `MetricChangeFilter`: current tumbling window against the one before it. W&B's wire names
    (`agg_op`, `current_window_size`, `prior_window_size`, `change_amount`) are accepted too."""

    name: MetricName
    agg: Agg = Field(Aggregation.NONE, validation_alias=AliasChoices("agg", "agg_op"))
    window: WindowSize = Field(1, validation_alias=AliasChoices("window", "current_window_size"))
    prior_window: WindowSize | None = Field(
        None,
        validation_alias=AliasChoices("prior_window", "prior_window_size"),
        description="Defaults to `window`.",
    )
    change_type: ChangeType
    change_dir: ChangeDirection
    threshold: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        validation_alias=AliasChoices("threshold", "change_amount"), description="The amount; > 0."
    )


class MetricZScore(Input):
    """W&B `MetricZScoreFilter`: the newest value against the window before it."""

    name: MetricName
    window: Annotated[int, Field(ge=2, le=MAX_ZSCORE_WINDOW)] = Field(
        30, validation_alias=AliasChoices("window", "window_size")
    )
    threshold: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 3.0
    change_dir: ChangeDirection = ChangeDirection.ANY


def upgrade_legacy_event_type(value: Any) -> Any:
    """W&B's older event type names (`LINK_MODEL`, `RUN_METRIC`) as the ones they stand for."""
    if isinstance(value, dict) and isinstance(value.get("type"), str) and value["type"] in LEGACY_EVENT_TYPES:
        return {**value, "type": LEGACY_EVENT_TYPES[value["type"]].value}
    return value


class ArtifactEvent(Input):
    type: Literal[
        EventType.CREATE_ARTIFACT,
        EventType.LINK_ARTIFACT,
        EventType.UNLINK_ARTIFACT,
        EventType.ADD_ARTIFACT_ALIAS,
        EventType.ADD_ARTIFACT_TAG,
        EventType.REMOVE_ARTIFACT_TAG,
        EventType.ADD_COLLECTION_TAG,
        EventType.REMOVE_COLLECTION_TAG,
    ]
    filter: Filter | None = None


class RunMetricThresholdEvent(Input):
    type: Literal[EventType.RUN_METRIC_THRESHOLD]
    filter: Filter | None = Field(None, description="Run filter (`display_name`, `user`).")
    metric: ThresholdCondition


class RunMetricChangeEvent(Input):
    type: Literal[EventType.RUN_METRIC_CHANGE]
    filter: Filter | None = None
    metric: MetricChange


class RunMetricZScoreEvent(Input):
    type: Literal[EventType.RUN_METRIC_ZSCORE]
    filter: Filter | None = None
    metric: MetricZScore


class RunStateEvent(Input):
    type: Literal[EventType.RUN_STATE]
    filter: Filter | None = None
    states: list[RunState] = Field(min_length=1, max_length=4)

    def watches(self, state: RunState) -> bool:
        """W&B counts a crashed run as failed (`ReportedRunState.CRASHED = FAILED`): watching FAILED
        watches CRASHED too; watching CRASHED alone watches crashes only."""
        return state in self.states or (state is RunState.CRASHED and RunState.FAILED in self.states)

    @field_validator("states")
    @classmethod
    def _not_killed(cls, states: list[RunState], info: ValidationInfo) -> list[RunState]:
        # A rule for what is saved from now on; a stored automation is read as it was saved.
        if RunState.KILLED in states and not (info.context and info.context.get("stored")):
            raise ValueError(
                "killed runs never trigger automations; watch RUNNING, FINISHED, FAILED or CRASHED"
            )
        return states


def read_event(value: Any) -> Any:
    """An event as the language writes it, from W&B's older type names and its wire form too."""
    return event_from_wandb(upgrade_legacy_event_type(value))


Event = Annotated[
    ArtifactEvent | RunMetricThresholdEvent | RunMetricChangeEvent | RunMetricZScoreEvent | RunStateEvent,
    Field(discriminator="type"),
    BeforeValidator(read_event),  # wherever an event is read: a request or storage
]


class WebhookAction(Input):
    type: Literal[ActionType.GENERIC_WEBHOOK]
    webhook: IntegrationName
    payload: Any = Field(
        description="JSON payload template (a JSON value, or JSON text) with `${variable}` placeholders."
    )


class NotificationAction(Input):
    type: Literal[ActionType.NOTIFICATION]
    slack: IntegrationName
    title: Annotated[str, StringConstraints(max_length=150), PlainText] = Field(
        "", description="Empty (W&B's default): the automation's name and the event type."
    )
    message: Annotated[str, StringConstraints(max_length=3000), MultilineText] = ""
    severity: Severity = Severity.INFO


class QueueJobAction(Input):
    type: Literal[ActionType.QUEUE_JOB]
    queue: IntegrationName = Field(description="A run queue of the entity (`…/run-queues`), by name.")
    job: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "latest"
    overrides: dict[str, Any] = Field(default_factory=dict, description="Run config overrides.")
    destination_project: ProjectName | None = None

    @model_validator(mode="before")
    @classmethod
    def _queue_by_name(cls, data: Any, info: ValidationInfo) -> Any:
        stored = bool(info.context and info.context.get("stored"))
        if isinstance(data, dict) and "queue_url" in data and not stored:
            raise ValueError(
                "queue_url is no longer accepted: an admin registers the queue under …/run-queues, "
                "and the action names it with `queue`"
            )
        return data


class NoOpAction(Input):
    type: Literal[ActionType.NO_OP]


Action = Annotated[
    WebhookAction | NotificationAction | QueueJobAction | NoOpAction, Field(discriminator="type")
]


class AutomationSpec(Input):
    """A whole automation as the language says it: what it watches, where, and what it does."""

    name: AutomationName
    description: Description = ""
    enabled: bool = True
    scope: Scope
    event: Event
    action: Action
