"""Payload templates: `${variable}` placeholders inside a JSON document.

A template is parsed as JSON once, and placeholders are substituted inside its strings (keys and
values) before it is serialised again. A value therefore always lands *inside* a JSON string and
is escaped for it: the rendered payload is valid JSON and no value can inject structure.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mlhooks import bounded_json
from mlhooks.errors import InvalidInput
from mlhooks.models.events import DETAIL_TYPES, ArtifactEventDetail
from mlhooks.models.vocabulary import RUN_EVENT_TYPES, EventType

MAX_TEMPLATE_BYTES = 64 * 1024
MAX_TEMPLATE_DEPTH = 32

METADATA_PREFIX = "artifact_metadata."
ACCESS_TOKEN = "ACCESS_TOKEN"  # noqa: S105 - a variable name

_EVERY = frozenset(EventType)
# Which events carry what, read off the events' own schemas (models/events.py): those about one
# artifact version, those about a collection, those with a tag.
_VERSION = frozenset(m.event_type for m in DETAIL_TYPES.values() if issubclass(m, ArtifactEventDetail))
_COLLECTION = frozenset(m.event_type for m in DETAIL_TYPES.values() if "collection" in m.model_fields)
_TAG = frozenset(m.event_type for m in DETAIL_TYPES.values() if "tag" in m.model_fields)
_METRIC = RUN_EVENT_TYPES - {EventType.RUN_STATE}


@dataclass(frozen=True)
class PayloadVariable:
    """One of W&B's payload variables: what it holds, and the event types whose events carry it.
    On any other event it renders as "" (W&B's rule), so it is allowed, just empty."""

    name: str
    meaning: str
    event_types: frozenset[EventType]


# W&B's payload variables (the names a receiver built for W&B expects): the one place they are
# defined. models/events.template_variables gives them their values (tests/unit check the two agree),
# and the API's documentation and the suggestions for a mistyped name are made from this table.
PAYLOAD_VARIABLES: tuple[PayloadVariable, ...] = (
    PayloadVariable("event_type", "The event type, e.g. `ADD_ARTIFACT_ALIAS`.", _EVERY),
    PayloadVariable("event_author", "Who caused the event; for run events, the run's user.", _EVERY),
    PayloadVariable("entity_name", "The entity (team).", _EVERY),
    PayloadVariable("project_name", "The project or registry.", _EVERY),
    PayloadVariable("automation_name", "The automation's name.", _EVERY),
    PayloadVariable(
        "artifact_collection_name", "The artifact collection (for a link, its target).", _COLLECTION
    ),
    PayloadVariable("artifact_version", "The version by its id: `wandb-artifact://_id/<id>`.", _VERSION),
    PayloadVariable(
        "artifact_version_string",
        "`<entity>/<project>/<collection>:<alias or vN>` (an alias event names its alias).",
        _VERSION,
    ),
    PayloadVariable("artifact_version_index", "The version's index: `3` for v3.", _VERSION),
    PayloadVariable(
        METADATA_PREFIX + "<KEY>", "A key of the version's metadata (other than text: as JSON).", _VERSION
    ),
    PayloadVariable("alias", "The alias added.", frozenset({EventType.ADD_ARTIFACT_ALIAS})),
    PayloadVariable("tag", "The tag added or removed.", _TAG),
    PayloadVariable("run_name", "The run's display name.", RUN_EVENT_TYPES),
    PayloadVariable("run_status", "The run's state, when the event reports it.", RUN_EVENT_TYPES),
    PayloadVariable("metric_name", "The metric(s) the condition watches.", _METRIC),
    PayloadVariable("metric_values", "The values that decided, as JSON.", _METRIC),
)
EVENT_VARIABLES: frozenset[str] = frozenset(
    v.name for v in PAYLOAD_VARIABLES if not v.name.startswith(METADATA_PREFIX)
)
_BY_NAME = {v.name: v for v in PAYLOAD_VARIABLES}


def variables_for(event_type: EventType) -> frozenset[str]:
    """The variables an event type's events carry (`artifact_metadata.<KEY>` aside: its keys are the
    event's own)."""
    return frozenset(name for name in EVENT_VARIABLES if event_type in _BY_NAME[name].event_types)


def _names(variables: list[str]) -> str:
    return " ".join(f"`${{{name}}}`" for name in variables)


def variables_table() -> str:
    """Markdown: which variables each event type's payloads may use. Written for the API's
    documentation (the action's description in /v1/openapi.json) and the README, from PAYLOAD_VARIABLES."""
    common = [v.name for v in PAYLOAD_VARIABLES if v.event_types == _EVERY]
    rows = [
        f"| `{event_type.value}` | "
        + _names(
            [v.name for v in PAYLOAD_VARIABLES if v.event_types != _EVERY and event_type in v.event_types]
        )
        + " |"
        for event_type in EventType
    ]
    return "\n".join(
        [
            f"Every event type: {_names(common)}.",
            "",
            "| Event type | Also |",
            "|---|---|",
            *rows,
            "",
            "A variable an event does not carry renders as an empty string. A webhook's payload may also "
            "use `${ACCESS_TOKEN}` (its access token) and `${<SECRET_NAME>}` for each secret listed in its "
            "`secrets`; Slack messages and job overrides use event variables only.",
        ]
    )


def variables_meanings() -> str:
    """Markdown: what each variable holds, from PAYLOAD_VARIABLES."""
    rows = [f"| `${{{v.name}}}` | {v.meaning} |" for v in PAYLOAD_VARIABLES]
    return "\n".join(["| Variable | Holds |", "|---|---|", *rows])


# Simple character classes only: linear time on any input.
PLACEHOLDER = re.compile(r"\$\{([^${}]{1,200})\}")


def parse_template(payload: Any, *, field: str = "action.payload") -> Any:
    """Accept a JSON value, or JSON text, and return the JSON value; refuse anything else."""
    if isinstance(payload, str):
        try:
            payload = bounded_json.loads(payload, max_depth=MAX_TEMPLATE_DEPTH)
        except bounded_json.JsonRefused as exc:
            raise InvalidInput(
                f"The payload template is not usable JSON: {exc} "
                'Put placeholders inside strings: {"version": "${artifact_version_string}"}.',
                field=field,
            ) from None
    if payload is None:
        raise InvalidInput("The payload template is required.", field=field)
    # Depth first, without recursion: serialising a value nested thousands deep would exhaust the stack.
    if bounded_json.nesting_depth(payload) > MAX_TEMPLATE_DEPTH:
        raise InvalidInput(
            f"The payload template nests deeper than {MAX_TEMPLATE_DEPTH} levels.", field=field
        )
    try:
        size = len(json.dumps(payload, allow_nan=False).encode())
    except ValueError:
        raise InvalidInput("The payload template must be finite, plain JSON.", field=field) from None
    if size > MAX_TEMPLATE_BYTES:
        raise InvalidInput(f"The payload template is larger than {MAX_TEMPLATE_BYTES} bytes.", field=field)
    return payload


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def discover_variables(template: Any) -> set[str]:
    """Every `${name}` used anywhere in the template."""
    return {match.group(1) for text in _strings(template) for match in PLACEHOLDER.finditer(text)}


def suggestion(
    name: str,
    *,
    event_type: EventType | None = None,
    secrets: Collection[str] = (),
    has_access_token: bool = False,
) -> str | None:
    """The variable a mistyped `name` most likely meant, as `${name}`, or None.

    Looked for first among what the event type carries and the allowed secrets, then among all of
    W&B's variables (saying on which events that one is empty). Case is ignored (`${Alias}`), and a
    misspelt metadata prefix keeps its key (`${artifact_metdata.f1}` -> `${artifact_metadata.f1}`)."""
    prefix, dot, key = name.partition(".")
    if dot and key and _closest(prefix, {METADATA_PREFIX[:-1]}):
        return f"${{{METADATA_PREFIX}{key}}}"
    own = set(variables_for(event_type) if event_type else EVENT_VARIABLES) | set(secrets)
    if has_access_token:
        own.add(ACCESS_TOKEN)
    found = _closest(name, own)
    if found:
        return f"${{{found}}}"
    found = _closest(name, set(EVENT_VARIABLES))
    if found is None:
        return None
    return f"${{{found}}} (empty on {event_type.value} events)" if event_type else f"${{{found}}}"


def _closest(name: str, candidates: set[str]) -> str | None:
    by_lower = {candidate.lower(): candidate for candidate in sorted(candidates)}
    # 0.75: one or two slips in a name of ten letters; far enough apart, no guess is better than a wrong one.
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return by_lower[close[0]] if close else None


def check_variables(
    names: set[str],
    *,
    secrets: set[str],
    has_access_token: bool,
    field: str = "action.payload",
    event_type: EventType | None = None,
    takes_secrets: bool = True,
) -> None:
    """Refuse variables that are neither W&B's, nor an `artifact_metadata.<KEY>`, nor allowed secrets;
    each refused one with the name it most likely meant (for `event_type`, when given). Slack
    messages and jobs never carry secrets (`takes_secrets` False), and the hint says so."""
    unknown = sorted(
        name
        for name in names
        if name not in EVENT_VARIABLES
        and not (name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX))
        and not (name == ACCESS_TOKEN and has_access_token)
        and name not in secrets
    )
    if not unknown:
        return
    if takes_secrets:
        hint = (
            ("${ACCESS_TOKEN} needs a webhook with an access token; " if ACCESS_TOKEN in unknown else "")
            + "use W&B's payload variables, ${artifact_metadata.<KEY>}, "
            "or a secret listed in the webhook's `secrets`"
        )
    else:
        hint = "use W&B's payload variables or ${artifact_metadata.<KEY>}; secrets never travel here"
    described = []
    details = []
    for name in unknown:
        meant = (
            None
            if name == ACCESS_TOKEN
            else suggestion(name, event_type=event_type, secrets=secrets, has_access_token=has_access_token)
        )
        text = "${" + name + "}" + (f" (did you mean {meant}?)" if meant else "")
        described.append(text)
        details.append({"field": field, "message": f"unknown template variable {text}"})
    raise InvalidInput(
        f"Unknown template variables: {', '.join(described)} ({hint}).", field=field, details=details
    )


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace every placeholder in one string; a variable with no value becomes ""."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), text)


def render(value: Any, values: Mapping[str, str]) -> Any:
    """A JSON value with every placeholder in its strings (keys too) substituted."""
    if isinstance(value, str):
        return substitute(value, values)
    if isinstance(value, dict):
        return {substitute(key, values): render(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, values) for item in value]
    return value


def render_payload(template: Any, values: Mapping[str, str]) -> bytes:
    """The exact body bytes to send (and sign) for a template and the event's variable values."""
    rendered = render(template, values)
    return json.dumps(rendered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sample_variables(entity: str, author: str) -> dict[str, str]:
    """Plausible values for a test delivery, shaped like an alias-added event."""
    return {
        "event_type": "ADD_ARTIFACT_ALIAS",
        "event_author": author,
        "entity_name": entity,
        "project_name": "sample-project",
        "artifact_collection_name": "sample-model",
        "artifact_version": "wandb-artifact://_id/QXJ0aWZhY3Q6MTIzNDU2",
        "artifact_version_string": f"{entity}/sample-project/sample-model:production",
        "artifact_version_index": "3",
        "alias": "production",
        "automation_name": "test-delivery",
    }
