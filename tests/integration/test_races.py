"""Races: two requests at once never leave a state that neither of them would leave alone.

Each race is forced into its worst interleaving (one request held at the point where the other one
used to slip in, released by an event, never a sleep), then run free a number of times. Requests go
through two API "containers" (two Functions instances), as two Lambda invocations would.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from apiclient import Api
from samples import ROOT

from mlhooks.components import get_components
from mlhooks.local.apigw import LocalApiGateway
from mlhooks.local.functions import Functions

pytestmark = pytest.mark.suite("races")
HELD = 10  # seconds a held request waits for its release before giving up (never reached when green)


@pytest.fixture
def second_container(team, template) -> Api:
    """The admin's key through a second API container, so two requests run at the same time. Both
    containers serve a request first, as warm Lambda containers have: a container starting up while
    another serves is not a race Lambda can have (each container is its own process there)."""
    second = Api(LocalApiGateway(Functions(ROOT, template), template), team.keys["ADMIN"])
    for api in (team.admin, second):
        assert api.get(f"{team.base}/members").status == 200
    return second


def stored_value(entity: str, name: str) -> str:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    return client.get_secret_value(SecretId=f"mlhooks/mlhooks-local/{entity}/{name}")["SecretString"]


def hold(monkeypatch, target: Any, method: str, when) -> tuple[threading.Event, threading.Event]:
    """Hold calls of target.method for which `when(*args)` holds: (reached, release)."""
    real, reached, release = getattr(target, method), threading.Event(), threading.Event()

    def held(*args, **kwargs):
        if when(*args, **kwargs):
            reached.set()
            assert release.wait(HELD), "the held request was never released"
        return real(*args, **kwargs)

    monkeypatch.setattr(target, method, held)
    return reached, release


# ---- two creates of one secret ----------------------------------------------------------------------


def test_a_create_held_while_writing_its_value_keeps_the_name_and_its_value(
    team, second_container, monkeypatch
):
    vault = get_components().vault
    reached, release = hold(monkeypatch, vault, "write", lambda entity, name, value: value == "first-value")
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(team.admin.post, f"{team.base}/secrets", {"name": "RACE", "value": "first-value"})
        assert reached.wait(HELD)
        second = second_container.post(f"{team.base}/secrets", {"name": "RACE", "value": "second-value"})
        release.set()
        first = first.result()
    assert (first.status, second.status) == (201, 409)
    assert stored_value(team.entity, "RACE") == "first-value"


@pytest.mark.parametrize("trial", range(10))
def test_of_two_creates_of_one_name_the_one_answered_201_is_the_one_stored(team, second_container, trial):
    name, start = f"RACE_{trial}", threading.Barrier(2)

    def create(api: Api, value: str):
        start.wait()
        return api.post(f"{team.base}/secrets", {"name": name, "value": value}), value

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(create, [team.admin, second_container], ["value-a-first", "value-b-second"]))
    statuses = sorted(reply.status for reply, _ in answers)
    assert statuses == [201, 409], statuses
    [winner] = [value for reply, value in answers if reply.status == 201]
    assert stored_value(team.entity, name) == winner


def test_a_create_cannot_reuse_a_name_whose_delete_is_erasing_its_value(team, second_container, monkeypatch):
    team.admin.post(f"{team.base}/secrets", {"name": "GOING", "value": "old-value"})
    vault = get_components().vault
    reached, release = hold(monkeypatch, vault, "erase", lambda entity, name: name == "GOING")
    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(team.admin.delete, f"{team.base}/secrets/GOING")
        assert reached.wait(HELD)
        created = second_container.post(f"{team.base}/secrets", {"name": "GOING", "value": "new-value"})
        release.set()
        assert deleting.result().status == 204
    # Either the create waited its turn (409 now, free to retry), or it came after: never a record
    # whose value the delete then erased.
    assert created.status == 409
    assert team.admin.post(f"{team.base}/secrets", {"name": "GOING", "value": "new-value"}).status == 201
    assert stored_value(team.entity, "GOING") == "new-value"


# ---- an automation saved while its webhook changes ------------------------------------------------------

PAYLOAD = {"extra": "${EXTRA}"}


@pytest.fixture
def webhook(team, allow_loopback, receiver):
    team.admin.post(f"{team.base}/secrets", {"name": "EXTRA", "value": "extra-value"})
    reply = team.admin.post(
        f"{team.base}/webhooks", {"name": "gh", "url": receiver.url, "secrets": ["EXTRA"]}
    )
    assert reply.status == 201
    team.admin.post(f"{team.base}/projects", {"name": "p"})
    return "gh"


def automation_body(name: str = "uses extra") -> dict:
    return {
        "name": name,
        "scope": {"type": "PROJECT", "project": "p"},
        "event": {"type": "CREATE_ARTIFACT"},
        "action": {"type": "GENERIC_WEBHOOK", "webhook": "gh", "payload": PAYLOAD},
    }


def consistent(team) -> bool:
    """No stored automation uses a secret its webhook does not carry."""
    automations = team.admin.get(f"{team.base}/automations").json["items"]
    secrets = team.admin.get(f"{team.base}/webhooks/gh").json["secrets"]
    return "EXTRA" in secrets or not automations


def test_an_automation_checked_before_the_webhook_lost_its_secret_is_not_stored(
    team, webhook, second_container, monkeypatch
):
    store = get_components().store
    reached, release = hold(monkeypatch, store, "create_automation", lambda record, revision=None: True)
    with ThreadPoolExecutor(1) as pool:
        saving = pool.submit(team.member.post, f"{team.base}/automations", automation_body())
        assert reached.wait(HELD)  # validated against the webhook as it was
        removed = second_container.patch(f"{team.base}/webhooks/gh", {"secrets": []})
        release.set()
        saved = saving.result()
    assert removed.status == 200
    assert saved.status == 409 and saved.error["field"] == "action.webhook"
    assert consistent(team)


def test_a_webhook_edit_that_checked_its_automations_before_one_was_saved_is_refused(
    team, webhook, second_container, monkeypatch
):
    store = get_components().store
    reached, release = hold(monkeypatch, store, "update_webhook", lambda old, new: True)
    with ThreadPoolExecutor(1) as pool:
        editing = pool.submit(second_container.patch, f"{team.base}/webhooks/gh", {"secrets": []})
        assert reached.wait(HELD)  # checked the automations: none used EXTRA yet
        saved = team.member.post(f"{team.base}/automations", automation_body())
        release.set()
        edited = editing.result()
    assert saved.status == 201
    assert edited.status == 409
    assert consistent(team)
    # Retried, the edit now sees the automation and says why it cannot remove the secret.
    retried = team.admin.patch(f"{team.base}/webhooks/gh", {"secrets": []})
    assert retried.status == 409 and "uses this webhook" in retried.error["message"]


@pytest.mark.parametrize("trial", range(15))
def test_saving_an_automation_while_its_secret_is_removed_never_stores_a_broken_one(
    team, webhook, second_container, trial
):
    start = threading.Barrier(2)

    def save():
        start.wait()
        return team.member.post(f"{team.base}/automations", automation_body(f"a{trial}"))

    def remove():
        start.wait()
        return second_container.patch(f"{team.base}/webhooks/gh", {"secrets": []})

    with ThreadPoolExecutor(2) as pool:
        saved, removed = pool.submit(save), pool.submit(remove)
        statuses = (saved.result().status, removed.result().status)
    assert statuses in {(201, 409), (409, 200), (422, 200)}, statuses
    assert consistent(team)
