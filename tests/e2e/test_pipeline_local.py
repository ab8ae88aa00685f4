"""End to end over the local runtime: events on the bus, the matcher, the queues and the senders
running as `make dev` runs them, delivering to real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import boto3
import pytest
import requests
from commands import mlhooks
from receivers import standard_webhooks_verified, wandb_signature
from samples import load_event
from waiting import eventually, pipeline_idle

pytestmark = pytest.mark.e2e
TOKEN = "e2e-pipeline-token"
SIGNING = "e2e-pipeline-signing"


class Scenario:
    """One test's own project, webhook and automation in the shared dev runtime."""

    def __init__(self, runtime: dict[str, Any], http: requests.Session):
        self.runtime = runtime
        self.http = http
        self.api = f"{runtime['api_url']}/v1/entities/{runtime['entity']}"
        self.tag = uuid.uuid4().hex[:8]
        self.project = f"p-{self.tag}"
        for name, value in (("TOKEN", TOKEN), ("SIGNING", SIGNING)):
            self.http.post(f"{self.api}/secrets", json={"name": f"{name}_{self.tag}", "value": value})
        assert self.http.post(f"{self.api}/projects", json={"name": self.project, "registry": True}).ok

    def webhook(self, url: str) -> str:
        name = f"hook-{self.tag}"
        reply = self.http.post(
            f"{self.api}/webhooks",
            json={
                "name": name,
                "url": url,
                "access_token_secret": f"TOKEN_{self.tag}",
                "signing_secret": f"SIGNING_{self.tag}",
            },
        )
        assert reply.status_code == 201, reply.text
        return name

    def automation(self, action: dict[str, Any], event: dict[str, Any] | None = None) -> str:
        reply = self.http.post(
            f"{self.api}/automations",
            json={
                "name": f"auto-{self.tag}",
                "scope": {"type": "PROJECT", "project": self.project},
                "event": event or {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": "production"}},
                "action": action,
            },
        )
        assert reply.status_code == 201, reply.text
        return reply.json()["id"]

    def publish(self, sample: str = "platform-alias-added.json", event_id: str | None = None) -> str:
        envelope = load_event(sample)
        # Published with the dev admin's key, so the author is that member (the key's default).
        detail = {
            **{k: v for k, v in envelope["detail"].items() if k != "author"},
            "project": self.project,
            "event_id": event_id or f"ev-{uuid.uuid4().hex}",
        }
        reply = self.http.post(
            f"{self.runtime['api_url']}/v1/events",
            json={"events": [{"detail_type": envelope["detail-type"], "detail": detail}]},
        )
        assert reply.status_code == 202, reply.text
        return detail["event_id"]

    def executions(self, automation_id: str) -> list[dict[str, Any]]:
        return self.http.get(f"{self.api}/automations/{automation_id}/executions").json()["items"]

    def wait(
        self, automation_id: str, state: str, count: int = 1, timeout: float = 40
    ) -> list[dict[str, Any]]:
        def reached() -> list[dict[str, Any]] | None:
            items = self.executions(automation_id)
            return items if len(items) >= count and all(i["state"] == state for i in items) else None

        return eventually(reached, timeout=timeout, what=f"{count} execution(s) to reach {state}")

    def execution(self, execution_id: str) -> dict[str, Any]:
        return self.http.get(f"{self.api}/executions/{execution_id}").json()


@pytest.fixture
def scenario(local_runtime, http) -> Scenario:
    return Scenario(local_runtime, http)


def test_alias_added_fires_github_repository_dispatch(scenario, receiver):
    hook = scenario.webhook(receiver.url)
    automation = scenario.automation(
        {
            "type": "GENERIC_WEBHOOK",
            "webhook": hook,
            "payload": {
                "event_type": "DEPLOY_MODEL",
                "client_payload": {
                    "version": "${artifact_version_string}",
                    "alias": "${alias}",
                    "by": "${event_author}",
                },
            },
        }
    )
    scenario.publish()
    [execution] = scenario.wait(automation, "FINISHED")
    [request] = receiver.requests
    assert request.json == {
        "event_type": "DEPLOY_MODEL",
        "client_payload": {
            "version": f"dev/{scenario.project}/resnet50:production",
            "alias": "production",
            "by": "admin",  # the dev key's member, who published the event
        },
    }
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["X-Wandb-Signature"] == wandb_signature(SIGNING, request.body)
    assert request.headers["webhook-id"] == execution["id"]
    assert standard_webhooks_verified(SIGNING, request) == request.json
    assert scenario.execution(execution["id"])["attempts"][0]["status_code"] == 200


def test_teams_message_card_payload(scenario, receiver):
    hook = scenario.webhook(receiver.url)
    card = {
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "themeColor": "0076D7",
        "summary": "New ${alias} model",
        "sections": [
            {
                "activityTitle": "${artifact_version_string}",
                "facts": [{"name": "Alias", "value": "${alias}"}, {"name": "By", "value": "${event_author}"}],
            }
        ],
    }
    automation = scenario.automation({"type": "GENERIC_WEBHOOK", "webhook": hook, "payload": card})
    scenario.publish()
    scenario.wait(automation, "FINISHED")
    body = receiver.requests[0].json
    assert body["@type"] == "MessageCard" and body["summary"] == "New production model"
    assert body["sections"][0]["facts"] == [
        {"name": "Alias", "value": "production"},
        {"name": "By", "value": "admin"},
    ]


def test_slack_notification_reaches_the_fake_slack(scenario, local_runtime):
    scenario.http.post(
        f"{scenario.api}/secrets", json={"name": f"BOT_{scenario.tag}", "value": "xoxb-e2e-token"}
    )
    assert (
        scenario.http.post(
            f"{scenario.api}/slack",
            json={
                "name": f"slack-{scenario.tag}",
                "bot_token_secret": f"BOT_{scenario.tag}",
                "channel_id": "C0E2E0001",
                "channel_name": "e2e",
            },
        ).status_code
        == 201
    )
    automation = scenario.automation(
        {
            "type": "NOTIFICATION",
            "slack": f"slack-{scenario.tag}",
            "title": "${artifact_version_string} is ${alias}",
            "severity": "WARN",
        }
    )
    scenario.publish()
    scenario.wait(automation, "FINISHED")
    inbox = requests.get(local_runtime["inbox_url"], timeout=5).json()
    titles = [m["text"] for m in inbox["slack_messages"]]
    assert f":warning: dev/{scenario.project}/resnet50:production is production" in titles


def test_queue_job_lands_on_a_run_queue(scenario, local_runtime):
    sqs = boto3.client(
        "sqs",
        endpoint_url=local_runtime["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    run_queue = sqs.create_queue(QueueName=f"mlhooks-runs-launch-{scenario.tag}")["QueueUrl"]
    api = f"{local_runtime['api_url']}/v1/entities/dev"
    registered = scenario.http.post(
        f"{api}/run-queues", json={"name": f"launch-{scenario.tag}", "url": run_queue}
    )
    assert registered.status_code == 201, registered.text
    automation = scenario.automation(
        {"type": "QUEUE_JOB", "queue": f"launch-{scenario.tag}", "job": "retrain", "overrides": {"lr": 0.001}}
    )
    scenario.publish()
    scenario.wait(automation, "FINISHED")
    [message] = sqs.receive_message(QueueUrl=run_queue, WaitTimeSeconds=1, MessageAttributeNames=["All"])[
        "Messages"
    ]
    job = json.loads(message["Body"])
    assert job["job"] == "retrain" and job["overrides"] == {"lr": 0.001}
    assert job["destination_project"] == scenario.project
    assert message["MessageAttributes"]["mlhooks.entity"]["StringValue"] == "dev"
    assert message["MessageAttributes"]["mlhooks.automation_id"]["StringValue"] == automation


def test_dev_comes_with_a_demo_run_queue(http, local_runtime):
    demo = http.get(f"{local_runtime['api_url']}/v1/entities/dev/run-queues/demo", timeout=5)
    assert demo.status_code == 200 and demo.json()["url"].endswith("/mlhooks-runs-demo")


def test_endpoint_failing_twice_then_succeeding(scenario, receiver):
    receiver.statuses = [500, 503]
    automation = scenario.automation(
        {
            "type": "GENERIC_WEBHOOK",
            "webhook": scenario.webhook(receiver.url),
            "payload": {"v": "${artifact_version_string}"},
        }
    )
    scenario.publish()
    [execution] = scenario.wait(automation, "FINISHED")
    attempts = scenario.execution(execution["id"])["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 503, 200]
    assert len(receiver.requests) == 3


def test_endpoint_always_failing_ends_failed_then_redelivers(scenario, receiver):
    receiver.status = 502
    automation = scenario.automation(
        {
            "type": "GENERIC_WEBHOOK",
            "webhook": scenario.webhook(receiver.url),
            "payload": {"v": "${artifact_version_string}"},
        }
    )
    scenario.publish()
    [execution] = scenario.wait(automation, "FAILED")
    assert execution["attempt_count"] == 3
    receiver.status = 200
    reply = scenario.http.post(f"{scenario.api}/executions/{execution['id']}/redeliver")
    assert reply.status_code == 202, reply.text
    scenario.wait(automation, "FINISHED")
    assert [r for r in receiver.requests][-1].headers["webhook-id"] == execution["id"]


def test_duplicate_event_is_delivered_once(scenario, receiver):
    automation = scenario.automation(
        {
            "type": "GENERIC_WEBHOOK",
            "webhook": scenario.webhook(receiver.url),
            "payload": {"v": "${artifact_version_string}"},
        }
    )
    event_id = scenario.publish()
    scenario.publish(event_id=event_id)
    scenario.wait(automation, "FINISHED")
    # Both copies matched (or deduplicated) and everything they queued sent: a second delivery would show.
    eventually(pipeline_idle(scenario.runtime), timeout=30, what="the local pipeline to be idle")
    assert len(scenario.executions(automation)) == 1 and len(receiver.requests) == 1


def test_publish_cli_and_inbox_walkthrough(local_runtime, http):
    """The README's walk-through: a webhook to the built-in inbox, a sample event published with the CLI."""
    api = f"{local_runtime['api_url']}/v1/entities/{local_runtime['entity']}"
    tag = uuid.uuid4().hex[:6]
    http.post(f"{api}/secrets", json={"name": f"SIGN_{tag}", "value": "walkthrough-signing"})
    http.post(f"{api}/projects", json={"name": "wandb-registry-model", "registry": True})
    inbox_path = f"/github-{tag}"
    http.post(
        f"{api}/webhooks",
        json={
            "name": f"inbox-{tag}",
            "url": local_runtime["inbox_url"] + inbox_path,
            "signing_secret": f"SIGN_{tag}",
        },
    )
    created = http.post(
        f"{api}/automations",
        json={
            "name": f"walkthrough-{tag}",
            "scope": {"type": "PROJECT", "project": "wandb-registry-model"},
            "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": "production"}},
            "action": {
                "type": "GENERIC_WEBHOOK",
                "webhook": f"inbox-{tag}",
                "payload": {"v": "${artifact_version_string}"},
            },
        },
    )
    assert created.status_code == 201, created.text
    completed = mlhooks(
        local_runtime["state_file"], "publish", "--new-id", "events/platform-alias-added.json"
    )
    assert completed.returncode == 0 and "published" in completed.stdout, completed.stderr

    def in_the_inbox() -> list[dict[str, Any]]:
        inbox = requests.get(local_runtime["inbox_url"], timeout=5).json()["requests"]
        return [r for r in inbox if r["path"] == inbox_path]

    landed = eventually(in_the_inbox, timeout=30, what="the delivery to land in the inbox")
    assert landed[0]["body"] == {"v": "dev/wandb-registry-model/resnet50:production"}
    assert landed[0]["signatures"] == {"X-Wandb-Signature": "valid", "webhook-signature": "valid"}
    execution = http.get(f"{api}/automations/{created.json()['id']}/executions").json()["items"][0]
    assert execution["state"] == "FINISHED" and execution["attempt_count"] == 1


def test_a_wandb_users_script_runs_unchanged_against_make_dev(scenario, receiver, tmp_path, monkeypatch):
    """The script from W&B's docs, with the unmodified `wandb` SDK, against `mlhooks dev`; then events
    published to the API fire the automations it made."""
    import wandb
    from wandb.automations import ArtifactEvent, OnAddArtifactAlias, OnLinkArtifact, SendWebhook

    for variable in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(variable, str(tmp_path))
    entity = scenario.runtime["entity"]
    scenario.webhook(receiver.url)

    api = wandb.Api(
        api_key=scenario.runtime["admin_key"], overrides={"base_url": scenario.runtime["api_url"]}
    )
    hook = next(h for h in api.webhook_integrations(entity=entity) if h.name == f"hook-{scenario.tag}")
    project = api.project(scenario.project, entity=entity)
    event = OnAddArtifactAlias(scope=project, filter=ArtifactEvent.alias.matches_regex("^prod"))
    payload = {"model": "${artifact_version_string}", "alias": "${alias}"}
    auto = api.create_automation(
        event >> SendWebhook.from_integration(hook, payload=payload), name=f"deploy-{scenario.tag}"
    )
    linked = api.create_automation(
        OnLinkArtifact(scope=project)
        >> SendWebhook.from_integration(hook, payload={"linked": "${artifact_version}"}),
        name=f"linked-{scenario.tag}",
    )
    names = {a.name for a in api.automations(entity=entity)}
    assert {auto.name, linked.name} <= names
    assert api.automation(auto.name, entity=entity).id == auto.id

    scenario.publish()  # an alias `production` added
    scenario.publish("platform-artifact-linked.json")
    automation_id = json.loads(base64.b64decode(auto.id).decode().partition(":")[2])[1]
    linked_id = json.loads(base64.b64decode(linked.id).decode().partition(":")[2])[1]
    scenario.wait(automation_id, "FINISHED")
    scenario.wait(linked_id, "FINISHED")
    bodies = {json.dumps(r.json, sort_keys=True) for r in receiver.requests}
    assert bodies == {
        json.dumps({"alias": "production", "model": f"dev/{scenario.project}/resnet50:production"}),
        json.dumps({"linked": "wandb-artifact://_id/QXJ0aWZhY3Q6MTIzNDU2"}),
    }

    assert api.update_automation(auto, enabled=False).enabled is False
    api.delete_automation(auto)
    api.delete_automation(linked)
    assert not {auto.name, linked.name} & {a.name for a in api.automations(entity=entity)}
