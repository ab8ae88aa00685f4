"""How pydantic's errors read in the API's answers: accepted values as a user types them, never an
enum's repr, and never the rejected input."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError

from mlhooks.api.errors import accepted_values, describe, validation_failed
from mlhooks.models.api.projects import ProjectCreate
from mlhooks.models.api.secrets import SecretCreate
from mlhooks.models.names import PATTERN_WORDS
from mlhooks.models.vocabulary import EventType, Severity

pytestmark = pytest.mark.suite("input")


class Choices(BaseModel):
    one: Literal[EventType.RUN_STATE] = EventType.RUN_STATE
    two: Literal[EventType.RUN_STATE, EventType.CREATE_ARTIFACT] = EventType.RUN_STATE
    odd: Literal["a, b", 'say "hi"', "it's", 3] = 3
    severity: Severity = Severity.INFO


def errors_of(model: type[BaseModel], data: dict) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return caught.value.errors()


def message(model: type[BaseModel], data: dict) -> tuple[str, str]:
    [error] = errors_of(model, data)
    return describe(error)


def test_single_enum_literal_reads_as_its_value():
    assert message(Choices, {"one": "RUN"}) == ("one", "must be RUN_STATE")


def test_enum_literals_read_as_their_values():
    assert message(Choices, {"two": "RUN"}) == ("two", "must be one of RUN_STATE, CREATE_ARTIFACT")


def test_literal_values_keep_their_commas_and_quotes():
    assert message(Choices, {"odd": "x"}) == ("odd", """must be one of a, b, say "hi", it's, 3""")


def test_enum_lists_values_without_the_rejected_input():
    field, text = message(Choices, {"severity": "hunter2-secret"})
    assert (field, text) == ("severity", "must be one of INFO, WARN, ERROR")


def test_accepted_values_from_enum_member_reprs():
    expected = "<EventType.RUN_STATE: 'RUN_STATE'>, <EventType.CREATE_ARTIFACT: 'CREATE_ARTIFACT'>"
    assert accepted_values(expected) == ["RUN_STATE", "CREATE_ARTIFACT"]


def test_summary_names_the_first_mistake_and_counts_the_others():
    failed = validation_failed(errors_of(Choices, {"one": "x", "severity": "y"}))
    assert failed.message == "Invalid request: one: must be RUN_STATE (and 1 more)."
    assert [d["field"] for d in failed.details] == ["one", "severity"]
    assert "'x'" not in str(failed.to_body()) and "'y'" not in str(failed.to_body())


def test_choices_in_an_unknown_shape_still_name_the_field():
    error = {"type": "enum", "loc": ("body", "severity"), "msg": "x", "ctx": {"expected": ""}}
    assert describe(error) == ("severity", "is not one of the accepted values")


@pytest.mark.parametrize(
    ("model", "data", "field", "words"),
    [
        (ProjectCreate, {"name": "no spaces here"}, "name", "up to 128 characters"),
        (SecretCreate, {"name": "with-dash", "value": "v"}, "name", "letters, digits and '_'"),
    ],
)
def test_a_name_pattern_is_said_in_words_not_as_its_regex(model, data, field, words):
    said_field, said = next(describe(e) for e in errors_of(model, data) if e["loc"] == (field,))
    assert said_field == field and said.startswith("may hold only ") and words in said
    assert "^" not in said and "should match pattern" not in said


def test_every_name_pattern_has_its_words():
    from mlhooks.models import names

    # Every pattern a name type is checked with (the automation id's is for telling ids apart).
    patterns = {v for k, v in vars(names).items() if k.endswith("_PATTERN") and k != "AUTOMATION_ID_PATTERN"}
    assert patterns <= set(PATTERN_WORDS)
