"""Execution history; retrying, redelivering and canceling an execution; and publishing platform
events through the API.

A retry or a cancel is decided on the execution as read and written only over that version, and
only while no sender holds its lease: an attempt under way is never doubled by a retry nor
overtaken by a cancel (the request is refused until the attempt is recorded). A retry queues a new
job that the execution names; the job it replaces is dropped unsent when its message comes back
(jobs.py). Exactly one job of an execution is ever current, so one attempt at a time is made.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from mlhooks.access import Caller
from mlhooks.clock import now_iso
from mlhooks.components import Components
from mlhooks.errors import BusUnavailable, Conflict, Forbidden, InvalidInput, NotFound
from mlhooks.jobs import Job, action_queue
from mlhooks.models.events import API_SOURCE, DETAIL_TYPES, Publisher
from mlhooks.models.records import ExecutionRecord
from mlhooks.models.vocabulary import REDELIVERABLE_STATES, ExecutionState

logger = Logger(service="mlhooks")
# How often a retry or a cancel reads the execution again when it changed under the request (a
# sender recorded an attempt meanwhile, another request got there first) before it gives up.
CHANGE_ATTEMPTS = 3


class Published(NamedTuple):
    """An event put on the bus: mlhooks' id for it and EventBridge's."""

    event_id: str
    eventbridge_id: str


def as_published_by(caller: Caller, detail: dict[str, Any], index: int) -> dict[str, Any]:
    """The event's detail as `caller` may publish it: a member's key publishes as that member (the
    author, and the user of a run event, default to the member and may not name anyone else); a
    service key may name any author. The publisher is always recorded, never taken from the body."""
    detail = {**detail, "author": detail.get("author", caller.member)}
    if isinstance(detail.get("run"), dict):
        detail["run"] = {"user": caller.member, **detail["run"]}
    if not caller.service:
        run = detail.get("run")
        named = [("author", detail["author"])]
        if isinstance(run, dict) and "user" in run:
            named.append(("run.user", run["user"]))
        for field, who in named:
            if who != caller.member:
                raise Forbidden(
                    f"Your key publishes as {caller.member}; only a service key (an admin makes one with "
                    '"service": true) may publish for another author.',
                    field=f"events[{index}].detail.{field}",
                )
    publisher = Publisher(via="api", key_id=caller.key_id, member=caller.member, service=caller.service)
    return {**detail, "publisher": publisher.model_dump()}


def ended(record: ExecutionRecord) -> str:
    """How an execution that is not sent again ended, for the message that says so."""
    if record.state is ExecutionState.FINISHED:
        return "it was delivered"
    return f"nothing was sent: {record.reason}" if record.reason else "nothing was sent"


class ExecutionService:
    def __init__(self, components: Components, *, clock: Callable[[], float] = time.time):
        self.components = components
        self.store = components.store
        self.clock = clock

    def get(self, entity: str, execution_id: str) -> ExecutionRecord:
        record = self.store.get_execution(entity, execution_id)
        if record is None:
            raise NotFound(f"No execution {execution_id}.", field="execution_id")
        return record

    def retry(self, entity: str, execution_id: str) -> ExecutionRecord:
        """Deliver the execution now, with the automation and integration as they are now: a
        PENDING one without waiting out its backoff, a FAILED or CANCELED one again (a redelivery,
        with a new round of attempts). A new job is queued and named in the execution; the job it
        replaces, if its message is still on the queue, is dropped unsent when it comes back."""
        for _ in range(CHANGE_ATTEMPTS):
            record = self.get(entity, execution_id)
            if record.state is not ExecutionState.PENDING and record.state not in REDELIVERABLE_STATES:
                raise Conflict(
                    "Only PENDING, FAILED and CANCELED executions are sent again; this one is "
                    f"{record.state.value} ({ended(record)}).",
                    field="state",
                )
            at = now_iso()
            queued = record.model_copy(
                update={
                    "state": ExecutionState.PENDING,
                    "reason": None,
                    "deliveries": record.deliveries + 1,
                    "job_id": uuid.uuid4().hex,
                    "canceled_by": None,
                    "canceled_at": None,
                    "updated_at": at,
                }
            )
            written = self.store.replace_execution(record, queued, int(self.clock()))
            if written is not None:
                self._queue(record, written)
                return written
            self._refuse_while_delivering(record, "retry")
        raise self._kept_changing()

    def cancel(self, caller: Caller, entity: str, execution_id: str, reason: str | None) -> ExecutionRecord:
        """End a PENDING execution before its next attempt. Its job is dropped unsent when its
        message comes back; a retry can still send it later, as a redelivery."""
        for _ in range(CHANGE_ATTEMPTS):
            record = self.get(entity, execution_id)
            if record.state is not ExecutionState.PENDING:
                raise Conflict(
                    f"Only a PENDING execution can be canceled; this one is {record.state.value}.",
                    field="state",
                )
            at = now_iso()
            canceled = record.model_copy(
                update={
                    "state": ExecutionState.CANCELED,
                    "reason": f"canceled by {caller.member}" + (f": {reason}" if reason else ""),
                    "canceled_by": caller.member,
                    "canceled_at": at,
                    "updated_at": at,
                }
            )
            written = self.store.replace_execution(record, canceled, int(self.clock()))
            if written is not None:
                return written
            self._refuse_while_delivering(record, "cancel")
        raise self._kept_changing()

    def _queue(self, before: ExecutionRecord, queued: ExecutionRecord) -> None:
        try:
            self.components.sqs.send_message(
                QueueUrl=action_queue(self.components.settings, queued.action_type),
                MessageBody=Job.of(queued).body(),
            )
        except Exception:
            # No job was queued: put the execution back as it was (waiting for its earlier job, if
            # that is still on the queue) rather than leave it waiting for a job that does not exist.
            if self.store.replace_execution(queued, before, int(self.clock())) is None:
                logger.error(
                    "an execution whose job could not be queued changed meanwhile",
                    extra={"execution_id": queued.id},
                )
            raise

    def _refuse_while_delivering(self, record: ExecutionRecord, verb: str) -> None:
        """After a write that did not hold: refuse if a sender is delivering an attempt right now;
        otherwise the execution merely changed, and the caller reads it again."""
        now = self.clock()
        until = self.store.delivery_lease(record.entity, record.id)
        if until is not None and until >= now:
            raise Conflict(
                f"An attempt of this execution is being delivered right now; {verb} it once that "
                f"attempt is recorded (within {math.ceil(until - now) + 1} seconds).",
                field="state",
            )

    @staticmethod
    def _kept_changing() -> Conflict:
        return Conflict(
            "The execution kept changing while this request ran; fetch it and try again.", field="state"
        )

    def publish(self, caller: Caller, events: list[tuple[str, dict[str, Any]]]) -> list[Published]:
        """Validate every event (all or nothing: every problem of every event is reported at once),
        then put them on the bus, each recording the key and member that published it. `events` are
        (detail-type, detail) pairs; a detail without `entity` is for the key's entity."""
        entity = caller.entity
        entries, problems = [], []
        for index, (detail_type, detail) in enumerate(events):
            model = DETAIL_TYPES.get(detail_type)
            if model is None:
                problems.append(
                    {
                        "field": f"events[{index}].detail_type",
                        "message": f"unknown detail_type {detail_type[:100]!r}; "
                        f"known: {', '.join(DETAIL_TYPES)}",
                    }
                )
                continue
            found = len(problems)
            if detail.get("entity", entity) != entity:
                problems.append(
                    {
                        "field": f"events[{index}].detail.entity",
                        "message": f"events are published for your key's entity ({entity})",
                    }
                )
            try:
                parsed = model.model_validate(as_published_by(caller, {"entity": entity, **detail}, index))
            except ValidationError as exc:
                problems += [
                    {
                        "field": f"events[{index}].detail." + ".".join(str(p) for p in error["loc"]),
                        "message": str(error["msg"]).removeprefix("Value error, "),
                    }
                    for error in exc.errors(include_input=False)
                ]
            if len(problems) > found:
                continue
            entries.append(
                {
                    "Source": API_SOURCE,
                    "DetailType": detail_type,
                    "Detail": parsed.model_dump_json(),
                    "EventBusName": self.components.settings.event_bus_name,
                }
            )
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more, in details)" if len(problems) > 1 else ""
            raise InvalidInput(
                f"Invalid events: {first['field']}: {first['message']}{more}.",
                field=first["field"],
                details=problems,
            )
        answer = self.components.events.put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            # Publishing again is safe: the matcher dedupes on event_id.
            raise BusUnavailable(
                "EventBridge refused some events; publish the batch again.",
                details=[
                    {"field": f"events[{i}]", "message": e.get("ErrorMessage", "")}
                    for i, e in enumerate(answer["Entries"])
                    if e.get("ErrorCode")
                ],
            )
        return [
            Published(event_id=json.loads(entry["Detail"])["event_id"], eventbridge_id=result["EventId"])
            for entry, result in zip(entries, answer["Entries"], strict=True)
        ]
