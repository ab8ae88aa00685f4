"""Entities, members and API keys: who may call, and as what.

An entity counts its admins (`admin_count`), changed in the same transaction as a member's role,
so that no two changes at once can leave it without one. Only a key's hash is stored, under the
entity (its metadata) and on its own (`KEY#<hash>`, the authorizer's single GetItem).
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr

from mlhooks.errors import Conflict, NotFound
from mlhooks.models.records import ApiKeyRecord, MemberRecord
from mlhooks.models.vocabulary import Role
from mlhooks.store import keys
from mlhooks.store.table import Op, TableStore


class AccessStore(TableStore):
    """Entities, members and API keys."""

    def entity_exists(self, entity: str) -> bool:
        return "Item" in self.table.get_item(Key=keys.item(entity, keys.ENTITY_SK), ConsistentRead=True)

    def create_entity_with_admin(self, admin: MemberRecord) -> None:
        """Idempotent bootstrap: the entity, and its first admin if the name is free."""
        self.table.update_item(
            Key=keys.item(admin.entity, keys.ENTITY_SK),
            UpdateExpression="SET created_at = if_not_exists(created_at, :now)",
            ExpressionAttributeValues={":now": admin.created_at},
        )
        if self.get_member(admin.entity, admin.username) is None:
            self.create_member(admin)

    def get_member(self, entity: str, username: str) -> MemberRecord | None:
        return self._get(entity, keys.member(username), MemberRecord)

    def list_members(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[MemberRecord], str | None]:
        return self._page(entity, keys.MEMBERS, MemberRecord, limit, token)

    def create_member(self, member: MemberRecord) -> None:
        ops: list[Op] = [
            (
                self._put(
                    self._item(member.entity, keys.member(member.username), member, role=member.role.value),
                    "attribute_not_exists(PK)",
                ),
                Conflict(f"{member.username} is already a member.", field="username"),
            ),
            (
                self._update(
                    keys.item(member.entity, keys.ENTITY_SK),
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
                    keys.item(entity, keys.ENTITY_SK),
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
                    keys.item(entity, keys.member(username)),
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
                (self._update(keys.item(entity, keys.ENTITY_SK), "ADD admin_count :one", {":one": 1}), None)
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
                    keys.item(entity, keys.member(username)),
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
        for key in self.list_api_keys(entity, member=username)[0]:
            self.delete_api_key(key)

    def create_api_key(self, key: ApiKeyRecord) -> None:
        self._transact(
            [
                (
                    self._check(keys.item(key.entity, keys.member(key.member)), "attribute_exists(PK)"),
                    NotFound(f"No member {key.member}.", field="member"),
                ),
                (
                    self._put(
                        self._item(key.entity, keys.api_key(key.id), key, member=key.member),
                        "attribute_not_exists(PK)",
                    ),
                    None,
                ),
                (
                    self._put(
                        {
                            **keys.key_hash(key.key_hash),
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
        item = self.table.get_item(Key=keys.key_hash(key_hash), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return {
            **{k: item[k] for k in ("entity", "key_id", "member", "created_at")},
            "service": bool(item.get("service")),
        }

    def get_api_key(self, entity: str, key_id: str) -> ApiKeyRecord | None:
        return self._get(entity, keys.api_key(key_id), ApiKeyRecord)

    def list_api_keys(
        self, entity: str, member: str | None = None, limit: int | None = None, token: str | None = None
    ) -> tuple[list[ApiKeyRecord], str | None]:
        """The entity's keys, or one member's (the `member` attribute is written with each key)."""
        condition = None if member is None else Attr("member").eq(member)
        return self._page(entity, keys.API_KEYS, ApiKeyRecord, limit, token, filter_condition=condition)

    def delete_api_key(self, key: ApiKeyRecord) -> None:
        self._transact(
            [
                (
                    self._delete(keys.item(key.entity, keys.api_key(key.id)), "attribute_exists(PK)"),
                    NotFound("No such API key."),
                ),
                (self._delete(keys.key_hash(key.key_hash)), None),
            ]
        )
