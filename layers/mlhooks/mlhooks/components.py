"""The components one container works with (store, vault, guard, clients), built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from mlhooks import aws
from mlhooks.outbound import OutboundClient, OutboundGuard
from mlhooks.secrets import SecretVault
from mlhooks.settings import Settings, get_settings
from mlhooks.store import Store


@dataclass(frozen=True)
class Components:
    settings: Settings
    store: Store
    vault: SecretVault
    guard: OutboundGuard
    outbound: OutboundClient
    sqs: Any
    events: Any


def build_components(settings: Settings) -> Components:
    guard = OutboundGuard(settings.outbound_allow)
    return Components(
        settings=settings,
        store=Store(aws.dynamodb_resource(settings).Table(settings.table_name)),
        vault=SecretVault(aws.secretsmanager_client(settings), settings.secrets_prefix),
        guard=guard,
        outbound=OutboundClient(
            guard,
            connect_timeout=settings.http_connect_timeout_seconds,
            read_timeout=settings.http_read_timeout_seconds,
            excerpt_bytes=settings.response_excerpt_bytes,
        ),
        sqs=aws.sqs_client(settings),
        events=aws.events_client(settings),
    )


@cache
def get_components() -> Components:
    return build_components(get_settings())


def reset_components() -> None:
    """Forget everything built from the environment (tests and the local runtime change it)."""
    get_components.cache_clear()
    aws.reset_clients()
