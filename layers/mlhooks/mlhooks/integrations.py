"""Webhook and Slack integrations: saved with their references checked, deleted only when unused,
and the "Test webhook" call."""

from __future__ import annotations

import time
import uuid
from typing import Any

from mlhooks.clock import now_iso
from mlhooks.components import Components
from mlhooks.errors import Conflict, InvalidInput, NotFound, listing
from mlhooks.models.records import SlackRecord, WebhookRecord
from mlhooks.models.secret_values import header_token_problem, signing_secret_problem
from mlhooks.outcome import Outcome
from mlhooks.secrets import SecretVault
from mlhooks.templating import check_variables, discover_variables, parse_template, sample_variables

SAMPLE_TEMPLATE = {
    "event_type": "${event_type}",
    "event_author": "${event_author}",
    "entity_name": "${entity_name}",
    "project_name": "${project_name}",
    "artifact_version_string": "${artifact_version_string}",
    "alias": "${alias}",
    "automation_name": "${automation_name}",
    "message": "Test delivery from mlhooks",
}


def check_header_token(vault: SecretVault, entity: str, secret: str, field: str) -> None:
    """A secret chosen as a token must be sendable in a header; say so now, not at every delivery."""
    problem = header_token_problem(vault.read(entity, secret))
    if problem:
        raise InvalidInput(
            f"Secret {secret} cannot be used as a token: {problem} Rotate it first.", field=field
        )


def check_signing_secret(vault: SecretVault, entity: str, secret: str, field: str) -> None:
    problem = signing_secret_problem(vault.read(entity, secret))
    if problem:
        raise InvalidInput(f"Secret {secret} cannot sign: {problem} Rotate it first.", field=field)


class WebhookService:
    def __init__(self, components: Components):
        self.components = components
        self.store = components.store

    def _check_secrets_exist(self, record: WebhookRecord) -> None:
        fields = [
            ("access_token_secret", record.access_token_secret),
            ("signing_secret", record.signing_secret),
        ]
        fields += [(f"secrets[{i}]", name) for i, name in enumerate(record.secrets)]
        for field, name in fields:
            if name and self.store.get_secret(record.entity, name) is None:
                raise InvalidInput(f"No secret named {name} in this entity; create it first.", field=field)
        vault = self.components.vault
        if record.access_token_secret:
            check_header_token(vault, record.entity, record.access_token_secret, "access_token_secret")
        if record.signing_secret:
            check_signing_secret(vault, record.entity, record.signing_secret, "signing_secret")

    def create(self, entity: str, fields: dict[str, Any]) -> WebhookRecord:
        # Stored canonical: the host checked now is exactly the host every delivery connects to.
        url = self.components.guard.check(fields["url"]).url
        stamp = now_iso()
        record = WebhookRecord(
            entity=entity,
            created_at=stamp,
            updated_at=stamp,
            **{k: v for k, v in fields.items() if k not in ("secrets", "url")},
            url=url,
            secrets=sorted(set(fields.get("secrets", []))),
        )
        self._check_secrets_exist(record)
        self.store.create_webhook(record)
        return record

    def get(self, entity: str, name: str) -> WebhookRecord:
        record = self.store.get_webhook(entity, name)
        if record is None:
            raise NotFound(f"No webhook {name}.")
        return record

    def list(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[WebhookRecord], str | None]:
        return self.store.list_webhooks(entity, limit, token)

    def update(self, entity: str, name: str, changes: dict[str, Any]) -> WebhookRecord:
        """`changes` holds only the fields the caller set; `None` removes an optional one."""
        old = self.get(entity, name)
        changes = dict(changes)
        if "secrets" in changes:
            changes["secrets"] = sorted(set(changes["secrets"] or []))
        stamp = now_iso()
        if changes.get("enabled") is True and not old.enabled:
            changes |= {"disabled_reason": None, "disabled_at": None}
        elif changes.get("enabled") is False and old.enabled:
            changes |= {"disabled_reason": f"disabled by an admin on {stamp}", "disabled_at": stamp}
        if "url" in changes:
            changes["url"] = self.components.guard.check(changes["url"]).url
        new = old.model_copy(update={**changes, "updated_at": stamp})
        self._check_secrets_exist(new)
        self._check_automations_still_valid(new)
        self.store.update_webhook(old, new)
        return self.get(entity, name)  # as stored: a re-enabled webhook's failure count starts afresh

    def _check_automations_still_valid(self, webhook: WebhookRecord) -> None:
        """Removing a secret or the access token must not break a payload that uses it."""
        for automation in self.store.automations_using(webhook.entity, "WEBHOOK", webhook.name):
            try:
                check_variables(
                    discover_variables(automation.action.payload),  # type: ignore[union-attr]
                    secrets=set(webhook.secrets),
                    has_access_token=webhook.access_token_secret is not None,
                )
            except InvalidInput as exc:
                raise Conflict(
                    f"Automation {automation.name!r} uses this webhook and would break: {exc.message}",
                    field="secrets",
                ) from None

    def delete(self, entity: str, name: str) -> None:
        record = self.get(entity, name)

        def in_use() -> Conflict:
            users = [a.name for a in self.store.automations_using(entity, "WEBHOOK", name)]
            return Conflict(
                f"Webhook {name} is used by automations {listing([repr(u) for u in users])}; "
                "delete them or point them elsewhere first.",
                field="name",
                details=[{"field": "name", "message": "in use", "used_by": users}],
            )

        self.store.delete_webhook(record, in_use)

    def test(self, entity: str, name: str, payload: object, author: str) -> Outcome:
        """The W&B "Test webhook" button: send a payload, signed as a real delivery, and report."""
        # The HTTP stack (requests) loads with the first call out: most API requests never make one.
        from mlhooks.delivery import prepare_webhook_request, send

        webhook = self.get(entity, name)
        template = SAMPLE_TEMPLATE if payload is None else parse_template(payload, field="payload")
        check_variables(
            discover_variables(template),
            secrets=set(webhook.secrets),
            has_access_token=webhook.access_token_secret is not None,
            field="payload",
        )
        secret_values = self.components.vault.read_many(entity, webhook.secret_names())
        request = prepare_webhook_request(
            webhook,
            template,
            sample_variables(entity, author),
            secret_values,
            message_id=f"msg_test_{uuid.uuid4().hex}",
        )
        return send(self.components.outbound, request, time.time())


class SlackService:
    def __init__(self, components: Components):
        self.store = components.store
        self.vault = components.vault

    def create(self, entity: str, fields: dict[str, Any]) -> SlackRecord:
        token_secret = fields["bot_token_secret"]
        if self.store.get_secret(entity, token_secret) is None:
            raise InvalidInput(
                f"No secret named {token_secret} in this entity; create it first.",
                field="bot_token_secret",
            )
        check_header_token(self.vault, entity, token_secret, "bot_token_secret")
        record = SlackRecord(entity=entity, created_at=now_iso(), **fields)
        self.store.create_slack(record)
        return record

    def get(self, entity: str, name: str) -> SlackRecord:
        record = self.store.get_slack(entity, name)
        if record is None:
            raise NotFound(f"No Slack integration {name}.")
        return record

    def list(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[SlackRecord], str | None]:
        return self.store.list_slack(entity, limit, token)

    def delete(self, entity: str, name: str) -> None:
        record = self.get(entity, name)

        def in_use() -> Conflict:
            users = [f"automation {a.name!r}" for a in self.store.automations_using(entity, "SLACK", name)]
            users += [
                f"webhook {w.name!r} (alert_slack)"
                for w in self.store.list_webhooks(entity)[0]
                if w.alert_slack == name
            ]
            return Conflict(
                f"Slack integration {name} is used by {listing(users)}; "
                "delete them or point them elsewhere first.",
                field="name",
                details=[{"field": "name", "message": "in use", "used_by": users}],
            )

        self.store.delete_slack(record, in_use)
