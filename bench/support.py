"""Shared set-up for the benchmarks: in-process moto with the template's resources."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "mlhooks"
LAMBDA_SITE = ROOT / "build" / "lambda-site"
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the tables, not the functions' logs


def lambda_site() -> Path:
    """The packages a deployed function finds beside its own code: the layer's dependencies (boto3
    pinned among them, as the runtime's would be), installed for this machine. Not .venv, whose test
    and build tools (moto's cryptography, pyOpenSSL, awscrt) botocore would pick up and import: a
    function on Lambda has none of them. Installed once per version of the layer's requirements."""
    requirements = (LAYER / "requirements.txt").read_bytes()
    stamp = LAMBDA_SITE / ".requirements-sha256"
    digest = hashlib.sha256(requirements).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        shutil.rmtree(LAMBDA_SITE, ignore_errors=True)
        subprocess.run(  # noqa: S603 - this interpreter's pip, with the project's own requirements file
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(LAMBDA_SITE),
                "-r",
                str(LAYER / "requirements.txt"),
            ],
            check=True,
        )
        stamp.write_text(digest)
    return LAMBDA_SITE


def without_bytecode(folder: Path) -> Path:
    """A copy of `folder` with no .pyc in it: what a layer built by SAM's own Python builder holds,
    and so what a function's cold start on Lambda compiled before the layer shipped its bytecode
    (run it with -B, so that Python writes none into it either)."""
    copy = ROOT / "build" / "no-bytecode" / folder.name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy


@contextmanager
def local_aws():
    from moto import mock_aws

    from mlhooks.components import reset_components
    from mlhooks.local.provision import provision
    from mlhooks.local.runtime import local_environment
    from mlhooks.local.template import load_template

    os.environ.update(local_environment("unused"))
    os.environ.pop("AWS_ENDPOINT_URL")
    with mock_aws():
        stack = provision(load_template(ROOT / "template.yaml"), None)
        os.environ.update(local_environment("unused", stack))
        os.environ.pop("AWS_ENDPOINT_URL")
        os.environ["MLHOOKS_MATCH_CACHE_SECONDS"] = "0"
        os.environ["MLHOOKS_OUTBOUND_ALLOW"] = "127.0.0.0/8"
        reset_components()
        yield stack


def table(headers: list[str], rows: list[list[object]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = "-|-".join("-" * w for w in widths)
    body = "\n".join(" | ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return f"{line}\n{rule}\n{body}"


class DynamoMeter:
    """Counts DynamoDB calls, the items they read (what DynamoDB bills and what its latency follows)
    and the time spent in them, through botocore's event hooks."""

    def __init__(self, client):  # type: ignore[no-untyped-def]
        self.calls = self.items = 0
        self.seconds = 0.0
        self._started = 0.0
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, **_):  # type: ignore[no-untyped-def]
        self._started = time.perf_counter()

    def _after(self, parsed, **_):  # type: ignore[no-untyped-def]
        self.seconds += time.perf_counter() - self._started
        self.calls += 1
        self.items += int(parsed.get("ScannedCount", parsed.get("Count", 0)) or 0)

    def reset(self) -> None:
        self.calls = self.items = 0
        self.seconds = 0.0


ENTITY = "bench"
PROJECT = "wandb-registry-model"
# One collection per action kind, so an event's collection decides which kind of delivery it makes;
# an event on any other collection matches nothing.
COLLECTIONS = {"webhook": "webhook-model", "slack": "slack-model", "job": "job-model"}
UNMATCHED_COLLECTION = "unwatched-model"
WEBHOOK_PAYLOAD = {
    "event_type": "DEPLOY_MODEL",
    "client_payload": {"version": "${artifact_version_string}", "author": "${event_author}"},
}


@dataclass
class Seeded:
    admin_key: str
    run_queue_url: str


def seed(components, webhook_url: str) -> Seeded:  # type: ignore[no-untyped-def]
    """A team as the README's walk-throughs leave it: secrets, a signed webhook with a token, a Slack
    integration, a run queue, a registry, and one automation per action kind (alias `production`
    added in that kind's collection)."""
    from mlhooks.access import AccessService
    from mlhooks.automations import AutomationService
    from mlhooks.integrations import SlackService, WebhookService
    from mlhooks.models.automation import AutomationSpec
    from mlhooks.projects import ProjectService
    from mlhooks.run_queues import RunQueueService
    from mlhooks.secrets import SecretsService

    _, admin_key = AccessService(components.store).bootstrap(ENTITY, "admin")
    secrets = SecretsService(components.store, components.vault)
    secrets.create(ENTITY, "GITHUB_TOKEN", "ghp-bench-token-value")
    secrets.create(ENTITY, "SIGNING", "bench-signing-secret-value")
    secrets.create(ENTITY, "SLACK_BOT", "xoxb-bench-bot-token")
    WebhookService(components).create(
        ENTITY,
        {
            "name": "github",
            "url": webhook_url,
            "access_token_secret": "GITHUB_TOKEN",
            "signing_secret": "SIGNING",
        },
    )
    SlackService(components).create(
        ENTITY,
        {"name": "alerts", "bot_token_secret": "SLACK_BOT", "channel_id": "C0BENCH01", "channel_name": "b"},
    )
    queue_url = components.sqs.create_queue(QueueName=f"mlhooks-runs-{ENTITY}")["QueueUrl"]
    RunQueueService(components.store, components.sqs, components.settings).create(
        ENTITY, {"name": "gpu", "url": queue_url}
    )
    projects = ProjectService(components.store)
    projects.create(ENTITY, {"name": PROJECT, "registry": True})
    for collection in (*COLLECTIONS.values(), UNMATCHED_COLLECTION):
        projects.create_collection(ENTITY, PROJECT, {"name": collection, "type": "model"})
    actions = {
        "webhook": {"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": WEBHOOK_PAYLOAD},
        "slack": {
            "type": "NOTIFICATION",
            "slack": "alerts",
            "title": "${artifact_version_string} is in production",
            "message": "Promoted by ${event_author}",
            "severity": "INFO",
        },
        "job": {"type": "QUEUE_JOB", "queue": "gpu", "job": "evaluate-model", "overrides": {"epochs": 1}},
    }
    automations = AutomationService(components.store, components.settings)
    for kind, action in actions.items():
        spec = {
            "name": f"{kind} on production",
            "scope": {"type": "ARTIFACT_COLLECTION", "project": PROJECT, "collection": COLLECTIONS[kind]},
            "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "^production$"}}},
            "action": action,
        }
        automations.create(ENTITY, AutomationSpec.model_validate(spec), "admin")
    return Seeded(admin_key, queue_url)


def alias_added(event_id: str, collection: str) -> dict:
    """The platform event (events/platform-alias-added.json) for this team and collection."""
    envelope = json.loads((ROOT / "events" / "platform-alias-added.json").read_text())
    envelope["id"] = f"eb-{event_id}"
    envelope["detail"].update(event_id=event_id, entity=ENTITY, project=PROJECT, collection=collection)
    return envelope


SENDERS = {"WebhookSenderFunction": "webhook", "SlackSenderFunction": "slack", "JobSenderFunction": "job"}
# What Lambda's runtime sets before the handler's module is imported.
LAMBDA_ENVIRONMENT = {
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "_HANDLER": "app.lambda_handler",
}


class Stand:
    """moto's server with the template's stack, a seeded team, the inbox as receiver and Slack, and
    the events each function's first invocation gets."""

    def __init__(self) -> None:
        from mlhooks.components import get_components
        from mlhooks.local.functions import Functions
        from mlhooks.local.runtime import LocalRuntime
        from mlhooks.local.template import load_template

        self.template = load_template(ROOT / "template.yaml")
        self.runtime = LocalRuntime(ROOT, inbox_port=0)
        self.runtime.start_aws()
        assert self.runtime.inbox is not None
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # this process's own functions: the table only
        self.components = get_components()
        self.seeded = seed(self.components, f"{self.runtime.inbox.url}/github")
        self.functions = Functions(ROOT, self.template)

    def stop(self) -> None:
        self.runtime.stop()

    def environment(self, logical_id: str | None) -> dict[str, str]:
        from mlhooks.local.runtime import local_environment

        assert self.runtime.inbox is not None
        env = local_environment(self.runtime.endpoint_url, self.runtime.stack)
        env |= {"MLHOOKS_SLACK_API_URL": self.runtime.inbox.slack_api_url, **LAMBDA_ENVIRONMENT}
        if logical_id is not None:
            env |= {
                "AWS_LAMBDA_FUNCTION_NAME": logical_id,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory(logical_id)),
                "LAMBDA_TASK_ROOT": str(ROOT / self.functions_of_template()[logical_id]["CodeUri"]),
            }
        keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
        return {**keep, **env}

    def functions_of_template(self) -> dict[str, dict[str, Any]]:
        from mlhooks.local.template import functions

        return functions(self.template)

    def memory(self, logical_id: str) -> int:
        props = self.functions_of_template()[logical_id]
        return int(props.get("MemorySize", self.template["Globals"]["Function"].get("MemorySize", 128)))

    # ---- the first request of each function ---------------------------------------------------

    def event(self, logical_id: str, n: int) -> Any:
        from mlhooks.local.apigw import authorizer_context, authorizer_request_event, proxy_event

        members = f"/v1/entities/{ENTITY}/members"
        if logical_id == "AuthorizerFunction":
            headers = {"Authorization": f"Bearer {self.seeded.admin_key}"}
            return authorizer_request_event(proxy_event("GET", members, headers=headers))
        if logical_id == "ApiFunction":
            headers = {"Authorization": f"Bearer {self.seeded.admin_key}"}
            policy = self.functions.invoke(
                "AuthorizerFunction", authorizer_request_event(proxy_event("GET", members, headers=headers))
            )
            return proxy_event("GET", members, headers=headers, authorizer=authorizer_context(policy))
        if logical_id == "ConsoleFunction":
            return proxy_event("GET", "/console/", resource="/console/{proxy+}")
        if logical_id == "InboundFunction":
            return json.loads((ROOT / "events" / "sagemaker-model-package-approved.json").read_text())
        if logical_id == "MatcherFunction":
            return alias_added(f"cold-start-matcher-{n}", COLLECTIONS["webhook"])
        if logical_id in SENDERS:
            return self.job(SENDERS[logical_id], n)
        return None

    def job(self, kind: str, n: int) -> dict[str, Any]:
        """A fresh execution of this kind's automation, and its job as the queue hands it to the sender."""
        from mlhooks.local.sources import sqs_record
        from mlhooks.matcher import EventMatcher

        event = alias_added(f"cold-start-{kind}-{n}", COLLECTIONS[kind])
        report = EventMatcher(self.components).handle(event)
        (execution_id,) = report.created
        queue = {"webhook": "WebhookQueue", "slack": "SlackQueue", "job": "JobQueue"}[kind]
        url, arn = self.runtime.stack.refs[queue], self.runtime.stack.arns[queue]
        for _ in range(100):
            answer = self.components.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=600
            )
            for message in answer.get("Messages", []):
                if json.loads(message["Body"]).get("execution_id") == execution_id:
                    return {"Records": [sqs_record(message, arn)]}
        raise RuntimeError(f"the {kind} job of {execution_id} never reached {queue}")


sys.path.insert(0, str(ROOT / "bench"))
