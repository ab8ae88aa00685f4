"""Requests and responses of the REST API.

Inputs forbid unknown fields, so a misspelt option is an error rather than silently ignored.
The OpenAPI document is generated from these same classes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from mlhooks.models.names import (
    AutomationName,
    CollectionName,
    Description,
    IntegrationName,
    MultilineText,
    PlainText,
    ProjectName,
    SecretName,
    Username,
)
from mlhooks.models.secret_values import SecretValue
from mlhooks.models.vocabulary import (
    LEGACY_EVENT_TYPES,
    ActionType,
    Aggregation,
    ChangeDirection,
    ChangeType,
    Comparison,
    EventType,
    ExecutionState,
    Role,
    RunState,
    ScopeType,
    Severity,
    SignatureEncoding,
)

MAX_WEBHOOK_SECRETS = 20
MAX_URL_CHARS = 2048


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    pass


def refuse_nulls(data: Any, fields: tuple[str, ...]) -> Any:
    """In a partial update, leaving a field out keeps it; `null` is only meaningful where a value
    may be removed, so elsewhere it is an error rather than a silent change."""
    if isinstance(data, dict):
        nulls = [name for name in fields if name in data and data[name] is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep its value")
    return data


class Page[T](Output):
    items: list[T]
    next_token: str | None = Field(None, description="Pass as `next_token` to get the next page.")


# ---- members and API keys -------------------------------------------------------------------------


class MemberCreate(Input):
    username: Username
    role: Role


class MemberUpdate(Input):
    role: Role


class MemberOut(Output):
    username: str
    role: Role
    created_at: str


class ApiKeyCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), PlainText]
    member: Username | None = Field(None, description="Whose key; admins may name another member.")
    service: bool = Field(
        False,
        description="A service key (admins only), for a platform that publishes events on behalf of "
        "its users: its events may name any `author`. Other keys publish as their member.",
    )


class ApiKeyOut(Output):
    id: str
    name: str
    member: str
    service: bool
    prefix: str = Field(description="The key's first characters, to recognise it; never the key.")
    created_at: str


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key. Shown once: only its hash is stored.")


# ---- secrets ------------------------------------------------------------------------------------------


class SecretCreate(Input):
    name: SecretName
    value: SecretValue


class SecretRotate(Input):
    value: SecretValue


class SecretOut(Output):
    name: str
    created_at: str
    updated_at: str


# ---- integrations -------------------------------------------------------------------------------------


class WebhookFields(Input):
    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS)]
    description: Description = ""
    access_token_secret: SecretName | None = Field(None, description="Sent as `Authorization: Bearer`.")
    signing_secret: SecretName | None = Field(
        None, description="Signs `X-Wandb-Signature` and Standard Webhooks."
    )
    signature_encoding: SignatureEncoding = SignatureEncoding.HEX
    secrets: list[SecretName] = Field(
        default_factory=list,
        max_length=MAX_WEBHOOK_SECRETS,
        description="Further secrets the payload may use as `${NAME}`.",
    )
    alert_slack: IntegrationName | None = Field(
        None, description="A Slack integration told when this webhook is disabled for failing."
    )


class WebhookCreate(WebhookFields):
    name: IntegrationName


class WebhookUpdate(Input):
    """Partial update: fields left out keep their value; `null` removes an access token or signing secret."""

    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS)] | None = None
    description: Description | None = None
    access_token_secret: SecretName | None = None
    signing_secret: SecretName | None = None
    signature_encoding: SignatureEncoding | None = None
    secrets: list[SecretName] | None = Field(None, max_length=MAX_WEBHOOK_SECRETS)
    alert_slack: IntegrationName | None = None
    enabled: bool | None = Field(
        None,
        description="`true` re-enables a webhook disabled for failing (or after a 410 Gone) and starts "
        "its failure count afresh; `false` stops its deliveries.",
    )

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return refuse_nulls(data, ("url", "description", "signature_encoding", "secrets", "enabled"))


class WebhookAlertOut(Output):
    slack: str
    state: Literal["PENDING", "SENT", "FAILED"]
    at: str
    error: str | None


class WebhookHealthOut(Output):
    state: Literal["HEALTHY", "FAILING", "DISABLED"]
    consecutive_failures: int = Field(description="Failed deliveries since the last success.")
    failing_since: str | None
    last_failure_at: str | None
    last_error: str | None
    alert: WebhookAlertOut | None = Field(description="The Slack alert sent when it was disabled.")


class WebhookOut(Output):
    name: str
    url: str
    description: str
    access_token_secret: str | None
    signing_secret: str | None
    signature_encoding: SignatureEncoding
    secrets: list[str]
    alert_slack: str | None
    enabled: bool
    disabled_reason: str | None
    disabled_at: str | None
    health: WebhookHealthOut
    created_at: str
    updated_at: str


class WebhookTest(Input):
    payload: Any = Field(
        None,
        description="A payload template (JSON value, or JSON text) to send; a sample payload when omitted.",
    )


class DeliveryResult(Output):
    ok: bool
    status_code: int | None
    headers: dict[str, str]
    body_excerpt: str
    error: str | None
    error_class: str | None
    duration_ms: int


class SlackCreate(Input):
    name: IntegrationName
    bot_token_secret: SecretName
    channel_id: Annotated[str, StringConstraints(pattern=r"^[CGD][A-Z0-9]{2,31}$")]
    channel_name: Annotated[str, StringConstraints(pattern=r"^#?[a-z0-9_-]{1,80}$")]


class SlackOut(Output):
    name: str
    bot_token_secret: str
    channel_id: str
    channel_name: str
    created_at: str


class RunQueueCreate(Input):
    name: IntegrationName
    url: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(
        description="The SQS queue's URL, in this stack's account and region, with a name the stack's "
        "`RunQueueNames` pattern allows."
    )
    description: Description = ""


class RunQueueOut(Output):
    name: str
    url: str
    description: str
    created_at: str


# ---- projects -----------------------------------------------------------------------------------------


class ProjectCreate(Input):
    name: ProjectName
    registry: bool = Field(False, description="A registry (W&B `wandb-registry-<name>`).")
    description: Description = ""


class ProjectOut(Output):
    name: str
    registry: bool
    description: str
    created_at: str


class CollectionCreate(Input):
    name: CollectionName
    type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "model"


class CollectionOut(Output):
    project: str
    name: str
    type: str
    created_at: str


# ---- automations --------------------------------------------------------------------------------------


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

# Window sizes are bounded so that the per-run state of issue-4 conditions stays small.
MAX_WINDOW = 100
WindowSize = Annotated[int, Field(ge=1, le=MAX_WINDOW)]
MetricName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Filter = Annotated[dict[str, Any], Field(description="MongoDB-style filter over the event's fields.")]


class MetricThreshold(Input):
    """W&B `MetricThresholdFilter`: aggregate of the last `window` values compared to `threshold`."""

    name: MetricName
    agg: Aggregation = Aggregation.NONE
    window: WindowSize = 1
    cmp: Comparison
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
    """W&B `MetricChangeFilter`: current tumbling window against the one before it."""

    name: MetricName
    agg: Aggregation = Aggregation.NONE
    window: WindowSize = 1
    prior_window: WindowSize | None = Field(None, description="Defaults to `window`.")
    change_type: ChangeType
    change_dir: ChangeDirection
    threshold: Annotated[float, Field(gt=0, allow_inf_nan=False, description="The amount; > 0.")]


class MetricZScore(Input):
    """W&B `MetricZScoreFilter`: the newest value against the window before it."""

    name: MetricName
    window: Annotated[int, Field(ge=2, le=MAX_WINDOW)] = 30
    threshold: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 3.0
    change_dir: ChangeDirection = ChangeDirection.ANY


def _upgrade_legacy_event_type(value: Any) -> Any:
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

    @field_validator("states")
    @classmethod
    def _not_killed(cls, states: list[RunState]) -> list[RunState]:
        if RunState.KILLED in states:
            raise ValueError(
                "killed runs never trigger automations; watch RUNNING, FINISHED, FAILED or CRASHED"
            )
        return states


Event = Annotated[
    ArtifactEvent | RunMetricThresholdEvent | RunMetricChangeEvent | RunMetricZScoreEvent | RunStateEvent,
    Field(discriminator="type"),
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
    title: Annotated[str, StringConstraints(min_length=1, max_length=150), PlainText]
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
    def _queue_by_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "queue_url" in data:
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


class AutomationCreate(Input):
    name: AutomationName
    description: Description = ""
    enabled: bool = True
    scope: Scope
    event: Event
    action: Action

    @field_validator("event", mode="before")
    @classmethod
    def _legacy_event(cls, value: Any) -> Any:
        return _upgrade_legacy_event_type(value)


class AutomationUpdate(Input):
    """Partial update: fields left out keep their value; `scope`, `event` and `action` are replaced whole."""

    name: AutomationName | None = None
    description: Description | None = None
    enabled: bool | None = None
    scope: Scope | None = None
    event: Event | None = None
    action: Action | None = None
    version: int | None = Field(None, ge=1, le=10**18, description="Optimistic concurrency, like `If-Match`.")

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return refuse_nulls(data, ("name", "description", "enabled", "scope", "event", "action"))

    @field_validator("event", mode="before")
    @classmethod
    def _legacy_event(cls, value: Any) -> Any:
        return _upgrade_legacy_event_type(value)


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
    action: Action
    action_status: ActionStatus
    version: int
    created_by: str
    created_at: str
    updated_at: str


# ---- executions and events --------------------------------------------------------------------------


class AttemptOut(Output):
    number: int
    at: str
    status_code: int | None
    response_excerpt: str
    error: str | None
    error_class: str | None
    duration_ms: int


class ExecutionSummary(Output):
    id: str
    automation_id: str
    automation_name: str
    project: str
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


class ExecutionOut(ExecutionSummary):
    event: dict[str, Any]
    request: dict[str, Any] | None = Field(description="The rendered request, secrets redacted.")
    attempts: list[AttemptOut]


class PublishedEvent(Input):
    detail_type: str = Field(
        description="One of the platform event detail-types, e.g. `Artifact Alias Added`."
    )
    detail: dict[str, Any]


class PublishRequest(Input):
    events: list[PublishedEvent] = Field(min_length=1, max_length=10)


class PublishResult(Output):
    event_id: str
    eventbridge_id: str


class PublishResponse(Output):
    published: list[PublishResult]
