"""The components one container works with (store, vault, guard, clients), built once from settings.

Each part is made when it is first used, so a function pays at its cold start only for what its work
needs: the authorizer one DynamoDB table (never a queue, a secret or the HTTP stack), the matcher no
Secrets Manager client, the job sender no outbound HTTP client. The modules behind a part are
imported with it for the same reason (`requests` is some 40 ms of import on a 2-core machine).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from mlhooks import aws, tracing
from mlhooks.settings import Settings, get_settings

if TYPE_CHECKING:
    from mlhooks.outbound import OutboundClient, OutboundGuard
    from mlhooks.secrets import SecretVault
    from mlhooks.store import Store


class _Part[T]:
    """A component made on its first use, and only once: boto3's default session is not safe to
    create clients from in two threads at once, and the local runtime runs several functions'
    invocations in one process."""

    def __init__(self, make: Callable[[Components], T]):
        self.make = make
        self.name = make.__name__

    def __get__(self, components: Components | None, owner: type | None = None) -> T:
        if components is None:
            return self  # type: ignore[return-value]  # the class's attribute: the descriptor
        with components._lock:
            if self.name not in components.__dict__:
                components.__dict__[self.name] = self.make(components)
        # From now on the instance's own attribute is found first: no lock, no call.
        return components.__dict__[self.name]


class Components:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.RLock()

    @_Part
    def store(self) -> Store:
        from mlhooks.store import Store

        return Store(aws.dynamodb_resource(self.settings).Table(self.settings.table_name))

    @_Part
    def vault(self) -> SecretVault:
        from mlhooks.secrets import SecretVault

        return SecretVault(aws.secretsmanager_client(self.settings), self.settings.secrets_prefix)

    @_Part
    def guard(self) -> OutboundGuard:
        from mlhooks.outbound import OutboundGuard

        return OutboundGuard(self.settings.outbound_allow)

    @_Part
    def outbound(self) -> OutboundClient:
        from mlhooks.outbound import OutboundClient

        return OutboundClient(
            self.guard,
            connect_timeout=self.settings.http_connect_timeout_seconds,
            read_timeout=self.settings.http_read_timeout_seconds,
            excerpt_bytes=self.settings.response_excerpt_bytes,
        )

    @_Part
    def sqs(self) -> Any:
        return aws.sqs_client(self.settings)

    @_Part
    def events(self) -> Any:
        return aws.events_client(self.settings)


def build_components(settings: Settings) -> Components:
    tracing.start(settings)  # at cold start, and only if the stack turned tracing on
    return Components(settings)


@cache
def get_components() -> Components:
    return build_components(get_settings())


def reset_components() -> None:
    """Forget everything built from the environment (tests and the local runtime change it)."""
    get_components.cache_clear()
    aws.reset_clients()
