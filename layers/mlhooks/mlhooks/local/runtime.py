"""The local runtime: moto's server, the template's resources, and the functions behind a local
API Gateway, in one process and without Docker.

Handlers are the same files Lambda runs, imported from `functions/`; each function is invoked
under its own lock, as one Lambda container handles one request at a time.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from mlhooks import wiring
from mlhooks.local import apigw
from mlhooks.local.template import (
    Route,
    api_routes,
    authorizer_function,
    dynamodb_tables,
    event_buses,
    functions,
    handler_path,
    load_template,
)

REGION = "us-east-1"
STACK = "mlhooks-local"
LOCAL_ALLOW = "127.0.0.0/8"
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The attributes Powertools and handlers read from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_ms: int = 29_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{apigw.ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


def local_environment(endpoint_url: str) -> dict[str, str]:
    """What the template's Globals give every function, with local values."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any credentials
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "MLHOOKS_TABLE_NAME": f"{STACK}-Table",
        "MLHOOKS_SECRETS_PREFIX": f"mlhooks/{STACK}",
        "MLHOOKS_STAGE": "dev",
        "MLHOOKS_OUTBOUND_ALLOW": os.environ.get("MLHOOKS_OUTBOUND_ALLOW", LOCAL_ALLOW),
        "POWERTOOLS_SERVICE_NAME": "mlhooks",
        "POWERTOOLS_METRICS_NAMESPACE": "mlhooks",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def provision(template: dict[str, Any], endpoint_url: str) -> None:
    """Create what the template declares (tables with their indexes and TTL, event buses)."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id, spec in dynamodb_tables(template).items():
        name = f"{STACK}-{logical_id}"
        if name in existing:
            continue
        ttl = spec.pop("_ttl", None)
        dynamodb.create_table(TableName=name, **spec)
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    events = boto3.client("events", endpoint_url=endpoint_url, region_name=REGION)
    known = {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}
    for logical_id in event_buses(template):
        name = f"{STACK}-events" if logical_id == "EventBus" else f"{STACK}-{logical_id}"
        if name not in known:
            events.create_event_bus(Name=name)


class Functions:
    """The template's functions, imported from their CodeUri and invoked one request at a time each."""

    def __init__(self, root: Path, template: dict[str, Any]):
        self.root = root
        self.template = template
        self._handlers: dict[str, Handler] = {}
        self._locks = {name: threading.Lock() for name in functions(template)}

    def names(self) -> list[str]:
        return sorted(self._locks)

    def handler(self, name: str) -> Handler:
        if name not in self._handlers:
            path, attribute = handler_path(self.template, self.root, name)
            spec = importlib.util.spec_from_file_location(f"mlhooks_function_{name}", path)
            if spec is None or spec.loader is None:
                raise FileNotFoundError(path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._handlers[name] = getattr(module, attribute)
        return self._handlers[name]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        if name not in self._locks:
            raise KeyError(f"No function {name} in template.yaml; functions: {', '.join(self.names())}")
        handler = self.handler(name)
        with self._locks[name]:
            return handler(event, LambdaContext(function_name=name))


def _error_body(code: str, message: str, field: str | None = None) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "field": field, "details": []}}).encode()


class LocalApiGateway:
    """`sam local start-api`, with the template's authorizer: HTTP request -> proxy event -> handler."""

    def __init__(self, fns: Functions, template: dict[str, Any], stage: str = "dev"):
        self.fns = fns
        self.routes = api_routes(template)
        self.authorizer = authorizer_function(template)
        self.stage = stage

    def route(self, method: str, path: str) -> Route | None:
        return next((r for r in self.routes if r.matches(method, path)), None)

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        route = self.route(method, path)
        if route is None:
            return 404, {"Content-Type": "application/json"}, _error_body("not_found", "No such route.")
        event = apigw.proxy_event(
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
        result = self.fns.invoke(route.function, event)
        response_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(values)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
        return int(result["statusCode"]), response_headers, payload

    def _authorize(
        self, event: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes] | None:
        json_type = {"Content-Type": "application/json"}
        unauthorized = (
            401,
            json_type,
            _error_body(
                "unauthorized", "Send a valid API key: Authorization: Bearer <key>.", "Authorization"
            ),
        )
        # Like API Gateway: no identity source header, no authorizer call.
        if not any(k.lower() == "authorization" for k in headers):
            return unauthorized
        try:
            policy = self.fns.invoke(self.authorizer, apigw.authorizer_request_event(event))
        except Exception as exc:  # the authorizer says "Unauthorized" by raising, as on AWS
            if str(exc) == "Unauthorized":
                return unauthorized
            return 500, json_type, _error_body("internal_error", "The authorizer failed.")
        context = apigw.authorizer_context(policy)
        if context is None:
            return 403, json_type, _error_body("forbidden", "This API key may not call this route.")
        event["requestContext"]["authorizer"] = context
        return None


def _http_handler(gateway: LocalApiGateway) -> type[BaseHTTPRequestHandler]:
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

        def log_message(self, format: str, *args: Any) -> None:
            if os.environ.get("MLHOOKS_LOCAL_ACCESS_LOG"):
                super().log_message(format, *args)

    return Handler


class LocalRuntime:
    def __init__(self, root: Path, *, api_port: int = 3000, moto_port: int = 0, host: str = "127.0.0.1"):
        self.root = root
        self.host = host
        self.api_port = api_port
        self.moto_port = moto_port
        self.template = load_template(root / "template.yaml")
        self.moto: Any = None
        self.http: ThreadingHTTPServer | None = None
        self.endpoint_url = ""

    @property
    def api_url(self) -> str:
        assert self.http is not None
        return f"http://{self.host}:{self.http.server_address[1]}"

    def start_aws(self) -> None:
        from moto.server import ThreadedMotoServer  # dev dependency: only the local runtime needs it

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
        self.moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        os.environ.update(local_environment(self.endpoint_url))
        wiring.reset()
        provision(self.template, self.endpoint_url)
        self.functions = Functions(self.root, self.template)

    def start(self) -> None:
        self.start_aws()
        gateway = LocalApiGateway(self.functions, self.template)
        self.http = ThreadingHTTPServer((self.host, self.api_port), _http_handler(gateway))
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True, name="local-api").start()

    def stop(self) -> None:
        if self.http:
            self.http.shutdown()
            self.http.server_close()
        if self.moto:
            self.moto.stop()
