"""The shared DynamoDB helpers every part of the store writes and reads with: transaction parts,
conditional writes, typed reads, bounded queries and page tokens, and reference counts.

Writes that must hold together (a record and what it references, a name and its marker) go in one
transaction with conditions, so no failure leaves half of them behind and no race deletes a thing
in use: every referenced item carries a `refs` counter that its delete requires to be zero.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from mlhooks.errors import BadRequest, Conflict, InvalidInput, MlhooksError
from mlhooks.models.base import STORED
from mlhooks.store import keys

logger = logging.getLogger("mlhooks.store")

R = TypeVar("R", bound=BaseModel)
# One part of a transaction, and the error to raise if its condition fails (None: a concurrent change).
Op = tuple[dict[str, Any], MlhooksError | None]

TRANSACTION_ATTEMPTS = 4
# What one page of a list may cost: queries, and items each query evaluates when a filter applies.
MAX_QUERY_CALLS = 2
FILTERED_PAGE_ITEMS = 200
# What a `refs` counter counts, for the messages of a reference to something that is not there.
REFERENCE_LABELS = {
    "SECRET": "secret",
    "WEBHOOK": "webhook",
    "SLACK": "Slack integration",
    "RUNQUEUE": "run queue",
}


def page_token(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


class TableStore:
    """The table, and the helpers the concept stores build on."""

    def __init__(self, table: Any):
        self.table = table
        # The resource's client serialises plain Python values, as the Table methods do.
        self.client = table.meta.client

    # ---- transaction parts -------------------------------------------------------------------------

    def _put(
        self, item: dict[str, Any], condition: str | None = None, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        op: dict[str, Any] = {"TableName": self.table.name, "Item": item}
        if condition:
            op["ConditionExpression"] = condition
        if values:
            op["ExpressionAttributeValues"] = values
        return {"Put": op}

    def _update(
        self,
        key: dict[str, str],
        expression: str,
        values: dict[str, Any],
        condition: str | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {
            "TableName": self.table.name,
            "Key": key,
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if condition:
            op["ConditionExpression"] = condition
        if names:
            op["ExpressionAttributeNames"] = names
        return {"Update": op}

    def _delete(
        self,
        key: dict[str, str],
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {"TableName": self.table.name, "Key": key}
        if condition:
            op["ConditionExpression"] = condition
        if values:
            op["ExpressionAttributeValues"] = values
        if names:
            op["ExpressionAttributeNames"] = names
        return {"Delete": op}

    def _check(self, key: dict[str, str], condition: str) -> dict[str, Any]:
        return {
            "ConditionCheck": {"TableName": self.table.name, "Key": key, "ConditionExpression": condition}
        }

    def _transact(self, ops: Sequence[Op]) -> None:
        """Write all or nothing; a failed condition raises the error registered with its operation.
        A transaction that only collided with another one in flight (TransactionConflict) is tried
        again: it says nothing about the conditions, and writes that share an item (the automations
        revision) collide under load."""
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                self.client.transact_write_items(TransactItems=[op for op, _ in ops])
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
            for (_, error), reason in zip(ops, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed" and error is not None:
                    raise error from None
            if attempt == TRANSACTION_ATTEMPTS or not any(
                r.get("Code") == "TransactionConflict" for r in reasons
            ):
                break
            time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not cryptography
        # A condition without an error of its own, or conflicts that kept coming: a concurrent change.
        raise Conflict("A concurrent change touched the same resources; retry the request.")

    def _ref_ops(self, entity: str, kind: str, added: set[str], removed: set[str], field: str) -> list[Op]:
        """Count references to items of `kind` (secrets from webhooks and Slack integrations;
        webhooks, Slack integrations and run queues from automations). An added reference requires
        the target to exist, and not to be claimed by a create or delete in progress."""
        ops: list[Op] = []
        for name in sorted(added):
            ops.append(
                (
                    self._update(
                        keys.item(entity, keys.integration(kind, name)),
                        "ADD refs :one",
                        {":one": 1},
                        "attribute_exists(PK) AND attribute_not_exists(pending)",
                    ),
                    InvalidInput(
                        f"No {REFERENCE_LABELS[kind]} named {name} in this entity; create it first.",
                        field=field,
                    ),
                )
            )
        for name in sorted(removed):
            key = keys.item(entity, keys.integration(kind, name))
            ops.append((self._update(key, "ADD refs :minus", {":minus": -1}), None))
        return ops

    # ---- single conditional writes ----------------------------------------------------------------

    @staticmethod
    def _conditional(write: Callable[..., dict[str, Any]], **request: Any) -> dict[str, Any] | None:
        """One conditional write: its answer, or None when its condition did not hold."""
        try:
            return write(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise

    def _written(self, write: Callable[..., dict[str, Any]], **request: Any) -> bool:
        """One conditional write: whether its condition held (and so it was written)."""
        return self._conditional(write, **request) is not None

    # ---- items and records ------------------------------------------------------------------------

    @staticmethod
    def _item(entity: str, sk: str, record: BaseModel, **attributes: Any) -> dict[str, Any]:
        return {**keys.item(entity, sk), "doc": record.model_dump_json(by_alias=True), **attributes}

    def _get(self, entity: str, sk: str, model: type[R]) -> R | None:
        item = self.table.get_item(Key=keys.item(entity, sk), ConsistentRead=True).get("Item")
        return None if item is None else self._record(item, model)

    @staticmethod
    def _record(item: dict[str, Any], model: type[R]) -> R:
        # Tolerant: a field an earlier version stored, and this one no longer has, is dropped.
        record = model.model_validate_json(item["doc"], context=STORED)
        if "version" in item and "version" in model.model_fields:
            record = record.model_copy(update={"version": int(item["version"])})
        if "last_executed_at" in item and "last_executed_at" in model.model_fields:
            record = record.model_copy(update={"last_executed_at": item["last_executed_at"]})
        return record

    def _readable(
        self, item: dict[str, Any], model: type[R], parse: Callable[[dict[str, Any]], R] | None = None
    ) -> R | None:
        """An item of a list, or None (logged) if this version cannot read it: one item written by a
        newer version, or under rules since tightened, must not take every other item of its list,
        or every automation of its entity, down with it."""
        try:
            return parse(item) if parse else self._record(item, model)
        except ValidationError as exc:
            problems = [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors(include_input=False)]
            logger.warning(
                "skipped an unreadable %s %s/%s: %s", model.__name__, item["PK"], item["SK"], problems
            )
            return None

    # ---- lists ------------------------------------------------------------------------------------

    def _query(
        self,
        entity: str,
        prefix: str,
        model: type[R],
        *,
        limit: int | None = None,
        token: str | None = None,
        filter_condition: Any = None,
        index: str | None = None,
        index_pk: str | None = None,
        newest_first: bool = False,
        parse: Callable[[dict[str, Any]], R] | None = None,
    ) -> tuple[list[R], str | None]:
        """One kind of item: a page of at most `limit` (then a bounded cost, whatever the partition
        holds), or with no limit all of them (for an entity's configuration, never its history).

        A page costs at most MAX_QUERY_CALLS queries of at most FILTERED_PAGE_ITEMS items evaluated
        each. A filtered page may therefore hold fewer than `limit` items, or none, and still carry a
        next_token: the caller follows it, as with DynamoDB itself. The token points just past the
        last item evaluated for this page, so no item is skipped or returned twice.

        With `index`, reads that GSI's partition `index_pk` (eventually consistent, as GSIs are)."""
        pk = keys.entity_pk(entity)
        if index:
            kwargs: dict[str, Any] = {
                "IndexName": index,
                "KeyConditionExpression": Key(f"{index}PK").eq(index_pk),
                "ScanIndexForward": not newest_first,
            }
            key_names = ("PK", "SK", f"{index}PK", f"{index}SK")
        else:
            kwargs = {
                "KeyConditionExpression": Key("PK").eq(pk) & Key("SK").begins_with(prefix),
                "ConsistentRead": True,
                "ScanIndexForward": not newest_first,
            }
            key_names = ("PK", "SK")
        if filter_condition is not None:
            kwargs["FilterExpression"] = filter_condition
        start = self._decode_token(token, pk, prefix, index, index_pk)
        records: list[R] = []
        calls = 0
        while True:
            if start:
                kwargs["ExclusiveStartKey"] = start
            if limit:
                # Limit counts items evaluated: without a filter each is returned, with one a fixed page
                # is read so that a rare match costs the same as a common one.
                kwargs["Limit"] = limit - len(records) if filter_condition is None else FILTERED_PAGE_ITEMS
            page = self.table.query(**kwargs)
            calls += 1
            for item in page["Items"]:
                record = self._readable(item, model, parse)
                if record is not None:
                    records.append(record)
                if limit and len(records) == limit:
                    return records, page_token({name: item[name] for name in key_names})
            start = page.get("LastEvaluatedKey")
            if not start:
                return records, None
            if limit and calls == MAX_QUERY_CALLS:
                return records, page_token(start)

    @staticmethod
    def _decode_token(
        token: str | None, pk: str, prefix: str, index: str | None = None, index_pk: str | None = None
    ) -> dict[str, Any] | None:
        if not token:
            return None
        try:
            key = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            key = None
        expected = {"PK", "SK"} | ({f"{index}PK", f"{index}SK"} if index else set())
        # A token is only ever a position inside the caller's own list: anything else is refused.
        if not (
            isinstance(key, dict)
            and set(key) == expected
            and key.get("PK") == pk
            and isinstance(key.get("SK"), str)
            and key["SK"].startswith(prefix)
            and (not index or (key.get(f"{index}PK") == index_pk and isinstance(key.get(f"{index}SK"), str)))
        ):
            raise BadRequest("The next_token is not valid for this list.", field="next_token")
        return key

    def _page(
        self, entity: str, prefix: str, model: type[R], limit: int | None, token: str | None, **options: Any
    ) -> tuple[list[R], str | None]:
        """A page of an entity's configuration (members, secrets, integrations, projects...); all of
        it with no limit, for the store's own checks."""
        return self._query(entity, prefix, model, limit=limit, token=token, **options)
