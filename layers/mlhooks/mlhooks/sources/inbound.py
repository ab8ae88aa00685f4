"""The inbound function's two doors: a platform's POST to `/v1/inbound/{entity}/{source}` (API
Gateway, no API key: the source's secrets verify it) and SageMaker's events from the default bus.

Every answer to a platform is JSON; a refusal is the API's error shape with a code, a message and
the field (header) at fault. 2xx means "do not send this again": accepted (202), or a duplicate or
an event mlhooks ignores (200). 4xx means "sending it again will not help"; 5xx (the bus refused)
asks the platform to retry, which MLflow and W&B do.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools import Logger

from mlhooks.errors import MlhooksError, NotFound, PayloadTooLarge, ValidationFailed
from mlhooks.models.names import ENTITY_PATTERN, INTEGRATION_PATTERN, is_valid
from mlhooks.models.sources import Outcome
from mlhooks.sources import SourceService
from mlhooks.sources.base import Delivery

logger = Logger(service="mlhooks-inbound")


class MethodNotAllowed(MlhooksError):
    status, code = 405, "method_not_allowed"


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def _delivery(event: dict[str, Any], limit: int) -> Delivery:
    raw = event.get("body") or ""
    if len(raw) > limit * 4 // 3 + 4:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.", field="body")
    try:
        body = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
    except (binascii.Error, UnicodeEncodeError):
        raise ValidationFailed("The body is not readable.", field="body") from None
    if len(body) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.", field="body")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items() if v is not None}
    return Delivery(headers=headers, body=body)


def handle_http(service: SourceService, event: dict[str, Any]) -> dict[str, Any]:
    parameters = event.get("pathParameters") or {}
    entity, name = str(parameters.get("entity", "")), str(parameters.get("source", ""))
    try:
        if not (is_valid(ENTITY_PATTERN, entity) and is_valid(INTEGRATION_PATTERN, name)):
            raise NotFound("No source takes deliveries here.", field="source")
        if str(event.get("httpMethod", "")).upper() != "POST":
            raise MethodNotAllowed("A platform delivers to this URL with POST.", field="method")
        record = service.receive_http(entity, name, _delivery(event, service.settings.inbound_max_body_bytes))
    except MlhooksError as error:
        return _answer(error.status, error.to_body())
    except Exception:
        logger.exception("an inbound delivery failed")
        body = {"code": "internal_error", "message": "Something failed on our side; deliver again later."}
        return _answer(500, {"error": {**body, "field": None, "details": []}})
    status = 202 if record.outcome is Outcome.ACCEPTED else 200
    return _answer(status, {"delivery": record.model_dump(mode="json", exclude={"entity"})})


def handle(service: SourceService, event: dict[str, Any]) -> dict[str, Any]:
    if "httpMethod" in event:
        return handle_http(service, event)
    record = service.receive_event(event)
    return {"outcome": None if record is None else record.outcome.value}
