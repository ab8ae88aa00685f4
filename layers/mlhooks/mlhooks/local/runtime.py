"""The local runtime: moto's server, the template's resources, and the functions behind a local
API Gateway, in one process and without Docker.

Handlers are the same files Lambda runs, imported from `functions/`; each function is invoked
under its own lock, as one Lambda container handles one request at a time.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from mlhooks.components import get_components, reset_components
from mlhooks.local import apigw
from mlhooks.local.atomic_dynamodb import make_moto_dynamodb_atomic
from mlhooks.local.inbox import Inbox
from mlhooks.local.template import (
    Route,
    api_routes,
    authorizer_function,
    bus_rules,
    dynamodb_tables,
    environment,
    event_buses,
    functions,
    handler_path,
    load_template,
    parameter_defaults,
    queue_sources,
    queues,
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


@dataclass
class Stack:
    """What provisioning created: the value `!Ref` and `!GetAtt X.Arn` give for each logical id."""

    refs: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    # Local stand-ins for EventBridge -> Lambda: a queue per rule, polled into its function.
    rule_taps: dict[str, str] = field(default_factory=dict)  # function -> tap queue URL
    environment: dict[str, Any] = field(default_factory=dict)  # as written in the template

    def resolve(self, value: Any) -> Any:
        """Resolve the intrinsics the template uses in values: Ref, Fn::Sub, Fn::GetAtt, Fn::Join."""
        if isinstance(value, dict) and "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        if isinstance(value, dict) and "Ref" in value:
            name = value["Ref"]
            return self.refs.get(name) if name in self.refs else self.parameters.get(name, "")
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return self.arns[value["Fn::GetAtt"][0]]
        if isinstance(value, dict) and "Fn::Sub" in value:
            pseudo = {
                "AWS::StackName": STACK,
                "AWS::Region": REGION,
                "AWS::AccountId": apigw.ACCOUNT_ID,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            }
            return re.sub(
                r"\$\{([^}]+)\}",
                lambda m: str(pseudo.get(m.group(1)) or self.resolve({"Ref": m.group(1)})),
                value["Fn::Sub"],
            )
        return value


def local_environment(endpoint_url: str, stack: Stack | None = None) -> dict[str, str]:
    """The template's environment for every function, resolved against the local stack."""
    env = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any credentials
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "MLHOOKS_TABLE_NAME": f"{STACK}-Table",
        "MLHOOKS_SECRETS_PREFIX": f"mlhooks/{STACK}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "mlhooks",
    }
    if stack is not None:
        env.update({name: str(stack.resolve(value)) for name, value in stack.environment.items()})
        # The local stand-ins for EventBridge's rule targets are the stack's own queues too.
        own = [env.get("MLHOOKS_OWN_QUEUE_URLS", ""), *stack.rule_taps.values()]
        env["MLHOOKS_OWN_QUEUE_URLS"] = ",".join(url for url in own if url)
    # Local development calls receivers on this machine; the caller may say otherwise.
    env["MLHOOKS_OUTBOUND_ALLOW"] = os.environ.get("MLHOOKS_OUTBOUND_ALLOW") or LOCAL_ALLOW
    for name in LOCAL_OVERRIDABLE:
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def local_parameters() -> dict[str, str]:
    """Template parameters a developer may set through the environment (the attempt limit is both a
    queue's maxReceiveCount and the senders' setting, so it must be set as the parameter)."""
    attempts = os.environ.get("MLHOOKS_MAX_ATTEMPTS")
    return {"MaxAttempts": attempts} if attempts else {}


# Settings a developer (or a test) may set in the environment to override the template's values.
LOCAL_OVERRIDABLE = (
    "MLHOOKS_RETRY_BASE_SECONDS",
    "MLHOOKS_RETRY_MAX_SECONDS",
    "MLHOOKS_MATCH_CACHE_SECONDS",
    "MLHOOKS_INDEX_SETTLE_SECONDS",
    "MLHOOKS_RATE_LIMIT_PER_MINUTE",
    "MLHOOKS_SLACK_API_URL",
    "MLHOOKS_HTTP_READ_TIMEOUT_SECONDS",
    "MLHOOKS_SECRET_CACHE_SECONDS",
    "MLHOOKS_RUN_REFIRE_SECONDS",
    "MLHOOKS_WEBHOOK_DISABLE_AFTER_FAILURES",
    "MLHOOKS_WEBHOOK_DISABLE_AFTER_SECONDS",
)


def provision(
    template: dict[str, Any], endpoint_url: str | None, parameters: dict[str, str] | None = None
) -> Stack:
    """Create what the template declares: tables (indexes, TTL), buses, queues (redrive policies),
    and the event rules, each delivering to a queue the runtime polls into its function."""
    stack = Stack(
        parameters={**parameter_defaults(template), **(parameters or {})}, environment=environment(template)
    )
    client = functools.partial(boto3.client, endpoint_url=endpoint_url, region_name=REGION)
    dynamodb, events, sqs = client("dynamodb"), client("events"), client("sqs")

    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id, spec in dynamodb_tables(template).items():
        name = f"{STACK}-{logical_id}"
        stack.refs[logical_id] = name
        stack.arns[logical_id] = f"arn:aws:dynamodb:{REGION}:{apigw.ACCOUNT_ID}:table/{name}"
        if name in existing:
            continue
        ttl = spec.pop("_ttl", None)
        dynamodb.create_table(TableName=name, **spec)
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)

    known = {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}
    for logical_id in event_buses(template):
        name = stack.resolve(template["Resources"][logical_id]["Properties"]["Name"])
        stack.refs[logical_id] = name
        stack.arns[logical_id] = f"arn:aws:events:{REGION}:{apigw.ACCOUNT_ID}:event-bus/{name}"
        if name not in known:
            events.create_event_bus(Name=name)

    # Dead-letter queues first: the others' redrive policies point at them.
    ordered = sorted(queues(template).items(), key=lambda item: "RedrivePolicy" in item[1])
    for logical_id, props in ordered:
        attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": stack.resolve(policy["deadLetterTargetArn"]),
                    "maxReceiveCount": str(stack.resolve(policy["maxReceiveCount"])),
                }
            )
        _create_queue(sqs, stack, logical_id, f"{STACK}-{logical_id}", attributes)

    for rule in bus_rules(template):
        tap_attributes = {"VisibilityTimeout": "5"}
        if rule.dead_letter is not None:
            # EventBridge retries a failing target, then sends the event to the rule's DLQ.
            tap_attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": stack.resolve(rule.dead_letter),
                    "maxReceiveCount": str(min(rule.max_retries + 1, 10)),
                }
            )
        tap = _create_queue(sqs, stack, f"{rule.name}Tap", f"{STACK}-{rule.name}-tap", tap_attributes)
        stack.rule_taps[rule.function] = tap
        bus = stack.resolve(rule.bus) if rule.bus else "default"
        events.put_rule(Name=rule.name, EventBusName=bus, EventPattern=json.dumps(rule.pattern))
        events.put_targets(
            Rule=rule.name,
            EventBusName=bus,
            Targets=[{"Id": "function", "Arn": stack.arns[f"{rule.name}Tap"]}],
        )
    return stack


def _create_queue(sqs: Any, stack: Stack, logical_id: str, name: str, attributes: dict[str, str]) -> str:
    try:
        # Already there (a CLI command attaching to a running `make dev`): use it as it is.
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    stack.refs[logical_id] = url
    stack.arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return url


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
    """`sam local start-api`, with the template's authorizer: HTTP request -> proxy event -> handler.

    What API Gateway answers itself (no route, no key, a denied key, a failing function) is rendered
    from the template's GatewayResponses, so those templates run locally as they run on AWS."""

    def __init__(self, fns: Functions, template: dict[str, Any], stage: str = "dev"):
        self.fns = fns
        self.routes = api_routes(template)
        self.authorizer = authorizer_function(template)
        self.responses = apigw.gateway_responses(template)
        self.stage = stage

    def route(self, method: str, path: str) -> Route | None:
        return next((r for r in self.routes if r.matches(method, path)), None)

    def gateway_error(self, response_type: str) -> tuple[int, dict[str, str], bytes]:
        status, message = apigw.GATEWAY_ERRORS[response_type]
        return apigw.render_gateway_response(self.responses, response_type, status, message)

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        route = self.route(method, path)
        if route is None:
            # What API Gateway answers for a path and method no resource takes.
            return self.gateway_error("MISSING_AUTHENTICATION_TOKEN")
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
            policy = self.fns.invoke(self.authorizer, apigw.authorizer_request_event(event))
        except Exception as exc:  # the authorizer says "Unauthorized" by raising, as on AWS
            if str(exc) == "Unauthorized":
                return self.gateway_error("UNAUTHORIZED")
            return self.gateway_error("AUTHORIZER_CONFIGURATION_ERROR")
        context = apigw.authorizer_context(policy)
        if context is None:
            return self.gateway_error("ACCESS_DENIED")
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

        def __getattr__(self, name: str) -> Any:
            # Any other method too: the gateway answers it (404, as no route takes it), not http.server's 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            if os.environ.get("MLHOOKS_LOCAL_ACCESS_LOG"):
                super().log_message(format, *args)

    return Handler


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to a function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def run_batch(
    fns: Functions,
    sqs: Any,
    function: str,
    queue_url: str,
    queue_arn: str,
    batch: int,
    report_failures: bool,
    wait_seconds: int = 0,
) -> int:
    """One turn of an SQS event source mapping: receive up to `batch` messages, invoke the function,
    delete what succeeded (with ReportBatchItemFailures, all but the reported items; if the function
    raised, none). Returns how many messages were received."""
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=batch,
        WaitTimeSeconds=wait_seconds,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    if not messages:
        return 0
    try:
        result = fns.invoke(function, {"Records": [sqs_record(m, queue_arn) for m in messages]})
        failed = (
            {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            if report_failures
            else set()
        )
    except Exception:
        logging.getLogger("mlhooks.local").exception("%s failed on a batch", function)
        failed = {m["MessageId"] for m in messages}  # the whole batch comes back
    done = [m for m in messages if m["MessageId"] not in failed]
    for start in range(0, len(done), 10):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ],
        )
    return len(messages)


def run_rule(fns: Functions, sqs: Any, function: str, tap_url: str, wait_seconds: int = 0) -> int:
    """One turn of EventBridge -> Lambda: each event on the rule's tap queue, one invocation each;
    a failed invocation leaves the event to be retried, then dead-lettered by the tap's redrive."""
    messages = sqs.receive_message(
        QueueUrl=tap_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
    ).get("Messages", [])
    for message in messages:
        try:
            fns.invoke(function, json.loads(message["Body"]))
        except Exception:
            logging.getLogger("mlhooks.local").exception("%s failed on an event", function)
            continue
        sqs.delete_message(QueueUrl=tap_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


class Poller:
    """Lambda's event source mappings, run continuously in threads."""

    def __init__(self, fns: Functions, sqs: Any, stop: threading.Event):
        self.fns = fns
        self.sqs = sqs
        self.stop = stop
        self.errors = 0

    def _loop(self, turn: Callable[[], int]) -> None:
        while not self.stop.is_set():
            try:
                turn()
            except Exception:  # keep polling through a hiccup of moto or a shutdown race
                self.errors += 1
                time.sleep(0.2)

    def poll_queue(
        self, function: str, queue_url: str, queue_arn: str, batch: int, report_failures: bool
    ) -> None:
        self._loop(
            lambda: run_batch(self.fns, self.sqs, function, queue_url, queue_arn, batch, report_failures, 1)
        )

    def poll_rule(self, function: str, tap_url: str) -> None:
        self._loop(lambda: run_rule(self.fns, self.sqs, function, tap_url, 1))


class LocalRuntime:
    def __init__(
        self,
        root: Path,
        *,
        api_port: int = 3000,
        moto_port: int = 0,
        inbox_port: int | None = None,
        host: str = "127.0.0.1",
        entity: str = "dev",
    ):
        self.root = root
        self.host = host
        self.api_port = api_port
        self.moto_port = moto_port
        self.inbox_port = inbox_port
        self.entity = entity
        self.template = load_template(root / "template.yaml")
        self.moto: Any = None
        self.http: ThreadingHTTPServer | None = None
        self.inbox: Inbox | None = None
        self.endpoint_url = ""
        self._stop = threading.Event()

    @property
    def api_url(self) -> str:
        assert self.http is not None
        return f"http://{self.host}:{self.http.server_address[1]}"

    def start_aws(self) -> None:
        from moto.server import ThreadedMotoServer  # dev dependency: only the local runtime needs it

        make_moto_dynamodb_atomic()

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
        self.moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        os.environ.update(local_environment(self.endpoint_url))
        self.stack = provision(self.template, self.endpoint_url, local_parameters())
        if self.inbox_port is not None:
            # The inbox doubles as Slack's API, so notifications land somewhere visible.
            self.inbox = Inbox(self.host, self.inbox_port, verifier=self._verify).start()
            os.environ.setdefault("MLHOOKS_SLACK_API_URL", self.inbox.slack_api_url)
        os.environ.update(local_environment(self.endpoint_url, self.stack))
        reset_components()
        self.functions = Functions(self.root, self.template)

    def _verify(self, path: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        """Signature verdicts for a request to the inbox, with the signing secret of the webhook
        that points at it."""
        from mlhooks.local.receiver import verdicts

        components = get_components()
        assert self.inbox is not None
        for webhook in components.store.list_webhooks(self.entity):
            if webhook.url.split("?", 1)[0] == f"{self.inbox.url}{path}" and webhook.signing_secret:
                return verdicts(headers, body, components.vault.read(self.entity, webhook.signing_secret))
        return {}

    def start_pollers(self) -> None:
        import boto3

        sqs = boto3.client("sqs", endpoint_url=self.endpoint_url, region_name=REGION)
        poller = Poller(self.functions, sqs, self._stop)
        self.poller = poller
        for source in queue_sources(self.template):
            args = (
                source.function,
                self.stack.refs[source.queue],
                self.stack.arns[source.queue],
                source.batch_size,
                source.report_failures,
            )
            threading.Thread(
                target=poller.poll_queue, args=args, daemon=True, name=f"poll-{source.queue}"
            ).start()
        for function, tap in self.stack.rule_taps.items():
            threading.Thread(
                target=poller.poll_rule, args=(function, tap), daemon=True, name=f"rule-{function}"
            ).start()

    def start(self) -> None:
        self.start_aws()
        self.start_pollers()
        gateway = LocalApiGateway(self.functions, self.template)
        self.http = ThreadingHTTPServer((self.host, self.api_port), _http_handler(gateway))
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True, name="local-api").start()

    def stop(self) -> None:
        self._stop.set()
        if self.http:
            self.http.shutdown()
            self.http.server_close()
        if self.inbox:
            self.inbox.stop()
        time.sleep(1.2)  # let the pollers' long polls return before moto goes
        if self.moto:
            self.moto.stop()
