"""W&B's objects (entities, projects, collections, integrations, automations) as the SDK reads
them, built from mlhooks' records for one caller.

Objects are plain dicts in W&B's shapes (`__typename` picks a union's member); a field that takes
arguments is a function of them, which graphql-core calls when the document selects it. Look-ups
and lists are remembered for the request, so a document that selects one object many times
(aliases, fragments spread in fragments) reads it once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from mlhooks import bounded_json
from mlhooks.access import Caller, sees_webhook_urls
from mlhooks.api.wandb import ids
from mlhooks.api.wandb.ids import Kind
from mlhooks.api.wandb.triggers import wandb_action, wandb_event
from mlhooks.automations import AutomationService
from mlhooks.components import get_components
from mlhooks.errors import InvalidInput
from mlhooks.integrations import SlackService, WebhookService
from mlhooks.models.automation import NotificationAction, WebhookAction
from mlhooks.models.records import AutomationRecord, CollectionRecord, ProjectRecord
from mlhooks.models.vocabulary import Role, ScopeType
from mlhooks.redaction import url_shown

PAGE_DEFAULT, PAGE_MAX = 50, 100  # items per page, whatever `first` asks for (REST's own bounds)


def _page_size(first: int | None) -> int:
    return max(1, min(first or PAGE_DEFAULT, PAGE_MAX))


class Nodes:
    """The look-ups and objects of one request, for one caller."""

    def __init__(self, caller: Caller):
        self.caller = caller
        self.entity_name = caller.entity  # not `entity`: that is the Query field
        components = get_components()
        self.store = components.store
        self.automations = AutomationService(components.store, components.settings)
        self.webhooks = WebhookService(components)
        self.slack = SlackService(components)
        # Per request: one read per object, however often the document selects it.
        self._project = cache(self._read_project)
        self._collection = cache(self._read_collection)
        self._integration = cache(self._read_integration)
        # Lists too: a document that selects one many times (fragments nested in fragments) must not
        # read it as many times. Their arguments are the cache's key.
        self._members = cache(self._members)  # type: ignore[method-assign]
        self._integrations = cache(self._integrations)  # type: ignore[method-assign]
        self._triggers = cache(self._triggers)  # type: ignore[method-assign]
        self._projects = cache(self._projects)  # type: ignore[method-assign]
        self._project_triggers = cache(self._project_triggers)  # type: ignore[method-assign]
        self._artifact_types = cache(self._artifact_types)  # type: ignore[method-assign]

    # ---- nodes ----------------------------------------------------------------------------------

    def viewer_node(self) -> dict[str, Any]:
        member = self.caller.member
        return {
            "__typename": "User",
            "id": ids.encode(Kind.USER, self.entity_name, member),
            "name": member,
            "username": member,
            "email": None,
            "admin": self.caller.role is Role.ADMIN,
            "flags": None,
            "entity": self.entity_name,
            "deletedAt": None,
            # Keys are listed over REST (…/api-keys), never in a GraphQL answer.
            "apiKeys": {"edges": []},
            "teams": {"edges": [{"node": self.entity_node()}]},
            "organizations": [self.organization_node()],
            "projects": _field(self._projects),
        }

    def organization_node(self) -> dict[str, Any]:
        return {
            "id": ids.encode(Kind.ENTITY, self.entity_name),
            "name": self.entity_name,
            "orgEntity": self.entity_node(),
        }

    def entity_node(self) -> dict[str, Any]:
        entity = self.entity_name
        return {
            "__typename": "Entity",
            "id": ids.encode(Kind.ENTITY, entity),
            "name": entity,
            "entityType": "team",
            "isTeam": True,
            "available": False,  # the name is taken: by this entity
            "photoUrl": None,
            "readOnly": False,
            "readOnlyAdmin": False,
            "privateOnly": False,
            "storageBytes": 0,
            "codeSavingEnabled": False,
            "defaultAccess": "MEMBER",
            "isPaid": False,
            "members": _field(self._members),
            "organization": lambda _info: self.organization_node(),
            "user": lambda _info: self.viewer_node(),
            "project": lambda _info, name=None: None if name is None else self.project_node(name),
            "integrations": _field(self._integrations),
            "triggers": _field(self._triggers),
            "projects": _field(self._projects),
        }

    def _members(self) -> list[dict[str, Any]]:
        return [
            {
                "id": ids.encode(Kind.USER, self.entity_name, m.username),
                "admin": m.role is Role.ADMIN,
                "pending": False,
                "email": None,
                "username": m.username,
                "name": m.username,
                "photoUrl": None,
                "accountType": "USER",
                "apiKey": None,
            }
            for m in _all(self.store.list_members, self.entity_name)
        ]

    def _read_project(self, name: str) -> ProjectRecord | None:
        return self.store.get_project(self.entity_name, name)

    def _read_collection(self, project: str, name: str) -> CollectionRecord | None:
        return self.store.get_collection(self.entity_name, project, name)

    def project_node(self, project: str) -> dict[str, Any] | None:
        record = self._project(project)
        if record is None:
            return None
        name = record.name
        return {
            "__typename": "Project",
            "id": ids.encode(Kind.PROJECT, self.entity_name, name),
            "internalId": ids.encode(Kind.PROJECT, self.entity_name, name),
            "name": name,
            "entityName": self.entity_name,
            "entity": lambda _info: self.entity_node(),
            "description": record.description,
            "createdAt": record.created_at,
            "updatedAt": record.created_at,
            "isBenchmark": False,
            "user": None,
            "access": "PROJECT",
            "allowAllArtifactTypesInRegistry": True,
            "artifactTypes": lambda _info, includeAll=None: self._artifact_types(project),
            "artifactType": lambda _info, name: self._artifact_type(project, name),
            "triggers": lambda _info: self._project_triggers(project),
        }

    def _artifact_types(self, project: str) -> dict[str, Any]:
        def page(entity: str, limit: int | None, token: str | None) -> Any:
            return self.store.list_collections(entity, project, limit, token)

        collections = _all(page, self.entity_name)
        types = sorted({c.type for c in collections})
        return {"edges": [{"node": self._artifact_type(project, t)} for t in types]}

    def _artifact_type(self, project: str, type_name: str) -> dict[str, Any]:
        def collection(_info: Any, name: str) -> dict[str, Any] | None:
            record = self._collection(project, name)
            # W&B finds a collection by its type and name; a collection of another type is not there.
            return None if record is None or record.type != type_name else self.collection_node(record)

        return {"name": type_name, "artifactCollection": collection}

    def collection_node(self, record: CollectionRecord) -> dict[str, Any]:
        project = self._project(record.project)
        registry = project is not None and project.registry
        return {
            # W&B's collections in a registry are portfolios (linked versions), elsewhere sequences.
            "__typename": "ArtifactPortfolio" if registry else "ArtifactSequence",
            "id": ids.encode(Kind.COLLECTION, self.entity_name, record.project, record.name),
            "name": record.name,
            "description": None,
            "createdAt": record.created_at,
            "updatedAt": record.created_at,
            "project": lambda _info: self.project_node(record.project),
            "defaultArtifactType": {"name": record.type},
            "tags": {"edges": []},
        }

    # ---- integrations ---------------------------------------------------------------------------

    def _webhook_node(self, record: Any) -> dict[str, Any]:
        return {
            "__typename": "GenericWebhookIntegration",
            "id": ids.encode(Kind.WEBHOOK, self.entity_name, record.name),
            "name": record.name,
            "urlEndpoint": record.url if sees_webhook_urls(self.caller) else url_shown(record.url),
            "createdAt": record.created_at,
        }

    def _slack_node(self, record: Any) -> dict[str, Any]:
        return {
            "__typename": "SlackIntegration",
            "id": ids.encode(Kind.SLACK, self.entity_name, record.name),
            # W&B names a Slack integration by its workspace; mlhooks' name says which one it is.
            "teamName": record.name,
            "channelName": record.channel_name,
            "createdAt": record.created_at,
        }

    def _read_integration(self, kind: Kind, name: str) -> dict[str, Any] | None:
        if kind is Kind.WEBHOOK:
            webhook = self.store.get_webhook(self.entity_name, name)
            return None if webhook is None else self._webhook_node(webhook)
        slack = self.store.get_slack(self.entity_name, name)
        return None if slack is None else self._slack_node(slack)

    def _integrations(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        nodes = [self._webhook_node(w) for w in _all(self.webhooks.list, self.entity_name)]
        nodes += [self._slack_node(s) for s in _all(self.slack.list, self.entity_name)]
        start = _offset(after)
        end = start + _page_size(first)
        return {
            "pageInfo": {"endCursor": str(end), "hasNextPage": end < len(nodes)},
            "edges": [{"node": node} for node in nodes[start:end]],
        }

    # ---- automations ----------------------------------------------------------------------------

    def _triggers(
        self,
        after: str | None = None,
        first: int | None = None,
        order: str | None = None,
        filters: str | None = None,
    ) -> dict[str, Any]:
        name = _name_filter(filters)
        records, token = self.automations.list(
            self.entity_name, name=name, limit=_page_size(first), token=after
        )
        nodes = [node for node in map(self.trigger_node, records) if node is not None]
        return {
            "pageInfo": {"endCursor": token, "hasNextPage": token is not None},
            "edges": [{"node": node} for node in nodes],
        }

    def _projects(self, after: str | None = None, first: int | None = None) -> dict[str, Any]:
        """The entity's projects, for the SDK's older way of listing automations: project by project
        (`api.automations()` without an entity, and servers without `Entity.triggers`)."""
        records, token = self.store.list_projects(self.entity_name, _page_size(first), after)
        return {
            "pageInfo": {"endCursor": token, "hasNextPage": token is not None},
            "edges": [{"node": self.project_node(record.name)} for record in records],
        }

    def _project_triggers(self, project: str) -> list[dict[str, Any]]:
        """The automations scoped to a project or to a collection in it (W&B's `Project.triggers`;
        the entity's own are not on any project, there as here)."""
        records = _all(
            lambda entity, limit, token: self.automations.list(
                entity, project=project, limit=limit, token=token
            ),
            self.entity_name,
        )
        return [node for node in map(self.trigger_node, records) if node is not None]

    def scope_node(self, record: AutomationRecord) -> dict[str, Any] | None:
        scope = record.scope
        if scope.type is ScopeType.ENTITY:
            return self.entity_node()
        if scope.type is ScopeType.PROJECT:
            return self.project_node(scope.project)  # type: ignore[union-attr]
        collection = self._collection(scope.project, scope.collection)  # type: ignore[union-attr]
        return None if collection is None else self.collection_node(collection)

    def trigger_node(self, record: AutomationRecord) -> dict[str, Any] | None:
        """The automation as W&B's `Trigger`, or None if W&B's form cannot say what it does."""
        action, integration = record.action, None
        if isinstance(action, WebhookAction):
            integration = self._integration(Kind.WEBHOOK, action.webhook)
        elif isinstance(action, NotificationAction):
            integration = self._integration(Kind.SLACK, action.slack)
        event, triggered = wandb_event(record.event), wandb_action(action, integration)
        scope = self.scope_node(record)
        if event is None or triggered is None or scope is None:
            return None
        return {
            "__typename": "Trigger",
            "id": ids.encode(Kind.TRIGGER, self.entity_name, record.id),
            "createdAt": record.created_at,
            "updatedAt": record.updated_at,
            "lastExecutedAt": record.last_executed_at,
            "name": record.name,
            "description": record.description,
            "enabled": record.enabled,
            "scope": scope,
            "triggeringCondition": event,
            "triggeredAction": triggered,
        }


def _field(read: Callable[..., Any]) -> Callable[..., Any]:
    """A field resolver (graphql-core passes the resolve info first) over a read that needs only the
    field's arguments."""
    return lambda _info, **arguments: read(**arguments)


def _all(list_page: Callable[..., tuple[list[Any], str | None]], entity: str) -> list[Any]:
    items, token = [], None
    while True:
        page, token = list_page(entity, None, token)
        items += page
        if token is None:
            return items


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 9:
        raise InvalidInput("after is not a cursor this list gave out.", field="after")
    return int(cursor)


def _name_filter(filters: str | None) -> str | None:
    """W&B's `filters` for automations, as the SDK sends them: `{"name": "..."}` or nothing."""
    if filters is None:
        return None
    try:
        parsed = bounded_json.loads(filters, max_depth=2)
    except bounded_json.JsonRefused:
        parsed = False
    if parsed == {}:
        return None
    if not isinstance(parsed, dict) or set(parsed) != {"name"} or not isinstance(parsed["name"], str):
        raise InvalidInput(
            'filters is JSON text, and mlhooks filters automations by name only: {"name": "..."}.',
            field="filters",
        )
    return parsed["name"]
