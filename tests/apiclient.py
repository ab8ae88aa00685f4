"""Calling the API the way API Gateway does, as a given team member."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlhooks.access import AccessService
from mlhooks.components import get_components
from mlhooks.local.apigw import LocalApiGateway
from mlhooks.models.vocabulary import Role


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
    access = AccessService(get_components().store)
    _, admin_key = access.bootstrap(entity, "alice")
    access.add_member(entity, "bob", Role.MEMBER)
    access.add_member(entity, "carol", Role.VIEWER)
    _, member_key = access.create_key(entity, "bob", "bob's key")
    _, viewer_key = access.create_key(entity, "carol", "carol's key")
    keys = {"ADMIN": admin_key, "MEMBER": member_key, "VIEWER": viewer_key}
    return Team(entity, Api(gateway, admin_key), Api(gateway, member_key), Api(gateway, viewer_key), keys)
