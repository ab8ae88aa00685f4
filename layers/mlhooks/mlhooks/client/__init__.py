"""The Python client of the mlhooks API.

    client = mlhooks.Client("https://…/Prod", key)        # or Client(): login, env, `make dev`
    client.automations.list(project="training")
    run = client.run(project="training", name="exp-42")
    run.log({"loss": 0.3}, step=10)
    run.finish()

Every answer is the API's own response model (mlhooks.models.api); every refusal is an `ApiError`
with the API's code, message and field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import requests

from mlhooks.client import resources
from mlhooks.client.config import Credentials, NotConfigured, resolve
from mlhooks.client.runs import Run
from mlhooks.client.transport import ApiError, Transport
from mlhooks.models.api.executions import PublishResponse
from mlhooks.models.api.members import Identity

__all__ = ["ApiError", "Client", "NotConfigured", "Run"]


class _Bound[R: resources.Resource]:
    """A resource class, read from a client as that resource of the client's entity."""

    def __init__(self, kind: type[R]):
        self.kind = kind

    def __get__(self, client: Client | None, owner: type[Client]) -> R:
        if client is None:  # read from the class (help(), documentation tools): the resource class
            return self.kind  # type: ignore[return-value]
        return self.kind(client.http, client.entity)


class Client:
    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        *,
        entity: str | None = None,
        profile: str | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ):
        self.credentials: Credentials = resolve(url, key, entity, profile)
        self.url = self.credentials.url
        self.http = Transport(self.url, self.credentials.key, timeout=timeout, session=session)
        self._entity = self.credentials.entity

    @property
    def entity(self) -> str:
        """The entity the key belongs to (asked of the API once, unless given)."""
        if self._entity is None:
            self._entity = self.whoami().entity
        return self._entity

    def whoami(self) -> Identity:
        return self.http.call(Identity, "GET", "/v1/me")

    # The API's resources, each bound to the key's entity: `client.automations.list()`.
    members = _Bound(resources.Members)
    keys = _Bound(resources.Keys)
    secrets = _Bound(resources.Secrets)
    webhooks = _Bound(resources.Webhooks)
    slack = _Bound(resources.Slack)
    run_queues = _Bound(resources.RunQueues)
    projects = _Bound(resources.Projects)
    automations = _Bound(resources.Automations)
    executions = _Bound(resources.Executions)
    sources = _Bound(resources.Sources)

    # -- events ------------------------------------------------------------------------------------

    def publish(self, detail_type: str, detail: dict[str, Any]) -> PublishResponse:
        """One platform event, e.g. `publish("Artifact Alias Added", {...})`. `entity` defaults to the
        key's, `time` to now, `event_id` to a new one; `author` is the key's member."""
        return self.publish_many([{"detail_type": detail_type, "detail": detail}])

    def publish_many(self, events: list[dict[str, Any]]) -> PublishResponse:
        """Up to 10 events: `{"detail_type", "detail"}`, or EventBridge envelopes as in `events/`."""
        completed = []
        for event in events:
            detail = dict(event.get("detail") or {})
            detail.setdefault("event_id", f"client-{uuid.uuid4().hex}")
            detail.setdefault("time", dt.datetime.now(dt.UTC).isoformat())
            completed.append({**event, "detail": detail})
        return resources.publish(self.http, completed)

    def artifact_event(
        self,
        detail_type: str,
        *,
        project: str,
        collection: str,
        version: int,
        artifact_type: str = "model",
        artifact_id: str | None = None,
        aliases: list[str] | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **fields: Any,
    ) -> PublishResponse:
        """An artifact event about `collection:v<version>` in `project`; `fields` are the event
        type's own (`alias=` or `tag=`)."""
        artifact = {
            "id": artifact_id or f"{project}/{collection}:v{version}",
            "version_index": version,
            "type": artifact_type,
            "aliases": aliases or [],
            "tags": tags or [],
            "metadata": metadata or {},
        }
        detail = {"project": project, "collection": collection, "artifact": artifact, **fields}
        return self.publish(detail_type, detail)

    def artifact_version_created(
        self,
        *,
        project: str,
        collection: str,
        version: int,
        artifact_type: str = "model",
        metadata: dict[str, Any] | None = None,
    ) -> PublishResponse:
        """A new version `collection:v<version>` was logged in `project` (CREATE_ARTIFACT)."""
        return self.artifact_event(
            "Artifact Version Created",
            project=project,
            collection=collection,
            version=version,
            artifact_type=artifact_type,
            metadata=metadata,
        )

    def artifact_linked(
        self,
        *,
        project: str,
        collection: str,
        version: int,
        artifact_type: str = "model",
        metadata: dict[str, Any] | None = None,
    ) -> PublishResponse:
        """A version was linked into `collection` of `project`, a registry (LINK_ARTIFACT)."""
        return self.artifact_event(
            "Artifact Linked",
            project=project,
            collection=collection,
            version=version,
            artifact_type=artifact_type,
            metadata=metadata,
        )

    def artifact_alias_added(
        self,
        *,
        project: str,
        collection: str,
        version: int,
        alias: str,
        artifact_type: str = "model",
        metadata: dict[str, Any] | None = None,
    ) -> PublishResponse:
        """`alias` (such as `production`) was added to `collection:v<version>` (ADD_ARTIFACT_ALIAS)."""
        return self.artifact_event(
            "Artifact Alias Added",
            project=project,
            collection=collection,
            version=version,
            artifact_type=artifact_type,
            aliases=[alias],
            metadata=metadata,
            alias=alias,
        )

    def artifact_tag_added(
        self,
        *,
        project: str,
        collection: str,
        version: int,
        tag: str,
        artifact_type: str = "model",
        metadata: dict[str, Any] | None = None,
    ) -> PublishResponse:
        """`tag` was added to `collection:v<version>` (ADD_ARTIFACT_TAG)."""
        return self.artifact_event(
            "Artifact Tag Added",
            project=project,
            collection=collection,
            version=version,
            artifact_type=artifact_type,
            tags=[tag],
            metadata=metadata,
            tag=tag,
        )

    # -- runs --------------------------------------------------------------------------------------

    def run(
        self,
        *,
        project: str,
        name: str,
        run_id: str | None = None,
        user: str | None = None,
        buffer: int = 10_000,
        flush_seconds: float = 1.0,
    ) -> Run:
        """A run to log metrics to; see `Run`. `user` (the run's author) defaults to the key's
        member; naming another needs a service key."""
        return Run(
            # The answer is not read: a run only needs to know the events were taken.
            lambda events: self.http.request("POST", "/v1/events", json={"events": events}),
            entity=self._entity,
            project=project,
            name=name,
            run_id=run_id,
            user=user,
            buffer=buffer,
            flush_seconds=flush_seconds,
        )
