"""What a route needs besides its arguments: the caller the authorizer established, and services."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from mlhooks.access import Caller, require
from mlhooks.errors import Unauthorized
from mlhooks.models.vocabulary import Role


def caller_for(router: Router, entity: str | None, role: Role = Role.VIEWER) -> Caller:
    """The authenticated caller, checked against the entity in the path (None: the caller's own)
    and the role needed."""
    context = router.current_event.request_context.authorizer.raw_event or {}
    try:
        caller = Caller(
            entity=context["entity"],
            member=context["member"],
            role=Role(context["role"]),
            key_id=context["key_id"],
            # API Gateway hands context values on as strings.
            service=str(context.get("service", "false")).lower() == "true",
        )
    except (KeyError, ValueError):
        # Only reachable if the API is deployed without its authorizer: fail closed.
        raise Unauthorized("Authentication required: send `Authorization: Bearer <API key>`.") from None
    require(caller, caller.entity if entity is None else entity, role)
    return caller
