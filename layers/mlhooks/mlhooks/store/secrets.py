"""Secrets' records (names and timestamps; the values are in Secrets Manager).

A secret's record is claimed before its value is written and released after, so that of two
requests racing on one name exactly one writes a value, and it is the one that is answered 201
(create) or 204 (delete). A claimed record (`pending`) is invisible to readers and cannot be
referenced; a claim left by a crashed request goes stale after SECRET_CLAIM_SECONDS.
"""

from __future__ import annotations

from collections.abc import Callable

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from mlhooks.errors import Conflict, MlhooksError, NotFound
from mlhooks.models.records import SecretRecord
from mlhooks.store import keys
from mlhooks.store.table import TableStore

# A claim on a secret's name older than this was left by a request that died: it may be taken over.
SECRET_CLAIM_SECONDS = 120


class SecretStore(TableStore):
    """Secrets' records and the claims that order their creation and deletion."""

    def get_secret(self, entity: str, name: str) -> SecretRecord | None:
        item = self.table.get_item(Key=keys.item(entity, keys.secret(name)), ConsistentRead=True).get("Item")
        return None if item is None or "pending" in item else self._record(item, SecretRecord)

    def list_secrets(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[SecretRecord], str | None]:
        settled = Attr("pending").not_exists()
        return self._page(entity, keys.SECRETS, SecretRecord, limit, token, filter_condition=settled)

    def claim_secret_create(self, record: SecretRecord, token: str, now: int) -> None:
        """Claim the name for a new secret: Conflict if it exists, or another create holds a fresh claim."""
        item = self._item(record.entity, keys.secret(record.name), record, refs=0)
        claimed = self._written(
            self.table.put_item,
            Item={**item, "pending": f"CREATE#{token}", "pending_at": now},
            ConditionExpression="attribute_not_exists(PK) "
            "OR (attribute_exists(pending) AND pending_at < :stale)",
            ExpressionAttributeValues={":stale": now - SECRET_CLAIM_SECONDS},
        )
        if not claimed:
            raise Conflict(
                f"A secret named {record.name} exists (or is being created right now); "
                "rotate it to change its value.",
                field="name",
            )

    def release_secret_claim(self, entity: str, name: str, token: str, *, keep: bool) -> bool:
        """End a claim. `keep` makes the record visible again (a finished create, or a delete that
        could not erase the value); otherwise the record goes (a finished delete, a failed create).
        False if the claim was no longer ours."""
        key = keys.item(entity, keys.secret(name))
        ours = {
            "ConditionExpression": "pending IN (:creating, :deleting)",
            "ExpressionAttributeValues": {":creating": f"CREATE#{token}", ":deleting": f"DELETE#{token}"},
        }
        if keep:
            return self._written(
                self.table.update_item, Key=key, UpdateExpression="REMOVE pending, pending_at", **ours
            )
        return self._written(self.table.delete_item, Key=key, **ours)

    def claim_secret_delete(
        self, entity: str, name: str, token: str, now: int, in_use: Callable[[], MlhooksError]
    ) -> None:
        """Claim an unused secret for deletion; NotFound, or `in_use()` while anything references it."""
        try:
            self.table.update_item(
                Key=keys.item(entity, keys.secret(name)),
                UpdateExpression="SET pending = :claim, pending_at = :now",
                ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(refs) OR refs = :zero) "
                "AND (attribute_not_exists(pending) "
                "OR (begins_with(pending, :deleting) AND pending_at < :stale))",
                ExpressionAttributeValues={
                    ":claim": f"DELETE#{token}",
                    ":now": now,
                    ":zero": 0,
                    ":deleting": "DELETE#",
                    ":stale": now - SECRET_CLAIM_SECONDS,
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = exc.response.get("Item")
            if item is None or "pending" in item:
                raise NotFound(f"No secret {name}.") from None
            raise in_use() from None

    def touch_secret(self, record: SecretRecord) -> None:
        """A rotation: the record's new timestamps, unless it is gone or claimed meanwhile."""
        written = self._written(
            self.table.update_item,
            Key=keys.item(record.entity, keys.secret(record.name)),
            UpdateExpression="SET doc = :doc",
            ConditionExpression="attribute_exists(PK) AND attribute_not_exists(pending)",
            ExpressionAttributeValues={":doc": record.model_dump_json()},
        )
        if not written:
            raise NotFound(f"No secret {record.name}.")
