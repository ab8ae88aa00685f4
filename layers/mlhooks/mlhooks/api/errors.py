"""One place that turns every failure into `{"error": {"code", "message", "field", "details"}}`."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from mlhooks.errors import MlhooksError, NotFound, ValidationFailed

logger = Logger(service="mlhooks")


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


def validation_failed(errors: list[dict[str, Any]]) -> ValidationFailed:
    # Never echo `input`: the rejected value may be a secret.
    details = [
        {
            "field": field_path(tuple(e.get("loc", ()))),
            "message": e.get("msg", "invalid"),
            "type": e.get("type"),
        }
        for e in errors
    ]
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
