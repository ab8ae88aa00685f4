"""Payload templates: `${variable}` placeholders inside a JSON document.

A template is parsed as JSON once, and placeholders are substituted inside its strings (keys and
values) before it is serialised again. A value therefore always lands *inside* a JSON string and
is escaped for it: the rendered payload is valid JSON and no value can inject structure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from mlhooks import bounded_json
from mlhooks.errors import InvalidInput

MAX_TEMPLATE_BYTES = 64 * 1024
MAX_TEMPLATE_DEPTH = 32

# W&B's payload variables (the names a receiver built for W&B expects).
EVENT_VARIABLES: frozenset[str] = frozenset(
    {
        "event_type",
        "event_author",
        "entity_name",
        "project_name",
        "artifact_collection_name",
        "artifact_version",
        "artifact_version_string",
        "artifact_version_index",
        "alias",
        "tag",
        "automation_name",
        "run_name",
        "run_status",
        "metric_name",
        "metric_values",
    }
)
METADATA_PREFIX = "artifact_metadata."
ACCESS_TOKEN = "ACCESS_TOKEN"  # noqa: S105 - a variable name

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


def check_variables(
    names: set[str], *, secrets: set[str], has_access_token: bool, field: str = "action.payload"
) -> None:
    """Refuse variables that are neither W&B's, nor an `artifact_metadata.<KEY>`, nor allowed secrets."""
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
    hint = (
        ("${ACCESS_TOKEN} needs a webhook with an access token; " if ACCESS_TOKEN in unknown else "")
        + "use W&B's payload variables, ${artifact_metadata.<KEY>}, "
        "or a secret listed in the webhook's `secrets`"
    )
    raise InvalidInput(
        f"Unknown template variables: {', '.join('${' + n + '}' for n in unknown)} ({hint}).", field=field
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
