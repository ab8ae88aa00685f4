"""Automations: full validation at save time, so that a saved automation can always run.

Checked here, in the caller's entity: the scope exists; the event type makes sense for it; the
filter parses (regexes compile under re2); the action's integration exists; the payload template is
JSON and uses only known variables and secrets attached to its webhook; the name is unique in its
scope (the store enforces that atomically).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from mlhooks.clock import now_iso
from mlhooks.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from mlhooks.filters import parse_filter
from mlhooks.models.automation import AutomationSpec, NotificationAction, QueueJobAction, WebhookAction
from mlhooks.models.names import AUTOMATION_ID_PATTERN, is_valid
from mlhooks.models.records import AutomationRecord
from mlhooks.models.vocabulary import ARTIFACT_EVENT_TYPES, EventType, ScopeType
from mlhooks.settings import Settings
from mlhooks.store import Store
from mlhooks.templating import check_variables, discover_variables, parse_template

_COLLECTION_EVENT_TYPES = ARTIFACT_EVENT_TYPES


def parse_etag(value: str | None) -> int | None:
    """`If-Match: "3"`, `W/"3"` or `3` -> 3.

    A version counts saves, so it is at most 18 ASCII digits: `str.isdigit` alone would let through
    "²" and 5,000-digit numbers, on which `int()` raises (Python's int-digits limit)."""
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if re.fullmatch(r"[0-9]{1,18}", text) is None:
        raise PreconditionFailed(
            'If-Match must be the ETag (version) of the automation, e.g. "3".', field="If-Match"
        )
    return int(text)


def etag(record: AutomationRecord) -> str:
    return f'"{record.version}"'


class AutomationService:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings

    # ---- validation ------------------------------------------------------------------------------

    def _check_scope(self, entity: str, draft: AutomationSpec) -> None:
        scope, event_type = draft.scope, draft.event.type
        if scope.type is ScopeType.ENTITY:
            return
        project = self.store.get_project(entity, scope.project)  # type: ignore[union-attr]
        if project is None:
            raise InvalidInput(f"No project {scope.project} in this entity.", field="scope.project")  # type: ignore[union-attr]
        if scope.type is ScopeType.ARTIFACT_COLLECTION:
            collection = self.store.get_collection(entity, scope.project, scope.collection)  # type: ignore[union-attr]
            if collection is None:
                raise InvalidInput(
                    f"No collection {scope.collection} in project {scope.project}.",  # type: ignore[union-attr]
                    field="scope.collection",
                )
            if event_type not in _COLLECTION_EVENT_TYPES:
                raise InvalidInput(
                    f"{event_type.value} cannot be watched on an artifact collection; "
                    "use a PROJECT or ENTITY scope for run events.",
                    field="event.type",
                )
        if project.registry and event_type not in ARTIFACT_EVENT_TYPES:
            raise InvalidInput(
                f"{event_type.value} cannot be watched on a registry: registries have no runs.",
                field="event.type",
            )

    def _check_action(self, entity: str, draft: AutomationSpec) -> tuple[Any, int | None]:
        """Returns the action, with a payload given as JSON text parsed into its JSON value, and the
        revision of the webhook it was checked against (the write holds only while it stands)."""
        action, event_type = draft.action, EventType(draft.event.type)
        if isinstance(action, WebhookAction):
            webhook = self.store.get_webhook(entity, action.webhook)
            if webhook is None:
                raise InvalidInput(f"No webhook {action.webhook} in this entity.", field="action.webhook")
            template = parse_template(action.payload)
            check_variables(
                discover_variables(template),
                secrets=set(webhook.secrets),
                has_access_token=webhook.access_token_secret is not None,
                event_type=event_type,
            )
            return action.model_copy(update={"payload": template}), webhook.revision
        if isinstance(action, NotificationAction):
            if self.store.get_slack(entity, action.slack) is None:
                raise InvalidInput(
                    f"No Slack integration {action.slack} in this entity.", field="action.slack"
                )
            # Slack messages never carry secrets: only event variables are allowed.
            for field in ("title", "message"):
                check_variables(
                    discover_variables(getattr(action, field)),
                    secrets=set(),
                    has_access_token=False,
                    field=f"action.{field}",
                    event_type=event_type,
                    takes_secrets=False,
                )
            return action, None
        if isinstance(action, QueueJobAction):
            # Overrides are templated with the event's variables; secrets never travel in a job.
            check_variables(
                discover_variables(action.overrides),
                secrets=set(),
                has_access_token=False,
                field="action.overrides",
                event_type=event_type,
                takes_secrets=False,
            )
            if self.store.get_run_queue(entity, action.queue) is None:
                raise InvalidInput(
                    f"No run queue {action.queue} in this entity; an admin registers it under …/run-queues.",
                    field="action.queue",
                )
            if (
                action.destination_project
                and self.store.get_project(entity, action.destination_project) is None
            ):
                raise InvalidInput(
                    f"No project {action.destination_project} in this entity.",
                    field="action.destination_project",
                )
        return action, None

    def validate(self, entity: str, draft: AutomationSpec) -> tuple[AutomationSpec, int | None]:
        """The draft as it will be stored, and the revision of the webhook it was checked against."""
        self._check_scope(entity, draft)
        if draft.event.filter is not None:
            parse_filter(draft.event.filter, EventType(draft.event.type))
        action, webhook_revision = self._check_action(entity, draft)
        return draft.model_copy(update={"action": action}), webhook_revision

    # ---- use cases ---------------------------------------------------------------------------------

    def create(self, entity: str, spec: AutomationSpec, author: str) -> AutomationRecord:
        spec, webhook_revision = self.validate(entity, spec)
        stamp = now_iso()
        record = AutomationRecord(
            entity=entity,
            id=f"au_{secrets.token_hex(10)}",
            created_by=author,
            created_at=stamp,
            updated_at=stamp,
            version=1,
            **spec.model_dump(by_alias=True),
        )
        self.store.create_automation(record, webhook_revision)
        return record

    def id_of(self, entity: str, automation: str) -> str:
        """An automation's id from its id or name. An id is taken as it is, found or not: a deleted
        automation's history stays readable by its id (no name looks like one)."""
        if is_valid(AUTOMATION_ID_PATTERN, automation):
            return automation
        return self.get(entity, automation).id

    def get(self, entity: str, automation_id: str) -> AutomationRecord:
        """By id, or by name (as W&B's `api.automation(name)` looks one up): a name is unique within
        its scope, so a name used in several scopes is refused rather than guessed."""
        record = self.store.get_automation(entity, automation_id)
        if record is not None:
            return record
        named, _ = self.store.list_automations(entity, name=automation_id, limit=None)
        if len(named) > 1:
            which = ", ".join(sorted(f"{a.id} in {_scope_text(a)}" for a in named))
            raise Conflict(f"{len(named)} automations are named {automation_id} ({which}); use the id.")
        if not named:
            raise NotFound(f"No automation {automation_id}.")
        return named[0]

    def list(self, entity: str, **filters: Any) -> tuple[list[AutomationRecord], str | None]:
        return self.store.list_automations(entity, **filters)

    def update(
        self, entity: str, automation_id: str, changes: Mapping[str, Any], expected: int | None
    ) -> AutomationRecord:
        """Apply `changes` (fields of AutomationSpec, by alias; `scope`, `event` and `action` whole)
        if the automation is still at version `expected` (None: whatever it is at)."""
        old = self.get(entity, automation_id)
        if expected is not None and expected != old.version:
            raise PreconditionFailed(
                f"The automation is at version {old.version}, not {expected}; fetch it again and retry.",
                field="If-Match",
            )
        merged = AutomationSpec.model_validate(
            {
                **old.model_dump(
                    include={"name", "description", "enabled", "scope", "event", "action"}, by_alias=True
                ),
                **changes,
            }
        )
        merged, webhook_revision = self.validate(entity, merged)
        new = old.model_copy(update={**dict(merged), "version": old.version + 1, "updated_at": now_iso()})
        new = AutomationRecord.model_validate(new.model_dump(by_alias=True))
        self.store.update_automation(old, new, webhook_revision)
        return new

    def set_enabled(self, entity: str, automation_id: str, enabled: bool) -> AutomationRecord:
        return self.update(entity, automation_id, {"enabled": enabled}, None)

    def delete(self, entity: str, automation_id: str) -> None:
        self.store.delete_automation(self.get(entity, automation_id))


def _scope_text(automation: AutomationRecord) -> str:
    scope = automation.scope
    parts = (scope.type.value, getattr(scope, "project", None), getattr(scope, "collection", None))
    return "/".join(part for part in parts if part)
