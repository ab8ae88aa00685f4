"""The API's resources, one class each, with the methods the routes offer. Every answer is the
API's own response model (mlhooks.models.api), so the client cannot drift from the server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from mlhooks.client.transport import ApiError, Transport, body, quote
from mlhooks.models.api.automations import AutomationOut, DryRunOut
from mlhooks.models.api.executions import ExecutionCount, ExecutionOut, ExecutionSummary, PublishResponse
from mlhooks.models.api.integrations import DeliveryResult, SlackOut, WebhookOut
from mlhooks.models.api.members import ApiKeyCreated, ApiKeyOut, MemberOut
from mlhooks.models.api.projects import CollectionOut, ProjectOut
from mlhooks.models.api.run_queues import RunQueueOut
from mlhooks.models.api.secrets import SecretOut
from mlhooks.models.sources import SourceDeliveryRecord, SourceOut

Body = BaseModel | dict[str, Any]


def _first(items: Iterator[Any], limit: int | None) -> list[Any]:
    return list(itertools.islice(items, limit)) if limit else list(items)


class Resource:
    """A collection under `/v1/entities/{entity}/<path>`."""

    path = ""

    def __init__(self, transport: Transport, entity: str):
        self.http = transport
        self.entity = entity

    @property
    def base(self) -> str:
        return f"/v1/entities/{quote(self.entity)}/{self.path}"

    def at(self, name: str, *rest: str) -> str:
        return "/".join([self.base, quote(name), *rest])


class Members(Resource):
    path = "members"

    def list(self) -> list[MemberOut]:
        return _first(self.http.pages(MemberOut, self.base), None)

    def add(self, username: str, role: str) -> MemberOut:
        return self.http.call(MemberOut, "POST", self.base, json={"username": username, "role": role})

    def set_role(self, username: str, role: str) -> MemberOut:
        return self.http.call(MemberOut, "PATCH", self.at(username), json={"role": role})

    def remove(self, username: str) -> None:
        self.http.request("DELETE", self.at(username))


class Keys(Resource):
    path = "api-keys"

    def list(self) -> list[ApiKeyOut]:
        return _first(self.http.pages(ApiKeyOut, self.base), None)

    def create(self, name: str, *, member: str | None = None, service: bool = False) -> ApiKeyCreated:
        """A new API key; `.key` is shown this once (only its hash is stored)."""
        spec: dict[str, Any] = {"name": name, "service": service}
        if member:
            spec["member"] = member
        return self.http.call(ApiKeyCreated, "POST", self.base, json=spec)

    def delete(self, key_id: str) -> None:
        self.http.request("DELETE", self.at(key_id))


class Secrets(Resource):
    path = "secrets"

    def list(self) -> list[SecretOut]:
        return _first(self.http.pages(SecretOut, self.base), None)

    def get(self, name: str) -> SecretOut:
        return self.http.call(SecretOut, "GET", self.at(name))

    def set(self, name: str, value: str) -> SecretOut:
        """Create the secret, or rotate it if it exists. Its value is never returned."""
        try:
            return self.http.call(SecretOut, "POST", self.base, json={"name": name, "value": value})
        except ApiError as error:
            if error.status != 409:
                raise
        return self.http.call(SecretOut, "PUT", self.at(name), json={"value": value})

    def delete(self, name: str) -> None:
        self.http.request("DELETE", self.at(name))


class Webhooks(Resource):
    path = "webhooks"

    def list(self) -> list[WebhookOut]:
        return _first(self.http.pages(WebhookOut, self.base), None)

    def get(self, name: str) -> WebhookOut:
        return self.http.call(WebhookOut, "GET", self.at(name))

    def create(self, spec: Body) -> WebhookOut:
        return self.http.call(WebhookOut, "POST", self.base, json=body(spec))

    def update(self, name: str, changes: Body) -> WebhookOut:
        return self.http.call(WebhookOut, "PATCH", self.at(name), json=body(changes))

    def delete(self, name: str) -> None:
        self.http.request("DELETE", self.at(name))

    def test(self, name: str, payload: Any = None) -> DeliveryResult:
        """W&B's "Test webhook": a request signed as a real delivery; the receiver's answer."""
        spec = {} if payload is None else {"payload": payload}
        return self.http.call(DeliveryResult, "POST", self.at(name, "test"), json=spec, timeout=60)


class Slack(Resource):
    path = "slack"

    def list(self) -> list[SlackOut]:
        return _first(self.http.pages(SlackOut, self.base), None)

    def get(self, name: str) -> SlackOut:
        return self.http.call(SlackOut, "GET", self.at(name))

    def create(self, spec: Body) -> SlackOut:
        return self.http.call(SlackOut, "POST", self.base, json=body(spec))

    def delete(self, name: str) -> None:
        self.http.request("DELETE", self.at(name))


class RunQueues(Resource):
    path = "run-queues"

    def list(self) -> list[RunQueueOut]:
        return _first(self.http.pages(RunQueueOut, self.base), None)

    def get(self, name: str) -> RunQueueOut:
        return self.http.call(RunQueueOut, "GET", self.at(name))

    def create(self, spec: Body) -> RunQueueOut:
        return self.http.call(RunQueueOut, "POST", self.base, json=body(spec))

    def delete(self, name: str) -> None:
        self.http.request("DELETE", self.at(name))


class Projects(Resource):
    path = "projects"

    def list(self) -> list[ProjectOut]:
        return _first(self.http.pages(ProjectOut, self.base), None)

    def get(self, name: str) -> ProjectOut:
        return self.http.call(ProjectOut, "GET", self.at(name))

    def create(self, name: str, *, registry: bool = False, description: str = "") -> ProjectOut:
        spec = {"name": name, "registry": registry, "description": description}
        return self.http.call(ProjectOut, "POST", self.base, json=spec)

    def collections(self, project: str) -> list[CollectionOut]:
        return _first(self.http.pages(CollectionOut, self.at(project, "collections")), None)

    def create_collection(self, project: str, name: str, *, type: str = "model") -> CollectionOut:
        spec = {"name": name, "type": type}
        return self.http.call(CollectionOut, "POST", self.at(project, "collections"), json=spec)


class Automations(Resource):
    """Automations by id (`au_…`) or by name: the API looks either up."""

    path = "automations"

    def list(
        self,
        *,
        project: str | None = None,
        event_type: str | None = None,
        enabled: bool | None = None,
        name: str | None = None,
    ) -> list[AutomationOut]:
        query = {"project": project, "event_type": event_type, "enabled": enabled, "name": name}
        return _first(self.http.pages(AutomationOut, self.base, query), None)

    def get(self, automation: str) -> AutomationOut:
        return self.http.call(AutomationOut, "GET", self.at(automation))

    def create(self, spec: Body) -> AutomationOut:
        return self.http.call(AutomationOut, "POST", self.base, json=body(spec))

    def update(self, automation: str, changes: Body) -> AutomationOut:
        return self.http.call(AutomationOut, "PATCH", self.at(automation), json=body(changes))

    def enable(self, automation: str) -> AutomationOut:
        return self.http.call(AutomationOut, "POST", self.at(automation, "enable"))

    def disable(self, automation: str) -> AutomationOut:
        return self.http.call(AutomationOut, "POST", self.at(automation, "disable"))

    def delete(self, automation: str) -> None:
        self.http.request("DELETE", self.at(automation))

    def dry_run(self, automation: str | Body, event: dict[str, Any] | None = None) -> DryRunOut:
        """What the automation would do with `event` (a sample of its event type when None): whether
        it fires, why not, and the request it would send, secrets redacted. Nothing is sent. Pass a
        saved automation's id or name, or an unsaved automation's body."""
        request: dict[str, Any] = {} if event is None else {"event": event}
        if isinstance(automation, str):
            return self.http.call(DryRunOut, "POST", self.at(automation, "dry-run"), json=request)
        draft = {**request, "automation": body(automation)}
        return self.http.call(DryRunOut, "POST", f"{self.base}/dry-run", json=draft)


class Executions(Resource):
    path = "executions"

    def list(
        self,
        *,
        state: str | None = None,
        project: str | None = None,
        collection: str | None = None,
        automation: str | None = None,
        limit: int | None = 50,
    ) -> list[ExecutionSummary]:
        """Newest first; `limit` None reads the whole history."""
        return _first(
            self.iterate(state=state, project=project, collection=collection, automation=automation), limit
        )

    def iterate(
        self,
        *,
        state: str | None = None,
        project: str | None = None,
        collection: str | None = None,
        automation: str | None = None,
    ) -> Iterator[ExecutionSummary]:
        entity = f"/v1/entities/{quote(self.entity)}"
        if automation:
            path = f"{entity}/automations/{quote(automation)}/executions"
        elif collection:
            if not project:
                raise ValueError("a collection's executions need its project")
            path = f"{entity}/projects/{quote(project)}/collections/{quote(collection)}/executions"
        elif project:
            path = f"{entity}/projects/{quote(project)}/executions"
        else:
            path = self.base
        return self.http.pages(ExecutionSummary, path, {"state": state})

    def count(self, project: str, collection: str) -> ExecutionCount:
        path = f"/v1/entities/{quote(self.entity)}/projects/{quote(project)}/collections/{quote(collection)}"
        return self.http.call(ExecutionCount, "GET", f"{path}/executions/count")

    def get(self, execution_id: str) -> ExecutionOut:
        return self.http.call(ExecutionOut, "GET", self.at(execution_id))

    def retry(self, execution_id: str) -> ExecutionOut:
        """Send a PENDING execution now instead of after its backoff, or a FAILED or CANCELED one
        again (W&B's redeliver)."""
        return self.http.call(ExecutionOut, "POST", self.at(execution_id, "retry"))

    redeliver = retry

    def cancel(self, execution_id: str, reason: str | None = None) -> ExecutionOut:
        """End a PENDING execution as CANCELED before its next attempt."""
        request = {} if reason is None else {"reason": reason}
        return self.http.call(ExecutionOut, "POST", self.at(execution_id, "cancel"), json=request)


class Sources(Resource):
    path = "sources"

    def list(self) -> list[SourceOut]:
        return _first(self.http.pages(SourceOut, self.base), None)

    def get(self, name: str) -> SourceOut:
        return self.http.call(SourceOut, "GET", self.at(name))

    def create(self, spec: Body) -> SourceOut:
        return self.http.call(SourceOut, "POST", self.base, json=body(spec))

    def delete(self, name: str) -> None:
        self.http.request("DELETE", self.at(name))

    def deliveries(
        self, name: str, *, outcome: str | None = None, limit: int | None = 50
    ) -> list[SourceDeliveryRecord]:
        pages = self.http.pages(SourceDeliveryRecord, self.at(name, "deliveries"), {"outcome": outcome})
        return _first(pages, limit)


def publish(transport: Transport, events: list[dict[str, Any]]) -> PublishResponse:
    """Up to 10 events (`{"detail_type", "detail"}` or EventBridge envelopes) in one call."""
    return transport.call(PublishResponse, "POST", "/v1/events", json={"events": events})
