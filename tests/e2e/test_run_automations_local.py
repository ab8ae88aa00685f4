"""End to end over the local runtime: a simulated training run, a loss alert that fires once, and a
Slack notification when the run fails."""

from __future__ import annotations

import uuid

import pytest
import requests
from commands import mlhooks
from waiting import eventually, pipeline_idle

pytestmark = pytest.mark.e2e


def test_loss_alert_fires_once_and_failed_run_notifies_slack(local_runtime, http):
    api = f"{local_runtime['api_url']}/v1/entities/{local_runtime['entity']}"
    tag = uuid.uuid4().hex[:6]
    project = f"training-{tag}"
    assert http.post(f"{api}/projects", json={"name": project}).status_code == 201
    http.post(f"{api}/secrets", json={"name": f"BOT_{tag}", "value": "xoxb-e2e-run-alerts"})
    http.post(
        f"{api}/slack",
        json={
            "name": f"alerts-{tag}",
            "bot_token_secret": f"BOT_{tag}",
            "channel_id": "C0RUN0001",
            "channel_name": "training",
        },
    )
    loss_alert = http.post(
        f"{api}/automations",
        json={
            "name": "loss below 0.1",
            "scope": {"type": "PROJECT", "project": project},
            "event": {
                "type": "RUN_METRIC_THRESHOLD",
                "metric": {"name": "loss", "agg": "AVERAGE", "window": 5, "cmp": "$lt", "threshold": 0.1},
            },
            "action": {"type": "NOTIFICATION", "slack": f"alerts-{tag}", "title": "${run_name}: loss is low"},
        },
    )
    assert loss_alert.status_code == 201, loss_alert.text
    failed = http.post(
        f"{api}/automations",
        json={
            "name": "run failed",
            "scope": {"type": "PROJECT", "project": project},
            "event": {"type": "RUN_STATE", "states": ["FAILED", "CRASHED"]},
            "action": {
                "type": "NOTIFICATION",
                "slack": f"alerts-{tag}",
                "title": "${run_name} ${run_status}",
                "severity": "ERROR",
            },
        },
    )
    assert failed.status_code == 201, failed.text

    run_name = f"resnet-{tag}"
    completed = mlhooks(
        local_runtime["state_file"],
        "simulate-run",
        "--project",
        project,
        "--name",
        run_name,
        "--steps",
        "200",
        "--fail",
    )
    assert completed.returncode == 0, completed.stderr

    def executions(automation):
        return http.get(f"{api}/automations/{automation.json()['id']}/executions").json()["items"]

    # Every event the run published has been matched, and every notification sent.
    eventually(pipeline_idle(local_runtime), timeout=90, what="the run's events to be matched and sent")
    [alert] = executions(loss_alert)
    assert alert["state"] == "FINISHED"
    detail = http.get(f"{api}/executions/{alert['id']}").json()
    step = detail["event"]["run"]["step"]
    # The 5-step average of 2·e^(-0.03·s) first drops below 0.1 around step 102.
    assert 100 <= step <= 106, step
    [failure] = executions(failed)
    assert failure["state"] == "FINISHED"

    messages = [
        m
        for m in requests.get(local_runtime["inbox_url"], timeout=5).json()["slack_messages"]
        if m["channel"] == "C0RUN0001" and run_name in m["text"]
    ]
    texts = sorted(m["text"] for m in messages)
    assert texts == [f":information_source: {run_name}: loss is low", f":rotating_light: {run_name} FAILED"]
    low = next(m for m in messages if "loss is low" in m["text"])
    context = low["attachments"][0]["blocks"][-1]["elements"][0]["text"]
    assert "loss (average of last 5) &lt; 0.1" in context
