"""Automations: create, list, get, partial update with optimistic concurrency, enable/disable, delete,
and dry runs (would it fire on an event, and what would it send)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from mlhooks.access import Caller, sees_webhook_urls
from mlhooks.api.context import as_seen_by, caller_for
from mlhooks.api.params import DEFAULT_LIMIT, Limit, Token
from mlhooks.automations import AutomationService, etag, parse_etag
from mlhooks.components import get_components
from mlhooks.health import action_statuses
from mlhooks.models.api import Page
from mlhooks.models.api.automations import (
    AutomationCreate,
    AutomationDryRun,
    AutomationOut,
    AutomationUpdate,
    DraftDryRun,
    DryRunOut,
)
from mlhooks.models.api.executions import PublishedEvent
from mlhooks.models.base import STORED
from mlhooks.models.records import AutomationRecord
from mlhooks.models.vocabulary import EventType, Role, ScopeType
from mlhooks.redaction import shown_to_others

if TYPE_CHECKING:
    from mlhooks.dry_run import DryRunService

router = Router()
AUTOMATIONS = "/v1/entities/<entity>/automations"


def _automations() -> AutomationService:
    components = get_components()
    return AutomationService(components.store, components.settings)


def _dry_runs() -> DryRunService:
    # Loaded on the first dry run: it reads with the matcher's and the senders' pieces, which no other
    # route needs, and every API cold start would otherwise pay for them (about 40 ms here).
    from mlhooks.dry_run import DryRunService

    return DryRunService(get_components())


# Where a dry run holds the webhook's URL, and its texts that may quote one (api.context.as_seen_by).
DRY_RUN_URL = ("action.request.url",)
DRY_RUN_TEXTS = ("summary", "reason.message", "checks.*.message", "action.status.reason")


def _event(event: PublishedEvent | None) -> tuple[str, dict] | None:
    return None if event is None else (event.detail_type, event.detail)


def _view(records: list[AutomationRecord], caller: Caller) -> list[AutomationOut]:
    statuses = action_statuses(get_components().store, records[0].entity, records) if records else []
    if not sees_webhook_urls(caller):
        # A status's reason quotes its webhook's last error, which may quote a URL (as_seen_by).
        statuses = [shown_to_others(status, None, (), ("reason",)) for status in statuses]
    return [
        # Read as stored: an automation saved under rules since tightened is shown as it was saved.
        AutomationOut.model_validate(
            record.model_dump(by_alias=True) | {"action_status": status}, context=STORED
        )
        for record, status in zip(records, statuses, strict=True)
    ]


def _out(record: AutomationRecord, caller: Caller, status: int = 200) -> Response[AutomationOut]:
    return Response(status, "application/json", _view([record], caller)[0], headers={"ETag": etag(record)})


@router.get(AUTOMATIONS, tags=["automations"], summary="List automations (filtered, paginated)")
def list_automations(
    entity: str,
    project: Annotated[str | None, Query()] = None,
    scope: Annotated[ScopeType | None, Query()] = None,
    event_type: Annotated[EventType | None, Query()] = None,
    enabled: Annotated[bool | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=128, description="Exactly this name.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    next_token: Token = None,
) -> Page[AutomationOut]:
    caller = caller_for(entity)
    records, token = _automations().list(
        entity,
        name=name,
        project=project,
        scope_type=scope.value if scope else None,
        event_type=event_type.value if event_type else None,
        enabled=enabled,
        limit=limit,
        token=next_token,
    )
    return Page[AutomationOut](items=_view(records, caller), next_token=token)


@router.post(AUTOMATIONS, tags=["automations"], summary="Create an automation (members)")
def create_automation(entity: str, body: Annotated[AutomationCreate, Body()]) -> Response[AutomationOut]:
    caller = caller_for(entity, Role.MEMBER)
    return _out(_automations().create(entity, body, caller.member), caller, 201)


@router.get(
    f"{AUTOMATIONS}/<automation_id>",
    tags=["automations"],
    summary="Get an automation by id or name (ETag = version)",
)
def get_automation(entity: str, automation_id: str) -> Response[AutomationOut]:
    """By id or by name (here and in every route under it): a name's spaces and other characters
    arrive percent-encoded in the path."""
    caller = caller_for(entity)
    return _out(_automations().get(entity, unquote(automation_id)), caller)


@router.patch(
    f"{AUTOMATIONS}/<automation_id>",
    tags=["automations"],
    summary="Partially update an automation; If-Match (or `version`) guards against lost updates",
)
def update_automation(
    entity: str,
    automation_id: str,
    body: Annotated[AutomationUpdate, Body()],
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> Response[AutomationOut]:
    caller = caller_for(entity, Role.MEMBER)
    expected = parse_etag(if_match) if if_match is not None else body.version
    changes = body.model_dump(exclude_unset=True, exclude={"version"}, by_alias=True)
    return _out(_automations().update(entity, unquote(automation_id), changes, expected), caller)


@router.post(f"{AUTOMATIONS}/<automation_id>/enable", tags=["automations"], summary="Enable an automation")
def enable_automation(entity: str, automation_id: str) -> Response[AutomationOut]:
    caller = caller_for(entity, Role.MEMBER)
    return _out(_automations().set_enabled(entity, unquote(automation_id), True), caller)


@router.post(f"{AUTOMATIONS}/<automation_id>/disable", tags=["automations"], summary="Disable an automation")
def disable_automation(entity: str, automation_id: str) -> Response[AutomationOut]:
    caller = caller_for(entity, Role.MEMBER)
    return _out(_automations().set_enabled(entity, unquote(automation_id), False), caller)


@router.delete(f"{AUTOMATIONS}/<automation_id>", tags=["automations"], summary="Delete an automation")
def delete_automation(entity: str, automation_id: str) -> Response[None]:
    caller_for(entity, Role.MEMBER)
    _automations().delete(entity, unquote(automation_id))
    return Response(204)


@router.post(
    f"{AUTOMATIONS}/dry-run",
    tags=["automations"],
    summary="Dry-run an unsaved automation on an event (members): would it fire, why not, and the request "
    "it would send; nothing is sent or written",
)
def dry_run_draft(entity: str, body: Annotated[DraftDryRun, Body()]) -> DryRunOut:
    caller = caller_for(entity, Role.MEMBER)  # whoever may create it
    run = _dry_runs().draft(entity, body.automation, _event(body.event), caller)
    return as_seen_by(caller, DryRunOut.of(run), run.action.url, DRY_RUN_URL, DRY_RUN_TEXTS)


@router.post(
    f"{AUTOMATIONS}/<automation_id>/dry-run",
    tags=["automations"],
    summary="Dry-run an automation on an event: would it fire, why not, and the request it would send "
    "(secrets redacted); nothing is sent or written",
)
def dry_run_automation(
    entity: str, automation_id: str, body: Annotated[AutomationDryRun | None, Body()] = None
) -> DryRunOut:
    caller = caller_for(entity)  # whoever may read it: no secret is read, nothing is written
    event = _event(body.event) if body else None
    run = _dry_runs().saved(entity, unquote(automation_id), event, caller)
    return as_seen_by(caller, DryRunOut.of(run), run.action.url, DRY_RUN_URL, DRY_RUN_TEXTS)
