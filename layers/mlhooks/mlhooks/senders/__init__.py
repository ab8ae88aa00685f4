"""The senders: SQS jobs in, deliveries out, every attempt recorded.

`Sender` (base.py) carries the delivery contract common to the three action types; each subclass
only delivers one job and answers with an `Outcome`.
"""

from mlhooks.senders.base import Sender
from mlhooks.senders.queue_job import QueueJobSender
from mlhooks.senders.slack import SlackSender
from mlhooks.senders.webhook import WebhookSender

__all__ = ["QueueJobSender", "Sender", "SlackSender", "WebhookSender"]
