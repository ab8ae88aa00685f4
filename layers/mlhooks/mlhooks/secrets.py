"""Team secrets. Values live only in Secrets Manager, under the stack's prefix; DynamoDB keeps the
names and timestamps. Nothing here logs, returns or stores a value anywhere else.

Ordering rule, so that no failure leaves a record without a value and no race stores the value of a
request that was refused: a create claims the name (the record, invisible while claimed), writes the
value, then releases the claim; a value left behind by a crashed attempt is adopted (overwritten) by
the next create of that name. A delete claims the record (refused while in use), erases the value,
then removes the record.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from mlhooks.clock import now_iso
from mlhooks.errors import Conflict, InvalidInput, NotFound, listing
from mlhooks.models.records import SecretRecord
from mlhooks.models.secret_values import header_token_problem, signing_secret_problem
from mlhooks.store import Store

UserKind = Literal["webhook", "slack", "source"]
USER_LABELS: dict[UserKind, str] = {"webhook": "webhook", "slack": "Slack integration", "source": "source"}


@dataclass(frozen=True)
class SecretUser:
    """Something that uses a secret, and so keeps it from being deleted."""

    kind: UserKind
    name: str

    def __str__(self) -> str:
        return f"{USER_LABELS[self.kind]} {self.name}"


class SecretVault:
    def __init__(self, client: Any, prefix: str):
        self.client = client
        self.prefix = prefix.rstrip("/")
        # Senders read the same few secrets for every delivery: Powertools caches them for a while.
        self._provider = SecretsProvider(boto3_client=client)

    def secret_id(self, entity: str, name: str) -> str:
        return f"{self.prefix}/{entity}/{name}"

    def write(self, entity: str, name: str, value: str) -> None:
        """Create the value, or overwrite one an earlier failed attempt left behind."""
        secret_id = self.secret_id(entity, name)
        try:
            self.client.create_secret(
                Name=secret_id, SecretString=value, Tags=[{"Key": "mlhooks:entity", "Value": entity}]
            )
            return
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "InvalidRequestException" and "deletion" in exc.response["Error"].get("Message", ""):
                # Deleted a moment ago and still pending deletion: bring it back, then overwrite it.
                self.client.restore_secret(SecretId=secret_id)
            elif code != "ResourceExistsException":
                raise
        self.client.put_secret_value(SecretId=secret_id, SecretString=value)

    def read(self, entity: str, name: str) -> str:
        try:
            return self.client.get_secret_value(SecretId=self.secret_id(entity, name))["SecretString"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise NotFound(
                    f"The value of secret {name} is missing; rotate it to set a new one."
                ) from None
            raise

    def read_many(self, entity: str, names: Iterable[str]) -> dict[str, str]:
        return {name: self.read(entity, name) for name in sorted(set(names))}

    def read_cached(
        self, entity: str, names: Iterable[str], max_age: float, *, fresh: bool = False
    ) -> dict[str, str]:
        """Values for delivery, cached for `max_age` seconds: a rotation reaches senders within it.
        `fresh` reads them from Secrets Manager now (and caches what it read)."""
        values = {}
        for name in sorted(set(names)):
            try:
                secret_id = self.secret_id(entity, name)
                values[name] = str(self._provider.get(secret_id, max_age=int(max_age), force_fetch=fresh))
            except GetParameterError as exc:
                cause = exc.__cause__ or exc.__context__  # Powertools wraps every error
                if (
                    isinstance(cause, ClientError)
                    and cause.response["Error"]["Code"] != "ResourceNotFoundException"
                ):
                    raise cause from None  # throttling, an outage: the caller may retry
                raise NotFound(
                    f"The value of secret {name} is missing; rotate it to set a new one."
                ) from None
        return values

    def read_stack_secret(self, secret_id: str, max_age: float) -> str:
        """A secret of the stack itself, which the template names (the Slack app's client secret),
        not an entity's; cached as delivery secrets are. Powertools' GetParameterError when it cannot
        be read."""
        return str(self._provider.get(secret_id, max_age=int(max_age)))

    def erase(self, entity: str, name: str) -> None:
        try:
            self.client.delete_secret(SecretId=self.secret_id(entity, name), ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


class SecretsService:
    def __init__(self, store: Store, vault: SecretVault):
        self.store = store
        self.vault = vault

    def create(self, entity: str, name: str, value: str) -> SecretRecord:
        stamp, token = now_iso(), uuid.uuid4().hex
        record = SecretRecord(entity=entity, name=name, created_at=stamp, updated_at=stamp)
        self.store.claim_secret_create(record, token, int(time.time()))
        try:
            self.vault.write(entity, name, value)
        except Exception:
            self.store.release_secret_claim(entity, name, token, keep=False)
            raise
        if not self.store.release_secret_claim(entity, name, token, keep=True):
            raise Conflict(
                f"Another request took secret {name} over meanwhile; check it and retry.", field="name"
            )
        return record

    def rotate(self, entity: str, name: str, value: str) -> SecretRecord:
        record = self.get(entity, name)
        self._check_sendable_as_token(entity, name, value)
        self.vault.write(entity, name, value)
        record = record.model_copy(update={"updated_at": now_iso()})
        self.store.touch_secret(record)
        return record

    def _check_sendable_as_token(self, entity: str, name: str, value: str) -> None:
        """A secret that is some integration's token must stay sendable in a header, and one that
        signs must stay a key that signs; a source's token must not become its signing key."""
        for source in self.store.list_sources(entity)[0]:
            pair = {source.signing_secret, source.access_token_secret}
            other = next(iter(pair - {name}), None) if name in pair and None not in pair else None
            if other is not None and self.vault.read(entity, other) == value:
                raise InvalidInput(
                    f"Source {source.name} would sign with its access token, which W&B sends in plain "
                    f"text: give {name} a value other than {other}'s.",
                    field="value",
                )
        signing = signing_secret_problem(value)
        if signing and any(w.signing_secret == name for w in self.store.list_webhooks(entity)[0]):
            raise InvalidInput(f"{signing} This secret signs a webhook's deliveries.", field="value")
        problem = header_token_problem(value)
        if problem is None:
            return
        users = [
            f"webhook {w.name}" for w in self.store.list_webhooks(entity)[0] if w.access_token_secret == name
        ]
        users += [
            f"Slack integration {s.name}"
            for s in self.store.list_slack(entity)[0]
            if s.bot_token_secret == name
        ]
        if users:
            raise InvalidInput(f"{problem} This secret is the token of {listing(users)}.", field="value")

    def get(self, entity: str, name: str) -> SecretRecord:
        record = self.store.get_secret(entity, name)
        if record is None:
            raise NotFound(f"No secret {name}.")
        return record

    def list(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[SecretRecord], str | None]:
        return self.store.list_secrets(entity, limit, token)

    def users(self, entity: str) -> dict[str, list[SecretUser]]:
        """Who uses each of the entity's secrets: the references that keep a secret from being
        deleted (the `refs` its record counts), read once for all secrets, one query per kind of user."""
        found: dict[str, list[SecretUser]] = {}
        kinds: list[tuple[UserKind, list[Any]]] = [
            ("webhook", self.store.list_webhooks(entity)[0]),
            ("slack", self.store.list_slack(entity)[0]),
            ("source", self.store.list_sources(entity)[0]),
        ]
        for kind, records in kinds:
            for record in records:
                for name in sorted(record.secret_names()):
                    found.setdefault(name, []).append(SecretUser(kind, record.name))
        return found

    def delete(self, entity: str, name: str) -> None:
        def in_use() -> Conflict:
            users = [str(user) for user in self.users(entity).get(name, [])]
            return Conflict(
                f"Secret {name} is used by {listing(users) or 'an integration'}; remove it from them first.",
                details=[{"field": "name", "message": "in use", "used_by": users}],
                field="name",
            )

        token = uuid.uuid4().hex
        self.store.claim_secret_delete(entity, name, token, int(time.time()), in_use)
        try:
            self.vault.erase(entity, name)
        except Exception:
            # The value is still there: give the secret back rather than hide a value nobody can reach.
            self.store.release_secret_claim(entity, name, token, keep=True)
            raise
        self.store.release_secret_claim(entity, name, token, keep=False)
