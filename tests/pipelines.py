"""The pipeline as the integration tests drive it: functions invoked the way Lambda's event
source mappings invoke them, against moto."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from apiclient import Team, make_team
from samples import load_event

from mlhooks.components import get_components, reset_components
from mlhooks.local.apigw import LocalApiGateway
from mlhooks.local.functions import Functions
from mlhooks.local.inbox import Inbox
from mlhooks.local.sources import run_batch
from mlhooks.local.stack import Stack

TOKEN = "pipeline-token-value-1234"
SIGNING = "pipeline-signing-secret-5678"
GITHUB_PAYLOAD = {
    "event_type": "DEPLOY_MODEL",
    "client_payload": {
        "version": "${artifact_version_string}",
        "alias": "${alias}",
        "author": "${event_author}",
        "accuracy": "${artifact_metadata.accuracy}",
        "automation": "${automation_name}",
    },
}


@dataclass
class Pipeline:
    team: Team
    stack: Stack
    fns: Functions
    sqs: Any

    @property
    def base(self) -> str:
        return self.team.base

    def configure(self, monkeypatch: pytest.MonkeyPatch, **environment: str) -> Pipeline:
        """Set these variables and start fresh containers, as a deployment with the new settings
        would: every function reads its settings once, at cold start."""
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        reset_components()
        self.fns = Functions(self.fns.root, self.fns.template)
        return self

    def match(self, envelope: dict[str, Any]) -> dict[str, Any]:
        return self.fns.invoke("MatcherFunction", envelope)

    def deliver(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Match one event and run the webhook sender until its queue is empty; the matcher's report."""
        report = self.match(envelope)
        self.drain()
        return report

    def drain(self, kind: str = "Webhook", rounds: int = 20) -> int:
        """Run the sender until its queue is empty (retries come back at once: no backoff in tests)."""
        function = f"{kind}SenderFunction"
        total = 0
        for _ in range(rounds):
            received = run_batch(
                self.fns,
                self.sqs,
                function,
                self.stack.refs[f"{kind}Queue"],
                self.stack.arns[f"{kind}Queue"],
                10,
                True,
            )
            total += received
            if not received:
                break
        return total

    def queue_depth(self, logical_id: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.stack.refs[logical_id], AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def invisible(self, logical_id: str) -> int:
        """Messages received and not yet deleted: in flight, or postponed by a visibility timeout."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.stack.refs[logical_id], AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"])

    def executions(self, **filters: Any) -> list[dict[str, Any]]:
        return self.team.viewer.get(
            f"{self.base}/executions", query="&".join(f"{k}={v}" for k, v in filters.items())
        ).json["items"]

    def execution(self, execution_id: str) -> dict[str, Any]:
        return self.team.viewer.get(f"{self.base}/executions/{execution_id}").json

    def automation(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": "dispatch on production",
            "scope": {
                "type": "ARTIFACT_COLLECTION",
                "project": "wandb-registry-model",
                "collection": "resnet50",
            },
            "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"$and": [{"alias": {"$regex": "^prod"}}]}},
            "action": {"type": "GENERIC_WEBHOOK", "webhook": "github", "payload": GITHUB_PAYLOAD},
        }
        body.update(overrides)
        reply = self.team.member.post(f"{self.base}/automations", body)
        assert reply.status == 201, reply.raw
        return reply.json


def alias_event(**detail: Any) -> dict[str, Any]:
    envelope = copy.deepcopy(load_event("platform-alias-added.json"))
    envelope["detail"].update(detail)
    return envelope


def make_pipeline(aws, template, receiver) -> Pipeline:
    from samples import ROOT

    fns = Functions(ROOT, template)
    team = make_team(LocalApiGateway(fns, template), "dev")
    admin, base = team.admin, team.base
    admin.post(f"{base}/secrets", {"name": "GITHUB_TOKEN", "value": TOKEN})
    admin.post(f"{base}/secrets", {"name": "SIGNING", "value": SIGNING})
    assert (
        admin.post(
            f"{base}/webhooks",
            {
                "name": "github",
                "url": receiver.url,
                "access_token_secret": "GITHUB_TOKEN",
                "signing_secret": "SIGNING",
            },
        ).status
        == 201
    )
    admin.post(f"{base}/projects", {"name": "wandb-registry-model", "registry": True})
    admin.post(f"{base}/projects/wandb-registry-model/collections", {"name": "resnet50"})
    admin.post(f"{base}/projects/wandb-registry-model/collections", {"name": "other-model"})
    admin.post(f"{base}/projects", {"name": "training"})
    return Pipeline(team, aws, fns, boto3.client("sqs", region_name="us-east-1"))


class Postponements:
    """The visibility changes the senders make (a retry's backoff, a lease's wait), recorded so that a
    test can check each delay and then bring the messages back at once, instead of sleeping through
    them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        sqs = get_components().sqs  # the client the senders of this container use
        self._change = sqs.change_message_visibility
        self.calls: list[dict[str, Any]] = []

        def recording(**kwargs: Any) -> Any:
            self.calls.append(kwargs)
            return self._change(**kwargs)

        monkeypatch.setattr(sqs, "change_message_visibility", recording)

    @property
    def delays(self) -> list[int]:
        return [call["VisibilityTimeout"] for call in self.calls]

    def release(self) -> None:
        """Every postponed message visible again now, as if its delay had passed."""
        for call in self.calls:
            if call["VisibilityTimeout"] > 0:
                self._change(
                    QueueUrl=call["QueueUrl"], ReceiptHandle=call["ReceiptHandle"], VisibilityTimeout=0
                )
        self.calls.clear()


def register_run_queue(team: Team, sqs: Any, name: str = "gpu") -> str:
    """An SQS queue named as the template's RunQueueNames allows, registered by the team's admin."""
    url = sqs.create_queue(QueueName=f"mlhooks-runs-{team.entity}-{name}")["QueueUrl"]
    reply = team.admin.post(f"{team.base}/run-queues", {"name": name, "url": url})
    assert reply.status == 201, reply.raw
    return url


def use_slack(pipeline: Pipeline, slack: Inbox, monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    """Point the senders at the fake Slack and add a Slack integration `alerts` with this bot token."""
    pipeline.configure(monkeypatch, MLHOOKS_SLACK_API_URL=slack.slack_api_url)
    pipeline.team.admin.post(f"{pipeline.base}/secrets", {"name": "SLACK_BOT", "value": token})
    pipeline.team.admin.post(
        f"{pipeline.base}/slack",
        {
            "name": "alerts",
            "bot_token_secret": "SLACK_BOT",
            "channel_id": "C0123ABCD",
            "channel_name": "ml-alerts",
        },
    )
