"""W&B as a source: W&B's own automations forwarding their events to mlhooks, for its fan-out,
retries, history and destinations.

A W&B webhook signs its body with `X-Wandb-Signature` (HMAC-SHA256 keyed by the webhook's secret:
hex in W&B's current guide, base64 in its older one; both are accepted) and may send an access token
as `Authorization: Bearer <token>`. Its body is the payload template the user writes in W&B: the
source offers one to paste (`payload_template`), in W&B's variables, that this module reads back.
W&B signs no timestamp, so a delivery is identified by its body: the same body again is a
duplicate while the source remembers it (`source_dedupe_seconds`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

from mlhooks.models.events import DETAIL_TYPE_OF
from mlhooks.models.sources import SourceRecord
from mlhooks.models.vocabulary import LEGACY_EVENT_TYPES, RUN_EVENT_TYPES, EventType, RunState
from mlhooks.sources.base import (
    Delivery,
    Translation,
    Unreadable,
    Unverified,
    digest_id,
    mlhooks_name,
    same,
    text,
)

SIGNATURE_HEADER = "X-Wandb-Signature"

# W&B's variables by what they describe; each event type's template takes those that apply to it.
_COMMON = ("event_type", "event_author", "entity_name", "project_name")
_ARTIFACT = ("artifact_collection_name", "artifact_version", "artifact_version_string")
TEMPLATE_VARIABLES: dict[EventType, tuple[str, ...]] = {
    EventType.CREATE_ARTIFACT: _COMMON + _ARTIFACT,
    EventType.LINK_ARTIFACT: _COMMON + _ARTIFACT,
    EventType.UNLINK_ARTIFACT: _COMMON + _ARTIFACT,
    EventType.ADD_ARTIFACT_ALIAS: (*_COMMON, *_ARTIFACT, "alias"),
    EventType.ADD_ARTIFACT_TAG: (*_COMMON, *_ARTIFACT, "tag"),
    EventType.REMOVE_ARTIFACT_TAG: (*_COMMON, *_ARTIFACT, "tag"),
    EventType.ADD_COLLECTION_TAG: (*_COMMON, "artifact_collection_name", "tag"),
    EventType.REMOVE_COLLECTION_TAG: (*_COMMON, "artifact_collection_name", "tag"),
    EventType.RUN_STATE: (*_COMMON, "run_name", "run_status"),
}
_VERSION_INDEX = re.compile(r":v([0-9]{1,15})$")


def payload_template(event_type: EventType) -> str:
    """The payload to paste into a W&B automation of this event type: W&B fills in its variables."""
    return json.dumps({name: "${" + name + "}" for name in TEMPLATE_VARIABLES[event_type]}, indent=2)


def payload_templates() -> dict[str, str]:
    return {event_type.value: payload_template(event_type) for event_type in TEMPLATE_VARIABLES}


def verify(delivery: Delivery, signing_secret: str | None, access_token: str | None) -> str:
    """The delivery's identity (a digest of its body), once every credential the source names holds."""
    if signing_secret is not None:
        given = (delivery.header(SIGNATURE_HEADER) or "").strip()
        if not given:
            raise Unverified(
                f"The {SIGNATURE_HEADER} header is missing: "
                "give the W&B webhook the secret this source names.",
                field=SIGNATURE_HEADER,
            )
        digest = hmac.new(signing_secret.encode("utf-8"), delivery.body, hashlib.sha256).digest()
        if not (same(given.lower(), digest.hex()) or same(given, base64.b64encode(digest).decode("ascii"))):
            raise Unverified(
                f"{SIGNATURE_HEADER} does not match (hex or base64 HMAC-SHA256 of the body): the W&B "
                "webhook's secret is not the one this source names, or the body was changed on the way.",
                field=SIGNATURE_HEADER,
            )
    if access_token is not None:
        authorization = delivery.header("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if not authorization:
            raise Unverified(
                "The Authorization header is missing: "
                "give the W&B webhook the access token this source names.",
                field="Authorization",
            )
        if scheme.lower() != "bearer" or not same(token.strip(), access_token):
            raise Unverified(
                "The W&B webhook's access token is not the one this source names.", field="Authorization"
            )
    return hashlib.sha256(delivery.body).hexdigest()


def event_name(payload: Any) -> str | None:
    """The W&B event type the body names, as far as it names one."""
    return str(payload.get("event_type"))[:100] if isinstance(payload, dict) else None


def translate(
    payload: Any, source: SourceRecord, delivery_id: str, now: datetime | None = None
) -> Translation:
    if not isinstance(payload, dict):
        raise Unreadable(
            "The W&B webhook's body is a JSON object: paste the source's payload template.", field="body"
        )
    name = text(payload, "event_type", "body")
    assert name
    translation = Translation(platform_event=event_name(payload), platform_delivery_id=delivery_id)
    try:
        event_type = LEGACY_EVENT_TYPES.get(name) or EventType(name)
    except ValueError:
        translation.ignored = f"{name[:100]} is not a W&B event type"
        return translation
    if event_type in RUN_EVENT_TYPES and event_type is not EventType.RUN_STATE:
        translation.ignored = (
            "W&B evaluated this metric condition itself; mlhooks evaluates metric conditions on the "
            "metrics a run logs (Run Metrics Logged), which W&B's webhooks do not carry"
        )
        return translation
    when = now or datetime.now(UTC)
    translation.dedupe[0] = f"wandb-{delivery_id}"
    detail: dict[str, Any] = {
        # The same body later (past the dedupe window) is a new event: an id of its own.
        "event_id": f"wandb-{digest_id(delivery_id, length=24)}-{int(when.timestamp() * 1000)}",
        "time": when.isoformat(),
        "project": mlhooks_name(text(payload, "project_name", "body") or ""),
        "author": text(payload, "event_author", "body"),
    }
    if event_type is EventType.RUN_STATE:
        run_name = text(payload, "run_name", "body")
        status = (text(payload, "run_status", "body") or "").upper()
        if status not in RunState.__members__:
            raise Unreadable(
                f"body.run_status {status[:50]!r} is not a run state W&B reports.", field="body.run_status"
            )
        detail["run"] = {"id": run_name, "display_name": run_name, "user": detail["author"], "state": status}
    else:
        detail["collection"] = mlhooks_name(text(payload, "artifact_collection_name", "body") or "")
        for field in ("alias", "tag"):
            if field in TEMPLATE_VARIABLES[event_type]:
                detail[field] = text(payload, field, "body")
        if event_type not in (EventType.ADD_COLLECTION_TAG, EventType.REMOVE_COLLECTION_TAG):
            detail["artifact"] = _artifact(payload, detail.get("alias"))
    translation.events.append((DETAIL_TYPE_OF[event_type], detail))
    return translation


def _artifact(payload: dict[str, Any], alias: str | None) -> dict[str, Any]:
    """W&B's `${artifact_version}` is `wandb-artifact://_id/<id>`; its `${artifact_version_string}`
    ends in `:v<index>`, or in the alias an alias event is about (then the index is unknown: 0)."""
    version = text(payload, "artifact_version", "body")
    assert version
    found = _VERSION_INDEX.search(text(payload, "artifact_version_string", "body") or "")
    return {
        "id": version.removeprefix("wandb-artifact://_id/"),
        "version_index": int(found[1]) if found else 0,
        "type": "model",
        "aliases": [alias] if alias else [],
    }
