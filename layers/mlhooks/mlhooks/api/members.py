"""Members and API keys of an entity."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from mlhooks.access import AccessService
from mlhooks.api.context import caller_for
from mlhooks.api.params import DEFAULT_LIMIT, Limit, Token
from mlhooks.components import get_components
from mlhooks.errors import Forbidden
from mlhooks.models.api import Page
from mlhooks.models.api.members import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    Identity,
    MemberCreate,
    MemberOut,
    MemberUpdate,
)
from mlhooks.models.vocabulary import Role

router = Router()
BASE = "/v1/entities/<entity>"


def _access() -> AccessService:
    return AccessService(get_components().store)


@router.get("/v1/me", tags=["members"], summary="Who this API key is: its entity, member and role")
def who_am_i() -> Identity:
    caller = caller_for(None)
    return Identity(
        entity=caller.entity,
        username=caller.member,
        role=caller.role,
        key_id=caller.key_id,
        service=caller.service,
    )


@router.get(f"{BASE}/members", tags=["members"], summary="List members")
def list_members(entity: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None) -> Page[MemberOut]:
    caller_for(entity)
    records, token = _access().list_members(entity, limit, next_token)
    return Page[MemberOut](items=[MemberOut(**m.model_dump()) for m in records], next_token=token)


@router.post(f"{BASE}/members", tags=["members"], summary="Add a member (admins)")
def add_member(entity: str, body: Annotated[MemberCreate, Body()]) -> Response[MemberOut]:
    caller_for(entity, Role.ADMIN)
    member = _access().add_member(entity, body.username, body.role)
    return Response(201, "application/json", MemberOut(**member.model_dump()))


@router.patch(f"{BASE}/members/<username>", tags=["members"], summary="Change a member's role (admins)")
def update_member(entity: str, username: str, body: Annotated[MemberUpdate, Body()]) -> MemberOut:
    caller_for(entity, Role.ADMIN)
    return MemberOut(**_access().set_role(entity, username, body.role).model_dump())


@router.delete(
    f"{BASE}/members/<username>", tags=["members"], summary="Remove a member and their keys (admins)"
)
def remove_member(entity: str, username: str) -> Response[None]:
    caller_for(entity, Role.ADMIN)
    _access().remove_member(entity, username)
    return Response(204)


@router.get(f"{BASE}/api-keys", tags=["api-keys"], summary="List API keys (admins: all; others: their own)")
def list_keys(entity: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None) -> Page[ApiKeyOut]:
    caller = caller_for(entity)
    records, token = _access().list_keys(caller, limit, next_token)
    return Page[ApiKeyOut](items=[ApiKeyOut(**k.model_dump()) for k in records], next_token=token)


@router.post(f"{BASE}/api-keys", tags=["api-keys"], summary="Create an API key; the key is shown once")
def create_key(entity: str, body: Annotated[ApiKeyCreate, Body()]) -> Response[ApiKeyCreated]:
    caller = caller_for(entity)
    member = body.member or caller.member
    if member != caller.member and not caller.at_least(Role.ADMIN):
        raise Forbidden("Only admins create keys for other members.", field="member")
    if body.service and not caller.at_least(Role.ADMIN):
        raise Forbidden("Only admins create service keys.", field="service")
    record, key = _access().create_key(entity, member, body.name, service=body.service)
    return Response(201, "application/json", ApiKeyCreated(**record.model_dump(), key=key))


@router.delete(f"{BASE}/api-keys/<key_id>", tags=["api-keys"], summary="Revoke an API key")
def revoke_key(entity: str, key_id: str) -> Response[None]:
    caller = caller_for(entity)
    _access().revoke_key(caller, key_id)
    return Response(204)
