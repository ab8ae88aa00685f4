"""The REST API: one Powertools resolver, its routers, and one error mapping.

Before any route runs, the resolver screens the request (`screen_request`): a path in another
entity answers the same 404 the routes give, and a body must be UTF-8 JSON, bounded in size and
nested at most `bounded_json.MAX_DEPTH` (64) levels deep. Powertools parses and validates the body
ahead of the route, and so ahead of its entity and role checks; without this screen any key could
reach the JSON parser of any route with any input.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import re
import threading
from collections.abc import Callable
from contextvars import ContextVar
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from mlhooks import __version__, bounded_json
from mlhooks.access import require
from mlhooks.api import errors
from mlhooks.api.context import REQUEST, caller_of
from mlhooks.components import get_components
from mlhooks.errors import BadRequest, MlhooksError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from mlhooks.gateway import served_prefix

if TYPE_CHECKING:
    # Powertools' OpenAPI document models: some 80 ms to import, so only the two routes that
    # serve the document load them (see MlhooksResolver.docs_on_first_request).
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

TITLE = "mlhooks"
DESCRIPTION = (
    "Self-hosted automations for ML platforms, in W&B Automations' vocabulary. "
    "Authenticate with `Authorization: Bearer <API key>`. "
    "Request bodies are UTF-8 JSON (`Content-Type: application/json`), 256 KiB at most by default, "
    f"nested at most {bounded_json.MAX_DEPTH} levels deep. "
    'Every error answers `{"error": {"code", "message", "field", "details"}}` (the `Error` schema).'
)

# ---- routers, each loaded with the first request that may be for it ---------------------------------

# The router modules (mlhooks.api.<name>) by the first segment of the path under the entity
# (/v1/entities/{entity}/<segment>...) or under /v1 (/v1/<segment>...); /graphql is W&B's. A
# container imports a router, with the models and services behind it, when a request first may be
# for it: one that answers /members never loads the automation language or W&B's GraphQL schema,
# and the API's cold start pays for the routes its first request needs. Including a router that a
# request turns out not to need costs only its import; leaving out one it needs would answer 404,
# so tests/unit/test_api_routers.py holds every route of every router to this table.
ROUTERS: dict[str, tuple[str, ...]] = {
    "me": ("members",),
    "members": ("members",),
    "api-keys": ("members",),
    "secrets": ("secrets",),
    "webhooks": ("integrations",),
    "slack": ("integrations",),
    "run-queues": ("run_queues",),
    "projects": ("projects", "executions"),
    "automations": ("automations", "executions"),
    "executions": ("executions",),
    "events": ("executions",),
    "sources": ("sources",),
    "graphql": ("wandb",),
}
# The OpenAPI document and the docs page describe every route, so they load every router.
EVERY_ROUTER_FOR = frozenset({"openapi.json", "docs"})
_SEGMENT = re.compile(r"^/(?:v1/entities/[^/]+/|v1/|(?=graphql(?:/|$)))(?P<segment>[^/]+)")


def routers_for(path: str) -> tuple[str, ...]:
    """The router modules a request for `path` may need (none: no route serves it, a 404)."""
    match = _SEGMENT.match(path)
    segment = match["segment"] if match else ""
    if segment in EVERY_ROUTER_FOR and path.count("/") == 2:
        return tuple(dict.fromkeys(name for names in ROUTERS.values() for name in names))
    return ROUTERS.get(segment, ())


# ---- screening a request before routing ------------------------------------------------------------

_ENTITY_PATH = re.compile(r"^/v1/entities/(?P<entity>[^/]+)(?:/|$)")


def _foreign_entity(event: dict[str, Any]) -> MlhooksError | None:
    """Another entity's paths do not exist for the caller, whatever is sent to them: the routes'
    own rule (`access.require`), applied before the body is looked at."""
    match = _ENTITY_PATH.match(event.get("path") or "")
    caller = caller_of(event)
    if match is None or caller is None:
        return None
    try:
        require(caller, match["entity"])
    except MlhooksError as error:
        return error
    return None


def _check_json(body: str) -> MlhooksError | None:
    try:
        bounded_json.loads(body)
    except bounded_json.JsonRefused as refused:
        return ValidationFailed(f"The request body is refused. {refused}", field="body")
    return None


def _accept_body(event: dict[str, Any]) -> MlhooksError | None:
    """Bodies are UTF-8 JSON, bounded in size and depth; a base64 body (binary, as API Gateway
    passes it) is decoded in place."""
    body = event.get("body") or ""
    limit = get_components().settings.max_request_body_bytes
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
    rejection = _check_json(body) if body else None
    if rejection is None:
        _declare_json(event)
    return rejection


def _declare_json(event: dict[str, Any]) -> None:
    """What passed the screen is JSON (or nothing): say so in the one spelling Powertools reads.
    Media types are case-insensitive (RFC 9110), Powertools' check is not, and a body-less request
    may carry any Content-Type."""
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field) or {}
        for name in [n for n in headers if n.lower() == "content-type"]:
            del headers[name]
        if event.get(field) is not None:
            headers["content-type"] = (
                ["application/json"] if field == "multiValueHeaders" else "application/json"
            )


def screen_request(event: dict[str, Any]) -> MlhooksError | None:
    """What must be refused before routing, because Powertools parses (and validates) the body
    ahead of any middleware and of the route's own entity and role checks."""
    return _foreign_entity(event) or _accept_body(event)


# ---- what the OpenAPI document says each operation answers -------------------------------------------
# Powertools documents every route as "200 with the return annotation, or 422 with FastAPI's
# `{"detail": [...]}`". Neither is what the API answers: routes return `Response(201, ...)`, which
# Powertools cannot see, and every error is `{"error": {...}}` from `api/errors.py`. The real answers
# are declared here, once, by rewriting the generated document, rather than as `responses=` on
# each of the ~40 routes: the error statuses follow from one mapping and the same few rules, so one
# place states them and keeps them in step; only the success statuses other than 200 are listed.

# Success statuses other than 200 follow REST's conventions, which every route here keeps: a POST to a
# path that also lists (GET) creates, 201; every DELETE answers 204 No Content; and these accept work
# that happens after the answer (a delivery, the matching of events), 202.
ACCEPTED: frozenset[tuple[str, str]] = frozenset(
    {
        ("post", "/v1/entities/{entity}/executions/{execution_id}/redeliver"),
        ("post", "/v1/entities/{entity}/executions/{execution_id}/retry"),
        ("post", "/v1/events"),
    }
)

# POSTs that create although no GET lists their path: "Connect Slack" makes a pending install, then
# the integration.
CREATED: frozenset[tuple[str, str]] = frozenset(
    {
        ("post", "/v1/entities/{entity}/slack/connect"),
        ("post", "/v1/entities/{entity}/slack/connect/complete"),
    }
)
# Operations that call another service on the caller's behalf, and answer 502 when it fails them.
CALLS_OUT: frozenset[tuple[str, str]] = frozenset({("post", "/v1/entities/{entity}/slack/connect/complete")})

# Why each error status is answered (the `code`s behind it), for the document's readers.
ERROR_REASONS: dict[int, str] = {
    400: "The request does not have the documented shape (`validation_error`, `bad_request`).",
    401: "No valid API key (`unauthorized`).",
    403: "The key's role may not do this (`forbidden`).",
    404: "No such resource, route, or entity for this key (`not_found`).",
    409: "The resource exists, is in use, or changed concurrently (`conflict`).",
    412: "`If-Match` (or `version`) is not the current version (`precondition_failed`).",
    413: "The request body is too large (`payload_too_large`).",
    415: "The request body is not JSON (`unsupported_media_type`).",
    422: "Well-formed but not acceptable (`invalid_input`, `blocked_destination`, ...).",
    429: "Too many requests: API Gateway's throttling; retry later.",
    500: "Something failed on the server side (`internal_error`); retry later.",
    502: "Slack could not be reached, or did not answer as its API does (`slack_unavailable`).",
    503: "The event bus refused the events (`bus_unavailable`); publish again.",
}

# Which field of a created resource fills the path parameter that names it in the routes under the
# collection it was created in: the OpenAPI links a client (or a stateful fuzzer) follows.
NAMED_BY: dict[str, str] = {
    "automation_id": "id",
    "key_id": "id",
    "name": "name",
    "project": "name",
    "username": "username",
}

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in (document.get("paths") or {}).items()
        for method, operation in item.items()
        if method in _METHODS
    ]


def success_status(method: str, path: str, listed: set[str]) -> int:
    """`listed`: the paths that have a GET."""
    if method == "delete":
        return 204
    if (method, path) in ACCEPTED:
        return 202
    return 201 if method == "post" and (path in listed or (method, path) in CREATED) else 200


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer with. Every one: 400 (path, query or body), 401,
    403, 404 (another entity, or nothing there), 413 and 415 (every body is screened), 429 (API
    Gateway), 500. Writes can conflict; what takes a body can be well-formed but unacceptable; an
    If-Match header can fail; publishing can find the bus unavailable."""
    statuses = [400, 401, 403, 404, 413, 415, 429, 500]
    if method != "get":
        statuses.append(409)
    if "requestBody" in operation:
        statuses.append(422)
    if any(
        p.get("in") == "header" and p.get("name", "").lower() == "if-match"
        for p in operation.get("parameters", [])
    ):
        statuses.append(412)
    if (method, path) == ("post", "/v1/events"):
        statuses.append(503)
    if (method, path) in CALLS_OUT:
        statuses.append(502)
    return sorted(statuses)


def _describe_answers(method: str, path: str, operation: dict[str, Any], listed: set[str]) -> None:
    generated = operation.get("responses") or {}
    success = success_status(method, path, listed)
    answer: dict[str, Any] = {"description": HTTPStatus(success).phrase}
    if success != 204 and "content" in generated.get("200", {}):
        answer["content"] = generated["200"]["content"]
    responses: dict[str, Any] = {str(success): answer}
    for status in error_statuses(method, path, operation):
        responses[str(status)] = {
            "description": ERROR_REASONS[status],
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
    operation["responses"] = responses


def _created_fields(document: dict[str, Any], created: dict[str, Any]) -> set[str]:
    schema = created.get("content", {}).get("application/json", {}).get("schema", {})
    name = schema.get("$ref", "").rpartition("/")[2]
    return set(document["components"]["schemas"].get(name, {}).get("properties", {}))


def _link_creates(document: dict[str, Any]) -> None:
    """Each create's 201 links to the operations on what it created, filling the path parameter
    from the answer (`$response.body#/id`) and the others from the request (`$request.path.entity`)."""
    operations = _operations(document)
    for method, path, operation in operations:
        created = operation["responses"].get("201")
        if method != "post" or created is None:
            continue
        fields = _created_fields(document, created)
        known = set(re.findall(r"\{(\w+)\}", path))
        links = {}
        for _, target_path, target in operations:
            named = re.fullmatch(re.escape(path) + r"/\{(\w+)\}(?:/.*)?", target_path)
            if named is None or NAMED_BY.get(named[1]) not in fields:
                continue
            parameter, needed = named[1], set(re.findall(r"\{(\w+)\}", target_path))
            if not needed <= known | {parameter}:
                continue
            values = {p: f"$request.path.{p}" for p in sorted(needed - {parameter})}
            values[parameter] = f"$response.body#/{NAMED_BY[parameter]}"
            links[target["operationId"]] = {"operationId": target["operationId"], "parameters": values}
        if links:
            created["links"] = links


def describe_answers(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite Powertools' generated responses into what the API answers (see above)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = errors.ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["Error"] = error_schema
    operations = _operations(document)
    listed = {path for method, path, _ in operations if method == "get"}
    for method, path, operation in operations:
        _describe_answers(method, path, operation, listed)
    _link_creates(document)
    for name in _POWERTOOLS_SCHEMAS:  # the envelopes first, then what only they referred to
        if f'"#/components/schemas/{name}"' not in json.dumps(document):
            schemas.pop(name, None)
    return document


# The request this thread is resolving, as Powertools' proxy event.
_CURRENT_EVENT: ContextVar[APIGatewayProxyEvent] = ContextVar("mlhooks_current_event")


class MlhooksResolver(APIGatewayRestResolver):
    _docs: tuple[str, Callable[[], dict[str, Any]]] | None = None

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._routers: set[str] = set()
        # Locally, two containers' requests can arrive at one resolver at once (see current_event).
        self._including = threading.Lock()

    # Powertools keeps the event being resolved in a class attribute (`BaseRouter.current_event`),
    # one for the whole process. In Lambda a process resolves one request at a time; locally two
    # containers of the API can resolve at once in one process (the race tests do), and one would
    # validate the other's body. Every read goes through this property instead.
    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEvent:
        return _CURRENT_EVENT.get()

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEvent) -> None:
        _CURRENT_EVENT.set(value)

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        token = REQUEST.set(event)
        try:
            return self._resolve_screened(event, context)
        finally:
            REQUEST.reset(token)

    def docs_on_first_request(self, path: str, options: Callable[[], dict[str, Any]]) -> None:
        """Powertools' docs page (`enable_swagger`), registered when it is first asked for: registering
        it imports Powertools' OpenAPI document models, some 80 ms of every cold start of the API
        for a page few of its requests are for. It is not in the OpenAPI document either way."""
        self._docs = (path, options)

    def _register_docs_for(self, event: dict[str, Any]) -> None:
        if self._docs is None:
            return
        path, options = self._docs
        if self._compile_regex(path).match(self._remove_prefix(event.get("path") or "")):
            self._docs = None
            self.enable_swagger(path=path, **options())

    def include_routers(self, names: tuple[str, ...]) -> None:
        """Import and include these router modules, each once (see ROUTERS)."""
        if set(names) <= self._routers:
            return
        with self._including:
            for name in names:
                if name not in self._routers:
                    self.include_router(importlib.import_module(f"mlhooks.api.{name}").router)
                    self._routers.add(name)

    def _resolve_screened(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.include_routers(routers_for(self._remove_prefix(event.get("path") or "")))
        self._register_docs_for(event)
        rejection = screen_request(event)
        if rejection is not None:
            return {
                "statusCode": rejection.status,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(rejection.to_body()),
                "isBase64Encoded": False,
            }
        self.current_event = self._to_proxy_event(event)  # as screened: a base64 body is decoded
        unknown = self._unknown_query(event)
        if unknown is not None:
            return {
                "statusCode": unknown.status,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(unknown.to_body()),
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)

    def _unknown_query(self, event: dict[str, Any]) -> MlhooksError | None:
        """A query parameter the route does not take is a mistake (`?nmae=deploy`), not something to
        ignore while answering as if it had not been sent."""
        given = set(event.get("queryStringParameters") or {}) | set(
            event.get("multiValueQueryStringParameters") or {}
        )
        if not given:
            return None
        method, path = (event.get("httpMethod") or "").upper(), event.get("path") or ""
        for route in (*self._static_routes, *self._dynamic_routes):
            if route.method == method and route.rule.match(path):
                if not route.include_in_schema:
                    return None  # the docs page reads its own options
                taken = {field.alias for field in route.dependant.query_params}
                unknown = sorted(given - taken)
                if not unknown:
                    return None
                takes = ", ".join(sorted(taken)) or "no query parameters"
                return BadRequest(
                    f"Unknown query parameter `{unknown[0]}`; this route takes {takes}.", field=unknown[0]
                )
        return None

    def _get_base_path(self) -> str:
        # Powertools' hook for the docs page's server URL. Its own guess ("/<stage>" whenever the
        # path starts with it) is wrong behind a custom domain and for a path that merely begins
        # like the stage; the request says what the prefix really is.
        return served_prefix(self.current_event.raw_event)

    def get_openapi_schema(self, **options: Any) -> OpenAPI:
        # Both /v1/openapi.json and the docs page come through here, so both tell the same truth.
        from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

        generated = super().get_openapi_schema(**options)
        document = generated.model_dump(by_alias=True, exclude_none=True, mode="json")
        return OpenAPI.model_validate(describe_answers(document))


def build_app() -> MlhooksResolver:
    app = MlhooksResolver(enable_validation=True)  # its routers are included as requests come (ROUTERS)
    errors.register(app)

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi_document():  # no return annotation: the document is served as it is, not validated
        from aws_lambda_powertools.event_handler.openapi.models import Server

        server = Server(url=served_prefix(app.current_event.raw_event) or "/")
        document = app.get_openapi_json_schema(**openapi_options(), servers=[server])
        return Response(200, "application/json", document)

    app.docs_on_first_request("/v1/docs", openapi_options)
    return app


def openapi_options() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {
        "title": TITLE,
        "version": __version__,
        "description": DESCRIPTION,
        "security_schemes": {"apiKey": HTTPBearer()},
        "security": [{"apiKey": []}],
    }
