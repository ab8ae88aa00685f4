"""A real MLflow tracking server (the pinned version in .venv-mlflow, SQL backend on sqlite) connected
to `mlhooks dev` as a source: MLflow's own client creates the webhook, registers a model version and
sets the alias `champion`; MLflow signs and sends its webhooks; an mlhooks automation fires and
delivers a signed webhook to a local receiver."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from receivers import standard_webhooks_verified
from samples import ROOT
from waiting import eventually

pytestmark = pytest.mark.e2e
MLFLOW = ROOT / ".venv-mlflow" / "bin"
MLFLOW_SECRET = "mlflow-e2e-" + secrets.token_hex(8)
SIGNING = "mlflow-e2e-receiver-signing"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (MLFLOW / "mlflow").exists():
        pytest.fail("The MLflow server is not installed: run `make mlflow` (make test does).")
    folder = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLHOOKS_", "MLFLOW_"))}
    env |= {
        # MLflow calls only https URLs unless told otherwise; mlhooks dev serves http on 127.0.0.1.
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        # Webhook secrets are stored encrypted; without a key each worker would make its own.
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    log = (folder / "mlflow.log").open("w")
    process = subprocess.Popen(
        [
            str(MLFLOW / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--default-artifact-root",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited:\n{(folder / 'mlflow.log').read_text()[-3000:]}")
        try:
            return requests.get(f"{url}/health", timeout=2).ok
        except requests.ConnectionError:
            return False

    try:
        eventually(healthy, timeout=120, what="mlflow server")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def mlflow_client(server: str, script: str, **values: Any) -> dict[str, Any]:
    """Run MLflow's own Python client against the server; what the script prints as JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLHOOKS_", "MLFLOW_"))}
    env |= {"MLFLOW_TRACKING_URI": server, "MLHOOKS_VALUES": json.dumps(values)}
    preamble = (
        "import json, os\nfrom mlflow import MlflowClient\nv = json.loads(os.environ['MLHOOKS_VALUES'])\n"
    )
    done = subprocess.run(
        [str(MLFLOW / "python"), "-c", preamble + script],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_mlflow_registering_a_champion_fires_an_mlhooks_automation(
    mlflow_server: str, local_runtime: dict[str, Any], http: requests.Session, receiver: Any
) -> None:
    tag = uuid.uuid4().hex[:8]
    api = f"{local_runtime['api_url']}/v1/entities/{local_runtime['entity']}"
    project, model = f"mlflow-{tag}", f"resnet-{tag}"
    for name, value in ((f"MLFLOW_{tag}", MLFLOW_SECRET), (f"SIGNING_{tag}", SIGNING)):
        assert http.post(f"{api}/secrets", json={"name": name, "value": value}).status_code == 201
    assert http.post(f"{api}/projects", json={"name": project, "registry": True}).status_code == 201
    source = http.post(
        f"{api}/sources",
        json={
            "name": f"mlflow-{tag}",
            "kind": "mlflow",
            "signing_secret": f"MLFLOW_{tag}",
            "project": project,
        },
    )
    assert source.status_code == 201, source.text
    webhook = http.post(
        f"{api}/webhooks",
        json={"name": f"deploy-{tag}", "url": receiver.url, "signing_secret": f"SIGNING_{tag}"},
    )
    assert webhook.status_code == 201, webhook.text
    automation = http.post(
        f"{api}/automations",
        json={
            "name": f"champion-{tag}",
            "scope": {"type": "PROJECT", "project": project},
            "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "^champion$"}}},
            "action": {
                "type": "GENERIC_WEBHOOK",
                "webhook": f"deploy-{tag}",
                "payload": {"model": "${artifact_version_string}", "run": "${artifact_metadata.run_id}"},
            },
        },
    )
    assert automation.status_code == 201, automation.text

    setup = source.json()["setup"]["mlflow_webhook"]
    created = mlflow_client(
        mlflow_server,
        """
client = MlflowClient()
hook = client.create_webhook(name="mlhooks", url=v["url"], events=v["events"], secret=v["secret"])
client.create_registered_model(v["model"])
version = client.create_model_version(v["model"], source="s3://models/resnet", run_id=None)
client.set_registered_model_alias(v["model"], "champion", version.version)
print(json.dumps({"webhook": hook.webhook_id, "version": version.version}))
""",
        url=source.json()["inbound_url"],
        events=setup["events"] + ["registered_model.created"],
        secret=MLFLOW_SECRET,
        model=model,
    )
    assert created["version"] == "1"

    def fired() -> list[dict[str, Any]] | None:
        items = http.get(f"{api}/automations/{automation.json()['id']}/executions").json()["items"]
        return items if items and items[0]["state"] == "FINISHED" else None

    [execution] = eventually(fired, timeout=60, what="the champion automation to deliver")
    assert (execution["publisher"]["via"], execution["publisher"]["source"]) == ("source", f"mlflow-{tag}")
    [request] = receiver.requests
    assert request.json == {"model": f"dev/{project}/{model}:champion", "run": ""}
    assert standard_webhooks_verified(SIGNING, request) == request.json

    def recorded() -> list[dict[str, Any]] | None:
        reply = http.get(f"{api}/sources/mlflow-{tag}/deliveries").json()["items"]
        return reply if len(reply) == 3 else None

    outcomes = {
        d["platform_event"]: d["outcome"] for d in eventually(recorded, timeout=30, what="3 deliveries")
    }
    assert outcomes == {
        "registered_model.created": "ignored",
        "model_version.created": "accepted",
        "model_version_alias.created": "accepted",
    }
