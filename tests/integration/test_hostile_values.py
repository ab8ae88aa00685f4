"""Values built to break what they pass through: names that grow when case-folded, templates nested
past the stack, union mistakes. Each gets a clear 4xx (or works), never a 500, and logs stay small."""

from __future__ import annotations

import json
import logging

import pytest

pytestmark = pytest.mark.suite("no 500")


@pytest.fixture
def scopes(team):
    project, collection = "p" * 128, "c" * 128  # the longest names allowed
    team.admin.post(f"{team.base}/projects", {"name": project})
    team.admin.post(f"{team.base}/projects/{project}/collections", {"name": collection})
    return {"type": "ARTIFACT_COLLECTION", "project": project, "collection": collection}


@pytest.mark.parametrize(
    "name",
    ["ΐ" * 128, "ﬃ" * 128, "ß" * 128, "İ" * 128, "\U0001d400" * 128],
    ids=["iota with dialytika and tonos", "ffi ligature", "sharp s", "dotted I", "math bold A"],
)
def test_a_name_that_grows_when_case_folded_is_saved_and_unique(team, scopes, name):
    body = {"name": name, "scope": scopes, "event": {"type": "CREATE_ARTIFACT"}, "action": {"type": "NO_OP"}}
    created = team.member.post(f"{team.base}/automations", body)
    assert created.status == 201, created.raw
    again = team.member.post(f"{team.base}/automations", body)
    assert again.status == 409 and again.error["field"] == "name"


def test_control_characters_in_an_automation_name_are_refused(team):
    body = {"name": "line\nbreak", "scope": {"type": "ENTITY"}, "event": {"type": "CREATE_ARTIFACT"}}
    reply = team.member.post(f"{team.base}/automations", {**body, "action": {"type": "NO_OP"}})
    assert reply.status == 400 and reply.error["field"] == "name"


def nested(depth: int) -> str:
    return '{"a":' * depth + '"${event_type}"' + "}" * depth


@pytest.mark.parametrize("depth", [33, 990, 5000])
def test_a_payload_template_nested_past_the_limit_is_a_422_with_a_small_log(
    team, allow_loopback, receiver, caplog, depth
):
    caplog.set_level(logging.DEBUG)
    team.admin.post(f"{team.base}/webhooks", {"name": "gh", "url": receiver.url})
    body = {
        "name": "deep",
        "scope": {"type": "ENTITY"},
        "event": {"type": "CREATE_ARTIFACT"},
        # As JSON text, which the body's own depth check cannot see into.
        "action": {"type": "GENERIC_WEBHOOK", "webhook": "gh", "payload": nested(depth)},
    }
    reply = team.member.post(f"{team.base}/automations", body)
    assert reply.status == 422 and reply.error["field"] == "action.payload"
    assert "nests deeper" in reply.error["message"]
    assert max(len(line) for line in caplog.text.splitlines()) < 10_000


def test_a_test_payload_nested_past_the_limit_is_a_422(team, allow_loopback, receiver):
    team.admin.post(f"{team.base}/webhooks", {"name": "gh", "url": receiver.url})
    reply = team.admin.post(f"{team.base}/webhooks/gh/test", {"payload": nested(3000)})
    assert reply.status == 422 and reply.error["field"] == "payload"
    assert not receiver.requests


def test_a_metric_condition_mistake_names_the_one_mistake_and_the_accepted_values(team):
    team.admin.post(f"{team.base}/projects", {"name": "training"})
    body = {
        "name": "loss",
        "scope": {"type": "PROJECT", "project": "training"},
        "event": {"type": "RUN_METRIC_THRESHOLD", "metric": {"name": "loss", "cmp": "<", "threshold": 1}},
        "action": {"type": "NO_OP"},
    }
    reply = team.member.post(f"{team.base}/automations", body)
    assert reply.status == 400 and reply.error["field"] == "event.metric.cmp"
    message = reply.error["message"]
    assert "more" not in message and "$lt" in message and "<" not in message.replace("'<'", "")
    assert len(reply.error["details"]) == 1, json.dumps(reply.error["details"])
