"""Who is calling, and what they may do: API keys, members and roles.

Keys are 256-bit random tokens shown once. Only their SHA-256 is stored: a fast hash is the right
tool for high-entropy keys (nothing to brute-force), and it lets the authorizer find a key with
one consistent GetItem.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import string
from dataclasses import dataclass

from mlhooks.clock import now_iso
from mlhooks.errors import Conflict, Forbidden, NotFound
from mlhooks.models.records import ApiKeyRecord, MemberRecord
from mlhooks.models.vocabulary import Role
from mlhooks.store import Store

KEY_PREFIX = "mlh_"
_KEY_FORMAT = re.compile(r"^mlh_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$")
# New keys are letters and digits only (43 of 62 symbols: 256 bits). The `wandb` SDK checks a key's
# form before sending it: what follows its first `-` must be 40 or more word characters, which a
# key with a `-` early in its random part fails. Keys issued with `-` before this still work over
# REST; the SDK needs one without.
_KEY_ALPHABET = string.ascii_letters + string.digits
_KEY_SYMBOLS = 43
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
    random_part = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(_KEY_SYMBOLS))
    key = f"{KEY_PREFIX}{key_id}_{random_part}"
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


def presented_key(authorization: str | None) -> str | None:
    """The key in `Authorization: Bearer <key>`, or in `Basic base64(user:<key>)` as the `wandb`
    SDK sends it (W&B's user is `api`; any user name is taken, the key alone authenticates)."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def authenticate(store: Store, authorization: str | None) -> Caller | None:
    """The caller behind an `Authorization` header with an API key, or None for no valid key."""
    key = presented_key(authorization)
    if key is None or not _KEY_FORMAT.match(key):
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


def sees_webhook_urls(caller: Caller) -> bool:
    """Admins, who manage webhooks, see their URLs whole; members and viewers see the origin only
    (redaction.url_shown): a URL can be the credential that posts to a channel, and a member's use
    of a webhook goes through automations, which name it. As GitHub shows a repository's webhooks to
    its admins only."""
    return caller.at_least(Role.ADMIN)


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
