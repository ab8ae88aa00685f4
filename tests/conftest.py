"""Shared fixtures: the repository root, sample events, and moto-backed AWS with the template's
resources provisioned exactly as the local runtime provisions them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apiclient import Team, make_team
from moto import mock_aws
from pipelines import Pipeline, make_pipeline
from samples import ROOT

from mlhooks.components import reset_components
from mlhooks.local.apigw import LocalApiGateway
from mlhooks.local.atomic_dynamodb import make_moto_dynamodb_atomic
from mlhooks.local.functions import Functions
from mlhooks.local.inbox import Inbox
from mlhooks.local.provision import provision
from mlhooks.local.runtime import LOCAL_OVERRIDABLE, local_environment
from mlhooks.local.stack import Stack
from mlhooks.local.template import load_template


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="session", autouse=True)
def atomic_moto() -> None:
    """In-process moto with DynamoDB's atomicity, as the local runtime has it (see atomic_dynamodb)."""
    make_moto_dynamodb_atomic()


@pytest.fixture
def aws(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """In-process moto with the template's resources; the functions' environment as the template
    sets it (retries fast, so tests need not wait)."""
    for name in LOCAL_OVERRIDABLE:
        monkeypatch.delenv(name, raising=False)
    for name, value in local_environment("unused").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # in-process moto: the real endpoints, intercepted
    with mock_aws():
        # Three attempts and no backoff, so retry and dead-letter paths run in milliseconds.
        stack = provision(
            template,
            endpoint_url=None,
            parameters={"MaxAttempts": "3", "SageMakerEvents": "ENABLED", "SageMakerEntities": "*"},
        )
        for name, value in local_environment("unused", stack).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        # Production's default: no range is opened; tests that need a local receiver ask for it.
        monkeypatch.setenv("MLHOOKS_OUTBOUND_ALLOW", "")
        monkeypatch.setenv("MLHOOKS_SLACK_API_URL", "http://127.0.0.1:9/unused")
        monkeypatch.setenv("MLHOOKS_RETRY_BASE_SECONDS", "0")
        monkeypatch.setenv("MLHOOKS_MATCH_CACHE_SECONDS", "0")
        # moto updates its indexes with the table: nothing to wait for (test_matcher_cache covers it).
        monkeypatch.setenv("MLHOOKS_INDEX_SETTLE_SECONDS", "0")
        reset_components()
        yield stack
    reset_components()


@pytest.fixture
def gateway(aws: Stack, template: dict[str, Any]) -> LocalApiGateway:
    return LocalApiGateway(Functions(ROOT, template), template)


@pytest.fixture
def team(gateway: LocalApiGateway) -> Team:
    return make_team(gateway, "acme")


@pytest.fixture
def other_team(gateway: LocalApiGateway) -> Team:
    return make_team(gateway, "globex")


@pytest.fixture
def allow_loopback(aws: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let webhooks reach receivers on 127.0.0.1, as local development configures it."""
    monkeypatch.setenv("MLHOOKS_OUTBOUND_ALLOW", "127.0.0.0/8")
    reset_components()


@pytest.fixture
def receiver() -> Iterator[Any]:
    from receivers import Receiver

    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def pipeline(aws, template, allow_loopback, receiver) -> Pipeline:
    return make_pipeline(aws, template, receiver)


@pytest.fixture
def slack(aws):
    inbox = Inbox().start()
    yield inbox
    inbox.stop()


# ---- figures for docs/reliability.md --------------------------------------------------------------
# With MLHOOKS_FIGURES=<file>, the hardening suites (marked `suite`) write what they tried, what
# passed and what they measured there; `make figures` renders the file into docs/reliability.md.

_FIGURES: dict[str, Any] = {"suites": {}, "measures": {}}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("suite")
    if marker is None or not (report.when == "call" or (report.when == "setup" and report.failed)):
        return
    counts = _FIGURES["suites"].setdefault(marker.args[0], {"tried": 0, "passed": 0})
    counts["tried"] += 1
    counts["passed"] += int(report.passed)


@pytest.fixture
def record_figure() -> Any:
    def record(name: str, value: Any) -> None:
        _FIGURES["measures"][name] = value

    return record


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("MLHOOKS_FIGURES")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps(_FIGURES, indent=2, sort_keys=True))
