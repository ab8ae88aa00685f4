"""Payload templates: variable discovery, validation and JSON-aware substitution."""

from __future__ import annotations

import json

import pytest

from mlhooks.errors import InvalidInput
from mlhooks.templating import (
    MAX_TEMPLATE_BYTES,
    check_variables,
    discover_variables,
    parse_template,
    render_payload,
)

pytestmark = pytest.mark.suite("input")

GITHUB = {
    "event_type": "${event_type}",
    "client_payload": {"v": "${artifact_version_string}", "k": "${TOKEN}"},
}


def test_discovers_variables_in_keys_and_values():
    template = {"${alias}": ["x ${run_name} y", {"z": "${artifact_metadata.accuracy}"}], "n": 3}
    assert discover_variables(template) == {"alias", "run_name", "artifact_metadata.accuracy"}


def test_template_may_be_json_text_or_value():
    assert parse_template(json.dumps(GITHUB)) == GITHUB
    assert parse_template(GITHUB) == GITHUB


@pytest.mark.parametrize("bad", ['{"a": ${event_type}}', "{", None])
def test_invalid_json_template_is_refused(bad):
    with pytest.raises(InvalidInput) as caught:
        parse_template(bad)
    assert caught.value.field == "action.payload"


def test_oversized_template_is_refused():
    with pytest.raises(InvalidInput, match="larger"):
        parse_template({"a": "x" * MAX_TEMPLATE_BYTES})


def test_known_variables_metadata_and_attached_secrets_pass():
    check_variables(
        {"event_type", "artifact_metadata.f1", "TOKEN", "ACCESS_TOKEN"},
        secrets={"TOKEN"},
        has_access_token=True,
    )


@pytest.mark.parametrize(
    ("names", "secrets", "token"),
    [
        ({"bogus"}, set(), False),
        ({"OTHER_SECRET"}, {"TOKEN"}, False),
        ({"ACCESS_TOKEN"}, set(), False),
        ({"artifact_metadata."}, set(), False),
    ],
)
def test_unknown_variables_are_refused(names, secrets, token):
    with pytest.raises(InvalidInput, match="Unknown template variables"):
        check_variables(names, secrets=secrets, has_access_token=token)


def test_values_cannot_inject_json_structure():
    evil = '", "admin": true, "x": "\\'
    body = render_payload({"alias": "${alias}", "n": 1}, {"alias": evil})
    assert json.loads(body) == {"alias": evil, "n": 1}


def test_missing_variable_renders_empty_and_unicode_survives():
    body = render_payload({"a": "[${run_name}]", "b": "${alias}"}, {"alias": "prödüction ✓"})
    assert json.loads(body) == {"a": "[]", "b": "prödüction ✓"}


def test_render_is_compact_and_deterministic():
    assert render_payload({"a": [1, "${alias}"]}, {"alias": "x"}) == b'{"a":[1,"x"]}'
