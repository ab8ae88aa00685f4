"""The REST API: one Powertools resolver, its routers, and one error mapping."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from mlhooks import __version__
from mlhooks.api import automations, errors, integrations, members, projects, secrets
from mlhooks.errors import PayloadTooLarge, UnsupportedMediaType
from mlhooks.wiring import components

TITLE = "mlhooks"
DESCRIPTION = (
    "Self-hosted automations for ML platforms, in W&B Automations' vocabulary. "
    "Authenticate with `Authorization: Bearer <API key>`."
)


def _json_bodies_only(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
    """Bodies are JSON and bounded; anything else is refused before it is parsed."""
    body = app.current_event.body or ""
    limit = components().settings.max_request_body_bytes
    if len(body.encode("utf-8")) > limit:
        return errors.error_response(
            PayloadTooLarge(f"The request body exceeds {limit} bytes.", field="body")
        )
    content_type = (app.current_event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if body and content_type and content_type != "application/json":
        return errors.error_response(
            UnsupportedMediaType(
                f"Send JSON with `Content-Type: application/json` (got {content_type[:100]}).",
                field="Content-Type",
            )
        )
    return next_middleware(app)


def build_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    app.use([_json_bodies_only])
    for module in (members, secrets, integrations, projects, automations):
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
