"""Webhooks (with their health and test calls) and Slack integrations, with Connect Slack."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from mlhooks.models.api import MAX_URL_CHARS, MAX_WEBHOOK_SECRETS
from mlhooks.models.base import Input, Output, refuse_nulls
from mlhooks.models.names import (
    SLACK_CHANNEL_ID_PATTERN,
    SLACK_CHANNEL_NAME_PATTERN,
    Description,
    IntegrationName,
    SecretName,
)
from mlhooks.models.vocabulary import SignatureEncoding
from mlhooks.outcome import DeliveryError, Outcome


class WebhookFields(Input):
    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS)]
    description: Description = ""
    access_token_secret: SecretName | None = Field(None, description="Sent as `Authorization: Bearer`.")
    signing_secret: SecretName | None = Field(
        None, description="Signs `X-Wandb-Signature` and Standard Webhooks."
    )
    signature_encoding: SignatureEncoding = SignatureEncoding.HEX
    secrets: list[SecretName] = Field(
        default_factory=list,
        max_length=MAX_WEBHOOK_SECRETS,
        description="Further secrets the payload may use as `${NAME}`.",
    )
    alert_slack: IntegrationName | None = Field(
        None, description="A Slack integration told when this webhook is disabled for failing."
    )


class WebhookCreate(WebhookFields):
    name: IntegrationName


class WebhookUpdate(Input):
    """Partial update: fields left out keep their value; `null` removes an access token or signing secret."""

    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS)] | None = None
    description: Description | None = None
    access_token_secret: SecretName | None = None
    signing_secret: SecretName | None = None
    signature_encoding: SignatureEncoding | None = None
    secrets: list[SecretName] | None = Field(None, max_length=MAX_WEBHOOK_SECRETS)
    alert_slack: IntegrationName | None = None
    enabled: bool | None = Field(
        None,
        description="`true` re-enables a webhook disabled for failing (or after a 410 Gone) and starts "
        "its failure count afresh; `false` stops its deliveries.",
    )

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return refuse_nulls(data, ("url", "description", "signature_encoding", "secrets", "enabled"))


class WebhookAlertOut(Output):
    slack: str
    state: Literal["PENDING", "SENT", "FAILED"]
    at: str
    error: str | None


class WebhookHealthOut(Output):
    state: Literal["HEALTHY", "FAILING", "DISABLED"]
    consecutive_failures: int = Field(description="Failed deliveries since the last success.")
    failing_since: str | None
    last_failure_at: str | None
    last_error: str | None
    alert: WebhookAlertOut | None = Field(description="The Slack alert sent when it was disabled.")


class WebhookOut(Output):
    name: str
    url: str = Field(
        description="Whole for admins; members and viewers see its origin only (`https://host/[REDACTED]`), "
        "as a URL can be the credential that posts to a channel."
    )
    description: str
    access_token_secret: str | None
    signing_secret: str | None
    signature_encoding: SignatureEncoding
    secrets: list[str]
    alert_slack: str | None
    enabled: bool
    disabled_reason: str | None
    disabled_at: str | None
    health: WebhookHealthOut
    created_at: str
    updated_at: str


class WebhookTest(Input):
    payload: Any = Field(
        None,
        description="A payload template (JSON value, or JSON text) to send; a sample payload when omitted.",
    )


class DeliveryResult(Output):
    """What the test delivery came to, judged as a real delivery would be."""

    ok: bool
    status_code: int | None
    headers: dict[str, str]
    body_excerpt: str
    error: str | None
    error_class: DeliveryError | None
    retryable: bool = Field(description="Whether a real delivery would try again after this answer.")
    duration_ms: int

    @classmethod
    def of(cls, outcome: Outcome) -> DeliveryResult:
        return cls(
            ok=outcome.ok,
            status_code=outcome.status_code,
            headers=outcome.headers,
            body_excerpt=outcome.excerpt,
            error=outcome.error,
            error_class=outcome.error_class,
            retryable=outcome.retryable,
            duration_ms=outcome.duration_ms,
        )


class SlackCreate(Input):
    name: IntegrationName
    bot_token_secret: SecretName
    channel_id: Annotated[str, StringConstraints(pattern=SLACK_CHANNEL_ID_PATTERN)]
    channel_name: Annotated[str, StringConstraints(pattern=SLACK_CHANNEL_NAME_PATTERN)]


class SlackOut(Output):
    name: str
    bot_token_secret: str
    channel_id: str
    channel_name: str
    created_at: str


def _redirect_uri(value: str) -> str:
    """An absolute http(s) URL Slack can send a browser to: https, or http on this machine only (a
    console served locally); no credentials, no fragment (OAuth 2.0 forbids one)."""
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("must not contain spaces or control characters")
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("must be an absolute http(s) URL, such as https://console.example.com/slack")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials")
    if parts.fragment or value.endswith("#"):
        raise ValueError("must not contain a fragment (#...)")
    _ = parts.port  # a port out of range raises ValueError
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError("must use https (http only for localhost and loopback addresses)")
    return value


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.rstrip(".").lower() == "localhost"


RedirectUri = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS), AfterValidator(_redirect_uri)
]


class SlackConnectStart(Input):
    """ "Connect Slack": the integration to make, and where Slack sends the admin back."""

    name: IntegrationName = Field(
        description="The Slack integration to create (at most 54 characters). Its bot token is kept as "
        "the secret `<name>_bot_token` (`.` and `-` written as `_`): neither may exist yet."
    )
    redirect_uri: RedirectUri = Field(
        description="Where Slack sends the admin's browser back, with `code` and `state` (or `error`, "
        "such as `access_denied`) in the query: one of the Slack app's Redirect URLs. Absolute, https "
        "(http only for localhost and loopback addresses), without credentials or fragment."
    )


class SlackConnectStarted(Output):
    authorize_url: str = Field(
        description="Slack's page to send the admin to: they pick the channel and allow the app."
    )
    state: str = Field(
        description="Comes back on the redirect URI; check it is this one, then pass it and the `code` to "
        "`POST .../slack/connect/complete`. Used once."
    )
    expires_at: str = Field(description="The state is good until then (10 minutes).")


class SlackConnectComplete(Input):
    """What Slack's redirect brought back to the redirect URI."""

    state: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="The `state` of the redirect: the one `.../slack/connect` answered."
    )
    code: Annotated[str, StringConstraints(pattern=r"^[!-~]{1,512}$")] = Field(
        description="The `code` of the redirect; Slack's codes are used once and last 10 minutes."
    )


class SlackConnected(SlackOut):
    """The Slack integration the install made."""

    team_name: str = Field(description="The Slack workspace the app was installed in.")
