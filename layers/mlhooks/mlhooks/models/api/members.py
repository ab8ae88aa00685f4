"""Members, API keys and who a key is."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from mlhooks.models.base import Input, Output
from mlhooks.models.names import PlainText, Username
from mlhooks.models.vocabulary import Role


class MemberCreate(Input):
    username: Username
    role: Role


class MemberUpdate(Input):
    role: Role


class MemberOut(Output):
    username: str
    role: Role
    created_at: str


class ApiKeyCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), PlainText]
    member: Username | None = Field(None, description="Whose key; admins may name another member.")
    service: bool = Field(
        False,
        description="A service key (admins only), for a platform that publishes events on behalf of "
        "its users: its events may name any `author`. Other keys publish as their member.",
    )


class ApiKeyOut(Output):
    id: str
    name: str
    member: str
    service: bool
    prefix: str = Field(description="The key's first characters, to recognise it; never the key.")
    created_at: str


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key. Shown once: only its hash is stored.")


class Identity(Output):
    """Who an API key is: its entity, member and role."""

    entity: str
    username: str
    role: Role
    key_id: str
    service: bool
