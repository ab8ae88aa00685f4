"""A toy training loop logs through `mlhooks.Client(...).run(...)` against `make dev`: a loss alert
fires once and the failed run notifies Slack; a run whose mlhooks is stopped trains on regardless.
And the README's QUEUE_JOB walk-through: a job on the dev runtime's demo run queue."""

from __future__ import annotations

import json
import math
import uuid

import boto3
import pytest
import requests
from e2e.conftest import running_runtime
from waiting import eventually, pipeline_idle

import mlhooks
from mlhooks.client import runs

pytestmark = pytest.mark.e2e


def client_for(runtime) -> mlhooks.Client:
    return mlhooks.Client(runtime["api_url"], runtime["admin_key"])


def slack_messages(runtime, channel: str) -> list[dict]:
    messages = requests.get(f"{runtime['inbox_url']}/", timeout=5).json()["slack_messages"]
    return [m for m in messages if m.get("channel") == channel]


def test_a_training_loop_logs_metrics_that_fire_a_loss_alert_and_a_failed_run_alert(local_runtime):
    client = client_for(local_runtime)
    tag = uuid.uuid4().hex[:6]
    project, channel = f"train-{tag}", f"C0{tag.upper()}"
    client.projects.create(project)
    client.secrets.set(f"BOT_{tag}", "xoxb-run-logger")
    client.slack.create(
        {
            "name": f"alerts-{tag}",
            "bot_token_secret": f"BOT_{tag}",
            "channel_id": channel,
            "channel_name": "train",
        }
    )
    client.automations.create(
        {
            "name": "loss below 0.1",
            "scope": {"type": "PROJECT", "project": project},
            "event": {
                "type": "RUN_METRIC_THRESHOLD",
                "metric": {"name": "loss", "agg": "AVERAGE", "window": 5, "cmp": "$lt", "threshold": 0.1},
            },
            "action": {"type": "NOTIFICATION", "slack": f"alerts-{tag}", "title": "${run_name}: loss is low"},
        }
    )
    client.automations.create(
        {
            "name": "run failed",
            "scope": {"type": "PROJECT", "project": project},
            "event": {"type": "RUN_STATE", "states": ["FAILED"]},
            "action": {
                "type": "NOTIFICATION",
                "slack": f"alerts-{tag}",
                "title": "${run_name} ${run_status}",
            },
        }
    )

    run = client.run(project=project, name=f"toy-{tag}")
    for step in range(120):
        run.log({"loss": 2.0 * math.exp(-0.03 * step), "lr": 0.001})
    assert run.finish("FAILED") is True
    assert (run.sent, run.dropped) == (121, 0)

    eventually(pipeline_idle(local_runtime), timeout=120, what="the run's events")
    titles = [json.dumps(m) for m in slack_messages(local_runtime, channel)]
    assert len(titles) == 2, titles
    assert sum(f"toy-{tag}: loss is low" in t for t in titles) == 1
    assert sum(f"toy-{tag} FAILED" in t for t in titles) == 1


def test_a_training_loop_is_not_held_up_when_mlhooks_is_stopped(tmp_path):
    with running_runtime(tmp_path) as stopped:
        client = client_for(stopped)
        client.projects.create("training")
    # The runtime is gone now; the client still points at it.
    run = client.run(project="training", name="offline", buffer=100)
    for step in range(1000):
        run.log({"loss": 1 / (step + 1)})
    assert run.finish(timeout=1) is False  # nothing could be sent, and finish did not wait longer
    assert run.sent == 0 and run.pending == 100 and run.dropped == 901
    runs._open_runs.discard(run)  # its exit warning would come after pytest closed its streams


def test_a_queue_job_automation_puts_a_job_on_the_demo_run_queue(local_runtime):
    client = client_for(local_runtime)
    tag = uuid.uuid4().hex[:6]
    registry = f"wandb-registry-jobs{tag}"
    client.projects.create(registry, registry=True)
    client.automations.create(
        {
            "name": f"evaluate {tag}",
            "scope": {"type": "PROJECT", "project": registry},
            "event": {"type": "LINK_ARTIFACT"},
            "action": {
                "type": "QUEUE_JOB",
                "queue": "demo",
                "job": "evaluate-model",
                "overrides": {"tag": tag},
            },
        }
    )
    client.artifact_linked(project=registry, collection="resnet50", version=4)
    eventually(pipeline_idle(local_runtime), timeout=60, what="the job")
    [execution] = client.executions.list(project=registry)
    assert execution.state.value == "FINISHED"

    queue_url = next(q.url for q in client.run_queues.list() if q.name == "demo")
    sqs = boto3.client(
        "sqs",
        endpoint_url=local_runtime["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    jobs = []
    for _ in range(5):
        jobs += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in jobs]
    assert any(json.dumps(b).count(tag) and "evaluate-model" in json.dumps(b) for b in bodies), bodies
