"""Run queues: the SQS queues QUEUE_JOB automations may send to, registered by admins."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from mlhooks.api.context import caller_for
from mlhooks.api.params import DEFAULT_LIMIT, Limit, Token
from mlhooks.components import get_components
from mlhooks.models.api import Page
from mlhooks.models.api.run_queues import RunQueueCreate, RunQueueOut
from mlhooks.models.vocabulary import Role
from mlhooks.run_queues import RunQueueService

router = Router()
RUN_QUEUES = "/v1/entities/<entity>/run-queues"


def _run_queues() -> RunQueueService:
    components = get_components()
    return RunQueueService(components.store, components.sqs, components.settings)


@router.get(RUN_QUEUES, tags=["run-queues"], summary="List run queues")
def list_run_queues(entity: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None) -> Page[RunQueueOut]:
    caller_for(entity)
    records, token = _run_queues().list(entity, limit, next_token)
    return Page[RunQueueOut](items=[RunQueueOut(**q.model_dump()) for q in records], next_token=token)


@router.post(
    RUN_QUEUES,
    tags=["run-queues"],
    summary="Register an SQS queue that QUEUE_JOB automations may send jobs to (admins)",
)
def create_run_queue(entity: str, body: Annotated[RunQueueCreate, Body()]) -> Response[RunQueueOut]:
    caller_for(entity, Role.ADMIN)
    record = _run_queues().create(entity, body.model_dump())
    return Response(201, "application/json", RunQueueOut(**record.model_dump()))


@router.get(f"{RUN_QUEUES}/<name>", tags=["run-queues"], summary="Get a run queue")
def get_run_queue(entity: str, name: str) -> RunQueueOut:
    caller_for(entity)
    return RunQueueOut(**_run_queues().get(entity, name).model_dump())


@router.delete(
    f"{RUN_QUEUES}/<name>", tags=["run-queues"], summary="Delete a run queue no automation uses (admins)"
)
def delete_run_queue(entity: str, name: str) -> Response[None]:
    caller_for(entity, Role.ADMIN)
    _run_queues().delete(entity, name)
    return Response(204)
