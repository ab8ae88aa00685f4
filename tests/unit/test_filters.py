"""Filters: the MongoDB-style subset W&B's SDK sends, validated once and evaluated on event fields."""

from __future__ import annotations

import time

import pytest

from mlhooks.errors import InvalidInput
from mlhooks.filters import MAX_REGEX_CHARS, parse_filter
from mlhooks.models.vocabulary import EventType

pytestmark = pytest.mark.suite("input")

ALIAS = EventType.ADD_ARTIFACT_ALIAS
RUN = EventType.RUN_STATE


def matches(doc, fields, event_type=ALIAS):
    return parse_filter(doc, event_type).matches(fields)


def test_wandb_sdk_shape_and_anchored_regex():
    doc = {"$and": [{"alias": {"$regex": "^prod"}}]}
    assert matches(doc, {"alias": "production"})
    assert not matches(doc, {"alias": "preprod"})


def test_implicit_equality_and_implicit_and():
    doc = {"alias": "production", "artifact_type": "model"}
    assert matches(doc, {"alias": "production", "artifact_type": "model"})
    assert not matches(doc, {"alias": "production", "artifact_type": "dataset"})


@pytest.mark.parametrize(
    ("doc", "fields", "expected"),
    [
        ({"alias": {"$ne": "staging"}}, {"alias": "prod"}, True),
        ({"alias": {"$ne": "staging"}}, {}, True),  # Mongo: $ne holds for a missing field
        ({"alias": {"$in": ["a", "b"]}}, {"alias": "b"}, True),
        ({"alias": {"$nin": ["a", "b"]}}, {"alias": "b"}, False),
        ({"alias": {"$exists": True}}, {}, False),
        ({"alias": {"$exists": False}}, {}, True),
        ({"alias": {"$gt": "m"}}, {"alias": "z"}, True),
        ({"alias": {"$gt": 3}}, {"alias": "z"}, False),  # no cross-type ordering
        ({"alias": {"$contains": "rod"}}, {"alias": "production"}, True),
        ({"alias": {"$regex": "PROD", "$options": "i"}}, {"alias": "production"}, True),
        ({"alias": {"$not": {"$regex": "^tmp"}}}, {"alias": "tmp-1"}, False),
        ({"$or": [{"alias": "a"}, {"alias": "b"}]}, {"alias": "b"}, True),
        ({"$nor": [{"alias": "a"}, {"alias": "b"}]}, {"alias": "b"}, False),
        ({"$not": {"alias": "a"}}, {"alias": "b"}, True),
        ({"alias": True}, {"alias": 1}, False),  # true is not 1
        ({}, {"alias": "anything"}, True),
    ],
)
def test_operators(doc, fields, expected):
    assert matches(doc, fields) is expected


def test_list_valued_field_matches_any_element():
    assert matches({"alias": "prod"}, {"alias": ["latest", "prod"]})


def test_run_fields_for_run_events():
    doc = {"$and": [{"display_name": {"$contains": "resnet"}}, {"user": "bob"}]}
    assert matches(doc, {"display_name": "resnet-50-run", "user": "bob"}, RUN)


@pytest.mark.parametrize(
    ("doc", "event_type", "field"),
    [
        ({"display_name": "x"}, ALIAS, "event.filter.display_name"),
        ({"alias": "x"}, RUN, "event.filter.alias"),
        ({"alias": {"$where": "x"}}, ALIAS, "event.filter.alias.$where"),
        ({"$and": {"alias": "x"}}, ALIAS, "event.filter.$and"),
        ({"$or": []}, ALIAS, "event.filter.$or"),
        ({"alias": {"$regex": "(a)\\1"}}, ALIAS, "event.filter.alias.$regex"),
        ({"alias": {"$regex": "(?=a)"}}, ALIAS, "event.filter.alias.$regex"),
        ({"alias": {"$regex": "a" * (MAX_REGEX_CHARS + 1)}}, ALIAS, "event.filter.alias.$regex"),
        ({"alias": {"$regex": "a", "$options": "x"}}, ALIAS, "event.filter.alias.$options"),
        ({"alias": {"$in": "ab"}}, ALIAS, "event.filter.alias.$in"),
        ({"alias": {"$exists": "yes"}}, ALIAS, "event.filter.alias.$exists"),
        ({"alias": {"$eq": {"nested": 1}}}, ALIAS, "event.filter.alias.$eq"),
        ({"alias": {}}, ALIAS, "event.filter.alias"),
        (["alias"], ALIAS, "event.filter"),
    ],
)
def test_invalid_filters_name_the_field(doc, event_type, field):
    with pytest.raises(InvalidInput) as caught:
        parse_filter(doc, event_type)
    assert caught.value.field == field


def test_nesting_and_size_are_capped():
    deep = {"alias": "x"}
    for _ in range(10):
        deep = {"$and": [deep]}
    with pytest.raises(InvalidInput, match="deeper"):
        parse_filter(deep, ALIAS)
    wide = {"$or": [{"alias": f"a{i}"} for i in range(100)] + [{"$or": [{"alias": "b"}] * 100}]}
    with pytest.raises(InvalidInput):
        parse_filter(wide, ALIAS)


def test_catastrophic_backtracking_pattern_runs_in_linear_time():
    # (a+)+$ takes exponential time on a backtracking engine with this input; RE2 does not backtrack.
    matcher = parse_filter({"alias": {"$regex": "(a+)+$"}}, ALIAS)
    started = time.perf_counter()
    assert not matcher.matches({"alias": "a" * 5000 + "!"})
    assert time.perf_counter() - started < 1.0
