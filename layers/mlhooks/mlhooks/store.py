"""All DynamoDB access: one table, items keyed by entity.

Layout (PK / SK):
    E#<entity>   #ENTITY                         the entity, with its count of admins
    E#<entity>   MEMBER#<username>
    E#<entity>   APIKEY#<key id>                 key metadata (never the key)
    KEY#<sha256> KEY                             hash -> key, for the authorizer's single GetItem
    E#<entity>   SECRET#<name>                   name and timestamps; the value is in Secrets Manager
    E#<entity>   WEBHOOK#<name> / SLACK#<name>   integrations, with `refs`: automations (and webhook
                                                 alerts) using them; a webhook also carries its
                                                 `revision` and its health (failures, failing_since...)
    E#<entity>   PROJECT#<project> / COLLECTION#<project>#<collection>
    E#<entity>   AUTOMATION#<id>                 with GSI1 keys while enabled (the matcher's look-up)
    E#<entity>   AUTONAME#<scope>#<name>         uniqueness marker for automation names in a scope

Writes that must hold together (a record and what it references, a name and its marker) go in one
transaction with conditions, so no failure leaves half of them behind and no race deletes a thing
in use: every referenced item carries a `refs` counter that its delete requires to be zero.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from mlhooks.errors import BadRequest, Conflict, InvalidInput, MlhooksError, NotFound, PreconditionFailed
from mlhooks.models.records import (
    ApiKeyRecord,
    AutomationRecord,
    CollectionRecord,
    ExecutionRecord,
    MemberRecord,
    ProjectRecord,
    RunQueueRecord,
    SecretRecord,
    SlackRecord,
    WebhookAlert,
    WebhookHealth,
    WebhookRecord,
)
from mlhooks.models.vocabulary import ExecutionState, Role

R = TypeVar("R", bound=BaseModel)


class AutomationsRevision(NamedTuple):
    """How many changes an entity's automations have had, and when (epoch seconds) the last was."""

    number: int
    changed_at: int


Op = tuple[dict[str, Any], MlhooksError | None]

ENTITY_SK = "#ENTITY"
AUTOMATIONS_SK = "#AUTOMATIONS"  # the entity's automations revision
GSI1 = "GSI1"
# A webhook's current run of failed deliveries and the alert about it, beside its document.
HEALTH_ATTRIBUTES = ("failures", "failing_since", "last_failure_at", "last_error", "alert")
TRANSACTION_ATTEMPTS = 4
# What one page of a list may cost: queries, and items each query evaluates when a filter applies.
MAX_QUERY_CALLS = 2
FILTERED_PAGE_ITEMS = 200
# A claim on a secret's name older than this was left by a request that died: it may be taken over.
SECRET_CLAIM_SECONDS = 120


def entity_pk(entity: str) -> str:
    return f"E#{entity}"


def _page_token(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


class Store:
    def __init__(self, table: Any):
        self.table = table
        # The resource's client serialises plain Python values, as the Table methods do.
        self.client = table.meta.client

    # ---- generic ---------------------------------------------------------------------------------

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

    @staticmethod
    def _key(entity: str, sk: str) -> dict[str, str]:
        return {"PK": entity_pk(entity), "SK": sk}

    @staticmethod
    def _item(entity: str, sk: str, record: BaseModel, **attributes: Any) -> dict[str, Any]:
        return {"PK": entity_pk(entity), "SK": sk, "doc": record.model_dump_json(by_alias=True), **attributes}

    def _get(self, entity: str, sk: str, model: type[R]) -> R | None:
        item = self.table.get_item(Key=self._key(entity, sk), ConsistentRead=True).get("Item")
        return None if item is None else self._record(item, model)

    @staticmethod
    def _record(item: dict[str, Any], model: type[R]) -> R:
        record = model.model_validate_json(item["doc"])
        if "version" in item and "version" in model.model_fields:
            record = record.model_copy(update={"version": int(item["version"])})
        return record

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
    ) -> tuple[list[R], str | None]:
        """One kind of item: a page of at most `limit` (then a bounded cost, whatever the partition
        holds), or with no limit all of them (for an entity's configuration, never its history).

        A page costs at most MAX_QUERY_CALLS queries of at most FILTERED_PAGE_ITEMS items evaluated
        each. A filtered page may therefore hold fewer than `limit` items, or none, and still carry a
        next_token: the caller follows it, as with DynamoDB itself. The token points just past the
        last item evaluated for this page, so no item is skipped or returned twice.

        With `index`, reads that GSI's partition `index_pk` (eventually consistent, as GSIs are)."""
        pk = entity_pk(entity)
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
                records.append(self._record(item, model))
                if limit and len(records) == limit:
                    return records, _page_token({name: item[name] for name in key_names})
            start = page.get("LastEvaluatedKey")
            if not start:
                return records, None
            if limit and calls == MAX_QUERY_CALLS:
                return records, _page_token(start)

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

    def _list_all(self, entity: str, prefix: str, model: type[R]) -> list[R]:
        return self._query(entity, prefix, model)[0]

    # ---- entities and members -------------------------------------------------------------------

    def entity_exists(self, entity: str) -> bool:
        return "Item" in self.table.get_item(Key=self._key(entity, ENTITY_SK), ConsistentRead=True)

    def create_entity_with_admin(self, admin: MemberRecord) -> None:
        """Idempotent bootstrap: the entity, and its first admin if the name is free."""
        self.table.update_item(
            Key=self._key(admin.entity, ENTITY_SK),
            UpdateExpression="SET created_at = if_not_exists(created_at, :now)",
            ExpressionAttributeValues={":now": admin.created_at},
        )
        if self.get_member(admin.entity, admin.username) is None:
            self.create_member(admin)

    def get_member(self, entity: str, username: str) -> MemberRecord | None:
        return self._get(entity, f"MEMBER#{username}", MemberRecord)

    def list_members(self, entity: str) -> list[MemberRecord]:
        return self._list_all(entity, "MEMBER#", MemberRecord)

    def create_member(self, member: MemberRecord) -> None:
        ops: list[Op] = [
            (
                self._put(
                    self._item(member.entity, f"MEMBER#{member.username}", member, role=member.role.value),
                    "attribute_not_exists(PK)",
                ),
                Conflict(f"{member.username} is already a member.", field="username"),
            ),
            (
                self._update(
                    self._key(member.entity, ENTITY_SK),
                    "ADD admin_count :n",
                    {":n": 1 if member.role is Role.ADMIN else 0},
                    "attribute_exists(PK)",
                ),
                NotFound("Entity not found."),
            ),
        ]
        self._transact(ops)

    def _last_admin_guard(self, entity: str, was_admin: bool, stays_admin: bool) -> list[Op]:
        if not was_admin or stays_admin:
            return []
        # The count and the member change in one transaction: two admins demoting each other at once
        # cannot leave the entity without an admin.
        return [
            (
                self._update(
                    self._key(entity, ENTITY_SK),
                    "ADD admin_count :minus",
                    {":minus": -1, ":one": 1},
                    "admin_count > :one",
                ),
                Conflict(
                    "This is the entity's last admin; make another member an admin first.", field="role"
                ),
            )
        ]

    def update_member_role(self, entity: str, username: str, role: Role) -> MemberRecord:
        current = self.get_member(entity, username)
        if current is None:
            raise NotFound(f"No member {username}.")
        updated = current.model_copy(update={"role": role})
        ops: list[Op] = [
            (
                self._update(
                    self._key(entity, f"MEMBER#{username}"),
                    "SET #role = :role, doc = :doc",
                    {":role": role.value, ":doc": updated.model_dump_json(), ":was": current.role.value},
                    "#role = :was",
                    names={"#role": "role"},
                ),
                Conflict("The member changed concurrently; retry."),
            ),
            *self._last_admin_guard(entity, current.role is Role.ADMIN, role is Role.ADMIN),
        ]
        if current.role is not Role.ADMIN and role is Role.ADMIN:
            ops.append(
                (self._update(self._key(entity, ENTITY_SK), "ADD admin_count :one", {":one": 1}), None)
            )
        self._transact(ops)
        return updated

    def delete_member(self, entity: str, username: str) -> None:
        current = self.get_member(entity, username)
        if current is None:
            raise NotFound(f"No member {username}.")
        ops: list[Op] = [
            (
                self._delete(
                    self._key(entity, f"MEMBER#{username}"),
                    "#role = :was",
                    {":was": current.role.value},
                    {"#role": "role"},
                ),
                Conflict("The member changed concurrently; retry."),
            ),
            *self._last_admin_guard(entity, current.role is Role.ADMIN, False),
        ]
        self._transact(ops)
        # The keys stopped working with the member (the authorizer requires the member, and a key
        # no older than the membership); removing them now is housekeeping.
        for key in self.list_api_keys(entity, member=username):
            self.delete_api_key(key)

    # ---- API keys ----------------------------------------------------------------------------------

    def create_api_key(self, key: ApiKeyRecord) -> None:
        self._transact(
            [
                (
                    self._check(self._key(key.entity, f"MEMBER#{key.member}"), "attribute_exists(PK)"),
                    NotFound(f"No member {key.member}.", field="member"),
                ),
                (
                    self._put(self._item(key.entity, f"APIKEY#{key.id}", key), "attribute_not_exists(PK)"),
                    None,
                ),
                (
                    self._put(
                        {
                            "PK": f"KEY#{key.key_hash}",
                            "SK": "KEY",
                            "entity": key.entity,
                            "key_id": key.id,
                            "member": key.member,
                            "created_at": key.created_at,
                            "service": key.service,
                        },
                        "attribute_not_exists(PK)",
                    ),
                    None,
                ),
            ]
        )

    def find_api_key(self, key_hash: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"PK": f"KEY#{key_hash}", "SK": "KEY"}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        return {
            **{k: item[k] for k in ("entity", "key_id", "member", "created_at")},
            "service": bool(item.get("service")),
        }

    def get_api_key(self, entity: str, key_id: str) -> ApiKeyRecord | None:
        return self._get(entity, f"APIKEY#{key_id}", ApiKeyRecord)

    def list_api_keys(self, entity: str, member: str | None = None) -> list[ApiKeyRecord]:
        keys = self._list_all(entity, "APIKEY#", ApiKeyRecord)
        return [k for k in keys if member is None or k.member == member]

    def delete_api_key(self, key: ApiKeyRecord) -> None:
        self._transact(
            [
                (
                    self._delete(self._key(key.entity, f"APIKEY#{key.id}"), "attribute_exists(PK)"),
                    NotFound("No such API key."),
                ),
                (self._delete({"PK": f"KEY#{key.key_hash}", "SK": "KEY"}), None),
            ]
        )

    # ---- secrets -----------------------------------------------------------------------------------
    # A secret's record is claimed before its value is written and released after, so that of two
    # requests racing on one name exactly one writes a value, and it is the one that is answered
    # 201 (create) or 204 (delete). A claimed record (`pending`) is invisible to readers and cannot
    # be referenced; a claim left by a crashed request goes stale after SECRET_CLAIM_SECONDS.

    def get_secret(self, entity: str, name: str) -> SecretRecord | None:
        item = self.table.get_item(Key=self._key(entity, f"SECRET#{name}"), ConsistentRead=True).get("Item")
        return None if item is None or "pending" in item else self._record(item, SecretRecord)

    def list_secrets(self, entity: str) -> list[SecretRecord]:
        return self._query(entity, "SECRET#", SecretRecord, filter_condition=Attr("pending").not_exists())[0]

    def claim_secret_create(self, record: SecretRecord, token: str, now: int) -> None:
        """Claim the name for a new secret: Conflict if it exists, or another create holds a fresh claim."""
        item = self._item(record.entity, f"SECRET#{record.name}", record, refs=0)
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
        key = self._key(entity, f"SECRET#{name}")
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
                Key=self._key(entity, f"SECRET#{name}"),
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
            Key=self._key(record.entity, f"SECRET#{record.name}"),
            UpdateExpression="SET doc = :doc",
            ConditionExpression="attribute_exists(PK) AND attribute_not_exists(pending)",
            ExpressionAttributeValues={":doc": record.model_dump_json()},
        )
        if not written:
            raise NotFound(f"No secret {record.name}.")

    def _ref_ops(self, entity: str, kind: str, added: set[str], removed: set[str], field: str) -> list[Op]:
        """Count references from a webhook to its secrets (kind SECRET) or from an automation to its
        integration (WEBHOOK/SLACK). An added reference requires the target to exist."""
        ops: list[Op] = []
        label = {
            "SECRET": "secret",
            "WEBHOOK": "webhook",
            "SLACK": "Slack integration",
            "RUNQUEUE": "run queue",
        }[kind]
        for name in sorted(added):
            ops.append(
                (
                    self._update(
                        self._key(entity, f"{kind}#{name}"),
                        "ADD refs :one",
                        {":one": 1},
                        # A secret being created or deleted (claimed) cannot be referenced yet.
                        "attribute_exists(PK) AND attribute_not_exists(pending)",
                    ),
                    InvalidInput(f"No {label} named {name} in this entity; create it first.", field=field),
                )
            )
        for name in sorted(removed):
            ops.append(
                (self._update(self._key(entity, f"{kind}#{name}"), "ADD refs :minus", {":minus": -1}), None)
            )
        return ops

    # ---- integrations ----------------------------------------------------------------------------

    @staticmethod
    def _webhook(item: dict[str, Any]) -> WebhookRecord:
        alert = item.get("alert")
        since, last = item.get("failing_since"), item.get("last_failure_at")
        health = WebhookHealth(
            consecutive_failures=int(item.get("failures", 0)),
            failing_since=None if since is None else int(since),
            last_failure_at=None if last is None else int(last),
            last_error=item.get("last_error"),
            alert=None if alert is None else WebhookAlert.model_validate_json(alert),
        )
        record = WebhookRecord.model_validate_json(item["doc"])
        return record.model_copy(
            update={
                "revision": int(item.get("revision", 0)),
                "users": int(item.get("users", 0)),
                "health": health,
            }
        )

    def get_webhook(self, entity: str, name: str) -> WebhookRecord | None:
        item = self.table.get_item(Key=self._key(entity, f"WEBHOOK#{name}"), ConsistentRead=True).get("Item")
        return None if item is None else self._webhook(item)

    def list_webhooks(self, entity: str) -> list[WebhookRecord]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(entity_pk(entity)) & Key("SK").begins_with("WEBHOOK#"),
            "ConsistentRead": True,
        }
        while True:
            page = self.table.query(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return [self._webhook(item) for item in items]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def create_webhook(self, record: WebhookRecord) -> None:
        item = self._item(record.entity, f"WEBHOOK#{record.name}", record, refs=0, revision=1)
        self._transact(
            [
                (
                    self._put(item, "attribute_not_exists(PK)"),
                    Conflict(f"A webhook named {record.name} exists.", field="name"),
                ),
                *self._ref_ops(record.entity, "SECRET", record.secret_names(), set(), "secrets"),
                *self._ref_ops(record.entity, "SLACK", record.slack_names(), set(), "alert_slack"),
            ]
        )

    def _revised(self, record: WebhookRecord) -> tuple[str, dict[str, Any]]:
        """The condition that the webhook is still at the revision it was read at."""
        if record.revision:
            return "revision = :revision", {":revision": record.revision}
        return "attribute_exists(PK) AND attribute_not_exists(revision)", {}

    def update_webhook(self, old: WebhookRecord, new: WebhookRecord) -> None:
        """Replace the webhook as read, unless it changed since or an automation using it was saved
        since (its automations were checked against this version: see `_webhook_use_op`)."""
        condition, values = self._revised(old)
        if old.users:
            condition += " AND #users = :users"
            values[":users"] = old.users
        else:
            condition += " AND attribute_not_exists(#users)"
        expression = "SET doc = :doc, revision = :next"
        if new.enabled and not old.enabled:
            # Re-enabled: the failure run that disabled it is over; count afresh.
            expression += " REMOVE " + ", ".join(HEALTH_ATTRIBUTES)
        self._transact(
            [
                (
                    self._update(
                        self._key(new.entity, f"WEBHOOK#{new.name}"),
                        expression,
                        {":doc": new.model_dump_json(), ":next": old.revision + 1, **values},
                        condition,
                        names={"#users": "users"},
                    ),
                    Conflict("The webhook or an automation using it changed concurrently; retry."),
                ),
                *self._ref_ops(
                    new.entity,
                    "SECRET",
                    new.secret_names() - old.secret_names(),
                    old.secret_names() - new.secret_names(),
                    "secrets",
                ),
                *self._ref_ops(
                    new.entity,
                    "SLACK",
                    new.slack_names() - old.slack_names(),
                    old.slack_names() - new.slack_names(),
                    "alert_slack",
                ),
            ]
        )

    def count_webhook_failure(self, entity: str, name: str, now: int, error: str) -> WebhookHealth | None:
        """Add one failed delivery to the webhook's current run; the run as it now stands, or None if
        the webhook is gone."""
        answer = self._conditional(
            self.table.update_item,
            Key=self._key(entity, f"WEBHOOK#{name}"),
            UpdateExpression="ADD failures :one "
            "SET failing_since = if_not_exists(failing_since, :now), last_failure_at = :now, "
            "last_error = :error",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":one": 1, ":now": now, ":error": error[:500]},
            ReturnValues="ALL_NEW",
        )
        return None if answer is None else self._webhook(answer["Attributes"]).health

    def end_webhook_failures(self, entity: str, name: str) -> None:
        """A delivery succeeded: the run of failures is over."""
        self._conditional(
            self.table.update_item,
            Key=self._key(entity, f"WEBHOOK#{name}"),
            UpdateExpression="REMOVE failures, failing_since, last_failure_at, last_error",
            ConditionExpression="attribute_exists(PK)",
        )

    def disable_webhook(
        self,
        webhook: WebhookRecord,
        reason: str,
        at: str,
        *,
        failing: tuple[int, int] | None = None,
        alert: WebhookAlert | None = None,
    ) -> bool:
        """Disable the webhook as read, unless it changed since. With `failing` (failures, since),
        only while its run of failures is still at least that long and began no later than that.
        Of several senders racing to disable it, exactly one gets True (and sends the alert)."""
        if not webhook.enabled:
            return False
        condition, values = self._revised(webhook)
        if failing is not None:
            condition += " AND failures >= :limit AND failing_since <= :cutoff"
            values |= {":limit": failing[0], ":cutoff": failing[1]}
        disabled = webhook.model_copy(update={"enabled": False, "disabled_reason": reason, "disabled_at": at})
        expression = "SET doc = :doc, revision = :next"
        values |= {":doc": disabled.model_dump_json(), ":next": webhook.revision + 1}
        if alert is not None:
            expression += ", alert = :alert"
            values[":alert"] = alert.model_dump_json()
        return self._written(
            self.table.update_item,
            Key=self._key(webhook.entity, f"WEBHOOK#{webhook.name}"),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )

    def set_webhook_alert(self, entity: str, name: str, alert: WebhookAlert) -> None:
        self._conditional(
            self.table.update_item,
            Key=self._key(entity, f"WEBHOOK#{name}"),
            UpdateExpression="SET alert = :alert",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":alert": alert.model_dump_json()},
        )

    def _delete_integration(
        self,
        kind: str,
        entity: str,
        name: str,
        secrets: set[str],
        in_use: Callable[[], MlhooksError],
        extra: Sequence[Op] = (),
    ) -> None:
        self._transact(
            [
                (
                    self._delete(
                        self._key(entity, f"{kind}#{name}"),
                        "attribute_exists(PK) AND (attribute_not_exists(refs) OR refs = :zero)",
                        {":zero": 0},
                    ),
                    in_use(),
                ),
                *self._ref_ops(entity, "SECRET", set(), secrets, "secrets"),
                *extra,
            ]
        )

    def delete_webhook(self, record: WebhookRecord, in_use: Callable[[], MlhooksError]) -> None:
        self._delete_integration(
            "WEBHOOK",
            record.entity,
            record.name,
            record.secret_names(),
            in_use,
            extra=self._ref_ops(record.entity, "SLACK", set(), record.slack_names(), "alert_slack"),
        )

    def get_slack(self, entity: str, name: str) -> SlackRecord | None:
        return self._get(entity, f"SLACK#{name}", SlackRecord)

    def list_slack(self, entity: str) -> list[SlackRecord]:
        return self._list_all(entity, "SLACK#", SlackRecord)

    def create_slack(self, record: SlackRecord) -> None:
        item = self._item(record.entity, f"SLACK#{record.name}", record, refs=0)
        self._transact(
            [
                (
                    self._put(item, "attribute_not_exists(PK)"),
                    Conflict(f"A Slack integration named {record.name} exists.", field="name"),
                ),
                *self._ref_ops(record.entity, "SECRET", record.secret_names(), set(), "bot_token_secret"),
            ]
        )

    def delete_slack(self, record: SlackRecord, in_use: Callable[[], MlhooksError]) -> None:
        self._delete_integration("SLACK", record.entity, record.name, record.secret_names(), in_use)

    # ---- run queues --------------------------------------------------------------------------------
    # A queue belongs to one entity: a marker keyed by the queue itself (account and name) is written
    # with the entity's record, so no other entity can register it and send jobs there.

    def get_run_queue(self, entity: str, name: str) -> RunQueueRecord | None:
        return self._get(entity, f"RUNQUEUE#{name}", RunQueueRecord)

    def list_run_queues(self, entity: str) -> list[RunQueueRecord]:
        return self._list_all(entity, "RUNQUEUE#", RunQueueRecord)

    def create_run_queue(self, record: RunQueueRecord, queue_key: str) -> None:
        self._transact(
            [
                (
                    self._put(
                        self._item(record.entity, f"RUNQUEUE#{record.name}", record, refs=0, queue=queue_key),
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(f"A run queue named {record.name} exists.", field="name"),
                ),
                (
                    self._put(
                        {"PK": f"QUEUE#{queue_key}", "SK": "OWNER", "entity": record.entity},
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(
                        "This queue is already registered as a run queue (a queue belongs to one entity).",
                        field="url",
                    ),
                ),
            ]
        )

    def delete_run_queue(
        self, record: RunQueueRecord, queue_key: str, in_use: Callable[[], MlhooksError]
    ) -> None:
        self._transact(
            [
                (
                    self._delete(
                        self._key(record.entity, f"RUNQUEUE#{record.name}"),
                        "attribute_exists(PK) AND (attribute_not_exists(refs) OR refs = :zero)",
                        {":zero": 0},
                    ),
                    in_use(),
                ),
                (
                    self._delete(
                        {"PK": f"QUEUE#{queue_key}", "SK": "OWNER"},
                        "entity = :entity",
                        {":entity": record.entity},
                    ),
                    None,
                ),
            ]
        )

    # ---- projects ----------------------------------------------------------------------------------

    def create_project(self, record: ProjectRecord) -> None:
        self._transact(
            [
                (
                    self._put(
                        self._item(record.entity, f"PROJECT#{record.name}", record),
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(f"A project named {record.name} exists.", field="name"),
                )
            ]
        )

    def get_project(self, entity: str, name: str) -> ProjectRecord | None:
        return self._get(entity, f"PROJECT#{name}", ProjectRecord)

    def list_projects(self, entity: str) -> list[ProjectRecord]:
        return self._list_all(entity, "PROJECT#", ProjectRecord)

    def create_collection(self, record: CollectionRecord) -> None:
        self._transact(
            [
                (
                    self._check(
                        self._key(record.entity, f"PROJECT#{record.project}"), "attribute_exists(PK)"
                    ),
                    NotFound(f"No project {record.project}."),
                ),
                (
                    self._put(
                        self._item(record.entity, f"COLLECTION#{record.project}#{record.name}", record),
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(f"A collection named {record.name} exists in {record.project}.", field="name"),
                ),
            ]
        )

    def get_collection(self, entity: str, project: str, name: str) -> CollectionRecord | None:
        return self._get(entity, f"COLLECTION#{project}#{name}", CollectionRecord)

    def list_collections(self, entity: str, project: str) -> list[CollectionRecord]:
        return self._list_all(entity, f"COLLECTION#{project}#", CollectionRecord)

    # ---- automations -------------------------------------------------------------------------------

    @staticmethod
    def _automation_attributes(record: AutomationRecord) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "version": record.version,
            "enabled": record.enabled,
            "scope_type": record.scope.type.value,
            "event_type": record.event.type.value,
            "project": getattr(record.scope, "project", "") or "",
            "integration": "#".join(record.integration or ()),
        }
        if record.enabled:
            # Sparse index: only enabled automations are in it, so the matcher reads no disabled ones.
            attributes["GSI1PK"] = f"E#{record.entity}#EVENT#{record.event.type.value}"
            attributes["GSI1SK"] = f"{record.scope_key}#{record.id}"
        return attributes

    @staticmethod
    def _name_marker_sk(record: AutomationRecord) -> str:
        # Hashed: `casefold()` can triple a name's length (ΐ), and a sort key holds at most 1,024 bytes.
        folded = hashlib.sha256(record.name.casefold().encode("utf-8")).hexdigest()
        return f"AUTONAME#{record.scope_key}#{folded}"

    def _revision_op(self, entity: str) -> Op:
        """Counts every change to the entity's automations, and says when the last one was made: the
        matcher keeps its cache while the count stands (see AutomationCache)."""
        return (
            self._update(
                self._key(entity, AUTOMATIONS_SK),
                "ADD revision :one SET changed_at = :now",
                {":one": 1, ":now": int(time.time())},
            ),
            None,
        )

    def automations_revision(self, entity: str) -> AutomationsRevision:
        item = self.table.get_item(
            Key=self._key(entity, AUTOMATIONS_SK),
            ConsistentRead=True,
            ProjectionExpression="revision, changed_at",
        ).get("Item")
        if not item:
            return AutomationsRevision(0, 0)
        return AutomationsRevision(int(item["revision"]), int(item.get("changed_at", 0)))

    def get_webhooks(self, entity: str, names: set[str]) -> dict[str, WebhookRecord]:
        """The named webhooks that exist, in one BatchGetItem per 100 names."""
        found: dict[str, WebhookRecord] = {}
        keys = [self._key(entity, f"WEBHOOK#{name}") for name in sorted(names)]
        for start in range(0, len(keys), 100):
            request = {self.table.name: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.table.name, []):
                    webhook = self._webhook(item)
                    found[webhook.name] = webhook
                request = answer.get("UnprocessedKeys") or {}
        return found

    def _webhook_use_op(self, entity: str, name: str, revision: int, delta: int) -> Op:
        """An automation's payload was checked against this revision of its webhook (secrets, token):
        it is written only while the webhook is still at it, and it counts as a use (`users`), so a
        webhook edit that checked the automations before this one was written fails rather than
        breaks it."""
        if revision:
            condition, values = "revision = :revision", {":revision": revision}
        else:
            condition, values = "attribute_exists(PK) AND attribute_not_exists(revision)", {}
        return (
            self._update(
                self._key(entity, f"WEBHOOK#{name}"),
                "ADD refs :delta, #users :one",
                {":delta": delta, ":one": 1, **values},
                condition,
                names={"#users": "users"},
            ),
            Conflict(
                f"Webhook {name} changed or was deleted meanwhile; check it and retry.",
                field="action.webhook",
            ),
        )

    def _automation_reference_ops(
        self, old: AutomationRecord | None, new: AutomationRecord | None, webhook_revision: int | None = None
    ) -> list[Op]:
        ops: list[Op] = []
        old_ref, new_ref = (old.integration if old else None), (new.integration if new else None)
        entity = (new or old).entity  # type: ignore[union-attr]
        if new_ref and new_ref[0] == "WEBHOOK" and webhook_revision is not None:
            ops.append(self._webhook_use_op(entity, new_ref[1], webhook_revision, int(old_ref != new_ref)))
            if old_ref and old_ref != new_ref:
                ops += self._ref_ops(entity, old_ref[0], set(), {old_ref[1]}, "action")
        elif old_ref != new_ref:
            if new_ref:
                field = {"WEBHOOK": "action.webhook", "SLACK": "action.slack", "RUNQUEUE": "action.queue"}[
                    new_ref[0]
                ]
                ops += self._ref_ops(entity, new_ref[0], {new_ref[1]}, set(), field)
            if old_ref:
                ops += self._ref_ops(entity, old_ref[0], set(), {old_ref[1]}, "action")
        if new is not None:
            scope = new.scope
            project = getattr(scope, "project", None)
            collection = getattr(scope, "collection", None)
            if project and (
                old is None
                or getattr(old.scope, "project", None) != project
                or getattr(old.scope, "collection", None) != collection
            ):
                # The scope must still exist when the automation is written, not just when it was checked.
                sk = f"COLLECTION#{project}#{collection}" if collection else f"PROJECT#{project}"
                ops.append(
                    (
                        self._check(self._key(entity, sk), "attribute_exists(PK)"),
                        InvalidInput("The automation's scope does not exist in this entity.", field="scope"),
                    )
                )
        return [*ops, self._revision_op(entity)]

    def create_automation(self, record: AutomationRecord, webhook_revision: int | None = None) -> None:
        marker = {
            "PK": entity_pk(record.entity),
            "SK": self._name_marker_sk(record),
            "automation_id": record.id,
        }
        self._transact(
            [
                (
                    self._put(
                        self._item(
                            record.entity,
                            f"AUTOMATION#{record.id}",
                            record,
                            **self._automation_attributes(record),
                        ),
                        "attribute_not_exists(PK)",
                    ),
                    None,
                ),
                (
                    self._put(marker, "attribute_not_exists(PK)"),
                    Conflict(f"An automation named {record.name!r} exists in this scope.", field="name"),
                ),
                *self._automation_reference_ops(None, record, webhook_revision),
            ]
        )

    def get_automation(self, entity: str, automation_id: str) -> AutomationRecord | None:
        return self._get(entity, f"AUTOMATION#{automation_id}", AutomationRecord)

    def list_automations(
        self,
        entity: str,
        *,
        project: str | None = None,
        scope_type: str | None = None,
        event_type: str | None = None,
        enabled: bool | None = None,
        limit: int = 50,
        token: str | None = None,
    ) -> tuple[list[AutomationRecord], str | None]:
        condition = None
        for attribute, value in (
            ("project", project),
            ("scope_type", scope_type),
            ("event_type", event_type),
            ("enabled", enabled),
        ):
            if value is not None:
                clause = Attr(attribute).eq(value)
                condition = clause if condition is None else condition & clause
        return self._query(
            entity, "AUTOMATION#", AutomationRecord, limit=limit, token=token, filter_condition=condition
        )

    def automations_using(self, entity: str, kind: str, name: str) -> list[AutomationRecord]:
        records, _ = self._query(
            entity, "AUTOMATION#", AutomationRecord, filter_condition=Attr("integration").eq(f"{kind}#{name}")
        )
        return records

    def update_automation(
        self, old: AutomationRecord, new: AutomationRecord, webhook_revision: int | None = None
    ) -> None:
        """Replace an automation if it is still at `old.version`; `new.version` must be old + 1."""
        item = self._item(new.entity, f"AUTOMATION#{new.id}", new, **self._automation_attributes(new))
        ops: list[Op] = [
            (
                self._put(item, "version = :expected", {":expected": old.version}),
                PreconditionFailed(
                    f"The automation is no longer at version {old.version}; fetch it again and retry."
                ),
            ),
        ]
        if self._name_marker_sk(old) != self._name_marker_sk(new):
            ops.append((self._delete(self._key(old.entity, self._name_marker_sk(old))), None))
            ops.append(
                (
                    self._put(
                        {
                            "PK": entity_pk(new.entity),
                            "SK": self._name_marker_sk(new),
                            "automation_id": new.id,
                        },
                        "attribute_not_exists(PK)",
                    ),
                    Conflict(f"An automation named {new.name!r} exists in this scope.", field="name"),
                )
            )
        ops += self._automation_reference_ops(old, new, webhook_revision)
        self._transact(ops)

    def delete_automation(self, record: AutomationRecord) -> None:
        self._transact(
            [
                (
                    self._delete(self._key(record.entity, f"AUTOMATION#{record.id}"), "attribute_exists(PK)"),
                    NotFound("No such automation."),
                ),
                (self._delete(self._key(record.entity, self._name_marker_sk(record))), None),
                *self._automation_reference_ops(record, None),
            ]
        )

    # ---- matching ------------------------------------------------------------------------------------

    def enabled_automations(
        self, entity: str, event_type: str, scope_keys: Sequence[str]
    ) -> list[AutomationRecord]:
        """Enabled automations for one event type in the given scopes: one GSI1 query per scope,
        so the cost does not grow with the number of unrelated automations."""
        records: list[AutomationRecord] = []
        for scope_key in scope_keys:
            kwargs: dict[str, Any] = {
                "IndexName": GSI1,
                "KeyConditionExpression": Key("GSI1PK").eq(f"E#{entity}#EVENT#{event_type}")
                & Key("GSI1SK").begins_with(f"{scope_key}#"),
            }
            while True:
                page = self.table.query(**kwargs)
                records.extend(self._record(item, AutomationRecord) for item in page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return records

    def take_rate_token(
        self, entity: str, automation_id: str, window: str, limit: int, expires_at: int
    ) -> bool:
        """Count one execution in the automation's current window; False once the window is full."""
        return self._written(
            self.table.update_item,
            Key={"PK": f"RATE#{entity}#{automation_id}", "SK": window},
            UpdateExpression="ADD executions :one SET expires_at = :exp",
            ConditionExpression="attribute_not_exists(executions) OR executions < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": limit, ":exp": expires_at},
        )

    # ---- executions -----------------------------------------------------------------------------

    @staticmethod
    def _execution_item(record: ExecutionRecord) -> dict[str, Any]:
        order = f"{record.created_at}#{record.id}"
        return {
            "PK": entity_pk(record.entity),
            "SK": f"EXEC#{record.id}",
            "doc": record.model_dump_json(),
            "state": record.state.value,
            # Newest-first listings per automation (GSI1, shared with the matcher's look-up: the
            # partition keys never collide), per entity (GSI2) and per project (GSI3).
            "GSI1PK": f"E#{record.entity}#AUTOEXEC#{record.automation_id}",
            "GSI1SK": order,
            "GSI2PK": f"E#{record.entity}#EXECS",
            "GSI2SK": order,
            "GSI3PK": f"E#{record.entity}#PROJECT#{record.project}#EXECS",
            "GSI3SK": order,
        }

    def create_execution(self, record: ExecutionRecord) -> bool:
        """Write a new execution; False if it exists (the same event seen again)."""
        return self._written(
            self.table.put_item,
            Item=self._execution_item(record),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_execution(self, entity: str, execution_id: str) -> ExecutionRecord | None:
        return self._get(entity, f"EXEC#{execution_id}", ExecutionRecord)

    def execution_item(self, entity: str, execution_id: str) -> dict[str, Any] | None:
        return self.table.get_item(Key=self._key(entity, f"EXEC#{execution_id}"), ConsistentRead=True).get(
            "Item"
        )

    def mark_enqueued(self, entity: str, execution_id: str) -> None:
        self.table.update_item(
            Key=self._key(entity, f"EXEC#{execution_id}"),
            UpdateExpression="SET enqueued = :t",
            ExpressionAttributeValues={":t": True},
        )

    def claim_execution(self, entity: str, execution_id: str, owner: str, now: int, until: int) -> bool:
        """Take the delivery lease of a PENDING execution, so that two copies of one job in flight
        (SQS delivers at least once) never both deliver."""
        return self._written(
            self.table.update_item,
            Key=self._key(entity, f"EXEC#{execution_id}"),
            UpdateExpression="SET lease_owner = :owner, lease_until = :until",
            ConditionExpression="#state = :pending AND (attribute_not_exists(lease_until) OR "
            "lease_until < :now OR lease_owner = :owner)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":owner": owner,
                ":until": until,
                ":now": now,
                ":pending": ExecutionState.PENDING.value,
            },
        )

    def save_execution(self, record: ExecutionRecord, *, owner: str | None = None) -> bool:
        """Write an execution's new state, attempts and request; with `owner`, only while its lease
        is held, and releasing it (a retry claims afresh). Returns False when the lease was lost."""
        item = self._execution_item(record)
        values: dict[str, Any] = {":doc": item["doc"], ":state": item["state"]}
        expression = "SET doc = :doc, #state = :state"
        condition = "attribute_exists(PK)"
        if owner is not None:
            condition += " AND lease_owner = :owner"
            values[":owner"] = owner
        if owner is not None or record.state is not ExecutionState.PENDING:
            expression += " REMOVE lease_owner, lease_until"
        return self._written(
            self.table.update_item,
            Key=self._key(record.entity, f"EXEC#{record.id}"),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    def reopen_execution(self, record: ExecutionRecord) -> bool:
        """FAILED -> PENDING for a redelivery; False if it was not FAILED any more."""
        reopened = record.model_copy(
            update={"state": ExecutionState.PENDING, "reason": None, "deliveries": record.deliveries + 1}
        )
        return self._written(
            self.table.update_item,
            Key=self._key(record.entity, f"EXEC#{record.id}"),
            UpdateExpression="SET doc = :doc, #state = :pending REMOVE lease_owner, lease_until",
            ConditionExpression="#state = :failed",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":doc": reopened.model_dump_json(),
                ":pending": "PENDING",
                ":failed": "FAILED",
            },
        )

    def list_executions(
        self,
        entity: str,
        *,
        automation_id: str | None = None,
        project: str | None = None,
        state: str | None = None,
        limit: int = 50,
        token: str | None = None,
    ) -> tuple[list[ExecutionRecord], str | None]:
        if automation_id:
            index, index_pk = GSI1, f"E#{entity}#AUTOEXEC#{automation_id}"
        elif project:
            index, index_pk = "GSI3", f"E#{entity}#PROJECT#{project}#EXECS"
        else:
            index, index_pk = "GSI2", f"E#{entity}#EXECS"
        condition = Attr("state").eq(state) if state else None
        return self._query(
            entity,
            "EXEC#",
            ExecutionRecord,
            limit=limit,
            token=token,
            filter_condition=condition,
            index=index,
            index_pk=index_pk,
            newest_first=True,
        )

    # ---- run condition state -----------------------------------------------------------------------

    @staticmethod
    def _run_state_key(entity: str, automation_id: str, run_id: str) -> dict[str, str]:
        return {"PK": f"RUNSTATE#{entity}#{automation_id}", "SK": f"RUN#{run_id}"}

    def get_run_states(
        self, entity: str, run_id: str, automation_ids: Sequence[str]
    ) -> dict[str, tuple[str, int]]:
        """automation id -> (state document, version) for one run, in batches of 100 (BatchGetItem)."""
        found: dict[str, tuple[str, int]] = {}
        keys = [self._run_state_key(entity, a, run_id) for a in dict.fromkeys(automation_ids)]
        for start in range(0, len(keys), 100):
            request = {self.table.name: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while request:
                answer = self.table.meta.client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.table.name, []):
                    found[item["PK"].rsplit("#", 1)[1]] = (item["doc"], int(item["version"]))
                request = answer.get("UnprocessedKeys") or {}
        return found

    def put_run_states(
        self, entity: str, run_id: str, states: Sequence[tuple[str, str, int]], expires_at: int
    ) -> bool:
        """Write (automation id, document, expected version) all or nothing, each only if still at
        its expected version (0: new). False when another matcher got there first: re-read, retry."""
        for start in range(0, len(states), 100):  # TransactWriteItems' limit
            ops: list[Op] = []
            for automation_id, doc, expected in states[start : start + 100]:
                item = {
                    **self._run_state_key(entity, automation_id, run_id),
                    "doc": doc,
                    "version": expected + 1,
                    "expires_at": expires_at,
                }
                condition = "attribute_not_exists(PK)" if expected == 0 else "version = :v"
                ops.append((self._put(item, condition, {":v": expected} if expected else None), None))
            try:
                self._transact(ops)
            except Conflict:
                return False
        return True
