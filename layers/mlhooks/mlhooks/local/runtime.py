"""The local runtime: moto's server, the template's resources, and the functions behind a local
API Gateway, in one process and without Docker.

This module only puts the pieces together: moto up, the stack provisioned (`provision`), what the
last run saved restored into it (`saved`, when `mlhooks dev` keeps state), every function's
environment resolved against it, the functions loaded (`functions`), their event sources polled
(`sources`, telling the dev terminal what they did: `terminal`) and the API served (`apigw`). Each
piece is a module of its own, so a test can drive one (a gateway over in-process moto, one turn of a
queue) without starting the rest.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from mlhooks.components import get_components, reset_components
from mlhooks.local.apigw import GatewayServer, LocalApiGateway, http_handler
from mlhooks.local.atomic_dynamodb import make_moto_dynamodb_atomic
from mlhooks.local.functions import Functions
from mlhooks.local.inbox import Inbox, SlackApp
from mlhooks.local.provision import provision
from mlhooks.local.saved import SavedStateFile
from mlhooks.local.sources import Poller
from mlhooks.local.stack import REGION, STACK, Stack
from mlhooks.local.template import load_template, queue_sources
from mlhooks.local.terminal import Terminal

LOCAL_ALLOW = "127.0.0.0/8"
# The Slack app the inbox's fake Slack knows, for "Connect Slack"; its secret is made each start.
LOCAL_SLACK_CLIENT_ID = "local.slack.app"


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
    }
    if stack is not None:
        env.update({name: str(stack.resolve(value)) for name, value in stack.environment.items()})
        # The local stand-ins for EventBridge's rule targets are the stack's own queues too.
        own = [env.get("MLHOOKS_OWN_QUEUE_URLS", ""), *stack.rule_taps.values()]
        env["MLHOOKS_OWN_QUEUE_URLS"] = ",".join(url for url in own if url)
    # No X-Ray daemon listens here, whatever the template's Tracing parameter says.
    env["POWERTOOLS_TRACE_DISABLED"] = "true"
    # Local development calls receivers on this machine; the caller may say otherwise.
    env["MLHOOKS_OUTBOUND_ALLOW"] = os.environ.get("MLHOOKS_OUTBOUND_ALLOW") or LOCAL_ALLOW
    for name in LOCAL_OVERRIDABLE:
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def local_parameters() -> dict[str, str]:
    """Template parameters a developer may set through the environment (the attempt limit is both a
    queue's maxReceiveCount and the senders' setting, so it must be set as the parameter). The
    local default bus holds only what a developer puts there: SageMaker's rule is on."""
    parameters = {"SageMakerEvents": "ENABLED", "SageMakerEntities": "*"}
    attempts = os.environ.get("MLHOOKS_MAX_ATTEMPTS")
    if attempts:
        parameters["MaxAttempts"] = attempts
    return parameters


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

# `mlhooks dev --fast`, for what the environment does not set: a failing delivery goes through all
# its attempts in about ten seconds (the template's 8 retries take some 18 minutes), and a change to
# automations or secrets is seen by the next event (no look-up is kept).
FAST_SETTINGS = {
    "MLHOOKS_RETRY_BASE_SECONDS": "1",
    "MLHOOKS_RETRY_MAX_SECONDS": "2",
    "MLHOOKS_MATCH_CACHE_SECONDS": "0",
    "MLHOOKS_INDEX_SETTLE_SECONDS": "0",
    "MLHOOKS_SECRET_CACHE_SECONDS": "0",
}


class LocalRuntime:
    """What `mlhooks dev` runs: moto, the stack, the pollers and the API, started and stopped together."""

    def __init__(
        self,
        root: Path,
        *,
        api_port: int = 3000,
        moto_port: int = 0,
        inbox_port: int | None = None,
        host: str = "127.0.0.1",
        entity: str = "dev",
        saved: SavedStateFile | None = None,
        terminal: Terminal | None = None,
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
        self.saved = saved
        self.terminal = terminal
        self.secretsmanager: Any = None
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
        parameters = local_parameters()
        if self.inbox_port is not None:
            # The inbox doubles as Slack, so notifications land somewhere visible and "Connect Slack"
            # runs offline: its Slack app is the stack's, provisioned as the template's parameters
            # would be (a fresh client secret each start; saved state does not keep it).
            app = SlackApp(LOCAL_SLACK_CLIENT_ID, secrets.token_hex(16))
            self.inbox = Inbox(self.host, self.inbox_port, verifier=self._verify, slack_app=app).start()
            os.environ.setdefault("MLHOOKS_SLACK_API_URL", self.inbox.slack_api_url)
            parameters |= {
                "SlackClientId": app.client_id,
                "SlackClientSecret": app.client_secret,
                "SlackAuthorizeUrl": self.inbox.slack_authorize_url,
            }
        self.stack = provision(self.template, self.endpoint_url, parameters)
        os.environ.update(local_environment(self.endpoint_url, self.stack))
        reset_components()
        self.functions = Functions(self.root, self.template)
        self.secretsmanager = boto3.client(
            "secretsmanager", endpoint_url=self.endpoint_url, region_name=REGION
        )

    def _verify(self, path: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        """Signature verdicts for a request to the inbox, with the signing secret of the webhook
        that points at it."""
        from mlhooks.local.receiver import verdicts

        components = get_components()
        assert self.inbox is not None
        for webhook in components.store.list_webhooks(self.entity)[0]:
            if webhook.url.split("?", 1)[0] == f"{self.inbox.url}{path}" and webhook.signing_secret:
                return verdicts(headers, body, components.vault.read(self.entity, webhook.signing_secret))
        return {}

    def start_pollers(self) -> None:
        sqs = boto3.client("sqs", endpoint_url=self.endpoint_url, region_name=REGION)
        if self.terminal is not None:
            self.terminal.watch(get_components().sqs)  # the client the functions' senders use
        poller = Poller(self.functions, sqs, self._stop, self.terminal)
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
        if self.saved is not None:
            # Before anything serves: the API and the senders see the restored state from the start.
            self.saved.restore(self.stack, self.endpoint_url, self.secretsmanager)
            self.saved.requeue_pending(get_components())
            self.saved.start_autosave(self.secretsmanager)
        self.start_pollers()
        gateway = LocalApiGateway(self.functions, self.template)
        self.http = GatewayServer((self.host, self.api_port), http_handler(gateway))
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
        if self.saved is not None and self.secretsmanager is not None:
            self.saved.stop_autosave()
            try:
                self.saved.save(self.secretsmanager)
            except Exception:
                logging.getLogger("mlhooks.local").exception("saving the local runtime's state failed")
            self.saved.close()
        if self.moto:
            self.moto.stop()
