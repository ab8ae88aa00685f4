"""Execution history (per entity, project, artifact collection and automation), retrying,
redelivering and canceling an execution, and publishing events."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from mlhooks.access import Caller
from mlhooks.api.context import as_seen_by, caller_for
from mlhooks.api.params import DEFAULT_LIMIT, Limit, Token
from mlhooks.automations import AutomationService
from mlhooks.components import get_components
from mlhooks.errors import NotFound
from mlhooks.executions import ExecutionService
from mlhooks.models.api import Page
from mlhooks.models.api.executions import (
    ExecutionCancel,
    ExecutionCount,
    ExecutionOut,
    ExecutionSummary,
    PublishRequest,
    PublishResponse,
    PublishResult,
)
from mlhooks.models.records import ExecutionRecord
from mlhooks.models.vocabulary import ActionType, ExecutionState, Role

router = Router()
BASE = "/v1/entities/<entity>"
State = Annotated[ExecutionState | None, Query()]


def webhook_url(record: ExecutionRecord) -> str | None:
    """The URL a webhook execution's request went to: what callers who do not manage webhooks see
    only the origin of, in the request and in any text that quotes it."""
    if record.action_type is ActionType.GENERIC_WEBHOOK and record.request:
        return record.request.get("url")
    return None


# Where an execution holds its webhook's URL, and its texts that may quote or echo a URL
# (api.context.as_seen_by).
REQUEST_URL = ("request.url",)
SUMMARY_TEXTS = ("reason",)
DETAIL_TEXTS = ("reason", "attempts.*.error", "attempts.*.response_excerpt")


def summary(record: ExecutionRecord, caller: Caller) -> ExecutionSummary:
    answer = ExecutionSummary(**record.model_dump(), attempt_count=len(record.attempts))
    return as_seen_by(caller, answer, webhook_url(record), (), SUMMARY_TEXTS)


def detail(record: ExecutionRecord, caller: Caller) -> ExecutionOut:
    answer = ExecutionOut(**record.model_dump(), attempt_count=len(record.attempts))
    return as_seen_by(caller, answer, webhook_url(record), REQUEST_URL, DETAIL_TEXTS)


def _executions() -> ExecutionService:
    return ExecutionService(get_components())


def _automations() -> AutomationService:
    components = get_components()
    return AutomationService(components.store, components.settings)


def _page(
    caller: Caller, state: ExecutionState | None, limit: int, token: str | None, **scope: str
) -> Page[ExecutionSummary]:
    records, next_token = get_components().store.list_executions(
        caller.entity, state=state.value if state else None, limit=limit, token=token, **scope
    )
    return Page[ExecutionSummary](items=[summary(r, caller) for r in records], next_token=next_token)


@router.get(f"{BASE}/executions", tags=["executions"], summary="Executions of the entity, newest first")
def list_executions(
    entity: str, state: State = None, limit: Limit = DEFAULT_LIMIT, next_token: Token = None
) -> Page[ExecutionSummary]:
    return _page(caller_for(entity), state, limit, next_token)


@router.get(f"{BASE}/projects/<project>/executions", tags=["executions"], summary="Executions in a project")
def list_project_executions(
    entity: str, project: str, state: State = None, limit: Limit = DEFAULT_LIMIT, next_token: Token = None
) -> Page[ExecutionSummary]:
    return _page(caller_for(entity), state, limit, next_token, project=project)


def _collection(entity: str, project: str, collection: str) -> None:
    if get_components().store.get_collection(entity, project, collection) is None:
        raise NotFound(f"No collection {collection} in project {project}.")


@router.get(
    f"{BASE}/projects/<project>/collections/<collection>/executions",
    tags=["executions"],
    summary="Executions of events about an artifact collection, newest first",
)
def list_collection_executions(
    entity: str,
    project: str,
    collection: str,
    state: State = None,
    limit: Limit = DEFAULT_LIMIT,
    next_token: Token = None,
) -> Page[ExecutionSummary]:
    caller = caller_for(entity)
    _collection(entity, project, collection)
    return _page(caller, state, limit, next_token, project=project, collection=collection)


@router.get(
    f"{BASE}/projects/<project>/collections/<collection>/executions/count",
    tags=["executions"],
    summary="How many executions a collection's history holds, by state",
)
def count_collection_executions(entity: str, project: str, collection: str) -> ExecutionCount:
    caller_for(entity)
    _collection(entity, project, collection)
    counted = get_components().store.count_executions(entity, project, collection)
    by_state = {state: counted.get(state.value, 0) for state in ExecutionState}
    return ExecutionCount(
        project=project, collection=collection, total=sum(by_state.values()), by_state=by_state
    )


@router.get(
    f"{BASE}/automations/<automation_id>/executions",
    tags=["executions"],
    summary="Executions of an automation",
)
def list_automation_executions(
    entity: str,
    automation_id: str,
    state: State = None,
    limit: Limit = DEFAULT_LIMIT,
    next_token: Token = None,
) -> Page[ExecutionSummary]:
    caller = caller_for(entity)
    return _page(
        caller, state, limit, next_token, automation_id=_automations().id_of(entity, unquote(automation_id))
    )


@router.get(
    f"{BASE}/executions/<execution_id>",
    tags=["executions"],
    summary="One execution: the event, the request sent (secrets redacted) and every attempt",
)
def get_execution(entity: str, execution_id: str) -> ExecutionOut:
    caller = caller_for(entity)
    return detail(_executions().get(entity, execution_id), caller)


@router.post(
    f"{BASE}/executions/<execution_id>/retry",
    tags=["executions"],
    summary="Deliver an execution now: a PENDING one without waiting out its backoff, a FAILED or "
    "CANCELED one again (members)",
)
def retry(entity: str, execution_id: str) -> Response[ExecutionOut]:
    caller = caller_for(entity, Role.MEMBER)
    return Response(202, "application/json", detail(_executions().retry(entity, execution_id), caller))


@router.post(
    f"{BASE}/executions/<execution_id>/redeliver",
    tags=["executions"],
    summary="The same as `…/retry`, under its earlier name (members)",
)
def redeliver(entity: str, execution_id: str) -> Response[ExecutionOut]:
    caller = caller_for(entity, Role.MEMBER)
    return Response(202, "application/json", detail(_executions().retry(entity, execution_id), caller))


@router.post(
    f"{BASE}/executions/<execution_id>/cancel",
    tags=["executions"],
    summary="Cancel a PENDING execution before its next attempt; it ends CANCELED (members)",
)
def cancel(
    entity: str, execution_id: str, body: Annotated[ExecutionCancel | None, Body()] = None
) -> ExecutionOut:
    caller = caller_for(entity, Role.MEMBER)
    reason = body.reason if body is not None else None
    return detail(_executions().cancel(caller, entity, execution_id, reason), caller)


@router.post(
    "/v1/events",
    tags=["events"],
    summary="Publish up to 10 platform events for your entity (validated, then put on the bus)",
)
def publish(body: Annotated[PublishRequest, Body()]) -> Response[PublishResponse]:
    caller = caller_for(None, Role.MEMBER)
    published = _executions().publish(caller, [(e.detail_type, e.detail) for e in body.events])
    answer = PublishResponse(published=[PublishResult(**p._asdict()) for p in published])
    return Response(202, "application/json", answer)
