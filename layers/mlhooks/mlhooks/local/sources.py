"""Lambda's event sources, run locally: SQS event source mappings (batches, partial failures) and
EventBridge rule targets, each one turn at a time (tests drive turns) or continuously in threads.

A rule's target on AWS is the function itself; these functions live in this process, where moto's
EventBridge cannot reach them, so provisioning points each rule at a "tap" queue instead and a turn
of the rule here invokes the function once for each event on it.

An observer, if given, hears of each batch and event after its function ran (the dev terminal's
lines are made from what the functions recorded).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from mlhooks.clock import now_iso
from mlhooks.local.functions import Functions
from mlhooks.local.stack import REGION


class Observer(Protocol):
    def batch_done(self, function: str, messages: list[dict[str, Any]], since: str) -> None:
        """The function was given these messages; `since` is when (as mlhooks writes times)."""

    def event_done(self, function: str, event: dict[str, Any], result: Any) -> None:
        """The function took this event and answered `result`."""


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to a function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def run_batch(
    fns: Functions,
    sqs: Any,
    function: str,
    queue_url: str,
    queue_arn: str,
    batch: int,
    report_failures: bool,
    wait_seconds: int = 0,
    observer: Observer | None = None,
) -> int:
    """One turn of an SQS event source mapping: receive up to `batch` messages, invoke the function,
    delete what succeeded (with ReportBatchItemFailures, all but the reported items; if the function
    raised, none). Returns how many messages were received."""
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=batch,
        WaitTimeSeconds=wait_seconds,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    if not messages:
        return 0
    since = now_iso()
    try:
        result = fns.invoke(function, {"Records": [sqs_record(m, queue_arn) for m in messages]})
        failed = (
            {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            if report_failures
            else set()
        )
    except Exception:
        logging.getLogger("mlhooks.local").exception("%s failed on a batch", function)
        failed = {m["MessageId"] for m in messages}  # the whole batch comes back
    done = [m for m in messages if m["MessageId"] not in failed]
    for start in range(0, len(done), 10):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ],
        )
    if observer is not None:
        observer.batch_done(function, messages, since)
    return len(messages)


def run_rule(
    fns: Functions,
    sqs: Any,
    function: str,
    tap_url: str,
    wait_seconds: int = 0,
    observer: Observer | None = None,
) -> int:
    """One turn of EventBridge -> Lambda: each event on the rule's tap queue, one invocation each;
    a failed invocation leaves the event to be retried, then dead-lettered by the tap's redrive."""
    messages = sqs.receive_message(
        QueueUrl=tap_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
    ).get("Messages", [])
    for message in messages:
        try:
            event = json.loads(message["Body"])
            result = fns.invoke(function, event)
        except Exception:
            logging.getLogger("mlhooks.local").exception("%s failed on an event", function)
            continue
        sqs.delete_message(QueueUrl=tap_url, ReceiptHandle=message["ReceiptHandle"])
        if observer is not None:
            observer.event_done(function, event, result)
    return len(messages)


class Poller:
    """Lambda's event source mappings, run continuously in threads."""

    def __init__(self, fns: Functions, sqs: Any, stop: threading.Event, observer: Observer | None = None):
        self.fns = fns
        self.sqs = sqs
        self.stop = stop
        self.observer = observer
        self.errors = 0

    def _loop(self, turn: Callable[[], int]) -> None:
        while not self.stop.is_set():
            try:
                turn()
            except Exception:  # keep polling through a hiccup of moto or a shutdown race
                self.errors += 1
                time.sleep(0.2)

    def poll_queue(
        self, function: str, queue_url: str, queue_arn: str, batch: int, report_failures: bool
    ) -> None:
        self._loop(
            lambda: run_batch(
                self.fns, self.sqs, function, queue_url, queue_arn, batch, report_failures, 1, self.observer
            )
        )

    def poll_rule(self, function: str, tap_url: str) -> None:
        self._loop(lambda: run_rule(self.fns, self.sqs, function, tap_url, 1, self.observer))
