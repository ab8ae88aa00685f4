"""The senders: SQS jobs in, deliveries out, every attempt recorded.

`Sender` (base.py) carries the delivery contract common to the three action types; each subclass
only delivers one job and answers with an `Outcome`. Each function imports its own sender's module,
and this package loads the others only when asked for them by name: the job sender never needs the
HTTP stack the webhook and Slack senders deliver with.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_MODULES = {
    "Sender": "mlhooks.senders.base",
    "QueueJobSender": "mlhooks.senders.queue_job",
    "SlackSender": "mlhooks.senders.slack",
    "WebhookSender": "mlhooks.senders.webhook",
}

__all__ = ["QueueJobSender", "Sender", "SlackSender", "WebhookSender"]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(import_module(_MODULES[name]), name)
    raise AttributeError(f"module 'mlhooks.senders' has no attribute {name!r}")
