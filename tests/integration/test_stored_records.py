"""Stored items stay readable when the models move on: a field an earlier version stored and this one
no longer has is dropped when read, while the API still refuses unknown fields in requests."""

from __future__ import annotations

import json

import boto3
from samples import load_event

from mlhooks.store import keys


def add_retired_fields(entity: str, automation_id: str) -> None:
    """Rewrite an automation's stored document as a future or past version might have left it."""
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("mlhooks-local-Table")
    key = keys.item(entity, keys.automation(automation_id))
    doc = json.loads(table.get_item(Key=key)["Item"]["doc"])
    doc["retired_top_level_option"] = True
    doc["scope"]["retired_scope_option"] = "x"
    doc["event"]["retired_event_option"] = [1, 2]
    doc["action"]["retired_action_option"] = {"a": 1}
    table.update_item(
        Key=key, UpdateExpression="SET doc = :doc", ExpressionAttributeValues={":doc": json.dumps(doc)}
    )


def test_an_automation_with_fields_this_version_does_not_know_still_reads_and_fires(pipeline, receiver):
    automation = pipeline.automation()
    add_retired_fields("dev", automation["id"])
    read = pipeline.team.viewer.get(f"{pipeline.base}/automations/{automation['id']}")
    assert read.status == 200 and read.json["action"]["webhook"] == "github"
    assert "retired_action_option" not in json.dumps(read.json)
    pipeline.deliver(load_event("platform-alias-added.json"))
    assert [e["state"] for e in pipeline.executions()] == ["FINISHED"] and len(receiver.requests) == 1


def test_a_request_with_an_unknown_field_is_still_refused(pipeline):
    body = {
        "name": "n",
        "scope": {"type": "ENTITY", "retired_scope_option": "x"},
        "event": {"type": "CREATE_ARTIFACT"},
        "action": {"type": "NO_OP"},
    }
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", body)
    assert reply.status == 400 and reply.error["field"] == "scope.retired_scope_option"


def rewrite(entity: str, sk: str, change) -> None:  # type: ignore[no-untyped-def]
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("mlhooks-local-Table")
    key = keys.item(entity, sk)
    doc = json.loads(table.get_item(Key=key)["Item"]["doc"])
    change(doc)
    table.update_item(
        Key=key, UpdateExpression="SET doc = :doc", ExpressionAttributeValues={":doc": json.dumps(doc)}
    )


def test_an_automation_this_version_cannot_read_does_not_stop_the_others(pipeline, receiver, caplog):
    unreadable = pipeline.automation(name="written by a newer version")
    healthy = pipeline.automation(name="healthy")
    rewrite(
        "dev", keys.automation(unreadable["id"]), lambda d: d["action"].update(type="SEND_CARRIER_PIGEON")
    )
    pipeline.deliver(load_event("platform-alias-added.json"))
    assert [e["automation_id"] for e in pipeline.executions()] == [healthy["id"]]
    assert len(receiver.requests) == 1
    assert f"AUTOMATION#{unreadable['id']}" in caplog.text  # the operator is told which item
    listed = pipeline.team.viewer.get(f"{pipeline.base}/automations").json["items"]
    assert [a["id"] for a in listed] == [healthy["id"]]


def test_rules_tightened_since_an_automation_was_saved_do_not_make_it_unreadable(pipeline, receiver):
    """A legacy event type name and a run state no longer accepted on save: read as they were saved."""
    linked = pipeline.automation(name="on link", event={"type": "LINK_ARTIFACT"})
    rewrite("dev", keys.automation(linked["id"]), lambda d: d["event"].update(type="LINK_MODEL"))
    run_state = pipeline.automation(
        name="run state",
        scope={"type": "PROJECT", "project": "training"},
        event={"type": "RUN_STATE", "states": ["FAILED"]},
    )
    rewrite("dev", keys.automation(run_state["id"]), lambda d: d["event"].update(states=["FAILED", "KILLED"]))
    for automation, event_type in ((linked, "LINK_ARTIFACT"), (run_state, "RUN_STATE")):
        read = pipeline.team.viewer.get(f"{pipeline.base}/automations/{automation['id']}")
        assert read.status == 200 and read.json["event"]["type"] == event_type


def test_an_execution_whose_stored_event_has_a_retired_field_is_still_delivered(pipeline, receiver):
    receiver.statuses = [503]
    pipeline.automation()
    pipeline.match(load_event("platform-alias-added.json"))
    [summary] = pipeline.executions()
    rewrite("dev", keys.execution(summary["id"]), lambda d: d["event"].update(retired_event_field="x"))
    pipeline.drain()
    execution = pipeline.execution(summary["id"])
    assert execution["state"] == "FINISHED"
    assert [a["status_code"] for a in execution["attempts"]] == [503, 200]
