"""The local runtime a developer lives in: `mlhooks dev` keeps its state across restarts (`--reset`
starts clean), says one readable line per delivery attempt and per rejected event, and with `--fast`
a dead endpoint reaches FAILED in seconds."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from conftest import running_runtime
from receivers import Receiver
from samples import ROOT, load_event
from waiting import eventually

pytestmark = pytest.mark.e2e
SIGNING = "e2e-persisted-signing-secret"


class Dev:
    """One run of `mlhooks dev`, driven over HTTP as its admin."""

    def __init__(self, runtime: dict[str, Any]):
        self.runtime = runtime
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {runtime['admin_key']}"
        self.api = f"{runtime['api_url']}/v1/entities/{runtime['entity']}"

    def post(self, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        reply = self.http.post(f"{self.api}{path}", json=body)
        assert reply.status_code == status, reply.text
        return reply.json()

    def names(self, path: str) -> list[str]:
        reply = self.http.get(f"{self.api}{path}")
        assert reply.status_code == 200, reply.text
        return [item["name"] for item in reply.json()["items"]]

    def automation(self, project: str, webhook: str) -> str:
        self.post("/projects", {"name": project, "registry": True})
        return self.post(
            "/automations",
            {
                "name": f"deliver to {webhook}",
                "scope": {"type": "PROJECT", "project": project},
                "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": "production"}},
                "action": {"type": "GENERIC_WEBHOOK", "webhook": webhook, "payload": {"v": "${alias}"}},
            },
        )["id"]

    def publish(self, project: str) -> None:
        envelope = load_event("platform-alias-added.json")
        detail = {
            **{k: v for k, v in envelope["detail"].items() if k != "author"},
            "project": project,
            "event_id": f"ev-{uuid.uuid4().hex}",
        }
        reply = self.http.post(
            f"{self.runtime['api_url']}/v1/events",
            json={"events": [{"detail_type": envelope["detail-type"], "detail": detail}]},
        )
        assert reply.status_code == 202, reply.text

    def execution(
        self, automation_id: str, state: str, *, attempts: int | None = None, timeout: float = 40
    ) -> dict[str, Any]:
        """The automation's execution once it is in `state` (with that many attempts recorded)."""

        def reached() -> dict[str, Any] | None:
            items = self.http.get(f"{self.api}/automations/{automation_id}/executions").json()["items"]
            if not items or items[0]["state"] != state:
                return None
            execution = self.http.get(f"{self.api}/executions/{items[0]['id']}").json()
            return execution if attempts is None or len(execution["attempts"]) == attempts else None

        return eventually(reached, timeout=timeout, what=f"an execution to reach {state}")

    def terminal(self) -> list[str]:
        return Path(self.runtime["terminal"]).read_text().splitlines()


def closed_port() -> int:
    """A port nothing listens on: taken from the system, then let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_restart_keeps_the_key_secrets_webhooks_and_automations_and_the_secret_still_signs(tmp_path):
    with running_runtime(tmp_path) as first:
        dev = Dev(first)
        dev.post("/secrets", {"name": "SIGNING", "value": SIGNING})
        dev.post(
            "/webhooks", {"name": "inbox", "url": f"{first['inbox_url']}/hook", "signing_secret": "SIGNING"}
        )
        automation = dev.automation("registry", "inbox")

    saved = tmp_path / "saved.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    with running_runtime(tmp_path) as second:
        assert second["admin_key"] == first["admin_key"]
        dev = Dev(second)
        assert dev.names("/secrets") == ["SIGNING"]
        assert dev.names("/webhooks") == ["inbox"]
        assert dev.names("/run-queues") == ["demo"]  # registered once, not again
        assert [a["id"] for a in dev.http.get(f"{dev.api}/automations").json()["items"]] == [automation]
        # The inbox listens on a new port this run; the webhook follows it.
        moved = dev.http.patch(f"{dev.api}/webhooks/inbox", json={"url": f"{second['inbox_url']}/hook"})
        assert moved.status_code == 200, moved.text
        dev.publish("registry")
        dev.execution(automation, "FINISHED")
        [landed] = requests.get(f"{second['inbox_url']}/", timeout=10).json()["requests"]
        assert set(landed["signatures"].values()) == {"valid"}  # signed with the restored value


def test_reset_starts_empty_with_a_new_key(tmp_path):
    with running_runtime(tmp_path) as first:
        Dev(first).post("/secrets", {"name": "FORGOTTEN", "value": "soon-gone"})
    with running_runtime(tmp_path, "--reset") as second:
        assert second["admin_key"] != first["admin_key"]
        dev = Dev(second)
        assert dev.names("/secrets") == []
        stale = dev.http.get(f"{dev.api}/secrets", headers={"Authorization": f"Bearer {first['admin_key']}"})
        assert stale.status_code == 401


def test_an_execution_pending_at_shutdown_is_delivered_after_the_restart(tmp_path):
    receiver = Receiver(status=503)
    # A first attempt that fails, and a backoff far longer than the test: PENDING when it stops.
    waiting = {"MLHOOKS_MAX_ATTEMPTS": "3", "MLHOOKS_RETRY_BASE_SECONDS": "600"}
    try:
        with running_runtime(tmp_path, settings=waiting) as first:
            dev = Dev(first)
            dev.post("/webhooks", {"name": "flaky", "url": receiver.url})
            automation = dev.automation("models", "flaky")
            dev.publish("models")
            pending = dev.execution(automation, "PENDING", attempts=1)
        receiver.status = 200
        with running_runtime(tmp_path, settings=waiting) as second:
            delivered = Dev(second).execution(automation, "FINISHED")
            assert delivered["id"] == pending["id"]
            assert [a["status_code"] for a in delivered["attempts"]] == [503, 200]
    finally:
        receiver.close()


def test_a_killed_runtime_loses_nothing_saved_a_moment_before(tmp_path):
    with running_runtime(tmp_path) as first:
        Dev(first).post("/secrets", {"name": "KEPT", "value": "kept-through-a-crash"})
        saved = tmp_path / "saved.json"
        eventually(lambda: saved.exists() and "KEPT" in saved.read_text(), timeout=20, what="the autosave")
        os.kill(first["pid"], signal.SIGKILL)
    with running_runtime(tmp_path) as second:
        assert second["admin_key"] == first["admin_key"]
        assert Dev(second).names("/secrets") == ["KEPT"]


def test_a_saved_state_it_cannot_read_is_one_line_that_says_reset(tmp_path):
    (tmp_path / "saved.json").write_text('{"format": 1, "tables": "not tables"}')
    arguments = ["--port", "0", "--inbox-port", "0", "--state-file", str(tmp_path / "dev.json")]
    completed = subprocess.run(
        [sys.executable, "-m", "mlhooks.cli", "dev", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    [line] = completed.stderr.strip().splitlines()
    assert "saved.json" in line and "mlhooks dev --reset" in line


def test_fast_fails_a_dead_endpoint_in_seconds_one_readable_line_per_attempt(tmp_path):
    # No settings from the environment: what --fast sets is what runs.
    with running_runtime(tmp_path, "--fast", settings={}) as runtime:
        dev = Dev(runtime)
        dev.post("/webhooks", {"name": "dead", "url": f"http://127.0.0.1:{closed_port()}/hook"})
        automation = dev.automation("fast", "dead")
        dev.publish("fast")
        failed = dev.execution(automation, "FAILED", timeout=60)
        assert len(failed["attempts"]) == 8  # the template's MaxAttempts, each one retried at once

        events = boto3.client(
            "events",
            endpoint_url=runtime["aws_endpoint_url"],
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        events.put_events(
            Entries=[
                {
                    "Source": "mlhooks.platform",
                    "DetailType": "Nonsense Happened",
                    "Detail": "{}",
                    "EventBusName": "mlhooks-local-events",
                }
            ]
        )
        rejected = eventually(
            lambda: [line for line in dev.terminal() if "event rejected" in line],
            timeout=30,
            what="the rejected event's line",
        )
        terminal = dev.terminal()

    assert any("--fast" in line and "MLHOOKS_RETRY_BASE_SECONDS=1" in line for line in terminal)
    attempts = [line for line in terminal if failed["id"] in line]
    assert len(attempts) == 8
    for number, line in enumerate(attempts, start=1):
        assert '"deliver to dead"' in line and "webhook dead → 127.0.0.1:" in line
        assert "error connection_error" in line and f"attempt {number}/8" in line
    assert all("next retry" in line for line in attempts[:-1])
    assert "FAILED: gave up after 8 attempts" in attempts[-1]
    assert rejected == [line for line in terminal if "Nonsense Happened" in line]
    assert "unknown detail-type" in rejected[0]
    assert not [line for line in terminal if line.startswith("{")]  # the functions' logs are in a file
    log = (tmp_path / "functions.log").read_text()
    assert '"message"' in log
    # So are their metrics: EMF lines, as CloudWatch Logs would receive them, never on the terminal.
    assert '"CloudWatchMetrics"' in log and '"Deliveries"' in log


def test_log_format_json_puts_the_lines_on_the_terminal_as_json_records(tmp_path):
    with running_runtime(tmp_path, "--log-format", "json") as runtime:
        dev = Dev(runtime)
        dev.post("/webhooks", {"name": "inbox", "url": f"{runtime['inbox_url']}/hook"})
        automation = dev.automation("json", "inbox")
        dev.publish("json")
        execution = dev.execution(automation, "FINISHED")

        def record() -> dict[str, Any] | None:
            for line in dev.terminal():
                if line.startswith("{") and execution["id"] in line:
                    found = json.loads(line)
                    if found.get("kind") == "delivery_attempt":
                        return found
            return None

        found = eventually(record, timeout=20, what="the attempt's JSON record")
    assert found["outcome"] == "delivered 200" and found["attempt"] == 1 and found["state"] == "FINISHED"
