"""Sources: the platforms an entity connects (MLflow, W&B, SageMaker), and what each delivery became.

A source is registered by an entity's admin. MLflow and W&B deliver over HTTPS to the source's
inbound URL and are verified with the entity's secrets the source names; SageMaker's events reach
the stack through a rule on the account's default bus and are routed by account and region (one
entity's) and resource tags. Every delivery is recorded (`SourceDeliveryRecord`) for a while.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from mlhooks.models.base import Input, Output, field_error
from mlhooks.models.names import Description, IntegrationName, PlainText, ProjectName, SecretName
from mlhooks.models.records import Record
from mlhooks.models.vocabulary import EventType

Account = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")]
# AWS tag keys and values: letters, digits, spaces and + - = . _ : / @ (ASCII here).
TagKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_ .:/=+@-]{1,128}$")]
TagValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_ .:/=+@-]{0,256}$")]
Author = Annotated[str, StringConstraints(min_length=1, max_length=256), PlainText]
MAX_MATCH_TAGS = 10


class SourceKind(StrEnum):
    MLFLOW = "mlflow"  # MLflow's registry webhooks (MLflow 3.3 and later), signed X-MLflow-Signature
    WANDB = "wandb"  # W&B's own automations forwarding to mlhooks, signed X-Wandb-Signature
    SAGEMAKER = "sagemaker"  # SageMaker's state-change events on the account's default bus


HTTP_KINDS = frozenset({SourceKind.MLFLOW, SourceKind.WANDB})
# A new version in a registry: which mlhooks event it is (W&B: linking a model into a registry).
VersionEvent = Literal[EventType.LINK_ARTIFACT, EventType.CREATE_ARTIFACT]

# Which fields each kind takes; any other given is a mistake worth saying.
KIND_FIELDS: dict[SourceKind, frozenset[str]] = {
    SourceKind.MLFLOW: frozenset({"signing_secret", "project", "version_event", "author"}),
    SourceKind.WANDB: frozenset({"signing_secret", "access_token_secret"}),
    SourceKind.SAGEMAKER: frozenset(
        {"account", "region", "project", "project_tag", "match_tags", "version_event", "author"}
    ),
}
DEFAULT_PROJECT = {SourceKind.MLFLOW: "mlflow-registry", SourceKind.SAGEMAKER: "sagemaker"}
DEFAULT_PROJECT_TAG = "mlhooks:project"


class SourceSpec(Input):
    """What a source is: the fields that apply depend on `kind` (see the README's "Connect your
    platform")."""

    name: IntegrationName
    kind: SourceKind
    description: Description = ""
    signing_secret: SecretName | None = Field(
        None,
        description="The entity secret the platform signs with (MLflow: required; W&B: this, "
        "`access_token_secret`, or both).",
    )
    access_token_secret: SecretName | None = Field(
        None, description="W&B: the entity secret W&B sends as `Authorization: Bearer <token>`."
    )
    project: ProjectName | None = Field(
        None,
        description="MLflow and SageMaker: the project that receives their registries' events "
        "(default mlflow-registry / sagemaker). W&B's events name their own project.",
    )
    version_event: VersionEvent | None = Field(
        None, description="MLflow and SageMaker: what a new registry version is (default LINK_ARTIFACT)."
    )
    author: Author | None = Field(
        None, description="MLflow and SageMaker: `${event_author}` when the platform names no one."
    )
    account: Account | None = Field(None, description="SageMaker: the AWS account whose events to take.")
    region: Region | None = Field(None, description="SageMaker: the region whose events to take.")
    project_tag: TagKey | None = Field(
        None,
        description="SageMaker: the training job tag whose value names the project "
        f"(default {DEFAULT_PROJECT_TAG}).",
    )
    match_tags: dict[TagKey, TagValue] | None = Field(
        None,
        max_length=MAX_MATCH_TAGS,
        description="SageMaker: only training jobs carrying all of these tags.",
    )

    @model_validator(mode="after")
    def _fits_kind(self) -> SourceSpec:
        every = set().union(*KIND_FIELDS.values())
        foreign = sorted(name for name in every - KIND_FIELDS[self.kind] if getattr(self, name) is not None)
        if foreign:
            raise field_error("SourceSpec", foreign[0], f"does not apply to a {self.kind.value} source")
        if self.kind is SourceKind.MLFLOW and self.signing_secret is None:
            raise field_error(
                "SourceSpec",
                "signing_secret",
                "an mlflow source needs the secret MLflow's webhook signs with",
            )
        if self.signing_secret and self.signing_secret == self.access_token_secret:
            raise field_error(
                "SourceSpec",
                "access_token_secret",
                "must be another secret than signing_secret: W&B sends the access token in plain text",
            )
        if self.kind is SourceKind.WANDB and not (self.signing_secret or self.access_token_secret):
            raise field_error(
                "SourceSpec",
                "signing_secret",
                "a wandb source needs signing_secret, access_token_secret or both, "
                "so that no one else can post as W&B",
            )
        for name in ("account", "region"):
            if self.kind is SourceKind.SAGEMAKER and getattr(self, name) is None:
                raise field_error(
                    "SourceSpec", name, f"a sagemaker source needs the {name} whose events to take"
                )
        return self

    def secret_names(self) -> set[str]:
        return {n for n in (self.signing_secret, self.access_token_secret) if n}

    @property
    def target_project(self) -> str:
        return self.project or DEFAULT_PROJECT.get(self.kind, "")

    @property
    def version_event_type(self) -> EventType:
        return self.version_event or EventType.LINK_ARTIFACT

    @property
    def default_author(self) -> str:
        return self.author or self.kind.value


class SourceRecord(SourceSpec, Record):
    created_at: str
    created_by: str

    @property
    def log_key(self) -> str:
        """Whose deliveries and dedupe markers these are: this source, not an earlier one of its name."""
        return f"{self.name}#{self.created_at}"


class SourceOut(Output):
    name: str
    kind: SourceKind
    description: str
    signing_secret: str | None = None
    access_token_secret: str | None = None
    project: str | None = None
    version_event: EventType | None = None
    author: str | None = None
    account: str | None = None
    region: str | None = None
    project_tag: str | None = None
    match_tags: dict[str, str] | None = None
    created_at: str
    created_by: str
    inbound_url: str | None = Field(None, description="MLflow and W&B: where the platform posts.")
    setup: dict[str, Any] = Field(
        default_factory=dict,
        description="What to do on the platform's side: the webhook to create, the payload to paste "
        "(W&B), or the EventBridge rule that carries the events (SageMaker).",
    )


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # verified, translated, published
    DUPLICATE = "duplicate"  # delivered before: nothing published again
    IGNORED = "ignored"  # verified, but nothing in mlhooks' vocabulary to become (the reason says why)
    REJECTED = "rejected"  # not verified, or not readable: nothing published


class DeliveredEvent(Output):
    event_id: str
    detail_type: str
    project: str
    collection: str | None = Field(None, description="The collection, for artifact and collection events.")
    run: str | None = Field(None, description="The run's id, for run events.")
    published: bool = Field(
        description="Put on the bus; false when this source had published it before. The matcher "
        "still runs each automation once per event id."
    )

    @classmethod
    def of(cls, detail_type: str, detail: Any, *, published: bool) -> DeliveredEvent:
        run = getattr(detail, "run", None)
        return cls(
            event_id=detail.event_id,
            detail_type=detail_type,
            project=detail.project,
            collection=getattr(detail, "collection", None),
            run=None if run is None else run.id,
            published=published,
        )


class SourceDeliveryRecord(Record):
    source: str
    id: str
    received_at: str
    outcome: Outcome
    platform_event: str | None = Field(None, description="The platform's name for what happened.")
    platform_delivery_id: str | None = None
    reason: str | None = None
    events: list[DeliveredEvent] = []
