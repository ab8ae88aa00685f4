"""History and one execution in the console: executions appearing and settling without a reload,
the event, the request and every attempt, redelivering after a fix, retrying and canceling a
PENDING execution, filters, search by automation, a collection's counts, and what a VIEWER sees.

Each test works in a registry of its own, with automations scoped to its collection. The shared
runtime makes 3 attempts without backoff, so a dead endpoint reaches FAILED in a second or two; a
receiver answering 429 with a long Retry-After keeps an execution PENDING for as long as a test needs.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from e2e.console.conftest import screenshot, sign_in, unique
from playwright.sync_api import Page, expect
from receivers import Receiver
from samples import ROOT
from waiting import eventually

ALIAS_EVENT = json.loads((ROOT / "events" / "platform-alias-added.json").read_text())
STATES = ["PENDING", "FINISHED", "FAILED", "SKIPPED", "CANCELED"]
# Held PENDING: the receiver asks for this long before the next attempt.
HOLD_SECONDS = 600


def admin_session(runtime: dict[str, Any]) -> requests.Session:
    """The API as the runtime's admin (as conftest's `api`, for fixtures that outlive one test)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {runtime['admin_key']}"
    session.base_url = f"{runtime['api_url']}/v1/entities/{runtime['entity']}"  # type: ignore[attr-defined]
    return session


def call(api: requests.Session, method: str, path: str, body: Any = None) -> Any:
    response = api.request(method, f"{api.base_url}{path}", json=body, timeout=10)  # type: ignore[attr-defined]
    assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def dead_url() -> str:
    """A loopback URL nothing listens on (the local runtime's outbound guard allows 127.0.0.0/8)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def registry(api: requests.Session, hooks: dict[str, str], **webhook: Any) -> dict[str, Any]:
    """A registry with the collection resnet50 and, for each label, a webhook to its URL (with the
    `webhook` fields given) and an automation on the collection's `production` alias that calls it:
    {"project", label: {...}}."""
    tag = unique("history")
    project = f"reg-{tag}"
    call(api, "POST", "/projects", {"name": project, "registry": True})
    call(api, "POST", f"/projects/{project}/collections", {"name": "resnet50"})
    made: dict[str, Any] = {"project": project}
    for label, url in hooks.items():
        name = f"{label}-{tag}"
        call(api, "POST", "/webhooks", {"name": name, "url": url, **webhook})
        automation = call(
            api,
            "POST",
            "/automations",
            {
                "name": f"{label} {tag}",
                "scope": {"type": "ARTIFACT_COLLECTION", "project": project, "collection": "resnet50"},
                "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": "production"}},
                "action": {
                    "type": "GENERIC_WEBHOOK",
                    "webhook": name,
                    "payload": {
                        "event_type": "DEPLOY_MODEL",
                        "client_payload": {"version": "${artifact_version_string}"},
                    },
                },
            },
        )
        made[label] = {"webhook": name, "name": automation["name"], "id": automation["id"]}
    return made


def publish(runtime: dict[str, Any], project: str, count: int = 1) -> list[str]:
    """The README's alias event, `count` times with new ids, for `project`, through POST /v1/events
    as the admin's member (10 events a request at most, as the API takes them)."""
    detail = {k: v for k, v in ALIAS_EVENT["detail"].items() if k not in ("author", "entity")}
    event_ids = [unique("evt") for _ in range(count)]
    for start in range(0, count, 10):
        events = [
            {**ALIAS_EVENT, "detail": {**detail, "project": project, "event_id": event_id}}
            for event_id in event_ids[start : start + 10]
        ]
        answer = requests.post(
            f"{runtime['api_url']}/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {runtime['admin_key']}"},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
    return event_ids


def executions(api: requests.Session, project: str) -> list[dict[str, Any]]:
    return call(api, "GET", f"/projects/{project}/executions?limit=200")["items"]


def execution(api: requests.Session, execution_id: str) -> dict[str, Any]:
    return call(api, "GET", f"/executions/{execution_id}")


def inbox_paths(runtime: dict[str, Any]) -> list[str]:
    return [r["path"] for r in requests.get(f"{runtime['inbox_url']}/", timeout=5).json()["requests"]]


@pytest.fixture(scope="module")
def mixed(console_runtime: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A registry whose history holds every kind of outcome: two events, each run by an automation
    that delivers (FINISHED), one whose endpoint is dead (FAILED) and one whose receiver says "later"
    (PENDING; one of the two is then canceled)."""
    held = Receiver(status=429, extra_headers={"Retry-After": str(HOLD_SECONDS)})
    api = admin_session(console_runtime)
    made = registry(
        api,
        {
            "deploy": f"{console_runtime['inbox_url']}/{unique('deploy')}",
            "notify": dead_url(),
            "stage": held.url,
        },
    )
    stage = made["stage"]["name"]
    publish(console_runtime, made["project"], count=2)

    def settled() -> list[dict[str, Any]] | None:
        items = executions(api, made["project"])
        held_once = [e for e in items if e["automation_name"] == stage and e["attempt_count"]]
        waiting = [e for e in items if e["state"] == "PENDING" and e not in held_once]
        done = len(items) == 6 and not waiting
        return items if done else None

    items = eventually(settled, timeout=30, what="six executions, each attempted")
    staged = [e for e in items if e["automation_name"] == made["stage"]["name"]]
    assert [e["state"] for e in staged] == ["PENDING", "PENDING"]
    call(api, "POST", f"/executions/{staged[1]['id']}/cancel", {"reason": "superseded"})
    made["held"] = staged[0]["id"]
    yield made
    held.close()


def test_a_new_execution_appears_finishes_and_opens_with_its_event_request_and_attempt(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    path = f"/{unique('deploy')}"
    secret, value = f"SIGNING_{unique('h').replace('-', '_')}", unique("signing-value")
    call(api, "POST", "/secrets", {"name": secret, "value": value})
    made = registry(api, {"deploy": console_runtime["inbox_url"] + path}, signing_secret=secret)
    project, automation = made["project"], made["deploy"]["name"]
    sign_in(page, console_runtime, path=f"#/history?project={project}")
    expect(page.get_by_text("No executions here yet")).to_be_visible()
    expect(page.get_by_text("Live", exact=True)).to_be_visible()
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again

    [event_id] = publish(console_runtime, project)
    table = page.get_by_role("table", name="Executions")
    row = table.get_by_role("row").filter(has_text=automation)
    expect(row).to_contain_text("FINISHED")
    expect(row).to_contain_text("ADD_ARTIFACT_ALIAS")
    assert page.evaluate("window.sameDocument") is True
    [held] = executions(api, project)
    assert held["state"] == "FINISHED" and held["automation_name"] == automation

    row.get_by_role("link", name="View").click()
    expect(page).to_have_url(re.compile(f"#/executions/{held['id']}$"))
    summary = page.get_by_role("region", name="Summary")
    expect(summary).to_contain_text("FINISHED")
    editor = f"#/automations/{made['deploy']['id']}"
    expect(summary.get_by_role("link", name=automation)).to_have_attribute("href", editor)
    expect(page.get_by_label("Event", exact=True)).to_contain_text(event_id)
    expect(page.get_by_text(f"POST {console_runtime['inbox_url']}{path}")).to_be_visible()
    headers = page.get_by_role("table", name="Request headers")
    expect(headers.get_by_role("row").filter(has_text="X-Wandb-Signature")).to_contain_text("present")
    expect(headers).to_contain_text("webhook-id")
    expect(page.get_by_label("Body", exact=True)).to_contain_text("DEPLOY_MODEL")
    attempts = page.get_by_role("table", name="Attempts")
    expect(attempts.get_by_role("row")).to_have_count(2)  # the header and attempt 1
    expect(attempts.get_by_role("row").nth(1)).to_contain_text("200")
    # What the page shows is what the API holds, and the inbox got it.
    shown = execution(api, held["id"])
    assert shown["event"]["event_id"] == event_id
    assert [(a["number"], a["status_code"]) for a in shown["attempts"]] == [(1, 200)]
    assert path in inbox_paths(console_runtime)
    assert value not in page.content()  # the API redacted it; the page shows what the API holds
    # A finished execution is not sent again: no button offers it.
    expect(page.get_by_role("button", name="Redeliver")).to_have_count(0)
    screenshot(page, "execution-finished")


def test_a_failed_execution_is_redelivered_after_the_webhook_is_fixed(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    made = registry(api, {"deploy": dead_url()})
    project, webhook = made["project"], made["deploy"]["webhook"]
    sign_in(page, console_runtime, path=f"#/history?project={project}")
    expect(page.get_by_text("No executions here yet")).to_be_visible()
    publish(console_runtime, project)
    row = page.get_by_role("table", name="Executions").get_by_role("row").nth(1)
    expect(row).to_contain_text("FAILED")
    expect(row).to_contain_text("gave up after 3 attempts")
    row.get_by_role("link", name="View").click()

    attempts = page.get_by_role("table", name="Attempts")
    expect(attempts.get_by_role("row")).to_have_count(4)
    for number in (1, 2, 3):
        expect(attempts.get_by_role("row").nth(number)).to_contain_text("connection_error")
        expect(attempts.get_by_role("row").nth(number)).to_contain_text("Connection refused")
    expect(page.get_by_role("region", name="Summary")).to_contain_text("FAILED")
    screenshot(page, "execution-failed")
    [failed] = executions(api, project)
    assert failed["state"] == "FAILED" and failed["attempt_count"] == 3

    # Fixed with the API; redelivered in the console: the new attempt and FINISHED show by themselves.
    fixed = f"/{unique('fixed')}"
    call(api, "PATCH", f"/webhooks/{webhook}", {"url": console_runtime["inbox_url"] + fixed})
    page.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_role("status")).to_contain_text("Redelivery queued")
    expect(page.get_by_role("region", name="Summary")).to_contain_text("FINISHED")
    expect(attempts.get_by_role("row")).to_have_count(5)
    last = attempts.get_by_role("row").nth(4)
    expect(last).to_contain_text("200")
    expect(attempts.get_by_role("columnheader", name="Delivery")).to_be_visible()
    redelivered = execution(api, failed["id"])
    assert redelivered["state"] == "FINISHED" and redelivered["deliveries"] == 2
    assert [a["status_code"] for a in redelivered["attempts"]] == [None, None, None, 200]
    assert fixed in inbox_paths(console_runtime)


def test_retry_now_and_cancel_a_pending_execution(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    held = Receiver(status=429, extra_headers={"Retry-After": str(HOLD_SECONDS)})
    try:
        made = registry(api, {"stage": held.url})
        publish(console_runtime, made["project"])
        [pending] = eventually(
            lambda: [e for e in executions(api, made["project"]) if e["attempt_count"] == 1],
            timeout=30,
            what="the first attempt",
        )
        assert pending["state"] == "PENDING"
        sign_in(page, console_runtime, path=f"#/executions/{pending['id']}")
        summary = page.get_by_role("region", name="Summary")
        expect(summary).to_contain_text("PENDING")
        attempts = page.get_by_role("table", name="Attempts")
        expect(attempts.get_by_role("row").nth(1)).to_contain_text("429")

        page.get_by_role("button", name="Retry now").click()
        expect(page.get_by_role("status")).to_contain_text("Retrying now.")
        expect(attempts.get_by_role("row")).to_have_count(3)  # attempt 2 appears by itself
        expect(attempts.get_by_role("row").nth(2)).to_contain_text("429")
        assert execution(api, pending["id"])["deliveries"] == 2

        page.get_by_role("button", name="Cancel", exact=True).click()
        dialog = page.get_by_role("dialog", name="Cancel this execution")
        dialog.get_by_label("Reason (optional)").fill("wrong model")
        dialog.get_by_role("button", name="Cancel execution").click()
        expect(dialog).to_be_hidden()
        expect(summary).to_contain_text("CANCELED")
        expect(summary).to_contain_text("wrong model")
        expect(page.get_by_role("button", name="Redeliver")).to_be_visible()
        canceled = execution(api, pending["id"])
        assert canceled["state"] == "CANCELED"
        assert canceled["canceled_by"] == console_runtime["username"] and "wrong model" in canceled["reason"]
    finally:
        held.close()


def test_a_retry_while_an_attempt_is_under_way_shows_the_apis_refusal(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    arrived, release = threading.Event(), threading.Event()
    receiver = Receiver(statuses=[("hold", arrived, release)])  # answers 200 once released
    try:
        made = registry(api, {"deploy": receiver.url})
        publish(console_runtime, made["project"])
        [under_way] = eventually(lambda: executions(api, made["project"]), timeout=30, what="the execution")
        assert arrived.wait(30), "the first attempt never reached the receiver"
        sign_in(page, console_runtime, path=f"#/executions/{under_way['id']}")
        summary = page.get_by_role("region", name="Summary")
        expect(summary).to_contain_text("PENDING")
        expect(page.get_by_text("No attempt yet")).to_be_visible()
        page.get_by_role("button", name="Retry now").click()
        expect(summary.get_by_role("alert")).to_contain_text("being delivered right now")
        assert execution(api, under_way["id"])["deliveries"] == 1

        release.set()
        expect(summary).to_contain_text("FINISHED")  # by itself, once the attempt is recorded
        expect(summary.get_by_role("alert")).to_have_count(0)  # the refusal was about a PENDING one
        expect(page.get_by_role("table", name="Attempts").get_by_role("row").nth(1)).to_contain_text("200")
        finished = execution(api, under_way["id"])
        assert finished["state"] == "FINISHED" and finished["deliveries"] == 1
    finally:
        release.set()
        receiver.close()


def test_load_more_then_new_executions_keep_every_row_once(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    made = registry(api, {"deploy": f"{console_runtime['inbox_url']}/{unique('many')}"})
    project = made["project"]
    publish(console_runtime, project, count=30)
    eventually(
        lambda: [e["state"] for e in executions(api, project)] == ["FINISHED"] * 30,
        timeout=60,
        what="thirty finished executions",
    )
    sign_in(page, console_runtime, path=f"#/history?project={project}")
    rows = page.get_by_role("table", name="Executions").get_by_role("row")
    expect(rows).to_have_count(1 + 25)  # the header and the first page
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(1 + 30)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)

    # A new execution while the older pages are shown: it comes first, and no row is lost or doubled.
    publish(console_runtime, project)
    expect(rows).to_have_count(1 + 31)
    links = page.get_by_role("link", name="View")
    shown = [link.get_attribute("href").rsplit("/", 1)[1] for link in links.all()]  # type: ignore[union-attr]
    listed = [e["id"] for e in executions(api, project)]
    assert shown == listed and len(set(shown)) == 31


def test_filters_search_and_a_collections_counts(
    page: Page, console_runtime: dict[str, Any], mixed: dict[str, Any]
) -> None:
    project = mixed["project"]
    sign_in(page, console_runtime, path=f"#/history?project={project}")
    table = page.get_by_role("table", name="Executions")
    rows = table.get_by_role("row")
    expect(rows).to_have_count(7)  # the header and six executions
    for state in ("FINISHED", "FAILED", "PENDING", "CANCELED"):
        expect(table.get_by_text(state, exact=True).first).to_be_visible()
    # A PENDING one whose attempts failed says so (the summary has no error: the count it has).
    held = rows.filter(has_text=mixed["stage"]["name"]).filter(has_text="PENDING")
    attempts = execution(admin_session(console_runtime), mixed["held"])["attempt_count"]
    expect(held).to_contain_text(f"Not delivered yet: {attempts} failed attempt")
    screenshot(page, "history-project")

    page.get_by_label("State", exact=True).select_option("FAILED")
    expect(page).to_have_url(re.compile(r"state=FAILED"))
    expect(rows).to_have_count(3)
    for index in (1, 2):
        expect(rows.nth(index)).to_contain_text("FAILED")
        expect(rows.nth(index)).to_contain_text(mixed["notify"]["name"])
    page.get_by_label("State", exact=True).select_option("")
    expect(rows).to_have_count(7)

    # By automation name (the API's automation routes take names).
    search = page.get_by_role("search", name="Find an automation")
    search.get_by_label("Automation").fill(mixed["deploy"]["name"])
    search.get_by_label("Automation").press("Enter")
    expect(page.get_by_text(f"Automation {mixed['deploy']['name']}")).to_be_visible()
    opened = f"#/automations/{mixed['deploy']['id']}"
    expect(page.get_by_role("link", name="Open the automation", exact=True)).to_have_attribute("href", opened)
    expect(rows).to_have_count(3)
    expect(table).not_to_contain_text(mixed["notify"]["name"])
    expect(search.get_by_label("Automation")).to_have_value(mixed["deploy"]["name"])
    expect(page).to_have_url(re.compile(f"automation={mixed['deploy']['id']}"))
    search.get_by_label("Automation").fill(f"no such {project}")
    search.get_by_label("Automation").press("Enter")
    expect(page.get_by_role("status").filter(has_text="No automation's name holds")).to_contain_text(
        f"“no such {project}”"
    )
    # An address typed by hand may still name an automation: the API says when there is none.
    page.goto(f"{console_runtime['console_url']}#/history?automation=no+such+{project}")
    expect(page.get_by_role("alert")).to_contain_text(f"No automation no such {project}.")
    search.get_by_role("link", name="Clear").click()
    expect(search.get_by_label("Automation")).to_have_value("")

    # A collection: pick the project, then the collection; its counts by state link to each filter.
    page.get_by_label("Project", exact=True).select_option(project)
    page.get_by_label("Collection", exact=True).select_option("resnet50")
    counts = page.get_by_role("list", name="Executions by state")
    expect(counts).to_contain_text("6 in all")
    held = admin_session(console_runtime)
    counted = call(held, "GET", f"/projects/{project}/collections/resnet50/executions/count")
    assert counted["by_state"] == {"PENDING": 1, "FINISHED": 2, "FAILED": 2, "SKIPPED": 0, "CANCELED": 1}
    for state in STATES:
        expect(counts.get_by_role("link", name=f"{counted['by_state'][state]} {state}")).to_be_visible()
    counts.get_by_role("link", name="1 CANCELED").click()
    expect(page).to_have_url(re.compile(r"collection=resnet50.*state=CANCELED"))
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("canceled by")


def test_a_viewer_sees_the_history_but_cannot_redeliver_retry_or_cancel(
    page: Page, console_runtime: dict[str, Any], api: requests.Session, mixed: dict[str, Any]
) -> None:
    viewer = unique("viewer")
    call(api, "POST", "/members", {"username": viewer, "role": "VIEWER"})
    key = call(api, "POST", "/api-keys", {"name": "history", "member": viewer})["key"]
    sign_in(page, console_runtime, key=key, path=f"#/history?project={mixed['project']}&state=FAILED")
    expect(page.get_by_role("banner")).to_contain_text("VIEWER")
    rows = page.get_by_role("table", name="Executions").get_by_role("row")
    expect(rows).to_have_count(3)
    rows.nth(1).get_by_role("link", name="View").click()
    expect(page.get_by_role("region", name="Summary")).to_contain_text("FAILED")
    expect(page.get_by_role("table", name="Attempts").get_by_role("row")).to_have_count(4)
    expect(page.get_by_role("button", name="Redeliver")).to_have_count(0)
    screenshot(page, "history-viewer")

    page.goto(f"{console_runtime['console_url']}#/executions/{mixed['held']}")
    expect(page.get_by_role("region", name="Summary")).to_contain_text("PENDING")
    expect(page.get_by_role("button", name="Retry now")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    # The API refuses the viewer too.
    refused = requests.post(
        f"{api.base_url}/executions/{mixed['held']}/retry",  # type: ignore[attr-defined]
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert refused.status_code == 403
    assert execution(api, mixed["held"])["deliveries"] == 1


def no_op_automation(api: requests.Session, name: str) -> dict[str, Any]:
    """A registry with the collection resnet50 and an automation `name` on it that does nothing."""
    project = f"reg-{unique('alike')}"
    call(api, "POST", "/projects", {"name": project, "registry": True})
    call(api, "POST", f"/projects/{project}/collections", {"name": "resnet50"})
    scope = {"type": "ARTIFACT_COLLECTION", "project": project, "collection": "resnet50"}
    body = {
        "name": name,
        "scope": scope,
        "event": {"type": "ADD_ARTIFACT_ALIAS"},
        "action": {"type": "NO_OP"},
    }
    return call(api, "POST", "/automations", body)


def test_two_automations_named_alike_each_have_their_own_history(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    name = unique("deploy alike")
    first, second = no_op_automation(api, name), no_op_automation(api, name)
    lonely = call(
        api,
        "POST",
        "/automations",
        {**{k: first[k] for k in ("scope", "event", "action")}, "name": unique("lonely")},
    )
    first_project, second_project = first["scope"]["project"], second["scope"]["project"]
    publish(console_runtime, first_project, count=1)
    publish(console_runtime, second_project, count=2)
    eventually(
        lambda: len(executions(api, first_project)) == 2 and len(executions(api, second_project)) == 2,
        timeout=30,
        what="the executions of both",
    )

    # The name in a project's history links to that automation's history, by its id.
    sign_in(page, console_runtime, path=f"#/history?project={first_project}")
    table = page.get_by_role("table", name="Executions")
    rows = table.get_by_role("row")
    expect(rows).to_have_count(3)  # the header, and `name` and the lonely one on one event
    rows.filter(has_text=name).get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(re.compile(f"#/history\\?automation={first['id']}$"))
    expect(rows).to_have_count(2)
    expect(page.get_by_text(f"Automation {name} in {first_project}/resnet50")).to_be_visible()
    search = page.get_by_role("search", name="Find an automation")
    expect(search.get_by_label("Automation")).to_have_value(name)

    # Searching the shared name offers both, each with its scope; the pick shows only its own.
    search.get_by_label("Automation").fill(name)
    search.get_by_label("Automation").press("Enter")
    choices = page.get_by_role("list", name="Matching automations")
    expect(choices.get_by_role("listitem")).to_have_count(2)
    screenshot(page, "history-search-choices")
    choices.get_by_role("listitem").filter(has_text=second_project).get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"automation={second['id']}$"))
    expect(rows).to_have_count(3)  # two events in the second registry
    assert [e["automation_id"] for e in executions(api, second_project)] == [second["id"]] * 2

    # Its execution's "its history" is by id too.
    rows.nth(1).get_by_role("link", name="View").click()
    summary = page.get_by_role("region", name="Summary")
    expect(summary.get_by_role("link", name="its history")).to_have_attribute(
        "href", f"#/history?automation={second['id']}"
    )

    # Part of a name, in any case, found once: that automation, though it has no executions.
    page.goto(f"{console_runtime['console_url']}#/history")
    search.get_by_label("Automation").fill(lonely["name"].split("-")[1].upper())
    search.get_by_label("Automation").press("Enter")
    expect(page).to_have_url(re.compile(f"automation={lonely['id']}$"))
    expect(page.get_by_text(f"Automation {lonely['name']} in {first_project}/resnet50")).to_be_visible()


def test_history_comes_back_after_mlhooks_did_not_answer(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    made = registry(api, {"deploy": f"{console_runtime['inbox_url']}/{unique('back')}"})
    down = {"now": True}

    def executions_list(route: Any) -> None:
        if down["now"]:
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route(re.compile(r"/executions(\?|$)"), executions_list)
    sign_in(page, console_runtime, path=f"#/history?project={made['project']}")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("mlhooks did not answer")
    retry = alert.get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    screenshot(page, "history-unreachable")

    # Back again, and asked at once.
    down["now"] = False
    retry.click()
    expect(page.get_by_text("No executions here yet")).to_be_visible()
    expect(alert).to_have_count(0)

    # Down at first, then back: the page finds out by itself.
    down["now"] = True
    page.reload()
    expect(alert).to_contain_text("mlhooks did not answer")
    down["now"] = False
    expect(page.get_by_text("No executions here yet")).to_be_visible()
    publish(console_runtime, made["project"])
    expect(page.get_by_role("table", name="Executions").get_by_role("row").nth(1)).to_contain_text("FINISHED")


def test_a_run_queue_attempt_was_sent(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project = unique("queued")
    call(api, "POST", "/projects", {"name": project})
    body = {
        "name": unique("evaluate"),
        "scope": {"type": "PROJECT", "project": project},
        "event": {"type": "ADD_ARTIFACT_ALIAS"},
        "action": {"type": "QUEUE_JOB", "queue": "demo", "job": "evaluate-model"},
    }
    call(api, "POST", "/automations", body)
    publish(console_runtime, project)
    [done] = eventually(
        lambda: [e for e in executions(api, project) if e["state"] == "FINISHED"],
        timeout=30,
        what="the job sent",
    )
    [attempt] = execution(api, done["id"])["attempts"]
    assert attempt["status_code"] is None and attempt["error"] is None  # a queue has no HTTP status
    sign_in(page, console_runtime, path=f"#/executions/{done['id']}")
    row = page.get_by_role("table", name="Attempts").get_by_role("row").nth(1)
    expect(row.get_by_role("cell").nth(2)).to_have_text("sent")
