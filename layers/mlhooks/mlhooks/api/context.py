"""What a route needs besides its arguments: the caller the authorizer established.

The request being resolved is kept in a context variable that the resolver sets, not read from
Powertools' routers: a router hands on the state of the last resolver that included it, which in one
process serving two resolvers at once (the tests' API "containers") would be the other request's.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel

from mlhooks.access import Caller, require, sees_webhook_urls
from mlhooks.errors import Unauthorized
from mlhooks.models.vocabulary import Role
from mlhooks.redaction import shown_to_others

REQUEST: ContextVar[dict[str, Any]] = ContextVar("mlhooks_request")


def caller_of(event: dict[str, Any]) -> Caller | None:
    """The caller the authorizer established for an API Gateway event, or None without one."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    try:
        return Caller(
            entity=context["entity"],
            member=context["member"],
            role=Role(context["role"]),
            key_id=context["key_id"],
            # API Gateway hands context values on as strings.
            service=str(context.get("service", "false")).lower() == "true",
        )
    except (KeyError, TypeError, ValueError):
        return None


def caller_for(entity: str | None, role: Role = Role.VIEWER) -> Caller:
    """The authenticated caller, checked against the entity in the path (None: the caller's own)
    and the role needed."""
    caller = caller_of(REQUEST.get({}))
    if caller is None:
        # Only reachable if the API is deployed without its authorizer: fail closed.
        raise Unauthorized("Authentication required: send `Authorization: Bearer <API key>`.")
    require(caller, caller.entity if entity is None else entity, role)
    return caller


def request_json() -> Any:
    """The body of the request being resolved, as JSON (screened before routing: UTF-8 JSON,
    bounded); None without one."""
    body = REQUEST.get({}).get("body")
    return json.loads(body) if body else None


def as_seen_by[M: BaseModel](
    caller: Caller, answer: M, url: str | None, holders: tuple[str, ...], texts: tuple[str, ...]
) -> M:
    """`answer` as `caller` may see it: unless the caller manages webhooks
    (access.sees_webhook_urls), with the webhook URL it holds (at `holders`), and any URL quoted in
    its `texts`, shown by their origin (redaction.shown_to_others). Only fields of free text are
    named, so the answer stays valid."""
    if sees_webhook_urls(caller):
        return answer
    return type(answer).model_validate(shown_to_others(answer.model_dump(mode="json"), url, holders, texts))
