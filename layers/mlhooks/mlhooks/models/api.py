"""Requests and responses of the REST API: the edges, thin over the automation language
(models/automation.py) and the stored records (models/records.py).

Inputs forbid unknown fields, so a misspelt option is an error rather than silently ignored.
The OpenAPI document is generated from these same classes.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    StringConstraints,
    model_validator,
)

from mlhooks.models.automation import (
    Action,
    AutomationSpec,
    Event,
    Scope,
)
from mlhooks.models.base import Input, Output, refuse_nulls
from mlhooks.models.dry_run import Check, DryRun, Reason
from mlhooks.models.names import (
    SLACK_CHANNEL_ID_PATTERN,
    SLACK_CHANNEL_NAME_PATTERN,
    AutomationName,
    CollectionName,
    Description,
    IntegrationName,
    PlainText,
    ProjectName,
    SecretName,
    Username,
)
from mlhooks.models.secret_values import SecretValue
from mlhooks.models.vocabulary import (
    ActionType,
    EventType,
    ExecutionState,
    Role,
    SignatureEncoding,
)
from mlhooks.outcome import DeliveryError, Outcome
from mlhooks.templating import variables_table

MAX_WEBHOOK_SECRETS = 20
MAX_URL_CHARS = 2048


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


class Identity(Output):
    """Who an API key is: its entity, member and role."""

    entity: str
    username: str
    role: Role
    key_id: str
    service: bool


# ---- secrets ------------------------------------------------------------------------------------------


class SecretCreate(Input):
    name: SecretName
    value: SecretValue


class SecretRotate(Input):
    value: SecretValue


class SecretUserOut(Output):
    kind: Literal["webhook", "slack", "source"] = Field(
        description="`webhook` (a token, signing secret or payload secret), `slack` (a bot token) or "
        "`source` (a signing secret or token)."
    )
    name: str = Field(description="The webhook's, Slack integration's or source's name.")


class SecretOut(Output):
    name: str
    created_at: str
    updated_at: str
    used_by: list[SecretUserOut] = Field(
        default_factory=list,
        description="What uses the secret; a secret in use cannot be deleted. Empty when nothing does.",
    )


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
    """What the test delivery came to, judged as a real delivery would be."""

    ok: bool
    status_code: int | None
    headers: dict[str, str]
    body_excerpt: str
    error: str | None
    error_class: DeliveryError | None
    retryable: bool = Field(description="Whether a real delivery would try again after this answer.")
    duration_ms: int

    @classmethod
    def of(cls, outcome: Outcome) -> DeliveryResult:
        return cls(
            ok=outcome.ok,
            status_code=outcome.status_code,
            headers=outcome.headers,
            body_excerpt=outcome.excerpt,
            error=outcome.error,
            error_class=outcome.error_class,
            retryable=outcome.retryable,
            duration_ms=outcome.duration_ms,
        )


class SlackCreate(Input):
    name: IntegrationName
    bot_token_secret: SecretName
    channel_id: Annotated[str, StringConstraints(pattern=SLACK_CHANNEL_ID_PATTERN)]
    channel_name: Annotated[str, StringConstraints(pattern=SLACK_CHANNEL_NAME_PATTERN)]


class SlackOut(Output):
    name: str
    bot_token_secret: str
    channel_id: str
    channel_name: str
    created_at: str


def _redirect_uri(value: str) -> str:
    """An absolute http(s) URL Slack can send a browser to: https, or http on this machine only (a
    console served locally); no credentials, no fragment (OAuth 2.0 forbids one)."""
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("must not contain spaces or control characters")
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("must be an absolute http(s) URL, such as https://console.example.com/slack")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials")
    if parts.fragment or value.endswith("#"):
        raise ValueError("must not contain a fragment (#...)")
    _ = parts.port  # a port out of range raises ValueError
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError("must use https (http only for localhost and loopback addresses)")
    return value


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.rstrip(".").lower() == "localhost"


RedirectUri = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS), AfterValidator(_redirect_uri)
]


class SlackConnectStart(Input):
    """ "Connect Slack": the integration to make, and where Slack sends the admin back."""

    name: IntegrationName = Field(
        description="The Slack integration to create (at most 54 characters). Its bot token is kept as "
        "the secret `<name>_bot_token` (`.` and `-` written as `_`): neither may exist yet."
    )
    redirect_uri: RedirectUri = Field(
        description="Where Slack sends the admin's browser back, with `code` and `state` (or `error`, "
        "such as `access_denied`) in the query: one of the Slack app's Redirect URLs. Absolute, https "
        "(http only for localhost and loopback addresses), without credentials or fragment."
    )


class SlackConnectStarted(Output):
    authorize_url: str = Field(
        description="Slack's page to send the admin to: they pick the channel and allow the app."
    )
    state: str = Field(
        description="Comes back on the redirect URI; check it is this one, then pass it and the `code` to "
        "`POST .../slack/connect/complete`. Used once."
    )
    expires_at: str = Field(description="The state is good until then (10 minutes).")


class SlackConnectComplete(Input):
    """What Slack's redirect brought back to the redirect URI."""

    state: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="The `state` of the redirect: the one `.../slack/connect` answered."
    )
    code: Annotated[str, StringConstraints(pattern=r"^[!-~]{1,512}$")] = Field(
        description="The `code` of the redirect; Slack's codes are used once and last 10 minutes."
    )


class SlackConnected(SlackOut):
    """The Slack integration the install made."""

    team_name: str = Field(description="The Slack workspace the app was installed in.")


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


# ---- executions and events --------------------------------------------------------------------------


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
    request: dict[str, Any] | None = Field(description="The rendered request, secrets redacted.")
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
