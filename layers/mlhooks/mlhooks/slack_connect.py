""" "Connect Slack": Slack's OAuth v2 install flow, which W&B's "Connect Slack" button runs, making a
Slack integration without anyone handling a bot token.

1. `start`: an admin names the integration to make and the page Slack sends them back to. The answer
   is Slack's authorize URL with a fresh state (256 random bits). Only the state's hash is stored,
   for ten minutes, bound to the entity, the admin, the name and the redirect URI.
2. On Slack's page the admin picks a channel (the `incoming-webhook` scope is what makes Slack ask
   for one) and Slack sends the browser to the redirect URI with `code` and `state`.
3. `complete`: the same admin hands both back. The state is consumed once (a conditional delete),
   the code is exchanged at oauth.v2.access with the app's client secret, the bot token becomes the
   entity's secret `<name>_bot_token` (through SecretsService, as any secret) and the integration is
   made for the chosen channel. If the integration cannot be made, the secret goes again: nothing
   is left half made.

The bot token goes from Slack's answer straight into Secrets Manager, and the client secret is read
from there: neither is in any answer, log line, record or error text.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from pydantic import ValidationError

from mlhooks.clock import iso_from_epoch
from mlhooks.components import Components
from mlhooks.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MlhooksError,
    SlackAppNotConfigured,
    SlackRefused,
    SlackUnavailable,
)
from mlhooks.integrations import SlackService
from mlhooks.models.base import Model
from mlhooks.models.names import SLACK_CHANNEL_ID_PATTERN, SLACK_CHANNEL_NAME_PATTERN, is_valid
from mlhooks.models.records import SlackOAuthRecord, SlackRecord
from mlhooks.models.secret_values import (
    MAX_SECRET_VALUE_CHARS,
    MIN_SECRET_VALUE_CHARS,
    header_token_problem,
    value_problem,
)
from mlhooks.secrets import SecretsService
from mlhooks.settings import variable

logger = logging.getLogger("mlhooks.slack_connect")

# Slack's codes last ten minutes; a state need not outlive its code.
CONNECT_SECONDS = 10 * 60
# chat:write posts the notifications; incoming-webhook makes Slack's page ask for the channel.
SCOPES = "chat:write,incoming-webhook"
BOT_TOKEN_SUFFIX = "_bot_token"  # noqa: S105 - a name's suffix, not a secret
# Secret names hold 64 characters (models/names.py), the suffix included.
MAX_NAME_CHARS = 64 - len(BOT_TOKEN_SUFFIX)
# Slack's error codes are short snake_case words; anything else is not echoed.
_SLACK_ERROR = re.compile(r"[a-z0-9_.]{1,64}")
# What to do about the errors oauth.v2.access is documented to answer.
SLACK_ERROR_ADVICE = {
    "invalid_code": "The code is unknown or expired; connect Slack again.",
    "code_already_used": "The code was used already; connect Slack again.",
    "bad_redirect_uri": "The redirect URI is not the one Slack's page was given; connect Slack again.",
    "invalid_client_id": "The stack's SlackClientId parameter is not this Slack app's client ID.",
    "bad_client_secret": "The stack's SlackClientSecret parameter is not this Slack app's client secret.",
}
NOT_CONFIGURED = (
    "Connect Slack needs the stack's Slack app: deploy with the parameters SlackClientId and "
    "SlackClientSecret (the app's Basic Information on api.slack.com), and list the console's address "
    "among the app's Redirect URLs. Without it, create the integration from a bot token secret "
    "(POST /v1/entities/{entity}/slack)."
)


def bot_token_secret(name: str) -> str:
    """The secret holding an integration's bot token: its name, with the `.` and `-` that secret
    names (variables in `${NAME}`) cannot hold written as `_`, and `_bot_token`."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name) + BOT_TOKEN_SUFFIX


class _Team(Model):
    id: str = ""
    name: str = ""


class _IncomingWebhook(Model):
    channel: str = ""
    channel_id: str


class OAuthAccess(Model):
    """oauth.v2.access's answer (`ok: true`), as far as an install needs it; Slack adds fields freely.
    Its `incoming_webhook.url` is a credential too, and is not kept."""

    access_token: str
    token_type: str
    team: _Team = _Team()
    incoming_webhook: _IncomingWebhook


@dataclass(frozen=True)
class Started:
    authorize_url: str
    state: str
    expires_at: str


@dataclass(frozen=True)
class Connected:
    integration: SlackRecord
    team_name: str


def channel_name(channel: str, channel_id: str) -> str:
    """The channel's name as integrations keep it: Slack writes `#general`; a name the integration
    cannot hold (a direct message's `@someone`, letters outside a-z) is kept as its id instead."""
    name = channel.removeprefix("#")
    return name if is_valid(SLACK_CHANNEL_NAME_PATTERN, name) else channel_id.lower()


class SlackConnectService:
    def __init__(self, components: Components, clock: Callable[[], float] = time.time):
        self.components = components
        self.settings = components.settings
        self.store = components.store
        self.clock = clock

    def _client_id(self) -> str:
        if not (self.settings.slack_client_id.strip() and self.settings.slack_client_secret_arn.strip()):
            raise SlackAppNotConfigured(NOT_CONFIGURED)
        return self.settings.slack_client_id.strip()

    def _client_secret(self) -> str:
        try:
            return self.components.vault.read_stack_secret(
                self.settings.slack_client_secret_arn, self.settings.secret_cache_seconds
            )
        except GetParameterError:
            # Not the exception's text: what Secrets Manager says is for the operator's logs.
            logger.exception("the Slack app's client secret could not be read")
            raise SlackAppNotConfigured(
                "The Slack app's client secret cannot be read from the secret "
                f"{variable('slack_client_secret_arn')} names; check the stack's SlackClientSecret "
                "parameter, or retry in a moment."
            ) from None

    def _free_secret_name(self, entity: str, name: str) -> str:
        """The bot token's secret name, once nothing this install would make exists: refused now,
        before the admin goes through Slack for nothing."""
        if len(name) > MAX_NAME_CHARS:
            raise InvalidInput(
                f"Use a name of at most {MAX_NAME_CHARS} characters: the bot token is kept as the secret "
                f"<name>{BOT_TOKEN_SUFFIX}, and secret names hold 64.",
                field="name",
            )
        secret = bot_token_secret(name)
        if self.store.get_slack(entity, name) is not None:
            raise Conflict(f"A Slack integration named {name} exists; choose another name.", field="name")
        if self.store.get_secret(entity, secret) is not None:
            raise Conflict(
                f"A secret named {secret} exists, and it would hold this integration's bot token; "
                "choose another name, or delete that secret.",
                field="name",
            )
        return secret

    def start(self, entity: str, member: str, name: str, redirect_uri: str) -> Started:
        client_id = self._client_id()
        self._free_secret_name(entity, name)
        state = secrets.token_urlsafe(32)
        now = self.clock()
        expires_at = int(now) + CONNECT_SECONDS
        record = SlackOAuthRecord(
            entity=entity,
            member=member,
            name=name,
            redirect_uri=redirect_uri,
            created_at=iso_from_epoch(now) or "",
            expires_at=expires_at,
        )
        self.store.save_slack_oauth(record, state)
        query = (
            f"client_id={quote(client_id, safe='')}&scope={SCOPES}"
            f"&redirect_uri={quote(redirect_uri, safe='')}&state={state}"
        )
        base = self.settings.slack_authorize_url
        return Started(
            authorize_url=f"{base}{'&' if '?' in base else '?'}{query}",
            state=state,
            expires_at=iso_from_epoch(expires_at) or "",
        )

    def complete(self, entity: str, member: str, state: str, code: str) -> Connected:
        client_id = self._client_id()
        client_secret = self._client_secret()  # before the state is used: a misconfiguration keeps it
        now = self.clock()
        taken, pending = self.store.take_slack_oauth(entity, state, member, int(now))
        if not taken:
            raise self._refusal(pending, member, now)
        assert pending is not None
        secret = self._free_secret_name(entity, pending.name)  # made meanwhile, by hand or another install
        from mlhooks.slack import SlackClient  # the HTTP stack, for this call alone in the API

        answer = SlackClient(self.settings).oauth_access(client_id, client_secret, code, pending.redirect_uri)
        access = self._accepted(answer)
        token = access.access_token
        SecretsService(self.store, self.components.vault).create(entity, secret, token)
        fields = {
            "name": pending.name,
            "bot_token_secret": secret,
            "channel_id": access.incoming_webhook.channel_id,
            "channel_name": channel_name(access.incoming_webhook.channel, access.incoming_webhook.channel_id),
        }
        try:
            integration = SlackService(self.components).create(entity, fields)
        except Exception:
            self._forget(entity, secret)
            raise
        return Connected(integration, access.team.name)

    @staticmethod
    def _refusal(pending: SlackOAuthRecord | None, member: str, now: float) -> MlhooksError:
        if pending is None:
            return InvalidInput(
                "This Slack connection is unknown, or was completed already (a state is used once); "
                "connect Slack again.",
                field="state",
            )
        if pending.expires_at <= now:
            return InvalidInput(
                f"This Slack connection expired (they last {CONNECT_SECONDS // 60} minutes); "
                "connect Slack again.",
                field="state",
            )
        return Forbidden(
            f"This Slack connection was started by {pending.member}: only they can complete it.",
            field="state",
        )

    @staticmethod
    def _accepted(answer: dict) -> OAuthAccess:
        """Slack's answer, refused unless it gives a bot token this install can keep and a channel
        an integration can post to. No message quotes what Slack sent but its error code."""
        if not answer["ok"]:
            error = answer.get("error")
            error = error if isinstance(error, str) and _SLACK_ERROR.fullmatch(error) else "unknown_error"
            advice = SLACK_ERROR_ADVICE.get(error, "Connect Slack again.")
            message = f"Slack refused the install ({error}). {advice}"
            raise SlackRefused(
                message, field="code", details=[{"field": "code", "message": message, "slack_error": error}]
            )
        try:
            access = OAuthAccess.model_validate(answer)
        except ValidationError:
            # Never the error's text: pydantic quotes the input, and the input holds the token.
            raise SlackUnavailable(
                "Slack's answer has no bot token or no channel; connect Slack again."
            ) from None
        token = access.access_token
        problem = (
            value_problem(token)
            or header_token_problem(token)
            or (
                None
                if MIN_SECRET_VALUE_CHARS <= len(token) <= MAX_SECRET_VALUE_CHARS
                else "Its length is not a token's."
            )
        )
        if access.token_type != "bot" or problem:  # noqa: S105 - Slack's kind of token
            raise SlackUnavailable(
                f"Slack's answer has no bot token this install can keep. {problem or ''}".strip()
            )
        if not is_valid(SLACK_CHANNEL_ID_PATTERN, access.incoming_webhook.channel_id):
            raise SlackUnavailable("Slack's answer names no channel an integration can post to.")
        return access

    def _forget(self, entity: str, secret: str) -> None:
        """Erase the bot token kept for an integration that could not be made."""
        try:
            SecretsService(self.store, self.components.vault).delete(entity, secret)
        except Exception:
            logger.exception("the bot token secret %s of a failed Slack install could not be erased", secret)
