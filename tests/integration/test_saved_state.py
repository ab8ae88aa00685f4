"""What `mlhooks dev` saves is what a fresh stack gets back: items, secret values, the dev key, and a
job for every execution that was PENDING (its message did not survive). In-process moto, one
`mock_aws` per run, so the second starts as empty as a restarted runtime does."""

from __future__ import annotations

import contextlib
import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlhooks.access import AccessService, authenticate
from mlhooks.clock import now_iso
from mlhooks.components import get_components, reset_components
from mlhooks.jobs import Job
from mlhooks.local.provision import provision
from mlhooks.local.runtime import local_environment
from mlhooks.local.saved import SavedStateError, SavedStateFile
from mlhooks.local.stack import Stack
from mlhooks.models.records import ExecutionRecord
from mlhooks.models.vocabulary import ActionType, EventType, ExecutionState
from mlhooks.secrets import SecretsService

OLD_ENDPOINT, NEW_ENDPOINT = "http://127.0.0.1:41001", "http://127.0.0.1:42002"


@contextlib.contextmanager
def fresh_stack(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, parameters: dict[str, str] | None = None
) -> Iterator[Stack]:
    """A run of the runtime's AWS side: moto empty, the template provisioned (with these parameters)."""
    for name, value in local_environment("unused").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # in-process moto: the real endpoints, intercepted
    with mock_aws():
        stack = provision(template, endpoint_url=None, parameters=parameters)
        for name, value in local_environment("unused", stack).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        reset_components()
        yield stack
    reset_components()


def secretsmanager() -> Any:
    return boto3.client("secretsmanager", region_name="us-east-1")


def pending_execution() -> ExecutionRecord:
    return ExecutionRecord(
        entity="acme",
        id="ex_pending",
        automation_id="au_1",
        automation_name="deploy",
        project="registry",
        event_type=EventType.ADD_ARTIFACT_ALIAS,
        detail_type="Artifact Alias Added",
        event={},
        action_type=ActionType.GENERIC_WEBHOOK,
        created_at=now_iso(),
        updated_at=now_iso(),
    )


@pytest.fixture
def saved_run(template, monkeypatch, tmp_path) -> tuple[Path, str]:
    """A first run that made an entity with a key, a secret, a PENDING execution and two raw items
    (one naming moto's endpoint, one past its TTL), then saved; its folder and the key."""
    folder = tmp_path / "state"
    with fresh_stack(template, monkeypatch) as stack:
        saved = SavedStateFile(folder)
        assert saved.open() is None
        saved.restore(stack, OLD_ENDPOINT, secretsmanager())
        components = get_components()
        _, key = AccessService(components.store).bootstrap("acme", "alice")
        saved.remember_key("acme", key, secretsmanager())
        SecretsService(components.store, components.vault).create("acme", "TOKEN", "token-value")
        assert components.store.create_execution(pending_execution())
        table = components.store.table
        table.put_item(Item={"PK": "LOCAL", "SK": "URL", "url": f"{OLD_ENDPOINT}/123456789012/q"})
        table.put_item(Item={"PK": "LOCAL", "SK": "EXPIRED", "expires_at": int(time.time()) - 60})
        saved.save(secretsmanager())
        saved.close()
    return folder, key


def test_a_fresh_stack_gets_back_the_items_the_secret_values_and_the_dev_key(
    template, monkeypatch, saved_run
):
    folder, key = saved_run
    with fresh_stack(template, monkeypatch) as stack:
        saved = SavedStateFile(folder)
        saved.open()
        saved.restore(stack, NEW_ENDPOINT, secretsmanager())
        components = get_components()
        caller = authenticate(components.store, f"Bearer {key}")
        assert caller is not None and caller.entity == "acme" and caller.member == "alice"
        assert saved.dev_key("acme") == key
        assert components.vault.read("acme", "TOKEN") == "token-value"
        [listed] = secretsmanager().list_secrets()["SecretList"]
        assert {"Key": "mlhooks:entity", "Value": "acme"} in listed["Tags"]
        assert [s.name for s in SecretsService(components.store, components.vault).list("acme")[0]] == [
            "TOKEN"
        ]


def test_mentions_of_the_old_endpoint_point_at_the_new_one(template, monkeypatch, saved_run):
    folder, _ = saved_run
    with fresh_stack(template, monkeypatch) as stack:
        saved = SavedStateFile(folder)
        saved.open()
        saved.restore(stack, NEW_ENDPOINT, secretsmanager())
        item = get_components().store.table.get_item(Key={"PK": "LOCAL", "SK": "URL"})["Item"]
        assert item["url"] == f"{NEW_ENDPOINT}/123456789012/q"


def test_what_dynamodbs_ttl_would_have_deleted_is_not_saved(template, monkeypatch, saved_run):
    folder, _ = saved_run
    with fresh_stack(template, monkeypatch) as stack:
        saved = SavedStateFile(folder)
        saved.open()
        saved.restore(stack, NEW_ENDPOINT, secretsmanager())
        assert "Item" not in get_components().store.table.get_item(Key={"PK": "LOCAL", "SK": "EXPIRED"})


def test_a_pending_execution_gets_a_job_again(template, monkeypatch, saved_run):
    folder, _ = saved_run
    with fresh_stack(template, monkeypatch) as stack:
        saved = SavedStateFile(folder)
        saved.open()
        saved.restore(stack, NEW_ENDPOINT, secretsmanager())
        components = get_components()
        assert saved.requeue_pending(components) == 1
        [message] = components.sqs.receive_message(QueueUrl=components.settings.webhook_queue_url)["Messages"]
        assert Job.parse(message["Body"]) == Job(entity="acme", execution_id="ex_pending")
        execution = components.store.get_execution("acme", "ex_pending")
        assert execution is not None and execution.state is ExecutionState.PENDING


def test_the_stacks_own_secrets_are_made_anew_each_run_and_not_saved(template, monkeypatch, tmp_path):
    """The local Slack app's client secret belongs to the run that made it: the next run's
    provisioning makes its own, and restoring the entities' secrets beside it still works."""
    folder = tmp_path / "state"
    for run in ("first", "second"):
        client_secret = f"{run}-run-slack-client-secret"
        with fresh_stack(template, monkeypatch, {"SlackClientSecret": client_secret}) as stack:
            saved = SavedStateFile(folder)
            saved.open()
            saved.restore(stack, OLD_ENDPOINT, secretsmanager())
            components = get_components()
            if run == "first":
                SecretsService(components.store, components.vault).create("acme", "TOKEN", "token-value")
            else:
                assert components.vault.read("acme", "TOKEN") == "token-value"
            app_secret = stack.refs["SlackClientSecretValue"]
            assert secretsmanager().get_secret_value(SecretId=app_secret)["SecretString"] == client_secret
            saved.save(secretsmanager())
            saved.close()
        assert "slack-client-secret" not in (folder / "saved.json").read_text()


def test_the_file_and_its_folder_are_this_users_only(saved_run):
    folder, _ = saved_run
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "saved.json").stat().st_mode) == 0o600


def test_a_file_of_another_format_is_refused_with_the_way_out(tmp_path):
    (tmp_path / "saved.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(SavedStateError, match=r"format 99.*mlhooks dev --reset"):
        SavedStateFile(tmp_path).open()


def test_reset_forgets_the_saved_state(saved_run):
    folder, _ = saved_run
    assert SavedStateFile(folder).open(reset=True) is None
    assert not (folder / "saved.json").exists()


def test_one_runtime_at_a_time_keeps_a_folder(tmp_path):
    first = SavedStateFile(tmp_path)
    first.open()
    with pytest.raises(SavedStateError, match="another mlhooks dev is running"):
        SavedStateFile(tmp_path).open()
    first.close()
    SavedStateFile(tmp_path).open()
