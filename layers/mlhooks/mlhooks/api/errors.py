"""One place that turns every failure into `{"error": {"code", "message", "field", "details"}}`."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import ConfigDict, Field

from mlhooks.errors import MlhooksError, NotFound, UnsupportedMediaType, ValidationFailed
from mlhooks.models.base import Model
from mlhooks.models.names import PATTERN_WORDS

logger = Logger(service="mlhooks")


class ErrorDetail(Model):
    model_config = ConfigDict(extra="allow")

    field: str | None = Field(None, description="The field at fault, e.g. `event.filter.alias`.")
    message: str
    type: str | None = Field(None, description="What kind of mistake, for validation errors.")


class ErrorBody(Model):
    code: str = Field(description="Stable: `validation_error`, `not_found`, `conflict`, ...")
    message: str = Field(description="What went wrong and what to do, for people.")
    field: str | None = Field(description="The field at fault, when there is one.")
    details: list[ErrorDetail] = Field(description="Every mistake found, for validation errors.")


class ErrorResponse(Model):
    """The shape of every rejection, from the API and from API Gateway itself (the
    GatewayResponses in template.yaml)."""

    model_config = ConfigDict(title="Error")

    error: ErrorBody


def error_response(error: MlhooksError) -> Response:
    return Response(
        status_code=error.status, content_type="application/json", body=json.dumps(error.to_body())
    )


def field_path(loc: tuple[Any, ...]) -> str:
    """("body", "event", "RUN_STATE", "states", 0) -> "event.states[0]"; the request part is dropped."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        location = parts.pop(0)
        if location != "body" and parts:
            return str(parts[-1])
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and (part[:1].isupper() or part.startswith("function-")):
            # A union branch (RUN_STATE, MetricThreshold), not a field the user wrote: our fields
            # are snake_case.
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


# One accepted value as pydantic prints it in an error's ctx: an enum member's repr
# (`<EventType.RUN_STATE: 'RUN_STATE'>`, whose value is the quoted part), a quoted string, or a bare
# literal (1, True, None). The separators (", " and " or ") are what is left between matches.
_QUOTED = r"'(?:[^'\\]|\\.)*'|" + r'"(?:[^"\\]|\\.)*"'
_CHOICE = re.compile(rf"<[\w.]+: (?P<member>{_QUOTED}|[^>]*)>|(?P<plain>{_QUOTED}|[^\s,]+)")
# A tag is echoed back only when it looks like the name of a type, never like a token or a secret.
_ECHOABLE_TAG = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


def accepted_values(expected: str) -> list[str]:
    """`<EventType.A: 'A'>, <EventType.B: 'B'>` -> [A, B]; `'A', 'B' or 'C'` -> [A, B, C]."""
    values = []
    for match in _CHOICE.finditer(expected):
        text = match["member"] if match["member"] is not None else match["plain"]
        if match["plain"] == "or":
            continue
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        values.append(str(value))
    return values


def _choices(values: list[str]) -> str:
    if not values:  # a ctx in a shape this does not know: say what is wrong, if not what is right
        return "is not one of the accepted values"
    return f"must be {values[0]}" if len(values) == 1 else f"must be one of {', '.join(values)}"


def describe(error: dict[str, Any]) -> tuple[str, str]:
    """(field, message) for one pydantic error. Choices are listed as the values a user types, not
    as enum reprs, and the rejected `input` is never echoed: it may be a secret."""
    field = field_path(tuple(error.get("loc", ())))
    kind, ctx = error.get("type"), error.get("ctx") or {}
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return field, _choices(accepted_values(str(ctx["expected"])))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # The discriminator is the field at fault ("event" -> "event.type"); pydantic prints it quoted.
        discriminator = str(ctx.get("discriminator", "")).strip("'\"")
        if discriminator.isidentifier():
            field = f"{field}.{discriminator}" if field else discriminator
        if kind == "union_tag_not_found":
            return field, "is required"
        tag = str(ctx.get("tag", ""))
        got = f" (got {tag!r})" if _ECHOABLE_TAG.fullmatch(tag) else ""
        return field, _choices(accepted_values(str(ctx.get("expected_tags", "")))) + got
    if kind == "missing" and tuple(error.get("loc", ())) == ("body",):
        return "body", "a JSON body is required"
    if kind in ("too_short", "too_long") and ctx.get("field_type") == "Value":
        # pydantic counts a SecretStr's characters as "items".
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return field, f"must be {'at least' if kind == 'too_short' else 'at most'} {bound} characters long"
    if kind == "string_pattern_mismatch" and str(ctx.get("pattern")) in PATTERN_WORDS:
        return field, f"may hold only {PATTERN_WORDS[str(ctx['pattern'])]}"
    message = str(error.get("msg", "invalid"))
    # A validator's own words, without pydantic's prefix and full stop (the answer adds its own).
    return field, message.removeprefix("Value error, ").rstrip(".")


def validation_failed(errors: list[dict[str, Any]]) -> ValidationFailed:
    details = []
    for e in errors:
        field, message = describe(e)
        details.append({"field": field, "message": message, "type": e.get("type")})
    if any(e.get("type") == "json_invalid" for e in errors):
        return ValidationFailed("The request body is not valid JSON.", field="body", details=details)
    first = details[0] if details else {"field": None, "message": "invalid request"}
    summary = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return ValidationFailed(
        f"Invalid request: {summary}{more}.", field=first["field"] or None, details=details
    )


def register(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(MlhooksError)
    def _domain(error: MlhooksError) -> Response:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    def _validation(error: RequestValidationError) -> Response:
        return error_response(validation_failed(list(error.errors())))

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(_: RequestUnsupportedContentType) -> Response:
        return error_response(
            UnsupportedMediaType("Send JSON with `Content-Type: application/json`.", field="Content-Type")
        )

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        return error_response(NotFound("No such route. See /v1/openapi.json for the API."))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        body = {
            "error": {
                "code": "internal_error",
                "message": "Something went wrong on our side; retry later.",
                "field": None,
                "details": [],
            }
        }
        return Response(status_code=500, content_type="application/json", body=json.dumps(body))
