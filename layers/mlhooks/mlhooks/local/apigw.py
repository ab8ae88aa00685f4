"""API Gateway, locally: the event shapes API Gateway (REST, proxy integration) builds, the answers it
gives itself (rendered from the template's GatewayResponses), and the gateway that puts them together
in front of the functions, with its HTTP server, so the handlers run unchanged locally and in tests."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from mlhooks.local.template import Route, api_routes, authorizer_function

if TYPE_CHECKING:  # functions.py reads ACCOUNT_ID from here; only the type goes the other way
    from mlhooks.local.functions import Functions

ACCOUNT_ID = "123456789012"
API_ID = "mlhookslocal"


def path_parameters(resource: str, path: str) -> dict[str, str] | None:
    """The values of a resource's `{name}` and `{proxy+}` parts in a path, as API Gateway passes them
    (URL-decoded), or None when the resource has none."""
    pattern, names = "", []
    for piece in re.split(r"(\{[^}]+\})", resource):
        if piece.startswith("{"):
            names.append(piece.strip("{}+"))
            pattern += "(.+)" if piece.endswith("+}") else "([^/]+)"
        else:
            pattern += re.escape(piece)
    found = re.fullmatch(pattern, path)
    if not names or found is None:
        return None
    return {name: unquote(value) for name, value in zip(names, found.groups(), strict=True)}


def proxy_event(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    query: str = "",
    body: bytes | str | None = None,
    stage: str = "dev",
    base_path: str = "",
    resource: str = "/{proxy+}",
    authorizer: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """`base_path`: what precedes the API's paths in the URL the client called, which API Gateway
    reports in `requestContext.path`: "/<stage>" on the execute-api endpoint, nothing behind a
    custom domain or locally (`sam local start-api` serves without a stage, and so does this)."""
    headers = dict(headers or {})
    parsed_query = parse_qs(query, keep_blank_values=True)
    is_binary = isinstance(body, bytes)
    try:
        text_body = body.decode("utf-8") if isinstance(body, bytes) else body
        is_binary = False
    except UnicodeDecodeError:
        text_body = base64.b64encode(body).decode("ascii")  # type: ignore[arg-type]
    now = dt.datetime.now(dt.UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in parsed_query.items()} or None,
        "multiValueQueryStringParameters": parsed_query or None,
        "pathParameters": path_parameters(resource, path),
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "path": f"{base_path}{path}",
            "stage": stage,
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "authorizer": dict(authorizer) if authorizer is not None else None,
        },
        "body": text_body,
        "isBase64Encoded": is_binary,
    }


def authorizer_request_event(proxy: Mapping[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway sends for a proxy request."""
    context = proxy["requestContext"]
    api = f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{API_ID}"
    method_arn = f"{api}/{context['stage']}/{proxy['httpMethod']}{proxy['path']}"
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": proxy["resource"],
        "path": proxy["path"],
        "httpMethod": proxy["httpMethod"],
        "headers": proxy["headers"],
        "multiValueHeaders": proxy["multiValueHeaders"],
        "queryStringParameters": proxy["queryStringParameters"] or {},
        "multiValueQueryStringParameters": proxy["multiValueQueryStringParameters"] or {},
        "pathParameters": proxy["pathParameters"] or {},
        "stageVariables": {},
        "requestContext": {k: v for k, v in context.items() if k != "authorizer"},
    }


def authorizer_context(policy: Mapping[str, Any]) -> dict[str, Any] | None:
    """What API Gateway passes on to the integration when the policy allows the call, else None."""
    statements = policy.get("policyDocument", {}).get("Statement", [])
    if not any(s.get("Effect") == "Allow" for s in statements):
        return None
    return {"principalId": policy.get("principalId"), **policy.get("context", {})}


# ---- API Gateway's own answers ------------------------------------------------------------------------
# The status and `$context.error.message` API Gateway gives the response types it answers without
# calling the API. A Lambda proxy integration that fails has no type of its own: API Gateway answers
# 502 with DEFAULT_5XX's template.
GATEWAY_ERRORS: dict[str, tuple[int, str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None),
    "DEFAULT_5XX": (502, "Internal server error"),
}
# API Gateway's body when no GatewayResponse applies.
_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
_VARIABLE = re.compile(r"\$context(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def gateway_responses(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The GatewayResponses of the template's REST API, by response type."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Api":
            return dict(resource["Properties"].get("GatewayResponses") or {})
    return {}


def render_gateway_response(
    responses: Mapping[str, Mapping[str, Any]], response_type: str, status: int, message: str | None
) -> tuple[int, dict[str, str], bytes]:
    """API Gateway's answer for a response type: the type's GatewayResponse, else DEFAULT_4XX or
    DEFAULT_5XX by the status's class; its StatusCode, if set, replaces the status. The template is
    not VTL, only substitution: `$context.error.messageString` is the message as a JSON string
    (quotes included), `$context.error.responseType` the type; unknown variables render empty."""
    fallback = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
    config = responses.get(response_type) or responses.get(fallback) or {}
    values = {
        "$context.error.messageString": json.dumps(message),
        "$context.error.message": message or "",
        "$context.error.responseType": response_type,
    }
    body_template = (config.get("ResponseTemplates") or {}).get("application/json", _DEFAULT_TEMPLATE)
    body = _VARIABLE.sub(lambda m: values.get(m.group(), ""), body_template)
    return int(config.get("StatusCode", status)), {"Content-Type": "application/json"}, body.encode()


# ---- The gateway ---------------------------------------------------------------------------------------
class LocalApiGateway:
    """`sam local start-api`, with the template's authorizer: HTTP request -> proxy event -> handler.

    What API Gateway answers itself (no route, no key, a denied key, a failing function) is rendered
    from the template's GatewayResponses, so those templates run locally as they run on AWS."""

    def __init__(self, fns: Functions, template: dict[str, Any], stage: str = "dev"):
        self.fns = fns
        self.routes = api_routes(template)
        self.authorizer = authorizer_function(template)
        self.responses = gateway_responses(template)
        self.stage = stage

    def route(self, method: str, path: str) -> Route | None:
        return next((r for r in self.routes if r.matches(method, path)), None)

    def gateway_error(self, response_type: str) -> tuple[int, dict[str, str], bytes]:
        status, message = GATEWAY_ERRORS[response_type]
        return render_gateway_response(self.responses, response_type, status, message)

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        route = self.route(method, path)
        if route is None:
            # What API Gateway answers for a path and method no resource takes.
            return self.gateway_error("MISSING_AUTHENTICATION_TOKEN")
        event = proxy_event(
            method,
            path,
            headers=headers,
            query=query,
            body=body or None,
            stage=self.stage,
            resource=route.path,
        )
        if route.authorized:
            denied = self._authorize(event, headers)
            if denied:
                return denied
        try:
            result = self.fns.invoke(route.function, event)
        except Exception:
            logging.getLogger(__name__).exception("%s failed on %s %s", route.function, method, path)
            return self.gateway_error("DEFAULT_5XX")
        response_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(values)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
        return int(result["statusCode"]), response_headers, payload

    def _authorize(
        self, event: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes] | None:
        # Like API Gateway: no identity source header, no authorizer call.
        if not any(k.lower() == "authorization" for k in headers):
            return self.gateway_error("UNAUTHORIZED")
        try:
            policy = self.fns.invoke(self.authorizer, authorizer_request_event(event))
        except Exception as exc:  # the authorizer says "Unauthorized" by raising, as on AWS
            if str(exc) == "Unauthorized":
                return self.gateway_error("UNAUTHORIZED")
            return self.gateway_error("AUTHORIZER_CONFIGURATION_ERROR")
        context = authorizer_context(policy)
        if context is None:
            return self.gateway_error("ACCESS_DENIED")
        event["requestContext"]["authorizer"] = context
        return None


# ---- Its HTTP server -----------------------------------------------------------------------------------
def _error_body(code: str, message: str, field: str | None = None) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "field": field, "details": []}}).encode()


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that left before its answer (a script that exited mid-request) is not the
        # runtime's error: the terminal stays quiet. Anything else is printed as http.server does.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def http_handler(gateway: LocalApiGateway) -> type[BaseHTTPRequestHandler]:
    """The request handler class an `http.server` serves the gateway with."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "mlhooks-local"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            try:
                status, headers, payload = gateway.handle(
                    self.command, path, query, dict(self.headers.items()), body
                )
            except Exception:  # never leave a client hanging on a bug in the runtime itself
                status, headers, payload = (
                    502,
                    {"Content-Type": "application/json"},
                    _error_body("bad_gateway", "The local runtime failed to invoke the function."),
                )
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method too: the gateway answers it (404, as no route takes it), not http.server's 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            if os.environ.get("MLHOOKS_LOCAL_ACCESS_LOG"):
                super().log_message(format, *args)

    return Handler
