"""DynamoDB's atomicity, for moto.

DynamoDB applies each write atomically and each transaction all at once, isolated from others.
moto, serving several threads, does neither: a transaction reads conditions and writes items while
other threads write, and a cancelled one restores a copy of the whole table, undoing whatever other
threads wrote meanwhile. The local runtime and the tests run mlhooks' concurrent senders, matchers
and API calls against moto, so they serialise moto's DynamoDB operations with one lock, which is
what DynamoDB guarantees: a race found locally is then mlhooks', not moto's.

The same wrapper counts the writes, so the local runtime saves its tables only after they changed
(`writes`), and the lock gives it a snapshot no transaction is half-way through (`atomically`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.RLock()
_OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "transact_write_items", "query")
_WRITES = frozenset({"put_item", "update_item", "delete_item", "transact_write_items"})
_writes = 0


def make_moto_dynamodb_atomic() -> None:
    """Idempotent: wraps moto's DynamoDB backend operations once per process."""
    from moto.dynamodb.models import DynamoDBBackend  # dev dependency: only local runs need it

    for name in _OPERATIONS:
        operation = getattr(DynamoDBBackend, name)
        if getattr(operation, "_mlhooks_atomic", False):
            continue

        @functools.wraps(operation)
        def atomic(
            self: Any, *args: Any, _operation: Any = operation, _write: bool = name in _WRITES, **kwargs: Any
        ) -> Any:
            global _writes
            with _LOCK:
                _writes += _write
                return _operation(self, *args, **kwargs)

        atomic._mlhooks_atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, atomic)


def writes() -> int:
    """How many writes moto's DynamoDB has taken in this process (failed conditions included)."""
    return _writes


@contextmanager
def atomically() -> Iterator[None]:
    """No DynamoDB operation runs meanwhile: a read of the backend sees whole transactions only."""
    with _LOCK:
        yield
