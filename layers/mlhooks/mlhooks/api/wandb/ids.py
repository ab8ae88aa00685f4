"""W&B's GraphQL ids for mlhooks' objects.

The SDK treats an id as opaque: it reads one from an answer and sends it back as a scope, an
integration or an automation. W&B's ids are base64 of `Type:number`; mlhooks' say which object
they name instead, `Type:["entity", "name", ...]`, so that resolving one needs no look-up table,
and they carry the entity so that an id from another entity is refused rather than looked up
there.
"""

from __future__ import annotations

import base64
import binascii
import json
from enum import StrEnum

from mlhooks import bounded_json
from mlhooks.errors import InvalidInput, NotFound


class Kind(StrEnum):
    ENTITY = "Entity"
    PROJECT = "Project"
    COLLECTION = "ArtifactCollection"
    WEBHOOK = "GenericWebhookIntegration"
    SLACK = "SlackIntegration"
    TRIGGER = "Trigger"
    USER = "User"
    API_KEY = "ApiKey"


# The names each kind of id holds, the entity's first.
_PARTS = {
    Kind.ENTITY: 1,
    Kind.PROJECT: 2,
    Kind.COLLECTION: 3,
    Kind.WEBHOOK: 2,
    Kind.SLACK: 2,
    Kind.TRIGGER: 2,
    Kind.USER: 2,
    Kind.API_KEY: 2,
}


def encode(kind: Kind, *parts: str) -> str:
    text = f"{kind.value}:{json.dumps(list(parts), ensure_ascii=False, separators=(',', ':'))}"
    return base64.b64encode(text.encode()).decode()


def decode(value: object, entity: str, kinds: tuple[Kind, ...], field: str) -> tuple[Kind, list[str]]:
    """The kind and the names an id stands for, if it is one of `kinds` in `entity`. An id of
    another entity is "not found", as its objects are over REST."""
    what = " or ".join(kind.value for kind in kinds)
    a = "an" if what[0] in "AEIOU" else "a"
    try:
        text = base64.b64decode(str(value), validate=True).decode()
        kind_text, _, rest = text.partition(":")
        kind, parts = Kind(kind_text), bounded_json.loads(rest, max_depth=1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(f"{field} is not the id of {a} {what} mlhooks gave out.", field=field) from None
    if (
        not isinstance(parts, list)
        or len(parts) != _PARTS[kind]
        or not all(isinstance(p, str) and p for p in parts)
    ):
        raise InvalidInput(f"{field} is not the id of {a} {what} mlhooks gave out.", field=field)
    if kind not in kinds:
        given = "an" if kind.value[0] in "AEIOU" else "a"
        raise InvalidInput(f"{field} is the id of {given} {kind.value}, not of {a} {what}.", field=field)
    if parts[0] != entity:
        raise NotFound(f"No {kind.value} with this id.", field=field)
    return kind, parts[1:]
