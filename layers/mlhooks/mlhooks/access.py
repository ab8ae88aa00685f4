"""Who is calling, and what they may do: API keys, members and roles.

Keys are 256-bit random tokens shown once. Only their SHA-256 is stored: a fast hash is the right
tool for high-entropy keys (nothing to brute-force), and it lets the authorizer find a key with
one consistent GetItem.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from mlhooks.clock import now_iso
from mlhooks.errors import Conflict, Forbidden, NotFound
from mlhooks.models.records import ApiKeyRecord, MemberRecord
from mlhooks.models.vocabulary import Role
from mlhooks.store import Store

KEY_PREFIX = "mlh_"
_KEY_FORMAT = re.compile(r"^mlh_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$")
_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    id: str
    key: str
    key_hash: str
    prefix: str


def generate_api_key() -> NewKey:
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(id=key_id, key=key, key_hash=hash_api_key(key), prefix=key[: len(KEY_PREFIX) + 12])


@dataclass(frozen=True)
class Caller:
    entity: str
    member: str
    role: Role
    key_id: str
    # A service key publishes events on behalf of other authors; any other key publishes as its member.
    service: bool = False

    def at_least(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]


def authenticate(store: Store, authorization: str | None) -> Caller | None:
    """The caller behind an `Authorization: Bearer <key>` header, or None for no valid key."""
    if not authorization:
        return None
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not _KEY_FORMAT.match(key):
        return None
    found = store.find_api_key(hash_api_key(key))
    if found is None:
        return None
    member = store.get_member(found["entity"], found["member"])
    # A key older than the membership belonged to an earlier member of the same name.
    if member is None or found["created_at"] < member.created_at:
        return None
    return Caller(
        entity=found["entity"],
        member=member.username,
        role=member.role,
        key_id=found["key_id"],
        service=found["service"],
    )


def require(caller: Caller, entity: str, role: Role = Role.VIEWER) -> None:
    """Another entity's resources do not exist for the caller (404, never 403)."""
    if caller.entity != entity:
        raise NotFound(f"Entity {entity} not found.")
    if not caller.at_least(role):
        raise Forbidden(f"This needs the {role.value} role; you are {caller.role.value}.")


class AccessService:
    def __init__(self, store: Store):
        self.store = store

    def bootstrap(self, entity: str, username: str, key_name: str = "bootstrap") -> tuple[ApiKeyRecord, str]:
        """Create the entity, its first admin and an admin key, straight in the table."""
        self.store.create_entity_with_admin(
            MemberRecord(entity=entity, username=username, role=Role.ADMIN, created_at=now_iso())
        )
        member = self.store.get_member(entity, username)
        if member is None or member.role is not Role.ADMIN:
            raise Conflict(f"{username} exists in {entity} and is not an admin.")
        return self.create_key(entity, username, key_name)

    def add_member(self, entity: str, username: str, role: Role) -> MemberRecord:
        member = MemberRecord(entity=entity, username=username, role=role, created_at=now_iso())
        self.store.create_member(member)
        return member

    def list_members(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[MemberRecord], str | None]:
        return self.store.list_members(entity, limit, token)

    def set_role(self, entity: str, username: str, role: Role) -> MemberRecord:
        return self.store.update_member_role(entity, username, role)

    def remove_member(self, entity: str, username: str) -> None:
        self.store.delete_member(entity, username)

    def create_key(
        self, entity: str, member: str, name: str, *, service: bool = False
    ) -> tuple[ApiKeyRecord, str]:
        new = generate_api_key()
        record = ApiKeyRecord(
            entity=entity,
            id=new.id,
            name=name,
            member=member,
            prefix=new.prefix,
            key_hash=new.key_hash,
            created_at=now_iso(),
            service=service,
        )
        self.store.create_api_key(record)
        return record, new.key

    def list_keys(
        self, caller: Caller, limit: int | None = None, token: str | None = None
    ) -> tuple[list[ApiKeyRecord], str | None]:
        # Admins see every key of the entity; others see their own.
        member = None if caller.at_least(Role.ADMIN) else caller.member
        return self.store.list_api_keys(caller.entity, member=member, limit=limit, token=token)

    def revoke_key(self, caller: Caller, key_id: str) -> None:
        record = self.store.get_api_key(caller.entity, key_id)
        if record is None or (record.member != caller.member and not caller.at_least(Role.ADMIN)):
            raise NotFound("No such API key.")
        self.store.delete_api_key(record)
