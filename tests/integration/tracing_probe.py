"""Run by test_tracing.py in a fresh interpreter each, and never collected on its own (not `test_*`):
what tracing does is process-wide (the X-Ray SDK patches botocore for good), and whether its SDK was
imported at all is only a fair question in a process that started clean."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import pytest
from pipelines import alias_event

from mlhooks import tracing
from mlhooks.clock import iso
from mlhooks.settings import get_settings


def recent_event() -> dict[str, Any]:
    return alias_event(time=iso(dt.datetime.now(dt.UTC)))


def test_off_delivers_without_ever_importing_the_xray_sdk(pipeline, receiver):
    pipeline.automation()
    pipeline.deliver(recent_event())
    assert [e["state"] for e in pipeline.executions()] == ["FINISHED"]
    assert not tracing.enabled()
    loaded = sorted(name for name in sys.modules if name.startswith("aws_xray_sdk"))
    print("PROBE " + json.dumps({"xray_modules": loaded}))
    assert loaded == []


class Captured:
    """Stands in for the X-Ray daemon's UDP emitter: keeps what would be sent."""

    def __init__(self) -> None:
        self.entities: list[dict[str, Any]] = []

    def send_entity(self, entity: Any) -> None:
        self.entities.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address: Any) -> None:
        pass

    @property
    def ip(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return 2000


def flattened(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    pending = list(entities)
    while pending:
        entity = pending.pop()
        found.append(entity)
        pending.extend(entity.get("subsegments", []))
    return found


def test_on_traces_the_lookups_the_delivery_and_every_aws_call(pipeline, receiver, monkeypatch):
    pipeline.automation()
    pipeline.configure(monkeypatch, POWERTOOLS_TRACE_DISABLED="false")  # new containers, tracing on
    assert tracing.start(get_settings()) and tracing.enabled()
    from aws_xray_sdk.core import xray_recorder

    captured = Captured()
    monkeypatch.setattr(xray_recorder, "_emitter", captured)
    pipeline.deliver(recent_event())
    assert [e["state"] for e in pipeline.executions()] == ["FINISHED"]

    segments = flattened(captured.entities)
    names = {s["name"] for s in segments}
    print("PROBE " + json.dumps({"names": sorted(names)}))
    assert {"lookup automations", "record executions", "enqueue jobs", "deliver", "outbound request"} <= names
    assert {"dynamodb", "sqs", "secretsmanager"} <= names  # botocore, patched
    [outbound] = [s for s in segments if s["name"] == "outbound request"]
    assert outbound["annotations"]["status_code"] == 200
    [deliver] = [s for s in segments if s["name"] == "deliver"]
    assert deliver["annotations"]["action"] == "GENERIC_WEBHOOK" and deliver["annotations"]["attempt"] == 1
    assert "outbound request" in {s["name"] for s in flattened(deliver.get("subsegments", []))} or any(
        s["name"] == "outbound request" and s.get("parent_id") == deliver["id"] for s in segments
    )
    trace_ids = {s.get("trace_id") for s in captured.entities}
    assert trace_ids == {"1-5759e988-bd862e3fe1be46a994272793"}
    # The webhook's URL (a credential, for some receivers) is in no trace.
    assert receiver.url.split("://")[1] not in json.dumps(captured.entities)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
