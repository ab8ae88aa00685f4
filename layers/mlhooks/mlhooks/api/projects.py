"""Projects, registries and artifact collections: what automations are scoped to."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from mlhooks.api.context import caller_for
from mlhooks.api.params import DEFAULT_LIMIT, Limit, Token
from mlhooks.components import get_components
from mlhooks.models.api import Page
from mlhooks.models.api.projects import CollectionCreate, CollectionOut, ProjectCreate, ProjectOut
from mlhooks.models.vocabulary import Role
from mlhooks.projects import ProjectService

router = Router()
PROJECTS = "/v1/entities/<entity>/projects"


def _projects() -> ProjectService:
    return ProjectService(get_components().store)


@router.get(PROJECTS, tags=["projects"], summary="List projects and registries")
def list_projects(entity: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None) -> Page[ProjectOut]:
    caller_for(entity)
    records, token = _projects().list(entity, limit, next_token)
    return Page[ProjectOut](items=[ProjectOut(**p.model_dump()) for p in records], next_token=token)


@router.post(PROJECTS, tags=["projects"], summary="Register a project or registry (members)")
def create_project(entity: str, body: Annotated[ProjectCreate, Body()]) -> Response[ProjectOut]:
    caller_for(entity, Role.MEMBER)
    return Response(
        201, "application/json", ProjectOut(**_projects().create(entity, body.model_dump()).model_dump())
    )


@router.get(f"{PROJECTS}/<project>", tags=["projects"], summary="Get a project")
def get_project(entity: str, project: str) -> ProjectOut:
    caller_for(entity)
    return ProjectOut(**_projects().get(entity, project).model_dump())


@router.get(f"{PROJECTS}/<project>/collections", tags=["projects"], summary="List artifact collections")
def list_collections(
    entity: str, project: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None
) -> Page[CollectionOut]:
    caller_for(entity)
    records, token = _projects().list_collections(entity, project, limit, next_token)
    return Page[CollectionOut](items=[CollectionOut(**c.model_dump()) for c in records], next_token=token)


@router.post(
    f"{PROJECTS}/<project>/collections", tags=["projects"], summary="Register an artifact collection"
)
def create_collection(
    entity: str, project: str, body: Annotated[CollectionCreate, Body()]
) -> Response[CollectionOut]:
    caller_for(entity, Role.MEMBER)
    record = _projects().create_collection(entity, project, body.model_dump())
    return Response(201, "application/json", CollectionOut(**record.model_dump()))
