"""MLflow's registry webhooks (MLflow 3.3 and later), verified and translated.

MLflow posts `{"entity", "action", "timestamp", "data"}` with `X-MLflow-Delivery-Id`,
`X-MLflow-Timestamp` (Unix seconds) and, when the webhook has a secret, `X-MLflow-Signature:
v1,<base64 HMAC-SHA256 over "{delivery id}.{timestamp}.{body}">`. A delivery is verified before its
body is read; one signed too long ago is refused (a replay of a captured request), and one whose
delivery id was seen is a duplicate (MLflow retries with the same id and timestamp).

The mapping (the README's "Connect your platform" shows it as a table): a registered model or a
prompt is an artifact collection in the source's project; a new version is the source's
`version_event` (LINK_ARTIFACT by default); version tags and aliases are artifact tag and alias
events, a prompt's own tags collection tag events. MLflow names no user in its payloads, so
`${event_author}` is the source's `author`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mlhooks.models.events import DETAIL_TYPE_OF
from mlhooks.models.sources import SourceRecord
from mlhooks.signing import sign_v1
from mlhooks.sources.base import (
    Delivery,
    Translation,
    Unreadable,
    Unverified,
    digest_id,
    mlhooks_name,
    same,
    text,
    version_number,
)

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
MAX_DELIVERY_ID = 128  # MLflow sends a UUID
MAX_SIGNATURES = 1024
# What an event keeps of MLflow's texts, so that it stays within MAX_EVENT_BYTES whatever MLflow
# allows (tag values of 100,000 characters): a description's start, and the first tags, cut.
MAX_TEXT = 1000
MAX_TAGS = 20
MAX_TAG_TEXT = 300
MAX_ID = 256
# MLflow's "Test webhook" sends fixed examples about these names (see `is_test`).
TEST_NAMES = frozenset({"example_model", "example_prompt"})

# (MLflow entity, action) -> (mlhooks detail-type or None for the source's version event, artifact type)
_VERSION = None
ARTIFACT_EVENTS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("model_version", "created"): (_VERSION, "model"),
    ("model_version_tag", "set"): ("Artifact Tag Added", "model"),
    ("model_version_tag", "deleted"): ("Artifact Tag Removed", "model"),
    ("model_version_alias", "created"): ("Artifact Alias Added", "model"),
    ("prompt_version", "created"): (_VERSION, "prompt"),
    ("prompt_version_tag", "set"): ("Artifact Tag Added", "prompt"),
    ("prompt_version_tag", "deleted"): ("Artifact Tag Removed", "prompt"),
    ("prompt_alias", "created"): ("Artifact Alias Added", "prompt"),
}
COLLECTION_EVENTS = {
    ("prompt_tag", "set"): "Collection Tag Added",
    ("prompt_tag", "deleted"): "Collection Tag Removed",
}
IGNORED = {
    ("registered_model", "created"): "mlhooks has no event for a new collection; its first version is one",
    ("prompt", "created"): "mlhooks has no event for a new collection; its first version is one",
    ("model_version_alias", "deleted"): "mlhooks, like W&B, has no event for a removed alias",
    ("prompt_alias", "deleted"): "mlhooks, like W&B, has no event for a removed alias",
}


def verify(delivery: Delivery, secret: str, now: float, tolerance: float) -> str:
    """The delivery id of a delivery MLflow signed with `secret` within `tolerance` seconds of now."""
    signatures = delivery.header(SIGNATURE_HEADER)
    timestamp = delivery.header(TIMESTAMP_HEADER)
    delivery_id = delivery.header(DELIVERY_ID_HEADER)
    for name, value in (
        (SIGNATURE_HEADER, signatures),
        (TIMESTAMP_HEADER, timestamp),
        (DELIVERY_ID_HEADER, delivery_id),
    ):
        if not value:
            hint = " Give the MLflow webhook the source's signing secret." if name == SIGNATURE_HEADER else ""
            raise Unverified(f"The {name} header is missing.{hint}", field=name)
    assert signatures and timestamp and delivery_id
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unverified(f"{TIMESTAMP_HEADER} must be Unix seconds.", field=TIMESTAMP_HEADER)
    for name, value, limit in (
        (DELIVERY_ID_HEADER, delivery_id, MAX_DELIVERY_ID),
        (SIGNATURE_HEADER, signatures, MAX_SIGNATURES),
    ):
        if len(value) > limit:
            raise Unverified(f"{name} is longer than MLflow sends ({limit} characters).", field=name)
    expected = sign_v1(secret.encode("utf-8"), delivery_id, timestamp, delivery.body)
    if not any(same(given, expected) for given in signatures.split()):
        raise Unverified(
            f"{SIGNATURE_HEADER} does not match: the MLflow webhook's secret is not the one this source "
            "names, or the body was changed on the way.",
            field=SIGNATURE_HEADER,
        )
    skew = now - int(timestamp)
    if abs(skew) > tolerance:
        when = f"{int(skew)} s ago" if skew > 0 else f"{int(-skew)} s ahead of this clock"
        raise Unverified(
            f"{TIMESTAMP_HEADER} says {when}, more than the {tolerance:.0f} s allowed: "
            "a stale or replayed delivery (or a clock that is off).",
            field=TIMESTAMP_HEADER,
        )
    return delivery_id


def event_name(payload: Any) -> str | None:
    """What MLflow says happened (`model_version_alias.created`), as far as the body says it."""
    if not isinstance(payload, dict):
        return None
    return f"{str(payload.get('entity'))[:60]}.{str(payload.get('action'))[:30]}"


def is_test(data: dict[str, Any]) -> bool:
    """MLflow's "Test webhook" example: a fixed model or prompt name with MLflow's example tag, tag
    key or alias (every example payload MLflow sends carries one of them)."""
    name = data.get("name")
    return (
        isinstance(name, str)
        and name in TEST_NAMES
        and (
            data.get("tags") == {"example_key": "example_value"}
            or data.get("key") == "example_key"
            or data.get("alias") == "example_alias"
        )
    )


def translate(payload: Any, source: SourceRecord, delivery_id: str) -> Translation:
    if not isinstance(payload, dict):
        raise Unreadable("An MLflow webhook body is a JSON object.", field="body")
    entity, action = text(payload, "entity", "body"), text(payload, "action", "body")
    assert entity and action
    data = payload.get("data")
    if not isinstance(data, dict):
        raise Unreadable("body.data must be an object.", field="body.data")
    event = (entity, action)
    translation = Translation(platform_event=event_name(payload), platform_delivery_id=delivery_id)
    if is_test(data):
        translation.ignored = "MLflow's test payload (Test webhook): verified, and not published"
        return translation
    if event in IGNORED:
        translation.ignored = IGNORED[event]
        return translation
    if event not in ARTIFACT_EVENTS and event not in COLLECTION_EVENTS:
        translation.ignored = f"{translation.platform_event} is not an MLflow event mlhooks translates"
        return translation
    common = {
        "event_id": f"mlflow-{digest_id(delivery_id)}",
        "time": _time(payload),
        "project": source.target_project,
        "author": source.default_author,
        "collection": mlhooks_name(text(data, "name", "body.data") or ""),
    }
    if event in COLLECTION_EVENTS:
        tag = text(data, "key", "body.data")
        translation.events.append((COLLECTION_EVENTS[event], {**common, "tag": tag}))
        return translation
    detail_type, artifact_type = ARTIFACT_EVENTS[event]
    detail_type = detail_type or DETAIL_TYPE_OF[source.version_event_type]
    detail = {**common, "artifact": _artifact(data, artifact_type)}
    if action == "created" and "alias" in entity:
        detail["alias"] = text(data, "alias", "body.data")
        detail["artifact"]["aliases"] = [detail["alias"]]
    elif "tag" in entity:
        detail["tag"] = text(data, "key", "body.data")
        if isinstance(data.get("value"), str):
            detail["artifact"]["metadata"]["tag_value"] = _cut(data["value"])
    translation.events.append((detail_type, detail))
    return translation


def _cut(value: str, limit: int = MAX_TEXT) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _time(payload: dict[str, Any]) -> str:
    value = text(payload, "timestamp", "body")
    assert value
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise Unreadable("body.timestamp must be an ISO 8601 time.", field="body.timestamp") from None
    return value


def _artifact(data: dict[str, Any], artifact_type: str) -> dict[str, Any]:
    """A registry version as mlhooks' artifact: `models:/<name>/<version>` (MLflow's own URI for it),
    its number as the version index (MLflow counts from 1), and what MLflow says of it as metadata
    (`${artifact_metadata.run_id}`, ...)."""
    name = data["name"]
    version = version_number(data, "version", "body.data")
    tags = data.get("tags") if isinstance(data.get("tags"), dict) else {}
    # MLflow's texts are long (a tag value holds 100,000 characters): the event keeps their start.
    metadata = {
        k: _cut(data[k]) for k in ("name", "source", "run_id", "description") if isinstance(data.get(k), str)
    }
    if tags:
        metadata["tags"] = {
            _cut(str(k), MAX_TAG_TEXT): _cut(str(v), MAX_TAG_TEXT) for k, v in list(tags.items())[:MAX_TAGS]
        }
    scheme = "prompts" if artifact_type == "prompt" else "models"
    uri = f"{scheme}:/{name}/{version}"
    return {
        "id": uri if len(uri) <= MAX_ID else f"{scheme}:/{digest_id(name)}/{version}",
        "version_index": version,
        "type": artifact_type,
        "tags": sorted(_cut(str(k), 256) for k in tags)[:MAX_TAGS],
        "metadata": metadata,
    }
