"""Waiting on another process (the local runtime in its own process, a server starting up): poll
until what is awaited is there, with a deadline. Never used to order this process's own threads;
those use events."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3


def eventually[T](probe: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """The first truthy answer of `probe`; an AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last saw {answer!r}")
        time.sleep(interval)


def pipeline_idle(runtime: dict[str, Any]) -> Callable[[], bool]:
    """A probe: every queue of the running local stack (not its dead-letter queues, not the run queues
    jobs are sent to for someone else to take) is empty, with nothing in flight. The matcher
    enqueues its jobs before its event is deleted, and a sender records an attempt before its job is,
    so once this holds every event published before it has been matched and every job delivered (or
    dead-lettered).

    One look at the queues is not one moment: it reads them one after another, so a job the matcher
    enqueued after its queue was read, and before it deleted the event whose queue was read next,
    was in neither. Two clean looks in a row close that gap: the second reads every queue after the
    first found the events' queues empty, so after every job they led to was enqueued."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=runtime["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]

    def clean_look() -> bool:
        urls = sqs.list_queues().get("QueueUrls", [])
        return not any(
            int(v)
            for url in urls
            if not url.endswith("DLQ") and "/mlhooks-runs-" not in url
            for v in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"].values()
        )

    def idle() -> bool:
        return clean_look() and clean_look()

    return idle
