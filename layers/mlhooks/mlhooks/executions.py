"""Execution history and redelivery, and publishing platform events through the API."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from pydantic import ValidationError

from mlhooks.access import Caller
from mlhooks.components import Components
from mlhooks.errors import BusUnavailable, Conflict, Forbidden, InvalidInput, NotFound
from mlhooks.jobs import Job, action_queue
from mlhooks.models.events import API_SOURCE, DETAIL_TYPES, Publisher
from mlhooks.models.records import ExecutionRecord
from mlhooks.models.vocabulary import ExecutionState


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


class ExecutionService:
    def __init__(self, components: Components):
        self.components = components
        self.store = components.store

    def get(self, entity: str, execution_id: str) -> ExecutionRecord:
        record = self.store.get_execution(entity, execution_id)
        if record is None:
            raise NotFound(f"No execution {execution_id}.")
        return record

    def redeliver(self, entity: str, execution_id: str) -> ExecutionRecord:
        """Send a FAILED execution again, with the automation and integration as they are now."""
        record = self.get(entity, execution_id)
        if record.state is not ExecutionState.FAILED:
            raise Conflict(
                f"Only FAILED executions are redelivered; this one is {record.state.value}.", field="state"
            )
        if not self.store.reopen_execution(record):
            raise Conflict("The execution changed concurrently; fetch it again.", field="state")
        try:
            self.components.sqs.send_message(
                QueueUrl=action_queue(self.components.settings, record.action_type),
                MessageBody=Job.of(record).body(),
            )
        except Exception:
            # No job was queued: put the execution back as it was rather than leave it PENDING forever.
            self.store.save_execution(
                self.get(entity, execution_id).model_copy(
                    update={"state": ExecutionState.FAILED, "reason": record.reason}
                )
            )
            raise
        return self.get(entity, execution_id)

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
