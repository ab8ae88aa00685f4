"""The bases of mlhooks' models: strict when read from a request, tolerant when read from storage.

A request that misspells an option must be told so, so models forbid unknown fields. A document
stored by an earlier version may carry a field this version no longer has; refusing it would make
the item, and whatever depends on it (the matcher reading automations), unreadable. So documents
read from storage are validated with the `STORED` context, under which unknown fields are dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails

# The validation context of documents read from storage (store/table.py reads every item with it).
STORED = {"stored": True}


class Model(BaseModel):
    """Every mlhooks model. Built on first use: a model's validator is made when it first validates
    (or is asked for its schema), not at import, so a function builds only the models its work
    reads. Building them all at import cost every cold start some 100 ms on a 2-core machine, most
    of it for models that function never sees (the API's in the senders, the matcher's other
    event types)."""

    model_config = ConfigDict(defer_build=True)


class Input(Model):
    """Strict: an unknown field is an error, except in a document read back from storage."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _tolerate_stored(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get("stored"):
            known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
            data = {key: value for key, value in data.items() if key in known}
        return handler(data)


class Output(Model):
    pass


def refuse_nulls(data: Any, fields: tuple[str, ...]) -> Any:
    """In a partial update, leaving a field out keeps it; `null` is only meaningful where a value
    may be removed, so elsewhere it is an error rather than a silent change."""
    if isinstance(data, dict):
        nulls = [name for name in fields if name in data and data[name] is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep its value")
    return data


def field_error(model: str, field: str, message: str) -> ValidationError:
    """A check across fields (a model validator) reported against the one field to change, as a
    field's own check would be; raised inside a validator, its location nests like any other."""
    detail = InitErrorDetails(
        type="value_error", loc=(field,), input=None, ctx={"error": ValueError(message)}
    )
    return ValidationError.from_exception_data(model, [detail])
