"""Sources: the platforms whose events an entity takes in (MLflow, W&B, SageMaker), registered by
admins, and what each delivery became."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from mlhooks.api.context import REQUEST, caller_for
from mlhooks.api.params import DEFAULT_LIMIT, Limit, Token
from mlhooks.components import get_components
from mlhooks.gateway import base_url
from mlhooks.models.api import Page
from mlhooks.models.sources import Outcome, SourceDeliveryRecord, SourceOut, SourceRecord, SourceSpec
from mlhooks.models.vocabulary import Role
from mlhooks.sources import SourceService, setup

router = Router()
SOURCES = "/v1/entities/<entity>/sources"


def _sources() -> SourceService:
    return SourceService(get_components())


def _out(record: SourceRecord) -> SourceOut:
    enabled = get_components().settings.sagemaker_events == "ENABLED"
    url, steps = setup(record, base_url(REQUEST.get({})), enabled)
    fields = record.model_dump(exclude={"entity"}, exclude_none=True)
    return SourceOut(**fields, inbound_url=url, setup=steps)


@router.get(SOURCES, tags=["sources"], summary="List sources")
def list_sources(entity: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None) -> Page[SourceOut]:
    caller_for(entity)
    records, token = _sources().list(entity, limit, next_token)
    return Page[SourceOut](items=[_out(r) for r in records], next_token=token)


@router.post(
    SOURCES,
    tags=["sources"],
    summary="Register a source: MLflow or W&B webhooks, or SageMaker's events (admins)",
    description="The answer says where the platform delivers (`inbound_url`) and what to set up on its "
    "side (`setup`): the MLflow webhook to create, the W&B payload to paste, or the EventBridge rule.",
)
def create_source(entity: str, body: Annotated[SourceSpec, Body()]) -> Response[SourceOut]:
    caller = caller_for(entity, Role.ADMIN)
    record = _sources().create(caller, entity, body)
    return Response(201, "application/json", _out(record))


@router.get(f"{SOURCES}/<name>", tags=["sources"], summary="Get a source")
def get_source(entity: str, name: str) -> SourceOut:
    caller_for(entity)
    return _out(_sources().get(entity, name))


@router.delete(f"{SOURCES}/<name>", tags=["sources"], summary="Delete a source (admins)")
def delete_source(entity: str, name: str) -> Response[None]:
    caller_for(entity, Role.ADMIN)
    _sources().delete(entity, name)
    return Response(204)


@router.get(
    f"{SOURCES}/<name>/deliveries",
    tags=["sources"],
    summary="What a source delivered, newest first: what each became, or why it was refused or ignored",
)
def list_source_deliveries(
    entity: str,
    name: str,
    outcome: Annotated[Outcome | None, Query(description="Only deliveries with this outcome.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    next_token: Token = None,
) -> Page[SourceDeliveryRecord]:
    caller_for(entity)
    records, token = _sources().deliveries(entity, name, limit, next_token, outcome)
    return Page[SourceDeliveryRecord](items=records, next_token=token)
