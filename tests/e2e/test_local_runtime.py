"""End to end over the local runtime: what the README's walk-through does, checked."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from receivers import standard_webhooks_verified, wandb_signature
from samples import ROOT

pytestmark = pytest.mark.e2e
TOKEN = "e2e-github-token-value"
SIGNING = "e2e-signing-secret-value"


def test_readme_walkthrough_secret_webhook_automation_and_test_call(local_runtime, http, receiver):
    api = f"{local_runtime['api_url']}/v1/entities/{local_runtime['entity']}"
    suffix = uuid.uuid4().hex[:6]
    token_name, signing_name, hook = f"GITHUB_TOKEN_{suffix}", f"SIGNING_{suffix}", f"github-{suffix}"

    assert http.post(f"{api}/secrets", json={"name": token_name, "value": TOKEN}).status_code == 201
    assert http.post(f"{api}/secrets", json={"name": signing_name, "value": SIGNING}).status_code == 201
    created = http.post(
        f"{api}/webhooks",
        json={
            "name": hook,
            "url": receiver.url,
            "access_token_secret": token_name,
            "signing_secret": signing_name,
        },
    )
    assert created.status_code == 201, created.text
    assert (
        http.post(f"{api}/projects", json={"name": f"registry-{suffix}", "registry": True}).status_code == 201
    )
    automation = http.post(
        f"{api}/automations",
        json={
            "name": "dispatch on production alias",
            "scope": {"type": "PROJECT", "project": f"registry-{suffix}"},
            "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$eq": "production"}}},
            "action": {
                "type": "GENERIC_WEBHOOK",
                "webhook": hook,
                "payload": {
                    "event_type": "DEPLOY_MODEL",
                    "client_payload": {"version": "${artifact_version_string}"},
                },
            },
        },
    )
    assert automation.status_code == 201, automation.text
    assert automation.headers["ETag"] == '"1"'

    result = http.post(f"{api}/webhooks/{hook}/test", json={}).json()
    assert result["ok"] is True and result["status_code"] == 200

    [request] = receiver.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Wandb-Signature"] == wandb_signature(SIGNING, request.body)
    assert standard_webhooks_verified(SIGNING, request) == request.json
    assert request.json["entity_name"] == local_runtime["entity"]


def test_errors_over_http_are_json_with_field(local_runtime, http):
    api = f"{local_runtime['api_url']}/v1/entities/{local_runtime['entity']}"
    reply = http.post(f"{api}/webhooks", json={"name": "meta", "url": "https://169.254.169.254/latest"})
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "blocked_destination" and reply.json()["error"]["field"] == "url"
    unauthenticated = http.get(f"{api}/secrets", headers={"Authorization": ""})
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"]["code"] == "unauthorized"
    foreign = http.get(f"{local_runtime['api_url']}/v1/entities/someone-else/secrets")
    assert foreign.status_code == 404


def test_any_http_method_gets_a_json_answer(local_runtime, http):
    reply = http.request("PROPFIND", f"{local_runtime['api_url']}/v1/entities/dev/secrets")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"


def test_openapi_and_docs_are_served(local_runtime):
    import requests

    document = requests.get(f"{local_runtime['api_url']}/v1/openapi.json", timeout=10).json()
    assert "/v1/entities/{entity}/webhooks/{name}/test" in document["paths"]
    docs = requests.get(f"{local_runtime['api_url']}/v1/docs", timeout=10)
    assert docs.status_code == 200 and "text/html" in docs.headers["Content-Type"]


def test_invoke_runs_one_function_on_one_sample_event(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlhooks.cli",
            "invoke",
            "ApiFunction",
            "-e",
            "events/api-create-project.json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["statusCode"] == 201
    assert json.loads(result["body"])["name"] == "wandb-registry-model"
