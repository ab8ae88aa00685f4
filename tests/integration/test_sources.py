"""Sources: MLflow, W&B and SageMaker deliveries verified, translated, deduplicated, recorded, and
matched like any event; and refused, with nothing published, when they are not what they claim.

The signatures here are computed from the platforms' documented schemes, independently of
mlhooks.signing; tests/e2e/test_mlflow_source.py checks the MLflow side against a real server."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from apiclient import Api
from pipelines import Pipeline
from samples import load_event

from mlhooks.local.sources import run_rule

MLFLOW_SECRET = "mlflow-webhook-secret-0001"
WANDB_SECRET = "wandb-webhook-secret-0002"
WANDB_TOKEN = "wandb-access-token-0003"
REGISTRY = "wandb-registry-model"


def mlflow_signed(
    payload: Any, secret: str = MLFLOW_SECRET, timestamp: int | None = None, delivery_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    delivery_id = delivery_id or str(uuid.uuid4())
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signed = f"{delivery_id}.{stamp}.".encode() + body
    signature = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    headers = {
        "X-MLflow-Signature": f"v1,{signature}",
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Delivery-Id": delivery_id,
    }
    return body, headers


def mlflow_event(entity: str, action: str, **data: Any) -> dict[str, Any]:
    return {"entity": entity, "action": action, "timestamp": "2026-11-25T10:00:00+00:00", "data": data}


ALIAS_CHAMPION = mlflow_event(
    "model_version_alias", "created", name="resnet50", alias="champion", version="3"
)


@pytest.fixture
def mlflow_source(pipeline: Pipeline) -> str:
    admin, base = pipeline.team.admin, pipeline.base
    assert admin.post(f"{base}/secrets", {"name": "MLFLOW_SIGNING", "value": MLFLOW_SECRET}).status == 201
    reply = admin.post(
        f"{base}/sources",
        {"name": "mlflow", "kind": "mlflow", "signing_secret": "MLFLOW_SIGNING", "project": REGISTRY},
    )
    assert reply.status == 201, reply.raw
    return urlsplit(reply.json["inbound_url"]).path


def anonymous(pipeline: Pipeline) -> Api:
    return pipeline.team.admin.as_key(None)


def deliver(pipeline: Pipeline, path: str, body: bytes, headers: dict[str, str]):
    return anonymous(pipeline).post(path, raw=body, headers=headers)


def matched(pipeline: Pipeline) -> int:
    """Run the matcher on what reached the bus, then the webhook sender; how many events it took."""
    taken = run_rule(
        pipeline.fns, pipeline.sqs, "MatcherFunction", pipeline.stack.rule_taps["MatcherFunction"]
    )
    pipeline.drain()
    return taken


def deliveries(pipeline: Pipeline, source: str) -> list[dict[str, Any]]:
    reply = pipeline.team.viewer.get(f"{pipeline.base}/sources/{source}/deliveries")
    assert reply.status == 200, reply.raw
    return reply.json["items"]


# ---- managing sources ------------------------------------------------------------------------------


def test_an_admin_registers_an_mlflow_source_and_is_told_where_mlflow_posts(pipeline, mlflow_source):
    reply = pipeline.team.viewer.get(f"{pipeline.base}/sources/mlflow")
    assert reply.status == 200
    source = reply.json
    assert source["inbound_url"].endswith("/v1/inbound/dev/mlflow")
    assert mlflow_source == "/v1/inbound/dev/mlflow"
    webhook = source["setup"]["mlflow_webhook"]
    assert (
        "model_version_alias.created" in webhook["events"]
        and "registered_model.created" not in webhook["events"]
    )
    assert MLFLOW_SECRET not in json.dumps(source)
    assert source["created_by"] == "alice"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"name": "m", "kind": "mlflow"}, "signing_secret", "needs the secret"),
        ({"name": "m", "kind": "mlflow", "signing_secret": "NOPE"}, "signing_secret", "No secret named NOPE"),
        (
            {"name": "w", "kind": "wandb"},
            "signing_secret",
            "signing_secret, access_token_secret or both",
        ),
        ({"name": "w", "kind": "wandb", "access_token_secret": "NOPE"}, "access_token_secret", "NOPE"),
        (
            {"name": "m", "kind": "mlflow", "signing_secret": "MLFLOW_SIGNING", "account": "123456789012"},
            "account",
            "does not apply to a mlflow source",
        ),
        ({"name": "s", "kind": "sagemaker", "region": "us-east-1"}, "account", "needs the account"),
        (
            {"name": "s", "kind": "sagemaker", "account": "12", "region": "us-east-1"},
            "account",
            "pattern",
        ),
        ({"name": "s", "kind": "kafka"}, "kind", "mlflow"),
    ],
)
def test_a_source_that_cannot_work_is_refused_with_the_field_at_fault(pipeline, body, field, words):
    pipeline.team.admin.post(f"{pipeline.base}/secrets", {"name": "MLFLOW_SIGNING", "value": MLFLOW_SECRET})
    reply = pipeline.team.admin.post(f"{pipeline.base}/sources", body)
    assert reply.status in (400, 422), reply.raw
    error = reply.error
    assert words in json.dumps(error), error
    assert error["field"] == field or any(d.get("field") == field for d in error["details"]), error
    assert pipeline.team.admin.get(f"{pipeline.base}/sources").json["items"] == []


def test_only_admins_register_or_delete_sources_and_names_are_unique(pipeline, mlflow_source):
    body = {"name": "mlflow2", "kind": "mlflow", "signing_secret": "MLFLOW_SIGNING"}
    assert pipeline.team.member.post(f"{pipeline.base}/sources", body).status == 403
    assert pipeline.team.member.delete(f"{pipeline.base}/sources/mlflow").status == 403
    again = pipeline.team.admin.post(f"{pipeline.base}/sources", {**body, "name": "mlflow"})
    assert again.status == 409 and again.error["field"] == "name"


def test_a_secret_a_source_uses_cannot_be_deleted_until_the_source_is(pipeline, mlflow_source):
    admin, base = pipeline.team.admin, pipeline.base
    refused = admin.delete(f"{base}/secrets/MLFLOW_SIGNING")
    assert refused.status == 409 and "source mlflow" in refused.error["message"]
    assert admin.delete(f"{base}/sources/mlflow").status == 204
    assert admin.delete(f"{base}/secrets/MLFLOW_SIGNING").status == 204


def test_another_entitys_sources_and_deliveries_do_not_exist_for_a_key(pipeline, mlflow_source, other_team):
    for path in ("/sources", "/sources/mlflow", "/sources/mlflow/deliveries"):
        assert other_team.admin.get(f"{pipeline.base}{path}").status == 404


# ---- MLflow --------------------------------------------------------------------------------------


def test_an_mlflow_alias_fires_an_automation_with_mlflows_names(pipeline, mlflow_source, receiver):
    pipeline.automation(event={"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "^champion$"}}})
    body, headers = mlflow_signed(ALIAS_CHAMPION)
    reply = deliver(pipeline, mlflow_source, body, headers)
    assert reply.status == 202, reply.raw
    delivery = reply.json["delivery"]
    assert delivery["outcome"] == "accepted"
    assert delivery["platform_event"] == "model_version_alias.created"
    assert [e["detail_type"] for e in delivery["events"]] == ["Artifact Alias Added"]
    assert matched(pipeline) == 1
    [request] = receiver.requests
    sent = json.loads(request.body)["client_payload"]
    assert sent["version"] == f"dev/{REGISTRY}/resnet50:champion"
    assert sent["author"] == "mlflow"
    [execution] = pipeline.executions()
    assert execution["publisher"]["via"] == "source" and execution["publisher"]["source"] == "mlflow"
    assert execution["state"] == "FINISHED"


def test_an_mlflow_version_is_a_link_and_its_metadata_reaches_the_payload(pipeline, mlflow_source, receiver):
    payload = {"event_type": "LINK", "run": "${artifact_metadata.run_id}", "v": "${artifact_version_string}"}
    pipeline.automation(
        event={"type": "LINK_ARTIFACT"},
        action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": payload},
    )
    event = mlflow_event(
        "model_version", "created", name="resnet50", version="4", source="models:/m-1", run_id="r-42", tags={}
    )
    reply = deliver(pipeline, mlflow_source, *mlflow_signed(event))
    assert reply.status == 202, reply.raw
    matched(pipeline)
    assert json.loads(receiver.requests[0].body) == {
        "event_type": "LINK",
        "run": "r-42",
        "v": f"dev/{REGISTRY}/resnet50:v4",
    }


def test_mlflow_sending_a_delivery_again_publishes_it_once(pipeline, mlflow_source, receiver):
    pipeline.automation(event={"type": "ADD_ARTIFACT_ALIAS"})
    body, headers = mlflow_signed(ALIAS_CHAMPION)
    first = deliver(pipeline, mlflow_source, body, headers)
    again = deliver(pipeline, mlflow_source, body, headers)
    assert (first.status, again.status) == (202, 200)
    assert again.json["delivery"]["outcome"] == "duplicate"
    assert again.json["delivery"]["events"][0]["published"] is False
    assert matched(pipeline) == 1
    assert len(receiver.requests) == 1
    assert [d["outcome"] for d in deliveries(pipeline, "mlflow")] == ["duplicate", "accepted"]


@pytest.mark.parametrize(
    ("tamper", "field"),
    [
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "X-MLflow-Signature"}), "X-MLflow-Signature"),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "X-MLflow-Timestamp"}), "X-MLflow-Timestamp"),
        (lambda b, h: (b.replace(b"champion", b"champio0"), h), "X-MLflow-Signature"),
        (lambda b, h: mlflow_signed(ALIAS_CHAMPION, secret="not-the-secret"), "X-MLflow-Signature"),
        (lambda b, h: mlflow_signed(ALIAS_CHAMPION, timestamp=int(time.time()) - 3600), "X-MLflow-Timestamp"),
        (lambda b, h: mlflow_signed(ALIAS_CHAMPION, timestamp=int(time.time()) + 3600), "X-MLflow-Timestamp"),
        (lambda b, h: (b, {**h, "X-MLflow-Timestamp": "yesterday"}), "X-MLflow-Timestamp"),
    ],
)
def test_an_unverified_mlflow_delivery_is_refused_recorded_and_never_published(
    pipeline, mlflow_source, receiver, tamper, field
):
    pipeline.automation(event={"type": "ADD_ARTIFACT_ALIAS"})
    body, headers = tamper(*mlflow_signed(ALIAS_CHAMPION))
    reply = deliver(pipeline, mlflow_source, body, headers)
    assert reply.status == 401, reply.raw
    assert reply.error["code"] == "unverified_delivery" and reply.error["field"] == field
    assert MLFLOW_SECRET not in reply.raw.decode()
    assert matched(pipeline) == 0 and receiver.requests == []
    [record] = deliveries(pipeline, "mlflow")
    assert record["outcome"] == "rejected" and record["reason"] == reply.error["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([1, 2], "body"),
        (
            {"entity": "model_version_alias", "action": "created", "timestamp": "now", "data": {}},
            "body.timestamp",
        ),
        (mlflow_event("model_version_alias", "created", name="resnet50", alias="x"), "body.data.version"),
        (
            mlflow_event("model_version_alias", "created", name="m", alias="x", version="v1"),
            "body.data.version",
        ),
        (mlflow_event("model_version_alias", "created", name="m", alias="x" * 300, version="1"), None),
    ],
)
def test_a_verified_mlflow_delivery_that_makes_no_valid_event_is_refused(
    pipeline, mlflow_source, payload, field
):
    reply = deliver(pipeline, mlflow_source, *mlflow_signed(payload))
    assert reply.status == 422, reply.raw
    if field:
        assert reply.error["field"] == field
    assert matched(pipeline) == 0
    assert deliveries(pipeline, "mlflow")[0]["outcome"] == "rejected"


def test_mlflow_events_without_an_mlhooks_counterpart_are_ignored_with_the_reason(pipeline, mlflow_source):
    for event in (
        mlflow_event("registered_model", "created", name="resnet50", tags={}, description=None),
        mlflow_event("model_version_alias", "deleted", name="resnet50", alias="champion"),
        mlflow_event("future_thing", "happened"),
    ):
        reply = deliver(pipeline, mlflow_source, *mlflow_signed(event))
        assert reply.status == 200, reply.raw
        assert reply.json["delivery"]["outcome"] == "ignored" and reply.json["delivery"]["reason"]
    assert matched(pipeline) == 0


def test_a_source_that_does_not_exist_takes_nothing(pipeline, mlflow_source):
    body, headers = mlflow_signed(ALIAS_CHAMPION)
    for path in ("/v1/inbound/dev/nope", "/v1/inbound/globex/mlflow", "/v1/inbound/bad%23name/x"):
        reply = deliver(pipeline, path, body, headers)
        assert reply.status == 404, (path, reply.raw)
    assert matched(pipeline) == 0


def test_when_the_bus_refuses_the_platform_is_asked_to_retry_and_the_retry_publishes(
    pipeline, mlflow_source, monkeypatch
):
    from mlhooks.components import get_components

    events = get_components().events
    real = events.put_events
    monkeypatch.setattr(
        events, "put_events", lambda **kw: {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "x"}]}
    )
    body, headers = mlflow_signed(ALIAS_CHAMPION)
    refused = deliver(pipeline, mlflow_source, body, headers)
    assert refused.status == 503, refused.raw
    monkeypatch.setattr(events, "put_events", real)
    retried = deliver(pipeline, mlflow_source, body, headers)
    assert retried.status == 202 and retried.json["delivery"]["outcome"] == "accepted"
    assert matched(pipeline) == 1


# ---- W&B -----------------------------------------------------------------------------------------


@pytest.fixture
def wandb_source(pipeline: Pipeline) -> dict[str, Any]:
    admin, base = pipeline.team.admin, pipeline.base
    admin.post(f"{base}/secrets", {"name": "WANDB_SIGNING", "value": WANDB_SECRET})
    admin.post(f"{base}/secrets", {"name": "WANDB_TOKEN", "value": WANDB_TOKEN})
    reply = admin.post(
        f"{base}/sources",
        {
            "name": "wandb",
            "kind": "wandb",
            "signing_secret": "WANDB_SIGNING",
            "access_token_secret": "WANDB_TOKEN",
        },
    )
    assert reply.status == 201, reply.raw
    return reply.json


def wandb_body(source: dict[str, Any], kind: str, **values: str) -> bytes:
    """The source's payload template for this event type, filled in as W&B fills its variables."""
    text = source["setup"]["payload_templates"][kind]
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, text
    return text.encode()


def wandb_headers(body: bytes, encoding: str = "hex", token: str = WANDB_TOKEN) -> dict[str, str]:
    digest = hmac.new(WANDB_SECRET.encode(), body, hashlib.sha256).digest()
    signature = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    return {"X-Wandb-Signature": signature, "Authorization": f"Bearer {token}"}


ALIAS_VALUES = {
    "event_type": "ADD_ARTIFACT_ALIAS",
    "event_author": "wandb-user",
    "entity_name": "wandb-team",
    "project_name": REGISTRY,
    "artifact_collection_name": "resnet50",
    "artifact_version": "wandb-artifact://_id/QXJ0aWZhY3Q6MTIz",
    "artifact_version_string": "wandb-team/wandb-registry-model/resnet50:production",
    "alias": "production",
}


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_a_wandb_alias_forwarded_with_the_pasted_template_fires_in_mlhooks(
    pipeline, wandb_source, receiver, encoding
):
    pipeline.automation()  # ADD_ARTIFACT_ALIAS, alias ^prod, on resnet50
    body = wandb_body(wandb_source, "ADD_ARTIFACT_ALIAS", **ALIAS_VALUES)
    path = urlsplit(wandb_source["inbound_url"]).path
    reply = deliver(pipeline, path, body, wandb_headers(body, encoding))
    assert reply.status == 202, reply.raw
    assert matched(pipeline) == 1
    sent = json.loads(receiver.requests[0].body)["client_payload"]
    assert sent["author"] == "wandb-user"
    assert sent["version"] == f"dev/{REGISTRY}/resnet50:production"


def test_a_wandb_run_state_becomes_a_run_state_event_and_metric_alerts_are_ignored(pipeline, wandb_source):
    path = "/v1/inbound/dev/wandb"
    body = wandb_body(
        wandb_source,
        "RUN_STATE",
        event_type="RUN_STATE",
        event_author="wandb-user",
        entity_name="wandb-team",
        project_name="training",
        run_name="exp-42",
        run_status="failed",
    )
    reply = deliver(pipeline, path, body, wandb_headers(body))
    assert reply.status == 202, reply.raw
    assert reply.json["delivery"]["events"][0]["detail_type"] == "Run State Changed"
    metric = json.dumps({"event_type": "RUN_METRIC_THRESHOLD", "project_name": "training"}).encode()
    ignored = deliver(pipeline, path, metric, wandb_headers(metric))
    assert ignored.status == 200 and ignored.json["delivery"]["outcome"] == "ignored"


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        (lambda b: {"Authorization": f"Bearer {WANDB_TOKEN}"}, "X-Wandb-Signature"),
        (lambda b: {**wandb_headers(b), "X-Wandb-Signature": "0" * 64}, "X-Wandb-Signature"),
        (lambda b: {"X-Wandb-Signature": wandb_headers(b)["X-Wandb-Signature"]}, "Authorization"),
        (lambda b: wandb_headers(b, token="wrong-token"), "Authorization"),
    ],
)
def test_a_wandb_delivery_needs_every_credential_its_source_names(pipeline, wandb_source, headers, field):
    body = wandb_body(wandb_source, "ADD_ARTIFACT_ALIAS", **ALIAS_VALUES)
    reply = deliver(pipeline, "/v1/inbound/dev/wandb", body, headers(body))
    assert reply.status == 401 and reply.error["field"] == field, reply.raw
    assert WANDB_TOKEN not in reply.raw.decode() and WANDB_SECRET not in reply.raw.decode()
    assert matched(pipeline) == 0


# ---- SageMaker -----------------------------------------------------------------------------------


def sagemaker_source(pipeline: Pipeline, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "sagemaker",
        "kind": "sagemaker",
        "account": "123456789012",
        "region": "us-east-1",
        **fields,
    }
    reply = pipeline.team.admin.post(f"{pipeline.base}/sources", body)
    assert reply.status == 201, reply.raw
    return reply.json


def put_sagemaker(pipeline: Pipeline, sample: str, **detail: Any) -> None:
    """Put a SageMaker event on the default bus, as SageMaker does, and run the inbound function's rule."""
    envelope = copy.deepcopy(load_event(sample))
    envelope["detail"].update(detail)
    answer = boto3.client("events", region_name="us-east-1").put_events(
        Entries=[
            {
                "Source": envelope["source"],
                "DetailType": envelope["detail-type"],
                "Detail": json.dumps(envelope["detail"]),
                "Resources": envelope["resources"],
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0
    run_rule(pipeline.fns, pipeline.sqs, "InboundFunction", pipeline.stack.rule_taps["InboundFunction"])


def test_a_sagemaker_approval_sent_twice_fires_once_as_the_alias_approved(pipeline, receiver):
    source = sagemaker_source(pipeline, project=REGISTRY)
    assert source["setup"]["eventbridge_rule"]["enabled"] is True
    pipeline.automation(event={"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "^approved$"}}})
    put_sagemaker(pipeline, "sagemaker-model-package-approved.json", ModelPackageGroupName="resnet50")
    put_sagemaker(pipeline, "sagemaker-model-package-approved.json", ModelPackageGroupName="resnet50")
    assert matched(pipeline) == 2  # the version and its approval; the second send published nothing
    [request] = receiver.requests
    assert json.loads(request.body)["client_payload"]["author"] == "erin"
    assert [d["outcome"] for d in deliveries(pipeline, "sagemaker")] == ["duplicate", "accepted"]


def test_a_failed_sagemaker_training_job_is_a_failed_run_in_the_project_its_tag_names(pipeline, receiver):
    sagemaker_source(pipeline, match_tags={"team": "vision"})
    pipeline.automation(
        scope={"type": "PROJECT", "project": "training"},
        event={"type": "RUN_STATE", "states": ["FAILED"]},
        action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": {"run": "${run_name}"}},
    )
    put_sagemaker(pipeline, "sagemaker-training-job-failed.json")
    put_sagemaker(pipeline, "sagemaker-training-job-failed.json", TrainingJobStatus="Stopped")
    put_sagemaker(pipeline, "sagemaker-training-job-failed.json", Tags={"mlhooks:project": "training"})
    matched(pipeline)
    assert [json.loads(r.body) for r in receiver.requests] == [{"run": "resnet50-finetune-42"}]
    outcomes = [(d["outcome"], d["reason"]) for d in deliveries(pipeline, "sagemaker")]
    assert outcomes[0][0] == "ignored" and "team" in outcomes[0][1]
    assert outcomes[2] == ("accepted", None)


def test_mlflow_names_outside_mlhooks_names_become_collections_that_keep_the_original(
    pipeline, mlflow_source
):
    names = {}
    for name in ("Fraud Detector", "modèle-français", "_private", "x" * 200):
        event = mlflow_event("model_version_alias", "created", name=name, alias="champion", version="1")
        reply = deliver(pipeline, mlflow_source, *mlflow_signed(event))
        assert reply.status == 202, reply.raw
        names[name] = reply.json["delivery"]["events"][0]["collection"]
    assert names["Fraud Detector"].startswith("Fraud-Detector-")
    assert names["modèle-français"].startswith("modele-francais-")
    assert len(set(names.values())) == 4 and all(len(n) <= 128 for n in names.values())


def test_only_the_entities_the_operator_names_register_sagemaker_sources(pipeline, monkeypatch):
    pipeline.configure(monkeypatch, MLHOOKS_SAGEMAKER_ENTITIES="globex")
    body = {"name": "sm", "kind": "sagemaker", "account": "123456789012", "region": "us-east-1"}
    reply = pipeline.team.admin.post(f"{pipeline.base}/sources", body)
    assert reply.status == 403 and "SageMakerEntities" in reply.error["message"]
    pipeline.configure(monkeypatch, MLHOOKS_SAGEMAKER_ENTITIES="globex,dev")
    assert pipeline.team.admin.post(f"{pipeline.base}/sources", body).status == 201


def test_a_sagemaker_account_and_region_belong_to_one_entity(pipeline, other_team):
    sagemaker_source(pipeline)
    body = {"name": "sm", "kind": "sagemaker", "account": "123456789012", "region": "us-east-1"}
    reply = other_team.admin.post(f"{other_team.base}/sources", body)
    assert reply.status == 409 and reply.error["field"] == "account"
    assert pipeline.team.admin.delete(f"{pipeline.base}/sources/sagemaker").status == 204
    assert other_team.admin.post(f"{other_team.base}/sources", body).status == 201


def test_a_sagemaker_event_of_an_account_no_source_takes_is_dropped(pipeline, receiver):
    pipeline.automation(event={"type": "ADD_ARTIFACT_ALIAS"})
    put_sagemaker(pipeline, "sagemaker-model-package-approved.json")
    assert matched(pipeline) == 0


@pytest.mark.parametrize("bus_source", ["mlhooks.platform", "mlhooks.api"])
def test_an_event_claiming_a_source_is_believed_only_from_the_inbound_functions_source(
    pipeline, receiver, bus_source
):
    """Only mlhooks.sources events (which the bus policy lets the inbound function alone publish)
    may say a source published them; anyone else saying so is the bus's own publisher."""
    pipeline.automation()
    envelope = load_event("platform-alias-added.json")
    envelope["source"] = bus_source
    envelope["detail"]["publisher"] = {"via": "source", "source": "mlflow"}
    pipeline.deliver(envelope)
    [execution] = pipeline.executions()
    assert execution["publisher"]["via"] == "eventbridge"


def test_a_source_whose_secret_lost_its_value_refuses_and_says_so_in_its_log(pipeline, mlflow_source):
    from mlhooks.components import get_components

    get_components().vault.erase("dev", "MLFLOW_SIGNING")
    reply = deliver(pipeline, mlflow_source, *mlflow_signed(ALIAS_CHAMPION))
    assert reply.status == 401 and "MLFLOW_SIGNING" not in reply.raw.decode()
    assert "rotates it" in deliveries(pipeline, "mlflow")[0]["reason"]
    assert matched(pipeline) == 0


# ---- what a first user's review found ------------------------------------------------------------


def test_a_sagemaker_approval_fires_when_it_changes_not_when_the_package_does(pipeline, receiver):
    sagemaker_source(pipeline, project=REGISTRY)
    pipeline.automation(
        event={"type": "ADD_ARTIFACT_ALIAS"},
        action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": {"alias": "${alias}"}},
    )
    sample = "sagemaker-model-package-approved.json"
    put_sagemaker(pipeline, sample)  # approved
    put_sagemaker(pipeline, sample, LastModifiedTime="2026-11-21T10:00:00.000Z")  # a description edit
    put_sagemaker(
        pipeline, sample, ModelApprovalStatus="Rejected", LastModifiedTime="2026-11-22T10:00:00.000Z"
    )
    put_sagemaker(pipeline, sample, LastModifiedTime="2026-11-23T10:00:00.000Z")  # approved again
    matched(pipeline)
    fired = sorted(json.loads(r.body)["alias"] for r in receiver.requests)
    assert fired == ["approved", "approved", "rejected"]  # not a third "approved" for the edit


def test_a_rotated_secret_verifies_at_once(pipeline, mlflow_source):
    first = deliver(pipeline, mlflow_source, *mlflow_signed(ALIAS_CHAMPION))
    assert first.status == 202  # the old value is cached now
    rotated = "mlflow-webhook-secret-rotated"
    assert (
        pipeline.team.admin.put(f"{pipeline.base}/secrets/MLFLOW_SIGNING", {"value": rotated}).status == 200
    )
    event = mlflow_event("model_version_alias", "created", name="resnet50", alias="staging", version="3")
    assert deliver(pipeline, mlflow_source, *mlflow_signed(event, secret=rotated)).status == 202


def test_a_body_carrying_the_sources_own_secret_is_refused_and_nothing_of_it_kept(pipeline, wandb_source):
    values = {**ALIAS_VALUES, "event_author": WANDB_TOKEN, "event_type": WANDB_TOKEN}
    text = wandb_source["setup"]["payload_templates"]["ADD_ARTIFACT_ALIAS"]
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    body = text.encode()
    reply = deliver(pipeline, "/v1/inbound/dev/wandb", body, wandb_headers(body))
    assert reply.status == 422 and reply.error["field"] == "body"
    [record] = deliveries(pipeline, "wandb")
    for shown in (reply.raw.decode(), json.dumps(record)):
        assert WANDB_TOKEN not in shown and WANDB_TOKEN.upper() not in shown
    assert matched(pipeline) == 0


def test_mlflows_test_webhook_is_verified_and_fires_nothing(pipeline, mlflow_source, receiver):
    pipeline.automation(event={"type": "LINK_ARTIFACT"})
    example = mlflow_event(
        "model_version",
        "created",
        name="example_model",
        version="1",
        source="models:/123",
        run_id="abcd1234abcd5678",
        tags={"example_key": "example_value"},
        description="An example model version",
    )
    reply = deliver(pipeline, mlflow_source, *mlflow_signed(example))
    assert reply.status == 200 and reply.json["delivery"]["outcome"] == "ignored"
    assert "test" in reply.json["delivery"]["reason"]
    assert matched(pipeline) == 0


def test_a_source_made_again_under_its_name_starts_afresh(pipeline, mlflow_source):
    body, headers = mlflow_signed(ALIAS_CHAMPION)
    assert deliver(pipeline, mlflow_source, body, headers).status == 202
    admin, base = pipeline.team.admin, pipeline.base
    assert admin.delete(f"{base}/sources/mlflow").status == 204
    again = {"name": "mlflow", "kind": "mlflow", "signing_secret": "MLFLOW_SIGNING", "project": REGISTRY}
    assert admin.post(f"{base}/sources", again).status == 201
    assert deliveries(pipeline, "mlflow") == []
    assert deliver(pipeline, mlflow_source, body, headers).json["delivery"]["outcome"] == "accepted"


def test_deliveries_filter_by_outcome_and_unverified_ones_are_kept_a_day(pipeline, mlflow_source):
    from mlhooks.components import get_components

    deliver(pipeline, mlflow_source, *mlflow_signed(ALIAS_CHAMPION))
    deliver(pipeline, mlflow_source, *mlflow_signed(ALIAS_CHAMPION, secret="forged"))
    base = f"{pipeline.base}/sources/mlflow/deliveries"
    for outcome in ("accepted", "rejected"):
        items = pipeline.team.viewer.get(base, query=f"outcome={outcome}").json["items"]
        assert [d["outcome"] for d in items] == [outcome]
    assert pipeline.team.viewer.get(base, query="outcome=lost").status == 400
    table = get_components().store.table
    kept = {
        item["outcome"]: int(item["expires_at"]) - int(time.time())
        for item in table.scan()["Items"]
        if item["SK"].startswith("SRCDLV#")
    }
    assert kept["rejected"] <= 24 * 3600 < kept["accepted"]


def test_an_event_too_large_to_keep_is_refused_when_it_arrives(pipeline, mlflow_source):
    metadata = {f"k{i}": "x" * 1000 for i in range(80)}
    detail = {**load_event("platform-alias-added.json")["detail"], "event_id": "big-1"}
    detail["artifact"] = {**detail["artifact"], "metadata": metadata}
    detail.pop("author")
    reply = pipeline.team.member.post(
        "/v1/events", {"events": [{"detail_type": "Artifact Alias Added", "detail": detail}]}
    )
    assert reply.status == 422 and "bytes as JSON" in reply.error["message"], reply.raw
    long = mlflow_event("model_version", "created", name="m", version="1", description="d" * 200_000)
    accepted = deliver(pipeline, mlflow_source, *mlflow_signed(long))
    assert accepted.status == 202  # MLflow's long description is cut in the metadata, not refused


# ---- what the second review found ----------------------------------------------------------------


def approvals(pipeline: Pipeline, receiver, *changes: tuple[str, str]) -> list[str]:
    """Put one package's approval changes (status, LastModifiedTime) on the bus; the aliases fired."""
    sagemaker_source(pipeline, project=REGISTRY)
    payload = {"alias": "${alias}"}
    pipeline.automation(
        event={"type": "ADD_ARTIFACT_ALIAS"},
        action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": payload},
    )
    for status, at in changes:
        put_sagemaker(
            pipeline, "sagemaker-model-package-approved.json", ModelApprovalStatus=status, LastModifiedTime=at
        )
    matched(pipeline)
    return sorted(json.loads(r.body)["alias"] for r in receiver.requests)


def test_a_late_repeat_of_an_old_approval_does_not_hide_the_next_one(pipeline, receiver):
    fired = approvals(
        pipeline,
        receiver,
        ("Approved", "2026-11-20T10:00:00Z"),
        ("Approved", "2026-11-20T10:05:00Z"),
        ("Rejected", "2026-11-20T10:10:00Z"),
        ("Approved", "2026-11-20T10:00:00Z"),  # the first one again, late
        ("Approved", "2026-11-20T10:15:00Z"),
    )
    assert fired == ["approved", "approved", "rejected"]


def test_back_to_approved_after_pending_fires_again_and_an_older_change_never(pipeline, receiver):
    fired = approvals(
        pipeline,
        receiver,
        ("Approved", "2026-11-20T10:00:00Z"),
        ("PendingManualApproval", "2026-11-20T10:05:00Z"),
        ("Approved", "2026-11-20T10:10:00Z"),
        ("Rejected", "2026-11-20T09:00:00Z"),  # older than what the source has seen: out of order
    )
    assert fired == ["approved", "approved"]


def test_the_same_wandb_body_after_the_dedupe_window_is_a_new_event(pipeline, wandb_source):
    from mlhooks.components import get_components
    from mlhooks.sources import SourceService
    from mlhooks.sources.base import Delivery

    pipeline.automation()
    body = wandb_body(wandb_source, "ADD_ARTIFACT_ALIAS", **ALIAS_VALUES)
    headers = {k.lower(): v for k, v in wandb_headers(body).items()}
    now = [time.time()]
    service = SourceService(get_components(), clock=lambda: now[0])
    outcomes = []
    for later in (0, 60, 16 * 60):
        now[0] += later
        outcomes.append(service.receive_http("dev", "wandb", Delivery(headers, body)).outcome.value)
    assert outcomes == ["accepted", "duplicate", "accepted"]
    assert matched(pipeline) == 2
    assert len(pipeline.executions()) == 2


def test_a_field_of_an_unforeseen_type_is_a_422_never_a_500(pipeline, mlflow_source):
    for data in (
        {"name": ["m"], "version": "1"},
        {"name": {"a": 1}, "version": "1"},
        {"name": "m", "version": [1]},
    ):
        event = mlflow_event("model_version", "created", **data)
        reply = deliver(pipeline, mlflow_source, *mlflow_signed(event))
        assert reply.status == 422, reply.raw
    assert [d["outcome"] for d in deliveries(pipeline, "mlflow")] == ["rejected"] * 3


def test_a_request_too_large_to_keep_is_sent_once_and_kept_cut(pipeline, receiver):
    payload = {f"a{i}": "${artifact_metadata.big}" for i in range(8)}
    pipeline.automation(action={"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": payload})
    envelope = load_event("platform-alias-added.json")
    envelope["detail"]["artifact"]["metadata"] = {"big": "x" * 60_000}
    pipeline.deliver(envelope)
    [execution] = pipeline.executions()
    assert execution["state"] == "FINISHED" and len(receiver.requests) == 1
    assert len(receiver.requests[0].body) > 480_000
    kept = pipeline.execution(execution["id"])["request"]["body"]
    assert len(kept) < 20_000 and "not kept" in kept


def test_real_mlflow_names_and_texts_of_any_allowed_size_are_taken(pipeline, mlflow_source):
    not_a_test = mlflow_event(
        "model_version", "created", name="example_model", version="2", source="s3://example-bucket/m"
    )
    long_name = mlflow_event("model_version", "created", name="n" * 250, version="1")
    big_tag = mlflow_event("model_version_tag", "set", name="m", version="1", key="notes", value="v" * 70_000)
    many_tags = mlflow_event(
        "model_version", "created", name="m", version="3", tags={f"t{i}": "v" * 5000 for i in range(20)}
    )
    for event in (not_a_test, long_name, big_tag, many_tags):
        reply = deliver(pipeline, mlflow_source, *mlflow_signed(event))
        assert reply.status == 202 and reply.json["delivery"]["outcome"] == "accepted", reply.raw


def test_a_secret_spelled_in_json_escapes_is_refused_too(pipeline, mlflow_source):
    escaped = "".join(f"\\u{ord(c):04x}" for c in MLFLOW_SECRET)
    raw = (
        '{"entity": "model_version", "action": "created", "timestamp": "2026-11-25T10:00:00+00:00", '
        f'"data": {{"name": "m", "version": "1", "description": "{escaped}"}}}}'
    ).encode()
    stamp, delivery_id = str(int(time.time())), str(uuid.uuid4())
    signed = f"{delivery_id}.{stamp}.".encode() + raw
    signature = base64.b64encode(hmac.new(MLFLOW_SECRET.encode(), signed, hashlib.sha256).digest()).decode()
    headers = {
        "X-MLflow-Signature": f"v1,{signature}",
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Delivery-Id": delivery_id,
    }
    reply = deliver(pipeline, mlflow_source, raw, headers)
    assert reply.status == 422 and MLFLOW_SECRET not in reply.raw.decode()
    assert MLFLOW_SECRET not in json.dumps(deliveries(pipeline, "mlflow"))
    assert matched(pipeline) == 0


def test_sagemaker_events_stop_when_the_operator_takes_the_entity_off_the_list(
    pipeline, receiver, monkeypatch
):
    sagemaker_source(pipeline, project=REGISTRY)
    pipeline.automation(event={"type": "ADD_ARTIFACT_ALIAS"})
    pipeline.configure(monkeypatch, MLHOOKS_SAGEMAKER_ENTITIES="globex")
    put_sagemaker(pipeline, "sagemaker-model-package-approved.json")
    assert matched(pipeline) == 0 and receiver.requests == []


def test_a_wandb_source_signs_and_authenticates_with_two_secrets(pipeline, wandb_source):
    body = {
        "name": "w2",
        "kind": "wandb",
        "signing_secret": "WANDB_SIGNING",
        "access_token_secret": "WANDB_SIGNING",
    }
    reply = pipeline.team.admin.post(f"{pipeline.base}/sources", body)
    assert reply.status == 400 and reply.error["field"] == "access_token_secret", reply.raw


# ---- what the third review found -----------------------------------------------------------------


def test_a_wandb_source_never_signs_with_the_token_it_sends(pipeline, wandb_source):
    admin, base = pipeline.team.admin, pipeline.base
    admin.post(f"{base}/secrets", {"name": "SAME_A", "value": "same-value-for-both-1234"})
    admin.post(f"{base}/secrets", {"name": "SAME_B", "value": "same-value-for-both-1234"})
    body = {"name": "w3", "kind": "wandb", "signing_secret": "SAME_A", "access_token_secret": "SAME_B"}
    reply = admin.post(f"{base}/sources", body)
    assert reply.status == 422 and reply.error["field"] == "access_token_secret", reply.raw
    assert admin.get(f"{base}/sources/w3").status == 404
    rotated = admin.put(f"{base}/secrets/WANDB_TOKEN", {"value": WANDB_SECRET})
    assert rotated.status == 422 and WANDB_SECRET not in rotated.raw.decode()


def test_a_sagemaker_version_is_new_once_and_a_running_job_once(pipeline, receiver):
    from mlhooks.components import get_components
    from mlhooks.sources import SourceService

    sagemaker_source(pipeline, project=REGISTRY)
    service = SourceService(get_components(), clock=lambda: time.time() + 3 * 24 * 3600)  # past any window
    package = load_event("sagemaker-model-package-approved.json")
    first = service.receive_event(package)
    later = copy.deepcopy(package)
    later["detail"]["ModelPackageDescription"] = "edited"
    later["detail"]["LastModifiedTime"] = "2026-11-24T10:00:00.000Z"
    again = service.receive_event(later)
    assert [e.published for e in first.events] == [True, True]
    assert [e.published for e in again.events] == [False, False]
    job = copy.deepcopy(load_event("sagemaker-training-job-failed.json"))
    job["detail"] |= {"TrainingJobStatus": "InProgress", "LastModifiedTime": 1795000100000}
    assert service.receive_event(job).outcome.value == "accepted"
    job["detail"] |= {"SecondaryStatus": "Training", "LastModifiedTime": 1795000200000}
    assert service.receive_event(job).outcome.value == "duplicate"


def test_mlflow_texts_of_any_size_mlflow_allows_fit_in_one_event(pipeline, mlflow_source):
    tags = {("k" * 240) + f"{i:03d}": "ü" * 1500 for i in range(100)}
    event = mlflow_event(
        "model_version", "created", name="n" * 250, version="1", description="d" * 1500, tags=tags
    )
    body, headers = mlflow_signed(event)
    assert len(body) > 256 * 1024  # MLflow writes JSON with ASCII escapes
    reply = deliver(pipeline, mlflow_source, body, headers)
    assert reply.status == 202, reply.raw[:300]


def test_the_inbound_url_takes_post_only(pipeline, mlflow_source):
    reply = anonymous(pipeline).get(mlflow_source)
    assert reply.status == 405 and reply.error["code"] == "method_not_allowed"
