"""Sources, their deliveries, and the event ids each has published (for deduplication).

A source's record and the references to the secrets it names are written in one transaction, as a
webhook's are, so a secret in use cannot be deleted. A SageMaker source also claims its account and
region: SageMaker's events of one account and region go to one entity, as an SQS queue does.
Deliveries and seen event ids carry `expires_at`, so DynamoDB's TTL bounds what is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr

from mlhooks.errors import Conflict, NotFound
from mlhooks.store import keys
from mlhooks.store.table import TableStore

if TYPE_CHECKING:
    from mlhooks.models.sources import Outcome, SourceDeliveryRecord, SourceRecord

# The sources' models load with the first call that reads one (below): only the inbound function and
# the API's sources routes do, and every function's Store holds this part.


class SourceStore(TableStore):
    """Sources, their deliveries, and the dedupe markers of what they published."""

    def get_source(self, entity: str, name: str) -> SourceRecord | None:
        from mlhooks.models.sources import SourceRecord

        return self._get(entity, keys.source(name), SourceRecord)

    def list_sources(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[SourceRecord], str | None]:
        from mlhooks.models.sources import SourceRecord

        return self._page(entity, keys.SOURCES, SourceRecord, limit, token)

    def create_source(self, record: SourceRecord) -> None:
        from mlhooks.models.sources import SourceKind  # loaded already: `record` is one of its models

        ops = [
            (
                self._put(
                    self._item(record.entity, keys.source(record.name), record), "attribute_not_exists(PK)"
                ),
                Conflict(f"A source named {record.name} exists.", field="name"),
            ),
            *self._secret_refs(record, added=True),
        ]
        if record.kind is SourceKind.SAGEMAKER:
            assert record.account and record.region
            ops.append(
                (
                    self._put(
                        {
                            **keys.sagemaker_owner(record.account, record.region),
                            "entity": record.entity,
                            "source": record.name,
                        },
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(
                        f"SageMaker's events of account {record.account} in {record.region} already go to "
                        "a source (an account and region belong to one entity's source).",
                        field="account",
                    ),
                )
            )
        self._transact(ops)

    def _secret_refs(self, record: SourceRecord, *, added: bool) -> list:
        """The references to the secrets the source names, each counted once, an unknown one
        reported against the field that names it."""
        named = {record.signing_secret: "signing_secret", record.access_token_secret: "access_token_secret"}
        ops = []
        for name, field in ((n, f) for n, f in named.items() if n):
            ops += self._ref_ops(
                record.entity, "SECRET", {name} if added else set(), set() if added else {name}, field
            )
        return ops

    def delete_source(self, record: SourceRecord) -> None:
        from mlhooks.models.sources import SourceKind

        ops = [
            (
                self._delete(keys.item(record.entity, keys.source(record.name)), "attribute_exists(PK)"),
                NotFound(f"No source {record.name}."),
            ),
            *self._secret_refs(record, added=False),
        ]
        if record.kind is SourceKind.SAGEMAKER:
            assert record.account and record.region
            ops.append(
                (
                    self._delete(
                        keys.sagemaker_owner(record.account, record.region),
                        "#e = :entity AND #s = :source",
                        {":entity": record.entity, ":source": record.name},
                        {"#e": "entity", "#s": "source"},
                    ),
                    None,
                )
            )
        self._transact(ops)

    def sagemaker_source(self, account: str, region: str) -> SourceRecord | None:
        """The source SageMaker's events of this account and region go to, if any."""
        owner = self.table.get_item(Key=keys.sagemaker_owner(account, region)).get("Item")
        return None if owner is None else self.get_source(owner["entity"], owner["source"])

    # ---- deliveries ------------------------------------------------------------------------------

    def save_delivery(self, log: str, record: SourceDeliveryRecord, expires_at: int) -> None:
        sk = keys.source_delivery(log, record.received_at, record.id)
        self.table.put_item(
            Item=self._item(record.entity, sk, record, expires_at=expires_at, outcome=record.outcome.value)
        )

    def list_deliveries(
        self,
        entity: str,
        log: str,
        now: int,
        limit: int,
        token: str | None = None,
        outcome: Outcome | None = None,
    ) -> tuple[list[SourceDeliveryRecord], str | None]:
        """Newest first. DynamoDB removes expired items within days, not at once: they are not shown."""
        from mlhooks.models.sources import SourceDeliveryRecord

        shown = Attr("expires_at").gt(now)
        if outcome is not None:
            shown = shown & Attr("outcome").eq(outcome.value)
        return self._query(
            entity,
            keys.source_deliveries(log),
            SourceDeliveryRecord,
            limit=limit,
            token=token,
            newest_first=True,
            filter_condition=shown,
        )

    # ---- what was published ----------------------------------------------------------------------

    def claim_event(self, entity: str, log: str, event_id: str, now: int, expires_at: int) -> bool:
        """Mark an event id as published by this source; False if it already was (and is not expired)."""
        return self._written(
            self.table.put_item,
            Item={**keys.item(entity, keys.source_seen(log, event_id)), "expires_at": expires_at},
            ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
            ExpressionAttributeValues={":now": now},
        )

    def release_event(self, entity: str, log: str, event_id: str) -> None:
        """Forget an event id whose publishing failed, so the platform's retry publishes it."""
        self.table.delete_item(Key=keys.item(entity, keys.source_seen(log, event_id)))

    def change_source_state(
        self, entity: str, log: str, what: str, value: str, as_of: str, expires_at: int
    ) -> tuple[bool, dict[str, Any] | None] | None:
        """Keep `value` as the source's latest state of `what` if `as_of` is newer than the one kept:
        (whether the value changed, the item before, for `restore_source_state`). An older or equal
        `as_of` (a late repeat) changes nothing: None."""
        answer = self._conditional(
            self.table.put_item,
            Item={
                **keys.item(entity, keys.source_state(log, what)),
                "value": value,
                "as_of": as_of,
                "expires_at": expires_at,
            },
            ConditionExpression="attribute_not_exists(PK) OR as_of < :as_of",
            ExpressionAttributeValues={":as_of": as_of},
            ReturnValues="ALL_OLD",
        )
        if answer is None:
            return None
        before = answer.get("Attributes") or None
        return (before or {}).get("value") != value, before

    def restore_source_state(self, entity: str, log: str, what: str, before: dict[str, Any] | None) -> None:
        if before is None:
            self.table.delete_item(Key=keys.item(entity, keys.source_state(log, what)))
        else:
            self.table.put_item(Item=before)
