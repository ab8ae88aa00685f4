"""Run queues: the SQS queues that QUEUE_JOB automations send job specs to, registered by an admin.

A member's automation names a run queue; it can never name a URL. What an admin may register is
checked when it is saved and again before every send, because a job put on the wrong queue is a
message in someone else's system:
- the queue is in this stack's account and region (the same SQS endpoint and account as the stack's
  own queues), so the job sender's IAM policy is what decides;
- its name matches `RunQueueNames`, the IAM resource-name pattern that policy allows;
- it is none of the stack's own queues (webhook, Slack, job, their dead-letter queues, events);
- no other entity registered it: a queue belongs to one entity;
- it exists (one GetQueueAttributes call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import re2
from botocore.exceptions import ClientError

from mlhooks.clock import now_iso
from mlhooks.errors import Conflict, InvalidInput, NotFound, listing
from mlhooks.models.records import RunQueueRecord
from mlhooks.settings import Settings
from mlhooks.store import Store

# The whole URL, as SQS writes it: no query, fragment, user info, whitespace or extra path.
_QUEUE_URL = re.compile(
    r"^(?P<origin>https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)/(?P<account>[0-9]{12})/(?P<name>[A-Za-z0-9_-]{1,80}(\.fifo)?)$"
)
# SQS answers these when a queue is missing or not ours to use.
_MISSING = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})


@dataclass(frozen=True)
class QueueAddress:
    origin: str  # scheme://host[:port] of the SQS endpoint
    account: str
    name: str

    @property
    def key(self) -> str:
        """What identifies the queue whatever URL spelling names it."""
        return f"{self.account}/{self.name}"


def parse_queue_url(url: str) -> QueueAddress | None:
    match = _QUEUE_URL.fullmatch(url)
    if match is None:
        return None
    return QueueAddress(match["origin"].lower(), match["account"], match["name"])


def name_pattern(pattern: str) -> Any:
    """An IAM resource-name pattern (`*` any run of characters, `?` one) as a linear-time regex."""
    translated = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re2.compile(f"(?s:{translated})")


class RunQueueRules:
    """Where jobs may go, from the stack's settings."""

    def __init__(self, settings: Settings):
        own = [a for a in map(parse_queue_url, settings.own_queue_urls) if a is not None]
        stack = parse_queue_url(settings.job_queue_url)
        self.home = (stack.origin, stack.account) if stack else None
        self.own_keys = {a.key for a in own}
        self.pattern_text = settings.run_queue_names
        self.pattern = name_pattern(settings.run_queue_names)

    def problem(self, address: QueueAddress | None) -> str | None:
        """Why jobs may not go to this queue, or None."""
        if address is None:
            return (
                "Give the queue's URL as SQS shows it: https://sqs.<region>.amazonaws.com/<account>/<name>."
            )
        if self.home is None:
            return "This stack has no job queue configured, so it sends no jobs."
        if (address.origin, address.account) != self.home:
            return "The queue must be in this stack's AWS account and region."
        if address.key in self.own_keys:
            return "That is one of mlhooks' own queues; register a queue of your own."
        if self.pattern.fullmatch(address.name) is None:
            return (
                f"The queue's name must match the stack's RunQueueNames pattern ({self.pattern_text}), "
                "the queues its job sender may write to."
            )
        return None


class RunQueueService:
    def __init__(self, store: Store, sqs: Any, settings: Settings):
        self.store = store
        self.sqs = sqs
        self.rules = RunQueueRules(settings)

    def create(self, entity: str, fields: dict[str, Any]) -> RunQueueRecord:
        address = parse_queue_url(fields["url"])
        problem = self.rules.problem(address)
        if problem:
            raise InvalidInput(problem, field="url")
        assert address is not None
        self._check_exists(fields["url"])
        record = RunQueueRecord(entity=entity, created_at=now_iso(), **fields)
        self.store.create_run_queue(record, address.key)
        return record

    def _check_exists(self, url: str) -> None:
        try:
            self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in _MISSING:
                raise InvalidInput("No such queue: create it in SQS first.", field="url") from None
            if code in _DENIED:
                raise InvalidInput("mlhooks is not allowed to use this queue.", field="url") from None
            raise

    def get(self, entity: str, name: str) -> RunQueueRecord:
        record = self.store.get_run_queue(entity, name)
        if record is None:
            raise NotFound(f"No run queue {name}.")
        return record

    def list(
        self, entity: str, limit: int | None = None, token: str | None = None
    ) -> tuple[list[RunQueueRecord], str | None]:
        return self.store.list_run_queues(entity, limit, token)

    def delete(self, entity: str, name: str) -> None:
        record = self.get(entity, name)
        address = parse_queue_url(record.url)
        assert address is not None

        def in_use() -> Conflict:
            users = [a.name for a in self.store.automations_using(entity, "RUNQUEUE", name)]
            return Conflict(
                f"Run queue {name} is used by automations {listing([repr(u) for u in users])}; "
                "delete them or point them elsewhere first.",
                field="name",
                details=[{"field": "name", "message": "in use", "used_by": users}],
            )

        self.store.delete_run_queue(record, address.key, in_use)

    def destination(self, entity: str, name: str) -> tuple[RunQueueRecord | None, str | None]:
        """The queue a job goes to, checked again now (the settings may have changed since it was
        saved), or the reason it may not be sent."""
        record = self.store.get_run_queue(entity, name)
        if record is None:
            return None, f"run queue {name} no longer exists"
        address = parse_queue_url(record.url)
        problem = self.rules.problem(address)
        if problem:
            return None, f"run queue {name} may not be used: {problem}"
        # The record and the queue's ownership marker are written and removed together, so a record
        # in this entity's partition means the queue is this entity's.
        return record, None
