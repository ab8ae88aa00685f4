"""Webhook and Slack integrations, the "Test webhook" call, and "Connect Slack" (Slack's install)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from mlhooks.access import Caller
from mlhooks.api.context import as_seen_by, caller_for
from mlhooks.api.params import DEFAULT_LIMIT, Limit, Token
from mlhooks.components import get_components
from mlhooks.health import health_out
from mlhooks.integrations import SlackService, WebhookService
from mlhooks.models.api import Page
from mlhooks.models.api.integrations import (
    DeliveryResult,
    SlackConnectComplete,
    SlackConnected,
    SlackConnectStart,
    SlackConnectStarted,
    SlackCreate,
    SlackOut,
    WebhookCreate,
    WebhookOut,
    WebhookTest,
    WebhookUpdate,
)
from mlhooks.models.records import WebhookRecord
from mlhooks.models.vocabulary import Role
from mlhooks.slack_connect import SlackConnectService

router = Router()
WEBHOOKS = "/v1/entities/<entity>/webhooks"
SLACK = "/v1/entities/<entity>/slack"


def _webhooks() -> WebhookService:
    return WebhookService(get_components())


# The texts of a webhook that may quote a URL (api.context.as_seen_by).
WEBHOOK_TEXTS = ("disabled_reason", "health.last_error", "health.alert.error")


def _out(record: WebhookRecord, caller: Caller) -> WebhookOut:
    answer = WebhookOut(**record.model_dump(), health=health_out(record))
    return as_seen_by(caller, answer, record.url, ("url",), WEBHOOK_TEXTS)


@router.get(WEBHOOKS, tags=["webhooks"], summary="List webhook integrations")
def list_webhooks(entity: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None) -> Page[WebhookOut]:
    caller = caller_for(entity)
    records, token = _webhooks().list(entity, limit, next_token)
    return Page[WebhookOut](items=[_out(w, caller) for w in records], next_token=token)


@router.post(WEBHOOKS, tags=["webhooks"], summary="Create a webhook integration (admins)")
def create_webhook(entity: str, body: Annotated[WebhookCreate, Body()]) -> Response[WebhookOut]:
    caller = caller_for(entity, Role.ADMIN)
    return Response(201, "application/json", _out(_webhooks().create(entity, body.model_dump()), caller))


@router.get(f"{WEBHOOKS}/<name>", tags=["webhooks"], summary="Get a webhook integration")
def get_webhook(entity: str, name: str) -> WebhookOut:
    caller = caller_for(entity)
    return _out(_webhooks().get(entity, name), caller)


@router.patch(
    f"{WEBHOOKS}/<name>",
    tags=["webhooks"],
    summary="Update, disable or re-enable a webhook integration (admins)",
)
def update_webhook(entity: str, name: str, body: Annotated[WebhookUpdate, Body()]) -> WebhookOut:
    caller = caller_for(entity, Role.ADMIN)
    return _out(_webhooks().update(entity, name, body.model_dump(exclude_unset=True)), caller)


@router.delete(
    f"{WEBHOOKS}/<name>", tags=["webhooks"], summary="Delete a webhook no automation uses (admins)"
)
def delete_webhook(entity: str, name: str) -> Response[None]:
    caller_for(entity, Role.ADMIN)
    _webhooks().delete(entity, name)
    return Response(204)


@router.post(
    f"{WEBHOOKS}/<name>/test",
    tags=["webhooks"],
    summary="Send a test payload, signed as a real delivery, and show the answer (admins)",
)
def test_webhook(entity: str, name: str, body: Annotated[WebhookTest, Body()]) -> DeliveryResult:
    caller = caller_for(entity, Role.ADMIN)
    outcome = _webhooks().test(entity, name, body.payload, caller.member)
    return DeliveryResult.of(outcome)


def _slack() -> SlackService:
    return SlackService(get_components())


@router.get(SLACK, tags=["slack"], summary="List Slack integrations")
def list_slack(entity: str, limit: Limit = DEFAULT_LIMIT, next_token: Token = None) -> Page[SlackOut]:
    caller_for(entity)
    records, token = _slack().list(entity, limit, next_token)
    return Page[SlackOut](items=[SlackOut(**s.model_dump()) for s in records], next_token=token)


@router.post(SLACK, tags=["slack"], summary="Create a Slack integration from a bot token secret (admins)")
def create_slack(entity: str, body: Annotated[SlackCreate, Body()]) -> Response[SlackOut]:
    caller_for(entity, Role.ADMIN)
    return Response(
        201, "application/json", SlackOut(**_slack().create(entity, body.model_dump()).model_dump())
    )


@router.post(
    f"{SLACK}/connect",
    tags=["slack"],
    summary="Connect Slack: start Slack's install of the stack's Slack app (admins)",
    description="The first half of Slack's OAuth v2 install, as W&B's \"Connect Slack\" button: send "
    "the admin to `authorize_url`, where they pick a channel; Slack then sends them to `redirect_uri` "
    "with `code` and `state`, which `POST .../slack/connect/complete` takes to create the integration. "
    "Refused at once (409) when the name or its bot token's secret exists, or when the stack has no "
    "Slack app (`slack_app_not_configured`: the SlackClientId and SlackClientSecret parameters).",
)
def start_slack_connect(
    entity: str, body: Annotated[SlackConnectStart, Body()]
) -> Response[SlackConnectStarted]:
    caller = caller_for(entity, Role.ADMIN)
    started = SlackConnectService(get_components()).start(entity, caller.member, body.name, body.redirect_uri)
    return Response(
        201,
        "application/json",
        SlackConnectStarted(
            authorize_url=started.authorize_url, state=started.state, expires_at=started.expires_at
        ),
    )


@router.post(
    f"{SLACK}/connect/complete",
    tags=["slack"],
    summary="Connect Slack: finish the install and create the Slack integration (admins)",
    description="The second half: the `state` and `code` Slack's redirect brought back, from the admin "
    "who started. The state is used once; the code is exchanged for the bot token (Slack's "
    "oauth.v2.access), which is kept as the secret `<name>_bot_token` and never shown; the "
    "integration posts to the channel the admin picked. Slack's refusals answer `slack_refused` "
    "with Slack's error code; a Slack that cannot be reached, `slack_unavailable` (502).",
)
def complete_slack_connect(
    entity: str, body: Annotated[SlackConnectComplete, Body()]
) -> Response[SlackConnected]:
    caller = caller_for(entity, Role.ADMIN)
    connected = SlackConnectService(get_components()).complete(entity, caller.member, body.state, body.code)
    out = SlackConnected(**connected.integration.model_dump(), team_name=connected.team_name)
    return Response(201, "application/json", out)


@router.get(f"{SLACK}/<name>", tags=["slack"], summary="Get a Slack integration")
def get_slack(entity: str, name: str) -> SlackOut:
    caller_for(entity)
    return SlackOut(**_slack().get(entity, name).model_dump())


@router.delete(
    f"{SLACK}/<name>", tags=["slack"], summary="Delete a Slack integration no automation uses (admins)"
)
def delete_slack(entity: str, name: str) -> Response[None]:
    caller_for(entity, Role.ADMIN)
    _slack().delete(entity, name)
    return Response(204)
