"""Each pipeline function on the sample events in events/, as `sam local invoke` would run it."""

from __future__ import annotations

import json

import pytest
from samples import EVENTS, load_event

from mlhooks.models.events import schema_documents

PLATFORM_SAMPLES = sorted(p.name for p in EVENTS.glob("platform-*.json") if "malformed" not in p.name)


@pytest.mark.parametrize("sample", PLATFORM_SAMPLES)
def test_every_platform_sample_is_accepted_by_the_matcher(gateway, sample):
    report = gateway.fns.invoke("MatcherFunction", load_event(sample))
    assert report["rejected"] is None and report["event_id"] == load_event(sample)["detail"]["event_id"]


def test_malformed_sample_is_rejected(gateway):
    report = gateway.fns.invoke("MatcherFunction", load_event("platform-malformed.json"))
    assert report["rejected"] and report["problems"][0]["field"]  # what the dev terminal names


def test_foreign_source_is_rejected(gateway):
    envelope = {**load_event("platform-alias-added.json"), "source": "someone.else"}
    assert "source" in gateway.fns.invoke("MatcherFunction", envelope)["rejected"]


@pytest.mark.parametrize("function", ["WebhookSenderFunction", "SlackSenderFunction", "JobSenderFunction"])
def test_sender_sample_batch_acks_unknown_job_and_reports_poison(gateway, aws, function):
    kind = function.removesuffix("SenderFunction").lower()
    event = load_event(f"{kind}-sender-batch.json")
    # The receipt handles are samples; give the poison message a real one to release.
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = aws.refs[f"{kind.capitalize()}Queue"]
    sqs.send_message(QueueUrl=queue, MessageBody="not a job")
    event["Records"][1]["receiptHandle"] = sqs.receive_message(QueueUrl=queue)["Messages"][0]["ReceiptHandle"]
    result = gateway.fns.invoke(function, event)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


def test_committed_event_schemas_are_current():
    for name, document in schema_documents().items():
        committed = json.loads((EVENTS / "schemas" / f"{name}.json").read_text())
        assert committed == json.loads(json.dumps(document)), f"run `mlhooks schemas` ({name})"


def test_every_detail_type_has_a_sample():
    from mlhooks.models.events import DETAIL_TYPES

    sampled = {load_event(name)["detail-type"] for name in PLATFORM_SAMPLES}
    assert sampled == set(DETAIL_TYPES)
