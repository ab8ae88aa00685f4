"""Event filters: the MongoDB-style JSON subset that W&B's SDK sends.

`parse_filter` validates a filter once, at save time, and compiles it into a small tree of
matchers; `Matcher.matches(fields)` evaluates it against an event's fields. Regexes are user
input, so they run on re2 (linear time, no backtracking) and their length is capped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlhooks.errors import InvalidInput
from mlhooks.models.vocabulary import RUN_EVENT_TYPES, EventType

MAX_FILTER_BYTES = 16 * 1024
MAX_DEPTH = 8
MAX_NODES = 200
MAX_REGEX_CHARS = 256
MAX_LIST_ITEMS = 100
MAX_STRING_CHARS = 1024

ARTIFACT_FIELDS = frozenset({"artifact_type", "collection"})
RUN_FIELDS = frozenset({"display_name", "user"})


def filter_fields_for(event_type: EventType) -> frozenset[str]:
    """The event fields a filter may name for an event type."""
    if event_type in RUN_EVENT_TYPES:
        return RUN_FIELDS
    if event_type in (EventType.ADD_ARTIFACT_ALIAS, EventType.LINK_ARTIFACT):
        # A link carries the aliases given at link time; a filter on `alias` matches any of them.
        return ARTIFACT_FIELDS | {"alias"}
    if event_type in {
        EventType.ADD_ARTIFACT_TAG,
        EventType.REMOVE_ARTIFACT_TAG,
        EventType.ADD_COLLECTION_TAG,
        EventType.REMOVE_COLLECTION_TAG,
    }:
        return ARTIFACT_FIELDS | {"tag"}
    return ARTIFACT_FIELDS


Fields = Mapping[str, Any]


class Matcher:
    def matches(self, fields: Fields) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class _All(Matcher):
    parts: tuple[Matcher, ...]

    def matches(self, fields: Fields) -> bool:
        return all(part.matches(fields) for part in self.parts)


@dataclass(frozen=True)
class _Any(Matcher):
    parts: tuple[Matcher, ...]

    def matches(self, fields: Fields) -> bool:
        return any(part.matches(fields) for part in self.parts)


@dataclass(frozen=True)
class _Not(Matcher):
    part: Matcher

    def matches(self, fields: Fields) -> bool:
        return not self.part.matches(fields)


@dataclass(frozen=True)
class _FieldTest(Matcher):
    field: str
    test: Callable[[Any], bool]
    # Mongo semantics: `$exists`, `$ne` and `$nin` hold for a missing field; the others do not.
    holds_when_missing: bool = False

    def matches(self, fields: Fields) -> bool:
        value = fields.get(self.field)
        if value is None:
            return self.holds_when_missing
        if isinstance(value, list | tuple):
            # A list-valued field matches when any element does, as in MongoDB.
            return any(self.test(item) for item in value)
        return self.test(value)


class _Parser:
    def __init__(self, allowed_fields: frozenset[str], path: str):
        self.allowed_fields = allowed_fields
        self.root = path
        self.nodes = 0

    def fail(self, path: str, message: str) -> InvalidInput:
        return InvalidInput(message, field=path)

    def document(self, doc: Any, path: str, depth: int) -> Matcher:
        if depth > MAX_DEPTH:
            raise self.fail(path, f"The filter nests deeper than {MAX_DEPTH} levels.")
        if not isinstance(doc, dict):
            raise self.fail(path, "A filter must be a JSON object.")
        parts = [self.clause(key, value, f"{path}.{key}", depth) for key, value in doc.items()]
        return parts[0] if len(parts) == 1 else _All(tuple(parts))

    def clause(self, key: str, value: Any, path: str, depth: int) -> Matcher:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(self.root, f"The filter has more than {MAX_NODES} conditions.")
        if key in ("$and", "$or", "$nor"):
            if key == "$and" and value == []:
                return _All(())  # holds: W&B's SDK writes "no filter" as {"$or": [{"$and": []}]}
            if not isinstance(value, list) or not value:
                raise self.fail(path, f"`{key}` takes a non-empty list of filters.")
            if len(value) > MAX_LIST_ITEMS:
                raise self.fail(path, f"`{key}` takes at most {MAX_LIST_ITEMS} filters.")
            parts = tuple(self.document(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
            if key == "$and":
                return _All(parts)
            return _Any(parts) if key == "$or" else _Not(_Any(parts))
        if key == "$not":
            return _Not(self.document(value, path, depth + 1))
        if key.startswith("$"):
            raise self.fail(path, f"Unknown operator `{key}` at this level; use $and, $or, $nor or $not.")
        if key not in self.allowed_fields:
            allowed = ", ".join(sorted(self.allowed_fields))
            raise self.fail(path, f"This event type cannot be filtered on `{key}`; fields: {allowed}.")
        return self.condition(key, value, path, depth)

    def condition(self, field: str, spec: Any, path: str, depth: int) -> Matcher:
        if not isinstance(spec, dict):
            return self.operator(field, "$eq", spec, path, {})
        if not spec:
            raise self.fail(path, "An empty condition object matches nothing; give an operator.")
        options = spec.get("$options")
        tests = [
            self.operator(field, op, arg, f"{path}.{op}", spec, depth)
            for op, arg in spec.items()
            if op != "$options"
        ]
        if options is not None and "$regex" not in spec:
            raise self.fail(f"{path}.$options", "`$options` only goes with `$regex`.")
        return tests[0] if len(tests) == 1 else _All(tuple(tests))

    def operator(self, field: str, op: str, arg: Any, path: str, spec: dict, depth: int = 0) -> Matcher:
        self.nodes += 1
        if op in ("$eq", "$ne"):
            literal = self.literal(arg, path)
            test = _FieldTest(field, lambda v: _equal(v, literal))
            return test if op == "$eq" else _Not(test)
        if op in ("$gt", "$gte", "$lt", "$lte"):
            bound = self.literal(arg, path)
            if bound is None or isinstance(bound, bool):
                raise self.fail(path, f"`{op}` compares with a number or a string.")
            return _FieldTest(field, _ordering(op, bound))
        if op in ("$in", "$nin"):
            if not isinstance(arg, list) or len(arg) > MAX_LIST_ITEMS:
                raise self.fail(path, f"`{op}` takes a list of at most {MAX_LIST_ITEMS} values.")
            values = [self.literal(item, f"{path}[{i}]") for i, item in enumerate(arg)]
            test = _FieldTest(field, lambda v: any(_equal(v, item) for item in values))
            return test if op == "$in" else _Not(test)
        if op == "$exists":
            if not isinstance(arg, bool):
                raise self.fail(path, "`$exists` takes true or false.")
            present = _FieldTest(field, lambda v: True)
            return present if arg else _Not(present)
        if op == "$regex":
            return _FieldTest(field, self.regex(arg, spec.get("$options"), path))
        if op == "$contains":
            needle = self.literal(arg, path)
            if not isinstance(needle, str):
                raise self.fail(path, "`$contains` takes a string.")
            return _FieldTest(field, lambda v: isinstance(v, str) and needle in v)
        if op == "$not":
            if not isinstance(arg, dict):
                raise self.fail(path, '`$not` on a field takes an operator object, e.g. {"$regex": "^tmp"}.')
            return _Not(self.condition(field, arg, path, depth + 1))
        raise self.fail(path, f"Unknown operator `{op}`.")

    def literal(self, value: Any, path: str) -> Any:
        if isinstance(value, str):
            if len(value) > MAX_STRING_CHARS:
                raise self.fail(path, f"Strings in filters are limited to {MAX_STRING_CHARS} characters.")
            return value
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float) and math.isfinite(value):
            return value
        raise self.fail(path, "Filter values are strings, finite numbers, booleans or null.")

    def regex(self, pattern: Any, options: Any, path: str) -> Callable[[Any], bool]:
        if not isinstance(pattern, str) or not pattern:
            raise self.fail(path, "`$regex` takes a non-empty string.")
        if len(pattern) > MAX_REGEX_CHARS:
            raise self.fail(path, f"Regexes are limited to {MAX_REGEX_CHARS} characters.")
        if options not in (None, "", "i"):
            raise self.fail(path.rsplit(".", 1)[0] + ".$options", '`$options` supports only "i".')
        # re2 is imported with the first regex (some 6 ms at a cold start): run events' filters and
        # many automations' have none.
        import re2

        re2_options = re2.Options()
        re2_options.case_sensitive = options != "i"
        # Bounded memory keeps a pathological (but linear-time) pattern from being expensive to hold.
        re2_options.max_mem = 1 << 20
        re2_options.log_errors = False
        try:
            compiled = re2.compile(pattern, options=re2_options)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise self.fail(
                path, f"The regex does not compile under RE2 (no backreferences or lookaround): {reason}"
            ) from None
        return lambda v: isinstance(v, str) and compiled.search(v) is not None


def _equal(value: Any, literal: Any) -> bool:
    # Strict on booleans, so that true never equals 1 (Python's True == 1 would say it does).
    if isinstance(value, bool) or isinstance(literal, bool):
        return type(value) is type(literal) and value == literal
    return value == literal


def _ordering(op: str, bound: Any) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        same_kind = (isinstance(value, str) and isinstance(bound, str)) or (
            isinstance(value, int | float) and not isinstance(value, bool) and isinstance(bound, int | float)
        )
        if not same_kind:
            return False
        return {"$gt": value > bound, "$gte": value >= bound, "$lt": value < bound, "$lte": value <= bound}[
            op
        ]

    return test


def parse_filter(doc: Any, event_type: EventType, *, path: str = "event.filter") -> Matcher:
    """Validate a filter for an event type and compile it. Raises InvalidInput naming the field."""
    if len(json.dumps(doc)) > MAX_FILTER_BYTES:
        raise InvalidInput(f"The filter is larger than {MAX_FILTER_BYTES} bytes.", field=path)
    if doc == {}:
        return _All(())
    return _Parser(filter_fields_for(event_type), path).document(doc, path, 1)
