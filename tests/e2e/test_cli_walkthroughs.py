"""The README's walk-throughs with the `mlhooks` command line, against `make dev`: everything the
curl lines do, by name, with tables for people, JSON for scripts and exit codes a script can use."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from commands import mlhooks
from samples import ROOT
from waiting import eventually, pipeline_idle

pytestmark = pytest.mark.e2e


def ok(runtime: dict[str, Any], *args: str, input: str | None = None) -> str:
    done = mlhooks(runtime["state_file"], *args, input=input)
    assert done.returncode == 0, f"mlhooks {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def as_json(runtime: dict[str, Any], *args: str, input: str | None = None) -> Any:
    return json.loads(ok(runtime, *args, "--json", input=input))


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_a_webhook_and_its_test_call_from_the_command_line(local_runtime, tmp_path):
    tag = uuid.uuid4().hex[:6]
    inbox = local_runtime["inbox_url"]
    # Secret values come from stdin (or a hidden prompt), never from the command line.
    ok(local_runtime, "secrets", "set", f"TOKEN_{tag}", input="ghp_cli_token\n")
    ok(local_runtime, "secrets", "set", f"SIGNING_{tag}", input="cli-signing-secret")
    names = [s["name"] for s in as_json(local_runtime, "secrets", "list")]
    assert {f"TOKEN_{tag}", f"SIGNING_{tag}"} <= set(names)
    listing = ok(local_runtime, "secrets", "list")
    assert f"TOKEN_{tag}" in listing and "ghp_cli_token" not in listing

    webhook = as_json(
        local_runtime,
        "webhooks",
        "create",
        f"github-{tag}",
        "--url",
        f"{inbox}/cli-{tag}",
        "--access-token-secret",
        f"TOKEN_{tag}",
        "--signing-secret",
        f"SIGNING_{tag}",
    )
    assert webhook["url"] == f"{inbox}/cli-{tag}" and webhook["health"]["state"] == "HEALTHY"

    answer = as_json(local_runtime, "webhooks", "test", f"github-{tag}")
    assert answer["ok"] is True and answer["status_code"] == 200
    landed = requests.get(f"{inbox}/", timeout=5).json()["requests"]
    mine = [r for r in landed if r["path"] == f"/cli-{tag}"]
    assert mine and mine[-1]["signatures"]["X-Wandb-Signature"] == "valid"
    assert mine[-1]["headers"]["Authorization"] == "Bearer ghp_cli_token"

    # A mistake is one line with the field at fault, and exit code 1.
    blocked = mlhooks(
        local_runtime["state_file"], "webhooks", "create", f"meta-{tag}", "--url", "https://169.254.169.254/"
    )
    assert blocked.returncode == 1
    assert "(field: url)" in blocked.stderr and "blocked_destination" in blocked.stderr
    assert "Traceback" not in blocked.stderr


def test_an_automation_by_name_an_event_through_the_api_and_its_execution(local_runtime, tmp_path):
    tag = uuid.uuid4().hex[:6]
    state, inbox = local_runtime["state_file"], local_runtime["inbox_url"]
    registry = f"wandb-registry-cli{tag}"
    ok(local_runtime, "secrets", "set", f"SIGN_{tag}", input="walkthrough-secret")
    ok(
        local_runtime,
        "webhooks",
        "create",
        f"inbox-{tag}",
        "--url",
        f"{inbox}/deploy-{tag}",
        "--signing-secret",
        f"SIGN_{tag}",
    )
    ok(local_runtime, "projects", "create", registry, "--registry")
    ok(local_runtime, "projects", "add-collection", registry, "resnet50")
    name = f"dispatch {tag}"
    spec = {
        "name": name,
        "scope": {"type": "ARTIFACT_COLLECTION", "project": registry, "collection": "resnet50"},
        "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": "production"}},
        "action": {
            "type": "GENERIC_WEBHOOK",
            "webhook": f"inbox-{tag}",
            "payload": {
                "event_type": "DEPLOY_MODEL",
                "client_payload": {"version": "${artifact_version_string}"},
            },
        },
    }
    created = as_json(local_runtime, "automations", "create", "-f", write(tmp_path, "automation.json", spec))
    assert created["name"] == name and created["id"].startswith("au_")

    # By name wherever a person would use one.
    table = ok(local_runtime, "automations", "list", "--project", registry)
    assert name in table and "ADD_ARTIFACT_ALIAS" in table and "READY" in table
    assert as_json(local_runtime, "automations", "get", name)["id"] == created["id"]
    assert [a["name"] for a in as_json(local_runtime, "automations", "list", "--name", name)] == [name]
    ok(local_runtime, "automations", "disable", name)
    assert as_json(local_runtime, "automations", "get", name)["enabled"] is False
    ok(local_runtime, "automations", "enable", name)

    # An edit from a file: only what is given changes.
    changes = write(tmp_path, "changes.json", {"description": "ships production models"})
    before = as_json(local_runtime, "automations", "get", name)
    edited = as_json(local_runtime, "automations", "edit", name, "-f", changes)
    assert edited["description"] == "ships production models" and edited["version"] == before["version"] + 1
    assert edited["action"] == before["action"] and edited["enabled"] is True

    # The README's sample event, through the API (as the key's member).
    sample = json.loads((ROOT / "events" / "platform-alias-added.json").read_text())
    sample["detail"] |= {"project": registry, "event_id": f"cli-{tag}"}
    published = as_json(local_runtime, "events", "publish", "--as-me", write(tmp_path, "event.json", sample))
    assert published[0]["event_id"] == f"cli-{tag}"
    eventually(pipeline_idle(local_runtime), timeout=60, what="the delivery")
    executions = as_json(local_runtime, "executions", "list", "--automation", name)
    assert [e["state"] for e in executions] == ["FINISHED"]
    shown = ok(local_runtime, "executions", "show", executions[0]["id"])
    assert "attempt 1: delivered 200" in shown and "X-Wandb-Signature" in shown
    assert "walkthrough-secret" not in shown
    tail = ok(local_runtime, "executions", "tail", "--automation", name, "--timeout", "0")
    assert f"{executions[0]['id']}" in tail and "attempt 1: delivered 200" in tail
    # Older history is not news: a second and third look show nothing that happened before the tail.
    ok(local_runtime, "events", "publish", "--as-me", "--new-id", write(tmp_path, "event.json", sample))
    eventually(pipeline_idle(local_runtime), timeout=60, what="the second delivery")
    followed = ok(
        local_runtime, "executions", "tail", "--automation", name, "--last", "1", "--timeout", "1.5"
    )
    assert len({line.split()[1] for line in followed.splitlines()}) == 1, followed

    landed = requests.get(f"{inbox}/", timeout=5).json()["requests"]
    body = next(r for r in landed if r["path"] == f"/deploy-{tag}")["body"]
    assert body["client_payload"]["version"].endswith(f"{registry}/resnet50:production")

    # Exit codes a script can branch on.
    assert mlhooks(state, "automations", "get", f"nothing {tag}").returncode == 3
    assert mlhooks(state, "automations", "create", "-f", write(tmp_path, "again.json", spec)).returncode == 4
    assert mlhooks(state, "executions", "redeliver", executions[0]["id"]).returncode == 4
    assert mlhooks(state, "automations", "list", "--no-such-option").returncode == 2
    refused = mlhooks(state, "automations", "delete", name)  # no terminal to confirm on
    assert refused.returncode == 2 and "--yes" in refused.stderr
    ok(local_runtime, "automations", "delete", name, "--yes")
    assert mlhooks(state, "automations", "get", name).returncode == 3


def test_members_and_keys_and_a_key_that_is_not_allowed(local_runtime, tmp_path):
    tag = uuid.uuid4().hex[:6]
    state = local_runtime["state_file"]
    ok(local_runtime, "members", "add", f"viewer-{tag}", "--role", "VIEWER")
    assert {"username": f"viewer-{tag}", "role": "VIEWER"}.items() <= next(
        m for m in as_json(local_runtime, "members", "list") if m["username"] == f"viewer-{tag}"
    ).items()
    key = as_json(local_runtime, "keys", "create", f"laptop-{tag}", "--member", f"viewer-{tag}")
    assert key["key"] and key["member"] == f"viewer-{tag}"
    assert key["id"] in ok(local_runtime, "keys", "list") and key["key"] not in ok(
        local_runtime, "keys", "list"
    )

    # `login` takes the key from stdin, checks it and saves it for this user only.
    logged = mlhooks(
        state, "login", local_runtime["api_url"], "--profile", f"viewer-{tag}", input=key["key"] + "\n"
    )
    assert logged.returncode == 0, logged.stderr
    logins = Path(f"{state}.logins.json")
    assert logins.stat().st_mode & 0o777 == 0o600
    as_viewer = mlhooks(state, "--profile", f"viewer-{tag}", "whoami", "--json")
    assert json.loads(as_viewer.stdout)["role"] == "VIEWER"
    denied = mlhooks(
        state, "--profile", f"viewer-{tag}", "secrets", "set", f"NOPE_{tag}", input="long-enough-value"
    )
    assert denied.returncode == 5 and "[403" in denied.stderr

    ok(local_runtime, "keys", "delete", key["id"], "--yes")
    revoked = mlhooks(state, "--profile", f"viewer-{tag}", "whoami")
    assert revoked.returncode == 5 and "mlhooks login" in revoked.stderr
    ok(local_runtime, "members", "remove", f"viewer-{tag}", "--yes")


def test_no_api_is_exit_code_5_or_6_with_what_to_do(local_runtime, tmp_path):
    state = local_runtime["state_file"]
    unknown = mlhooks(state, "--profile", "nowhere", "whoami")
    assert unknown.returncode == 5 and "mlhooks login --profile nowhere" in unknown.stderr
    nothing = mlhooks(str(tmp_path / "no-runtime.json"), "automations", "list", clean=True)
    assert nothing.returncode == 5 and "make dev" in nothing.stderr
    closed = mlhooks(state, "whoami", env={"MLHOOKS_URL": "http://127.0.0.1:9", "MLHOOKS_API_KEY": "k"})
    assert closed.returncode == 6 and "Is the API running?" in closed.stderr
    assert "Traceback" not in unknown.stderr + nothing.stderr + closed.stderr


def test_what_a_script_or_a_person_gets_wrong_is_one_line_and_json_stays_json(local_runtime, tmp_path):
    tag = uuid.uuid4().hex[:6]
    state = local_runtime["state_file"]
    # Users' text is printed as it is, never read as markup: `[/]` once made the command crash.
    name = f"weird [/] name :smile: {tag}"
    spec = {
        "name": name,
        "scope": {"type": "ENTITY"},
        "event": {"type": "CREATE_ARTIFACT"},
        "action": {"type": "NO_OP"},
    }
    created = mlhooks(state, "automations", "create", "-f", write(tmp_path, "weird.json", spec))
    assert created.returncode == 0 and name in created.stdout, created.stderr
    assert name in ok(local_runtime, "automations", "get", name)

    # With --json, a failure is JSON on stdout as well as a line on stderr.
    missing = mlhooks(state, "executions", "list", "--automation", f"nothing {tag}", "--json")
    assert missing.returncode == 3 and json.loads(missing.stdout)["error"]["code"] == "not_found"

    # The URL as `make dev` prints it, with /v1, works too.
    api_v1 = {"MLHOOKS_URL": f"{local_runtime['api_url']}/v1", "MLHOOKS_API_KEY": local_runtime["admin_key"]}
    assert mlhooks(state, "whoami", env=api_v1).returncode == 0

    # A file that holds no event is a usage error naming it.
    listed = mlhooks(state, "events", "publish", write(tmp_path, "list.json", ["not", "events"]))
    assert listed.returncode == 2 and "holds no event" in listed.stderr

    # A secret attached to a webhook is detached before it can be deleted.
    ok(local_runtime, "secrets", "set", f"EXTRA_{tag}", input="extra-secret-value")
    ok(
        local_runtime,
        "webhooks",
        "create",
        f"hook-{tag}",
        "--url",
        "http://127.0.0.1:9/x",
        "--secret",
        f"EXTRA_{tag}",
    )
    assert mlhooks(state, "secrets", "delete", f"EXTRA_{tag}", "--yes").returncode == 4
    assert as_json(local_runtime, "webhooks", "update", f"hook-{tag}", "--no-secrets")["secrets"] == []
    ok(local_runtime, "secrets", "delete", f"EXTRA_{tag}", "--yes")

    # A port that is taken is one line saying how to choose another.
    taken = local_runtime["api_url"].rsplit(":", 1)[1]
    busy = mlhooks(state, "receive", "--port", taken)
    assert busy.returncode == 1 and "in use" in busy.stderr and "--port" in busy.stderr
    assert "Traceback" not in created.stderr + missing.stderr + listed.stderr + busy.stderr
