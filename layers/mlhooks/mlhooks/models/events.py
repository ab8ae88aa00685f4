"""Platform events: what publishers put on the bus, one schema per `detail-type`.

An EventBridge event for mlhooks has `source` = "mlhooks.platform", a `detail-type` from
DETAIL_TYPES, and one of these models as `detail`. The JSON Schemas under `events/schemas/` are
generated from these classes (`mlhooks schemas`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from mlhooks.bounded_json import nesting_depth
from mlhooks.models.base import Input
from mlhooks.models.names import CollectionName, EntityName, ProjectName
from mlhooks.models.vocabulary import EventType, RunState

SOURCE = "mlhooks.platform"
# Events published through the API. Only the API's role may put events with this source on the bus
# (the bus policy in template.yaml denies everyone else), so only for it is `publisher` believed.
API_SOURCE = "mlhooks.api"
# Events translated from a registered source (MLflow, W&B, SageMaker: mlhooks.sources). Only the
# inbound function's role may publish with it, so only for it is `publisher` believed too.
SOURCES_SOURCE = "mlhooks.sources"

EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256)]
MAX_METADATA_KEYS = 100
MAX_METADATA_DEPTH = 16
MAX_METRICS = 1000
# W&B's steps are 64-bit, but a step far beyond any real run would make every later step look out of
# order and freeze the run's conditions for good: steps stay within what JSON numbers hold exactly.
MAX_STEP = 2**53 - 1
# An event's detail, as JSON: executions keep it (DynamoDB items hold 400 KB), and EventBridge takes
# 256 KB an entry. Bounded here, so a too-large event is refused when published, not stuck later.
MAX_EVENT_BYTES = 64 * 1024


# How writers spell NaN and the infinities as text (Python: NaN, inf; JavaScript: NaN, Infinity; numpy:
# nan), in any case.
NON_FINITE = {
    spelling: value
    for value, spellings in (
        (math.nan, ("nan", "+nan", "-nan")),
        (math.inf, ("inf", "+inf", "infinity", "+infinity")),
        (-math.inf, ("-inf", "-infinity")),
    )
    for spelling in spellings
}


def _metric_value(value: Any) -> float:
    """A number as logged. JSON cannot hold NaN and the infinities as numbers: they travel as the
    strings "NaN", "Infinity" and "-Infinity", or as null (what most JSON writers make of NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, str) and value.strip().lower() in NON_FINITE:
        return NON_FINITE[value.strip().lower()]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError('a metric value is a number, or "NaN", "Infinity", "-Infinity" or null')
    try:
        return float(value)
    except OverflowError:
        raise ValueError("the metric value is too large for a float") from None


# Conditions ignore the non-finite values and count them; the step's other metrics still count.
MetricValue = Annotated[float, BeforeValidator(_metric_value)]
Step = Annotated[int, Field(strict=True, ge=0, le=MAX_STEP)]


class Artifact(Input):
    id: ShortText
    version_index: Annotated[int, Field(ge=0, le=MAX_STEP)]
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    aliases: list[ShortText] = Field(default_factory=list, max_length=100)
    tags: list[ShortText] = Field(default_factory=list, max_length=100)
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=MAX_METADATA_KEYS)

    @field_validator("metadata")
    @classmethod
    def _bounded(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        if nesting_depth(metadata) > MAX_METADATA_DEPTH:
            raise ValueError(f"metadata nests deeper than {MAX_METADATA_DEPTH} levels")
        try:
            json.dumps(metadata, allow_nan=False)
        except ValueError:
            raise ValueError("metadata must be plain JSON: finite numbers, strings, lists, objects") from None
        return metadata


class Run(Input):
    # Non-finite metrics leave as strings, so that re-serialising an event never turns them into null.
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")

    id: ShortText
    display_name: ShortText
    user: ShortText
    state: RunState | None = None
    step: Step | None = None
    # Values may be NaN or infinite (a diverging loss); they are kept, and ignored (and counted) by
    # conditions, so the other metrics of the step still count.
    metrics: dict[ShortText, MetricValue] = Field(default_factory=dict, max_length=MAX_METRICS)


class Publisher(Input):
    """Who put an event on the bus: through the API, an API key and its member (a member's key
    publishes as that member; a service key may publish for others); through a registered source
    (`source`: its name), the platform that source verified; else EventBridge itself, where only the
    account's IAM principals can publish."""

    via: Literal["api", "source", "eventbridge"]
    key_id: str | None = None
    member: str | None = None
    service: bool = False
    source: str | None = None

    @model_serializer(mode="wrap")
    def _source_only_for_sources(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Events and executions say `source` only for a source's events, as they did before sources.
        data = handler(self)
        if data.get("source") is None:
            data.pop("source", None)
        return data


BUS_PUBLISHER = Publisher(via="eventbridge")


class EventDetail(Input):
    """Fields every platform event carries."""

    event_type: ClassVar[EventType | None] = None

    event_id: EventId = Field(description="Unique per event: a redelivered event keeps its id (dedupe).")
    time: dt.datetime
    entity: EntityName
    project: ProjectName
    author: ShortText = Field(description="Who caused the event (a username).")
    publisher: Publisher | None = Field(
        None, description="Set by mlhooks when the event is published through the API; not yours to set."
    )

    @model_validator(mode="after")
    def _bounded_size(self) -> EventDetail:
        size = len(self.model_dump_json().encode("utf-8"))
        if size > MAX_EVENT_BYTES:
            raise ValueError(
                f"the event is {size} bytes as JSON, more than {MAX_EVENT_BYTES}: "
                "keep metadata and texts short"
            )
        return self


class ArtifactEventDetail(EventDetail):
    collection: CollectionName = Field(
        description="The collection the event is about (for links: the target)."
    )
    artifact: Artifact


class ArtifactVersionCreated(ArtifactEventDetail):
    event_type = EventType.CREATE_ARTIFACT


class ArtifactLinked(ArtifactEventDetail):
    event_type = EventType.LINK_ARTIFACT


class ArtifactUnlinked(ArtifactEventDetail):
    event_type = EventType.UNLINK_ARTIFACT


class ArtifactAliasAdded(ArtifactEventDetail):
    event_type = EventType.ADD_ARTIFACT_ALIAS
    alias: ShortText


class ArtifactTagAdded(ArtifactEventDetail):
    event_type = EventType.ADD_ARTIFACT_TAG
    tag: ShortText


class ArtifactTagRemoved(ArtifactEventDetail):
    event_type = EventType.REMOVE_ARTIFACT_TAG
    tag: ShortText


class CollectionTagAdded(EventDetail):
    event_type = EventType.ADD_COLLECTION_TAG
    collection: CollectionName
    tag: ShortText


class CollectionTagRemoved(EventDetail):
    event_type = EventType.REMOVE_COLLECTION_TAG
    collection: CollectionName
    tag: ShortText


class RunStateChanged(EventDetail):
    event_type = EventType.RUN_STATE
    run: Run

    @field_validator("run")
    @classmethod
    def _state_required(cls, run: Run) -> Run:
        if run.state is None:
            raise ValueError("a run state event needs run.state")
        return run


class RunMetricsLogged(EventDetail):
    """Watched by RUN_METRIC_THRESHOLD, RUN_METRIC_CHANGE and RUN_METRIC_ZSCORE automations."""

    event_type = None
    run: Run

    @field_validator("run")
    @classmethod
    def _metrics_required(cls, run: Run) -> Run:
        if run.step is None or not run.metrics:
            raise ValueError("a run metrics event needs run.step and run.metrics")
        return run


DETAIL_TYPES: dict[str, type[EventDetail]] = {
    "Artifact Version Created": ArtifactVersionCreated,
    "Artifact Linked": ArtifactLinked,
    "Artifact Unlinked": ArtifactUnlinked,
    "Artifact Alias Added": ArtifactAliasAdded,
    "Artifact Tag Added": ArtifactTagAdded,
    "Artifact Tag Removed": ArtifactTagRemoved,
    "Collection Tag Added": CollectionTagAdded,
    "Collection Tag Removed": CollectionTagRemoved,
    "Run State Changed": RunStateChanged,
    "Run Metrics Logged": RunMetricsLogged,
}


# The detail-type of each event type's events (metric events have none: conditions decide on them).
DETAIL_TYPE_OF: dict[EventType, str] = {
    m.event_type: name for name, m in DETAIL_TYPES.items() if m.event_type
}


def filter_fields(detail: EventDetail) -> dict[str, Any]:
    """The fields automation filters see (W&B's names)."""
    fields: dict[str, Any] = {}
    artifact = getattr(detail, "artifact", None)
    if artifact is not None:
        fields["artifact_type"] = artifact.type
    if hasattr(detail, "collection"):
        fields["collection"] = detail.collection  # type: ignore[attr-defined]
    for name in ("alias", "tag"):
        if hasattr(detail, name):
            fields[name] = getattr(detail, name)
    if isinstance(detail, ArtifactLinked):
        fields["alias"] = detail.artifact.aliases  # matched when any of them matches
    run = getattr(detail, "run", None)
    if run is not None:
        fields["display_name"] = run.display_name
        fields["user"] = run.user
    return fields


def template_variables(detail: EventDetail, event_type: EventType, automation_name: str) -> dict[str, str]:
    """W&B's payload variables for an event; a variable that does not apply is left out (renders "")."""
    values = {
        "event_type": event_type.value,
        "event_author": detail.author,
        "entity_name": detail.entity,
        "project_name": detail.project,
        "automation_name": automation_name,
    }
    collection = getattr(detail, "collection", None)
    if collection:
        values["artifact_collection_name"] = collection
    artifact: Artifact | None = getattr(detail, "artifact", None)
    if artifact is not None:
        # W&B's forms: the version by its id, and "entity/project/collection:<alias or vN>", naming
        # the alias an alias event is about.
        values["artifact_version"] = f"wandb-artifact://_id/{artifact.id}"
        named = getattr(detail, "alias", None) or f"v{artifact.version_index}"
        values["artifact_version_string"] = f"{detail.entity}/{detail.project}/{collection}:{named}"
        values["artifact_version_index"] = str(artifact.version_index)
        for key, value in artifact.metadata.items():
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            values[f"artifact_metadata.{key}"] = text
    for name in ("alias", "tag"):
        if hasattr(detail, name):
            values[name] = getattr(detail, name)
    run: Run | None = getattr(detail, "run", None)
    if run is not None:
        values["event_author"] = run.user  # W&B: for run events, the run's user
        values["run_name"] = run.display_name
        if run.state is not None:
            values["run_status"] = run.state.value
    return values


def envelope_schema() -> dict[str, Any]:
    """The EventBridge envelope mlhooks accepts: fixed source, a known detail-type, a detail object."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mlhooks platform event (EventBridge envelope)",
        "type": "object",
        "required": ["source", "detail-type", "detail"],
        "properties": {
            "source": {"const": SOURCE},
            "detail-type": {"enum": list(DETAIL_TYPES)},
            "detail": {"type": "object", "description": "One of the detail schemas in this folder."},
        },
    }


def schema_documents() -> dict[str, dict[str, Any]]:
    """File stem -> JSON Schema, for `events/schemas/`."""
    documents = {"envelope": envelope_schema()}
    for detail_type, model in DETAIL_TYPES.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["description"] = f"`detail` of a `{detail_type}` event (source {SOURCE})."
        documents[detail_type.lower().replace(" ", "-")] = schema
    return documents


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in schema_documents().items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
