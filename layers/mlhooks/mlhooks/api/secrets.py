"""Team secrets: names, timestamps and what uses each out; values only in."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from mlhooks.api.context import caller_for
from mlhooks.api.params import DEFAULT_LIMIT, Limit, Token
from mlhooks.components import get_components
from mlhooks.models.api import Page
from mlhooks.models.api.secrets import SecretCreate, SecretOut, SecretRotate, SecretUserOut
from mlhooks.models.records import SecretRecord
from mlhooks.models.vocabulary import Role
from mlhooks.secrets import SecretsService, SecretUser

router = Router()
BASE = "/v1/entities/<entity>/secrets"


def _secrets() -> SecretsService:
    components = get_components()
    return SecretsService(components.store, components.vault)


def _out(record: SecretRecord, users: dict[str, list[SecretUser]]) -> SecretOut:
    used_by = [SecretUserOut(kind=user.kind, name=user.name) for user in users.get(record.name, [])]
    return SecretOut(**record.model_dump(), used_by=used_by)


@router.get(BASE, tags=["secrets"], summary="List secrets (names, timestamps and what uses each; no values)")
def list_secrets(entity: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None) -> Page[SecretOut]:
    caller_for(entity)
    service = _secrets()
    records, token = service.list(entity, limit, next_token)
    users = service.users(entity) if records else {}
    return Page[SecretOut](items=[_out(s, users) for s in records], next_token=token)


@router.post(BASE, tags=["secrets"], summary="Create a secret (admins)")
def create_secret(entity: str, body: Annotated[SecretCreate, Body()]) -> Response[SecretOut]:
    caller_for(entity, Role.ADMIN)
    record = _secrets().create(entity, body.name, body.value.get_secret_value())
    return Response(201, "application/json", _out(record, {}))  # nothing can use it yet


@router.get(f"{BASE}/<name>", tags=["secrets"], summary="Get a secret's metadata and what uses it")
def get_secret(entity: str, name: str) -> SecretOut:
    caller_for(entity)
    service = _secrets()
    record = service.get(entity, name)
    return _out(record, service.users(entity))


@router.put(f"{BASE}/<name>", tags=["secrets"], summary="Rotate a secret: set a new value (admins)")
def rotate_secret(entity: str, name: str, body: Annotated[SecretRotate, Body()]) -> SecretOut:
    caller_for(entity, Role.ADMIN)
    service = _secrets()
    record = service.rotate(entity, name, body.value.get_secret_value())
    return _out(record, service.users(entity))


@router.delete(f"{BASE}/<name>", tags=["secrets"], summary="Delete a secret no integration uses (admins)")
def delete_secret(entity: str, name: str) -> Response[None]:
    caller_for(entity, Role.ADMIN)
    _secrets().delete(entity, name)
    return Response(204)
