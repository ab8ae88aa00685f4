"""Shared fixtures: the repository root, sample events, and moto-backed AWS with the template's
resources provisioned exactly as the local runtime provisions them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws
from samples import ROOT

from mlhooks import wiring
from mlhooks.access import AccessService
from mlhooks.local.runtime import (
    LOCAL_OVERRIDABLE,
    Functions,
    LocalApiGateway,
    Stack,
    local_environment,
    provision,
)
from mlhooks.local.template import load_template
from mlhooks.models.vocabulary import Role


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


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
        stack = provision(template, endpoint_url=None, parameters={"MaxAttempts": "3"})
        for name, value in local_environment("unused", stack).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        # Production's default: no range is opened; tests that need a local receiver ask for it.
        monkeypatch.setenv("MLHOOKS_OUTBOUND_ALLOW", "")
        monkeypatch.setenv("MLHOOKS_SLACK_API_URL", "http://127.0.0.1:9/unused")
        monkeypatch.setenv("MLHOOKS_RETRY_BASE_SECONDS", "0")
        monkeypatch.setenv("MLHOOKS_MATCH_CACHE_SECONDS", "0")
        wiring.reset()
        yield stack
    wiring.reset()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def error(self) -> dict[str, Any]:
        return self.json["error"]


class Api:
    """Calls the API as API Gateway would: REST proxy events through the template's authorizer."""

    def __init__(self, gateway: LocalApiGateway, key: str | None = None):
        self.gateway = gateway
        self.key = key

    def as_key(self, key: str | None) -> Api:
        return Api(self.gateway, key)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        query: str = "",
        raw: bytes | None = None,
    ) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self.key is not None:
            sent.setdefault("Authorization", f"Bearer {self.key}")
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        status, response_headers, response = self.gateway.handle(method, path, query, sent, payload)
        return Reply(status, response_headers, response)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)


@dataclass
class Team:
    entity: str
    admin: Api
    member: Api
    viewer: Api
    keys: dict[str, str]

    @property
    def base(self) -> str:
        return f"/v1/entities/{self.entity}"


def make_team(gateway: LocalApiGateway, entity: str) -> Team:
    access = AccessService(wiring.components().store)
    _, admin_key = access.bootstrap(entity, "alice")
    access.add_member(entity, "bob", Role.MEMBER)
    access.add_member(entity, "carol", Role.VIEWER)
    _, member_key = access.create_key(entity, "bob", "bob's key")
    _, viewer_key = access.create_key(entity, "carol", "carol's key")
    keys = {"ADMIN": admin_key, "MEMBER": member_key, "VIEWER": viewer_key}
    return Team(entity, Api(gateway, admin_key), Api(gateway, member_key), Api(gateway, viewer_key), keys)


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
    wiring.reset()


@pytest.fixture
def receiver() -> Iterator[Any]:
    from receivers import Receiver

    server = Receiver()
    yield server
    server.close()
