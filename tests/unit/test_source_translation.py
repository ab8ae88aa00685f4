"""Each kind's mapping onto mlhooks' events, case by case, as the README's tables state it."""

from __future__ import annotations

import copy
import json

import pytest
from samples import load_event

from mlhooks.models.events import DETAIL_TYPES
from mlhooks.models.sources import SourceRecord
from mlhooks.signing import sign_v1
from mlhooks.sources import mlflow, sagemaker, wandb
from mlhooks.sources.base import Delivery, Unreadable, Unverified

STAMP = {"created_at": "2026-11-25T00:00:00.000Z", "created_by": "alice", "entity": "acme"}
MLFLOW = SourceRecord(name="mlflow", kind="mlflow", signing_secret="S", **STAMP)
PROMPTS = SourceRecord(name="m", kind="mlflow", signing_secret="S", version_event="CREATE_ARTIFACT", **STAMP)
SAGEMAKER = SourceRecord(name="sm", kind="sagemaker", account="123456789012", region="us-east-1", **STAMP)


def valid(translation) -> list[tuple[str, dict]]:
    """The events, each checked against the schema the matcher reads it with."""
    for detail_type, detail in translation.events:
        DETAIL_TYPES[detail_type].model_validate({**detail, "entity": "acme"})
    return translation.events


def mlflow_payload(entity: str, action: str, **data) -> dict:
    return {"entity": entity, "action": action, "timestamp": "2026-11-25T10:00:00+00:00", "data": data}


@pytest.mark.parametrize(
    ("source", "entity", "action", "data", "detail_type", "checks"),
    [
        (MLFLOW, "model_version", "created", {"name": "m", "version": "2"}, "Artifact Linked", {}),
        (PROMPTS, "prompt_version", "created", {"name": "p", "version": "1"}, "Artifact Version Created", {}),
        (MLFLOW, "model_version_tag", "set", {"name": "m", "version": "2", "key": "k", "value": "v"},
         "Artifact Tag Added", {"tag": "k"}),
        (MLFLOW, "prompt_version_tag", "deleted", {"name": "p", "version": "2", "key": "k"},
         "Artifact Tag Removed", {"tag": "k"}),
        (MLFLOW, "prompt_alias", "created", {"name": "p", "version": "2", "alias": "prod"},
         "Artifact Alias Added", {"alias": "prod"}),
        (MLFLOW, "prompt_tag", "set", {"name": "p", "key": "team", "value": "nlp"}, "Collection Tag Added",
         {"tag": "team"}),
    ],
)  # fmt: skip
def test_mlflow_events_map_as_documented(source, entity, action, data, detail_type, checks):
    [(kind, detail)] = valid(mlflow.translate(mlflow_payload(entity, action, **data), source, "d-1"))
    assert kind == detail_type
    assert detail["project"] == "mlflow-registry" and detail["author"] == "mlflow"
    assert all(detail[k] == v for k, v in checks.items())
    if "artifact" in detail:
        assert detail["artifact"]["version_index"] == int(data["version"])
        assert detail["artifact"]["type"] == ("prompt" if entity.startswith("prompt") else "model")


def test_an_mlflow_delivery_id_makes_the_event_id():
    payload = mlflow_payload("model_version", "created", name="m", version="1")
    first = mlflow.translate(payload, MLFLOW, "d-1").events[0][1]["event_id"]
    assert first == mlflow.translate(payload, MLFLOW, "d-1").events[0][1]["event_id"]
    assert first != mlflow.translate(payload, MLFLOW, "d-2").events[0][1]["event_id"]


def test_mlflow_verification_checks_the_signature_before_the_clock():
    body = b'{"entity": "model_version"}'
    headers = {
        "x-mlflow-signature": sign_v1(b"secret", "d-1", "1000", body),
        "x-mlflow-timestamp": "1000",
        "x-mlflow-delivery-id": "d-1",
    }
    assert mlflow.verify(Delivery(headers, body), "secret", now=1100, tolerance=300) == "d-1"
    with pytest.raises(Unverified, match="400 s ago"):
        mlflow.verify(Delivery(headers, body), "secret", now=1400, tolerance=300)
    with pytest.raises(Unverified, match="does not match"):
        mlflow.verify(Delivery(headers, body), "other", now=1400, tolerance=300)


def sm_event(sample: str, **detail) -> dict:
    event = copy.deepcopy(load_event(sample))
    event["detail"].update(detail)
    return event


@pytest.mark.parametrize(
    ("status", "approval", "expected"),
    [
        ("Completed", "Approved", ["Artifact Linked", "Artifact Alias Added"]),
        ("Completed", "Rejected", ["Artifact Linked", "Artifact Alias Added"]),
        ("Completed", "PendingManualApproval", ["Artifact Linked"]),
        ("InProgress", "PendingManualApproval", []),
        ("Failed", "Approved", []),
    ],
)
def test_a_model_package_is_a_version_once_completed_and_its_approval_an_alias(status, approval, expected):
    event = sm_event(
        "sagemaker-model-package-approved.json", ModelPackageStatus=status, ModelApprovalStatus=approval
    )
    translation = sagemaker.translate(event, SAGEMAKER)
    events = valid(translation)
    assert [t for t, _ in events] == expected
    assert bool(translation.ignored) == (not expected)
    aliases = [d["alias"] for t, d in events if t == "Artifact Alias Added"]
    assert aliases == ([approval.lower()] if len(expected) == 2 else [])


@pytest.mark.parametrize(
    ("status", "state"),
    [("InProgress", "RUNNING"), ("Completed", "FINISHED"), ("Failed", "FAILED"), ("Stopped", "KILLED"),
     ("Stopping", None)],
)  # fmt: skip
def test_a_training_jobs_status_is_a_run_state(status, state):
    translation = sagemaker.translate(
        sm_event("sagemaker-training-job-failed.json", TrainingJobStatus=status), SAGEMAKER
    )
    states = [d["run"]["state"] for _, d in valid(translation)]
    assert states == ([state] if state else [])
    if state:
        assert translation.events[0][1]["project"] == "training"  # its mlhooks:project tag


def test_one_change_sent_twice_has_one_event_id_and_a_new_change_another():
    event = sm_event("sagemaker-model-package-approved.json")
    again = copy.deepcopy(event) | {"id": "another-eventbridge-id", "time": "2026-11-20T17:00:20Z"}
    ids = [d["event_id"] for _, d in sagemaker.translate(event, SAGEMAKER).events]
    assert ids == [d["event_id"] for _, d in sagemaker.translate(again, SAGEMAKER).events]
    later = sm_event("sagemaker-model-package-approved.json", LastModifiedTime="2026-11-21T09:00:00.000Z")
    later_ids = [d["event_id"] for _, d in sagemaker.translate(later, SAGEMAKER).events]
    assert later_ids[0] == ids[0] and later_ids[1] != ids[1]  # same version, a new approval


def test_the_origin_of_an_event_without_an_account_is_its_resources_arn():
    event = sm_event("sagemaker-training-job-failed.json")
    assert sagemaker.origin(event) == ("123456789012", "us-east-1")
    del event["account"]
    assert sagemaker.origin(event) == ("123456789012", "us-east-1")
    event["resources"] = ["not-an-arn"]
    assert sagemaker.origin(event) == ("123456789012", "us-east-1")  # the job's own ARN
    del event["detail"]["TrainingJobArn"]
    assert sagemaker.origin(event) is None


@pytest.mark.parametrize("event_type", sorted(wandb.TEMPLATE_VARIABLES))
def test_every_wandb_template_reads_back(event_type):
    values = {
        "event_type": event_type,
        "event_author": "u",
        "entity_name": "team",
        "project_name": "proj",
        "artifact_collection_name": "c",
        "artifact_version": "wandb-artifact://_id/abc",
        "artifact_version_string": "team/proj/c:v7",
        "alias": "prod",
        "tag": "t",
        "run_name": "r",
        "run_status": "finished",
    }
    text = wandb.payload_template(event_type)
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    [(detail_type, detail)] = valid(wandb.translate(json.loads(text), MLFLOW, "digest"))
    assert DETAIL_TYPES[detail_type].event_type.value == event_type
    if "artifact" in detail:
        assert detail["artifact"]["version_index"] == 7 and detail["artifact"]["id"] == "abc"


def test_a_wandb_run_status_that_is_not_a_state_is_refused():
    payload = {
        "event_type": "RUN_STATE",
        "event_author": "u",
        "project_name": "p",
        "run_name": "r",
        "run_status": "x",
    }
    with pytest.raises(Unreadable, match="run_status"):
        wandb.translate(payload, MLFLOW, "digest")


def test_platform_times_sort_as_one_format_whatever_their_spelling():
    from mlhooks.sources.base import as_of

    spellings = [
        "2026-11-20T10:00:00Z",
        "2026-11-20T10:00:00.000Z",
        "2026-11-20T11:00:00+01:00",
        1795168800000,
    ]
    assert len({as_of(s) for s in spellings}) == 1
    assert (
        as_of("2026-11-20T10:00:00Z") < as_of("2026-11-20T10:00:00.500Z") < as_of("2026-11-20T10:00:01+00:00")
    )
    assert as_of(1e20, "2026-11-20T10:00:00Z") == as_of("2026-11-20T10:00:00Z")  # out of range: the fallback
    assert as_of(float("inf")) == as_of("not a time") == ""
