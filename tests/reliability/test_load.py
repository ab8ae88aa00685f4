"""Load: events fanning out to webhook, Slack and job deliveries, with a share of failing endpoints.
Every execution is accounted for, no receiver sees a delivery twice, and the rate is printed.

The size is MLHOOKS_LOAD_EVENTS (default 30 in `make test`; `make soak` runs 1,000 events for
10,000 deliveries)."""

from __future__ import annotations

import collections
import copy
import json
import os
import time

import pytest
from receivers import Receiver
from samples import load_event

from mlhooks.components import get_components

pytestmark = pytest.mark.suite("load")
EVENTS = int(os.environ.get("MLHOOKS_LOAD_EVENTS", "30"))
PER_EVENT = 10  # automations matching every event: 6 webhooks (2 of them to a dead endpoint), 2 Slack, 2 jobs


def test_fan_out_accounts_for_every_execution_without_duplicates(pipeline, slack, monkeypatch, record_figure):
    from pipelines import register_run_queue, use_slack

    monkeypatch.setenv("MLHOOKS_RATE_LIMIT_PER_MINUTE", str(10 * EVENTS))
    monkeypatch.setenv("MLHOOKS_MATCH_CACHE_SECONDS", "60")
    use_slack(pipeline, slack, monkeypatch, "xoxb-load")
    healthy, dead = Receiver(), Receiver(status=503)
    try:
        admin, base = pipeline.team.admin, pipeline.base
        for name, receiver in (("healthy", healthy), ("dead", dead)):
            admin.post(f"{base}/webhooks", {"name": name, "url": receiver.url})
        run_queue = register_run_queue(pipeline.team, pipeline.sqs, "load")
        actions = (
            [
                {
                    "type": "GENERIC_WEBHOOK",
                    "webhook": "healthy",
                    "payload": {"v": "${artifact_version_string}"},
                }
            ]
            * 4
            + [{"type": "GENERIC_WEBHOOK", "webhook": "dead", "payload": {"v": "${artifact_version_string}"}}]
            * 2
            + [{"type": "NOTIFICATION", "slack": "alerts", "title": "${alias}"}] * 2
            + [{"type": "QUEUE_JOB", "queue": "load", "job": "evaluate"}] * 2
        )
        for i, action in enumerate(actions):
            pipeline.automation(name=f"load-{i}", action=action)

        started = time.perf_counter()
        for n in range(EVENTS):
            envelope = copy.deepcopy(load_event("platform-alias-added.json"))
            envelope["detail"]["event_id"] = f"load-{n}"
            pipeline.match(envelope)
            if n % 10 == 9:
                # Senders consume while events keep coming, as on AWS (and moto's receive slows
                # down with the length of a queue).
                for kind in ("Webhook", "Slack", "Job"):
                    pipeline.drain(kind, rounds=12)
        for kind in ("Webhook", "Slack", "Job"):
            pipeline.drain(kind, rounds=100_000)
        elapsed = time.perf_counter() - started

        store = get_components().store
        states: collections.Counter[str] = collections.Counter()
        token = None
        while True:
            page, token = store.list_executions("dev", limit=200, token=token)
            states.update(e.state.value for e in page)
            if not token:
                break
        expected = EVENTS * PER_EVENT
        assert states["PENDING"] == 0
        assert states["FINISHED"] + states["FAILED"] + states["SKIPPED"] == expected
        assert states["FAILED"] == EVENTS * 2  # the dead endpoint's, after their retries

        delivered_ids = [r.headers["webhook-id"] for r in healthy.requests]
        assert len(delivered_ids) == len(set(delivered_ids)) == EVENTS * 4
        assert len(slack.slack_messages) == EVENTS * 2
        jobs = []
        while batch := pipeline.sqs.receive_message(QueueUrl=run_queue, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            jobs += [json.loads(m["Body"])["execution_id"] for m in batch]
            for m in batch:
                pipeline.sqs.delete_message(QueueUrl=run_queue, ReceiptHandle=m["ReceiptHandle"])
        assert len(jobs) == len(set(jobs)) == EVENTS * 2
        assert pipeline.queue_depth("WebhookDLQ") == EVENTS * 2

        lost = expected - sum(states.values())
        duplicated = (len(delivered_ids) - len(set(delivered_ids))) + (len(jobs) - len(set(jobs)))
        record_figure("load events", EVENTS)
        record_figure("load deliveries", expected)
        record_figure("load lost", lost)
        record_figure("load duplicated", duplicated)
        record_figure("load seconds", round(elapsed, 1))
        record_figure("load deliveries per second", round(expected / elapsed, 1))
        print(
            f"\n{EVENTS} events -> {expected} executions in {elapsed:.1f} s "
            f"({expected / elapsed:.0f}/s on moto in-process): {dict(states)}"
        )
    finally:
        healthy.close()
        dead.close()
