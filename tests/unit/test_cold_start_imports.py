"""Each function's cold start loads only what its work uses: its handler module is imported in a fresh
process, as Lambda imports it, and the modules it left loaded are looked at. Structural, not timed:
bench/cold_start.py measures the time (`make bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlhooks.api import ROUTERS
from mlhooks.settings import FUNCTION_NEEDS, variable

ROOT = Path(__file__).resolve().parents[2]

# Never in a function: the command line, the client, the local runtime and the dev tools; nor, with
# tracing off (the template's default), the X-Ray SDK.
EVERYWHERE = (
    "mlhooks.cli",
    "mlhooks.client",
    "mlhooks.local",
    "click",
    "rich",
    "moto",
    "yaml",
    "aws_xray_sdk",
)
# The API's edge (the resolver, its routes and response models, W&B's GraphQL schema).
API = (
    "mlhooks.api",
    "mlhooks.models.api",
    "aws_lambda_powertools.event_handler",
    "graphql",
    "mlhooks.dry_run",
)
# The HTTP stack the webhook and Slack senders deliver with.
HTTP = ("requests", "mlhooks.outbound", "mlhooks.delivery", "mlhooks.slack")
NOT_LOADED = {
    # Powertools' data classes load all of its event classes (some 15-20 ms): the event is a dict.
    "authorizer": (
        *API,
        *HTTP,
        "mlhooks.secrets",
        "mlhooks.senders",
        "mlhooks.matcher",
        "aws_lambda_powertools.utilities.data_classes",
    ),
    # re2 loads with the first regex a filter compiles.
    "matcher": (*API, *HTTP, "mlhooks.secrets", "mlhooks.senders", "re2"),
    "webhook_sender": (*API, "mlhooks.matcher", "mlhooks.senders.slack", "mlhooks.senders.queue_job"),
    "slack_sender": (*API, "mlhooks.matcher", "mlhooks.senders.webhook", "mlhooks.senders.queue_job"),
    "job_sender": (*API, *HTTP, "mlhooks.matcher", "mlhooks.senders.webhook", "mlhooks.senders.slack"),
    "inbound": (*API, *HTTP, "mlhooks.matcher", "mlhooks.senders"),
    # The docs page's OpenAPI models and the HTTP stack (a webhook's test call, Connect Slack) load
    # with the first request that needs them; W&B's GraphQL engine with the first GraphQL request;
    # each router, with its models, with the first request for its paths (mlhooks.api.ROUTERS).
    "api": (
        *HTTP,
        "aws_lambda_powertools.event_handler.openapi.models",
        "graphql",
        "mlhooks.dry_run",
        "mlhooks.models.api",
        *sorted({f"mlhooks.api.{name}" for names in ROUTERS.values() for name in names}),
    ),
    "console": ("boto3", "pydantic", "aws_lambda_powertools", "mlhooks.settings"),
}
# Made on first use, never at import: a function's AWS clients.
CLIENTS_MADE = "import mlhooks.aws as aws; made = [f.cache_info().currsize for f in (aws.dynamodb_resource, aws.secretsmanager_client, aws.sqs_client, aws.events_client)]"  # noqa: E501

PROGRAM = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
made = []
if "mlhooks.aws" in sys.modules:
    CLIENTS_MADE
print(json.dumps({"modules": sorted(sys.modules), "clients": sum(made)}))
""".replace("CLIENTS_MADE", CLIENTS_MADE)


def loaded(function: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    for field in FUNCTION_NEEDS[function]:
        env[variable(field)] = "https://sqs.us-east-1.amazonaws.com/123456789012/q" if "url" in field else "x"
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            PROGRAM,
            str(ROOT / "functions" / function),
            str(ROOT / "layers" / "mlhooks"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def under(modules: list[str], package: str) -> list[str]:
    return [m for m in modules if m == package or m.startswith(package + ".")]


@pytest.mark.parametrize("function", sorted(NOT_LOADED))
def test_a_cold_start_loads_only_what_the_function_uses(function: str) -> None:
    modules = loaded(function)["modules"]
    unwanted = {package: under(modules, package)[:3] for package in (*EVERYWHERE, *NOT_LOADED[function])}
    assert {package: names for package, names in unwanted.items() if names} == {}


@pytest.mark.parametrize("function", sorted(f for f in NOT_LOADED if f != "console"))
def test_a_cold_start_makes_no_aws_client(function: str) -> None:
    """Clients are made on first use (mlhooks.components): the import pays for none."""
    assert loaded(function)["clients"] == 0


def test_every_function_is_looked_at() -> None:
    assert set(NOT_LOADED) == set(FUNCTION_NEEDS)
