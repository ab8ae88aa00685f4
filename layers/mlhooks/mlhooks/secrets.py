"""Team secrets. Values live only in Secrets Manager, under the stack's prefix; DynamoDB keeps the
names and timestamps. Nothing here logs, returns or stores a value anywhere else.

Ordering rule, so that no failure leaves a record without a value: the value is written first and
the record second; a value left behind by a failed attempt is invisible and is adopted (overwritten)
by the next create of that name. Deletion removes the record first (refused while in use) and the
value second, for the same reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from mlhooks.errors import Conflict, NotFound
from mlhooks.models.records import SecretRecord
from mlhooks.store import Store

REDACTED = "[REDACTED]"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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

    def read_cached(self, entity: str, names: Iterable[str], max_age: float) -> dict[str, str]:
        """Values for delivery, cached for `max_age` seconds: a rotation reaches senders within it."""
        values = {}
        for name in sorted(set(names)):
            try:
                values[name] = str(self._provider.get(self.secret_id(entity, name), max_age=int(max_age)))
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

    def erase(self, entity: str, name: str) -> None:
        try:
            self.client.delete_secret(SecretId=self.secret_id(entity, name), ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


def redact(text: str, secret_values: Iterable[str]) -> str:
    """Remove every secret value from text that leaves the service (answers we relay, errors)."""
    # Longest first, so that a value containing another is removed whole.
    for value in sorted({v for v in secret_values if v}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def redact_mapping(values: Mapping[str, str], secret_values: Iterable[str]) -> dict[str, str]:
    secrets = list(secret_values)
    return {redact(k, secrets): redact(v, secrets) for k, v in values.items()}


class SecretsService:
    def __init__(self, store: Store, vault: SecretVault):
        self.store = store
        self.vault = vault

    def create(self, entity: str, name: str, value: str) -> SecretRecord:
        if self.store.get_secret(entity, name) is not None:
            raise Conflict(f"A secret named {name} exists; rotate it to change its value.", field="name")
        self.vault.write(entity, name, value)
        stamp = now_iso()
        record = SecretRecord(entity=entity, name=name, created_at=stamp, updated_at=stamp)
        self.store.put_secret(record, create=True)
        return record

    def rotate(self, entity: str, name: str, value: str) -> SecretRecord:
        record = self.get(entity, name)
        self.vault.write(entity, name, value)
        record = record.model_copy(update={"updated_at": now_iso()})
        self.store.put_secret(record, create=False)
        return record

    def get(self, entity: str, name: str) -> SecretRecord:
        record = self.store.get_secret(entity, name)
        if record is None:
            raise NotFound(f"No secret {name}.")
        return record

    def list(self, entity: str) -> list[SecretRecord]:
        return self.store.list_secrets(entity)

    def delete(self, entity: str, name: str) -> None:
        def in_use() -> Conflict:
            users = [
                f"webhook {w.name}" for w in self.store.list_webhooks(entity) if name in w.secret_names()
            ]
            users += [
                f"Slack integration {s.name}"
                for s in self.store.list_slack(entity)
                if name in s.secret_names()
            ]
            return Conflict(
                f"Secret {name} is used by {', '.join(users) or 'an integration'}; "
                "remove it from them first.",
                details=[{"field": "name", "message": "in use", "used_by": users}],
                field="name",
            )

        self.store.delete_secret(entity, name, in_use)
        self.vault.erase(entity, name)
