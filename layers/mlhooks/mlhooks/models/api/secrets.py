"""Secrets: write-only values, and what uses each."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlhooks.models.base import Input, Output
from mlhooks.models.names import SecretName
from mlhooks.models.secret_values import SecretValue


class SecretCreate(Input):
    name: SecretName
    value: SecretValue


class SecretRotate(Input):
    value: SecretValue


class SecretUserOut(Output):
    kind: Literal["webhook", "slack", "source"] = Field(
        description="`webhook` (a token, signing secret or payload secret), `slack` (a bot token) or "
        "`source` (a signing secret or token)."
    )
    name: str = Field(description="The webhook's, Slack integration's or source's name.")


class SecretOut(Output):
    name: str
    created_at: str
    updated_at: str
    used_by: list[SecretUserOut] = Field(
        default_factory=list,
        description="What uses the secret; a secret in use cannot be deleted. Empty when nothing does.",
    )
