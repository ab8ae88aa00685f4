"""What the store keeps. One model per item kind; no secret value is ever part of one."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mlhooks.models.automation import Action, Event, Scope
from mlhooks.models.base import Model
from mlhooks.models.vocabulary import (
    ActionType,
    EventType,
    ExecutionState,
    Role,
    SignatureEncoding,
)


class Record(Model):
    entity: str


class MemberRecord(Record):
    username: str
    role: Role
    created_at: str


class ApiKeyRecord(Record):
    id: str
    name: str
    member: str
    prefix: str
    key_hash: str
    created_at: str
    # A service key (made by an admin, for a platform) may publish events on behalf of other authors.
    service: bool = False


class SecretRecord(Record):
    name: str
    created_at: str
    updated_at: str


class WebhookAlert(Model):
    """Whether the team was told, through Slack, that the webhook was disabled."""

    slack: str
    state: str  # PENDING | SENT | FAILED
    at: str
    error: str | None = None


class WebhookHealth(Model):
    """The current run of failed deliveries. Kept beside the webhook's document, not in it, so
    that counting a failure is one atomic update that never races an admin's edit."""

    consecutive_failures: int = 0
    failing_since: int | None = None  # epoch seconds of the run's first failure
    last_failure_at: int | None = None
    last_error: str | None = None
    alert: WebhookAlert | None = None


class WebhookRecord(Record):
    name: str
    url: str
    description: str = ""
    access_token_secret: str | None = None
    signing_secret: str | None = None
    signature_encoding: SignatureEncoding = SignatureEncoding.HEX
    secrets: list[str] = []
    # The Slack integration told when the webhook is disabled for failing.
    alert_slack: str | None = None
    enabled: bool = True
    # Why and when deliveries stopped (a 410 Gone, or a long run of failures); an admin
    # re-enables the webhook to clear them.
    disabled_reason: str | None = None
    disabled_at: str | None = None
    created_at: str
    updated_at: str
    # Kept beside the document, not in it (see WebhookHealth); `revision` guards edits.
    health: WebhookHealth = Field(default_factory=WebhookHealth, exclude=True)
    revision: int = Field(0, exclude=True)
    # How many times automations using it were saved: a webhook edit checks them at one count.
    users: int = Field(0, exclude=True)

    def secret_names(self) -> set[str]:
        """Every secret this webhook uses, which therefore cannot be deleted while it exists."""
        names = set(self.secrets)
        names.update(n for n in (self.access_token_secret, self.signing_secret) if n)
        return names

    def slack_names(self) -> set[str]:
        return {self.alert_slack} if self.alert_slack else set()


class SlackRecord(Record):
    name: str
    bot_token_secret: str
    channel_id: str
    channel_name: str
    created_at: str

    def secret_names(self) -> set[str]:
        return {self.bot_token_secret}


class SlackOAuthRecord(Record):
    """A "Connect Slack" in progress (slack_connect.py), kept under its state's hash until completed
    or expired: who started it, the integration it will create, and where Slack sends the admin."""

    member: str
    name: str
    redirect_uri: str
    created_at: str
    expires_at: int  # epoch seconds; also the item's TTL attribute


class RunQueueRecord(Record):
    """An SQS queue an admin registered for QUEUE_JOB actions; one entity owns a queue."""

    name: str
    url: str
    description: str = ""
    created_at: str


class ProjectRecord(Record):
    name: str
    registry: bool = False
    description: str = ""
    created_at: str


class CollectionRecord(Record):
    project: str
    name: str
    type: str
    created_at: str


class AutomationRecord(Record):
    id: str
    name: str
    description: str = ""
    enabled: bool = True
    scope: Scope
    event: Event
    action: Action
    version: int = 1
    created_by: str
    created_at: str
    updated_at: str
    # W&B's "Last execution": when the matcher last created an execution of it. Kept as the item's
    # own attribute (store/automations.py), so that recording it never touches the document.
    last_executed_at: str | None = None

    @property
    def integration(self) -> tuple[str, str] | None:
        """(kind, name) of the integration the action uses, if any."""
        if self.action.type is ActionType.GENERIC_WEBHOOK:
            return ("WEBHOOK", self.action.webhook)  # type: ignore[union-attr]
        if self.action.type is ActionType.NOTIFICATION:
            return ("SLACK", self.action.slack)  # type: ignore[union-attr]
        if self.action.type is ActionType.QUEUE_JOB:
            return ("RUNQUEUE", self.action.queue)  # type: ignore[union-attr]
        return None


class Attempt(Model):
    number: int
    at: str
    status_code: int | None = None
    response_excerpt: str = ""
    error: str | None = None
    error_class: str | None = None
    duration_ms: int = 0


class ExecutionRecord(Record):
    """One per (event, automation). Holds the event, the rendered request with secrets redacted,
    and every attempt."""

    id: str
    automation_id: str
    automation_name: str
    project: str
    # The collection the event was about, if any: its history lists the execution too.
    collection: str | None = None
    event_type: EventType
    detail_type: str
    event: dict[str, Any]
    action_type: ActionType
    state: ExecutionState = ExecutionState.PENDING
    reason: str | None = None
    request: dict[str, Any] | None = None
    attempts: list[Attempt] = []
    # How many times it was queued: once when it matched, once more per retry or redelivery. Each
    # round's attempts are numbered from 1, as SQS counts the receives of that round's message.
    deliveries: int = 1
    # The job the execution waits for (jobs.Job.id): a retry or a redelivery queues a new job and
    # names it here, so that an older job of it, when its message comes back, is dropped unsent.
    # None: any job of it is taken, as the matcher's (which names none) or one the dead-letter
    # redrive sent back as it was.
    job_id: str | None = None
    # Who stopped it (the member), and when; `reason` says so too.
    canceled_by: str | None = None
    canceled_at: str | None = None
    # Variables the match itself decided (a run condition's metric values), added to the event's.
    variables: dict[str, str] = {}
    # Who published the event: the API key and member, or EventBridge.
    publisher: dict[str, Any] | None = None
    created_at: str
    updated_at: str
    # Bumped by every write of the document, kept beside it (store/executions.py): a change made
    # from the API (a retry, a cancel) is written only over the version it was decided on.
    version: int = Field(0, exclude=True)
