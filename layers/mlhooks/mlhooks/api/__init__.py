"""The REST API: one Powertools resolver, its routers, and one error mapping."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from mlhooks import __version__
from mlhooks.api import automations, errors, executions, integrations, members, projects, secrets
from mlhooks.errors import MlhooksError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from mlhooks.wiring import components

TITLE = "mlhooks"
DESCRIPTION = (
    "Self-hosted automations for ML platforms, in W&B Automations' vocabulary. "
    "Authenticate with `Authorization: Bearer <API key>`."
)


def _accept_body(event: dict[str, Any]) -> MlhooksError | None:
    """Bodies are UTF-8 JSON and bounded; a base64 body (binary, as API Gateway passes it) is decoded
    in place. Checked before routing, because Powertools validates (and so parses) the body ahead of
    any middleware."""
    body = event.get("body") or ""
    limit = components().settings.max_request_body_bytes
    if len(body) > limit * 4 // 3 + 4:
        return PayloadTooLarge(f"The request body exceeds {limit} bytes.", field="body")
    if event.get("isBase64Encoded") and body:
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ValidationFailed("The request body is not UTF-8 JSON.", field="body")
        event["body"], event["isBase64Encoded"] = body, False  # the handlers read text from here on
    if len(body.encode("utf-8", errors="surrogatepass")) > limit:
        return PayloadTooLarge(f"The request body exceeds {limit} bytes.", field="body")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if body and content_type and content_type != "application/json":
        return UnsupportedMediaType(
            f"Send JSON with `Content-Type: application/json` (got {content_type[:100]}).",
            field="Content-Type",
        )
    return None


class MlhooksResolver(APIGatewayRestResolver):
    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        rejection = _accept_body(event)
        if rejection is not None:
            return {
                "statusCode": rejection.status,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(rejection.to_body()),
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


def build_app() -> MlhooksResolver:
    app = MlhooksResolver(enable_validation=True)
    for module in (members, secrets, integrations, projects, automations, executions):
        app.include_router(module.router)
    errors.register(app)

    openapi_options = {
        "title": TITLE,
        "version": __version__,
        "description": DESCRIPTION,
        "security_schemes": {"apiKey": HTTPBearer()},
        "security": [{"apiKey": []}],
    }

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi_document():  # no return annotation: the document is served as it is, not validated
        document = app.get_openapi_json_schema(**openapi_options, servers=[Server(url="/")])
        return Response(200, "application/json", document)

    app.enable_swagger(path="/v1/docs", **openapi_options)
    return app
