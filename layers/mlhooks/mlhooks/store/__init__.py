"""All DynamoDB access: one table, items keyed by entity (the layout is in keys.py).

The store is one object for its callers, made of one part per concept, each in its own module and
all built on the same helpers (table.py)."""

from __future__ import annotations

from mlhooks.store.access import AccessStore
from mlhooks.store.automations import AutomationsRevision, AutomationStore
from mlhooks.store.executions import ExecutionStore
from mlhooks.store.integrations import IntegrationStore
from mlhooks.store.projects import ProjectStore
from mlhooks.store.run_queues import RunQueueStore
from mlhooks.store.run_state import RunStateStore
from mlhooks.store.secrets import SecretStore
from mlhooks.store.sources import SourceStore

__all__ = ["AutomationsRevision", "Store"]


class Store(
    AccessStore,
    SecretStore,
    IntegrationStore,
    RunQueueStore,
    ProjectStore,
    AutomationStore,
    ExecutionStore,
    RunStateStore,
    SourceStore,
):
    """The table, through every concept's reads and writes."""
