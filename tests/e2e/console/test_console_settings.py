"""Team settings in the console: members, API keys, secrets, webhooks (and their Test), Connect Slack
through the local runtime's fake Slack, run queues and sources; and what a VIEWER sees."""

from __future__ import annotations

import re
import socket
from typing import Any

import boto3
import requests
from e2e.console.conftest import screenshot, sign_in, unique
from playwright.sync_api import Page, expect

Runtime = dict[str, Any]


def secret_name(prefix: str) -> str:
    return unique(prefix).replace("-", "_").upper()


def make_secret(api: requests.Session, prefix: str) -> str:
    name = secret_name(prefix)
    answer = api.post(f"{api.base_url}/secrets", json={"name": name, "value": f"value-of-{name.lower()}"})
    assert answer.status_code == 201, answer.text
    return name


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shoot(page: Page, name: str) -> None:
    """The whole page from its top: a panel scrolled into view leaves the sticky header mid-page."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def notice(page: Page) -> Any:
    return page.locator(".notices")


# ---- members and API keys ------------------------------------------------------------------------


def test_add_a_member_change_their_role_and_remove_them(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    username = unique("ada")
    sign_in(page, console_runtime, path="#/settings/members")
    form = page.get_by_role("form", name="Add a member")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Role").select_option("MEMBER")
    form.get_by_role("button", name="Add member").click()
    expect(notice(page)).to_contain_text(f"{username} was added as MEMBER")
    role = page.get_by_label(f"Role of {username}")
    expect(role).to_have_value("MEMBER")
    members = {m["username"]: m["role"] for m in api.get(f"{api.base_url}/members").json()["items"]}
    assert members[username] == "MEMBER"

    role.select_option("VIEWER")
    expect(notice(page)).to_contain_text(f"{username} is now VIEWER")
    members = {m["username"]: m["role"] for m in api.get(f"{api.base_url}/members").json()["items"]}
    assert members[username] == "VIEWER"
    shoot(page, "settings-members")

    # The same name again: the API's refusal under the field.
    form.get_by_label("Username").fill(username)
    form.get_by_role("button", name="Add member").click()
    expect(form.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error")).to_contain_text("already a member")

    page.get_by_role("button", name=f"Remove {username}").click()
    dialog = page.get_by_role("dialog", name=f"Remove {username}?")
    expect(dialog).to_contain_text("every API key of theirs is revoked")
    dialog.get_by_role("button", name="Remove member").click()
    expect(page.get_by_role("table", name="Members")).not_to_contain_text(username)
    members = [m["username"] for m in api.get(f"{api.base_url}/members").json()["items"]]
    assert username not in members


def test_an_api_key_is_shown_once_then_revoked(page: Page, console_runtime: Runtime) -> None:
    name = unique("ci")
    sign_in(page, console_runtime, path="#/settings/api-keys")
    form = page.get_by_role("form", name="Create an API key")
    form.get_by_label("Name").fill(name)
    expect(form.get_by_label("Member")).to_have_value("admin")
    form.get_by_role("button", name="Create key").click()
    shown = page.get_by_role("region", name=f"API key {name} for admin")
    expect(shown).to_contain_text("it is not shown again")
    key = shown.locator("code").inner_text().strip()
    me = requests.get(
        f"{console_runtime['api_url']}/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["username"] == "admin"
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(me.json()["key_id"])  # the prefix names the key's id
    shoot(page, "settings-api-key-created")

    shown.get_by_role("button", name="Done").click()
    expect(shown).to_have_count(0)
    assert key not in page.content()
    page.reload()
    expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()
    assert key not in page.content()

    page.get_by_role("button", name=f"Revoke {name}").click()
    page.get_by_role("dialog", name=f"Revoke the key {name}?").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("row").filter(has_text=name)).to_have_count(0)
    gone = requests.get(
        f"{console_runtime['api_url']}/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert gone.status_code == 401


def test_an_admin_makes_a_key_for_another_member_who_signs_in_with_it(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    member, name = unique("grace"), unique("laptop")
    assert api.post(f"{api.base_url}/members", json={"username": member, "role": "MEMBER"}).status_code == 201
    sign_in(page, console_runtime, path="#/settings/api-keys")
    form = page.get_by_role("form", name="Create an API key")
    choices = form.get_by_label("Member").locator("option")
    expect(choices.filter(has_text=member)).to_have_count(1)
    for text in choices.all_inner_texts():  # every member by name: none blank
        assert text.strip(), choices.all_inner_texts()
    form.get_by_label("Name").fill(name)
    form.get_by_label("Member").select_option(member)
    form.get_by_role("button", name="Create key").click()
    shown = page.get_by_role("region", name=f"API key {name} for {member}")
    key = shown.locator("code").inner_text().strip()
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text(member)
    keys = api.get(f"{api.base_url}/api-keys").json()["items"]
    assert [k["member"] for k in keys if k["name"] == name] == [member]

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    header = page.get_by_role("banner")
    expect(header).to_contain_text(member)
    expect(header.locator("[data-role]")).to_have_text("MEMBER")


def test_a_rows_confirmation_dialog_shows_its_whole_question(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    member = unique("long-question")
    assert api.post(f"{api.base_url}/members", json={"username": member, "role": "VIEWER"}).status_code == 201
    key_name = unique("revocable")
    assert api.post(f"{api.base_url}/api-keys", json={"name": key_name, "member": member}).status_code == 201
    sign_in(page, console_runtime, path="#/settings/members")
    # The dialogs sit in their row's cell, whose text does not wrap: theirs must.
    for tab, button, title in (
        ("members", f"Remove {member}", f"Remove {member}?"),
        ("api-keys", f"Revoke {key_name}", f"Revoke the key {key_name}?"),
    ):
        page.goto(f"{console_runtime['console_url']}#/settings/{tab}")
        page.get_by_role("button", name=button).click()
        dialog = page.get_by_role("dialog", name=title)
        expect(dialog).to_be_visible()
        question = dialog.locator("p")
        fits = "e => e.scrollWidth <= e.clientWidth && getComputedStyle(e).whiteSpace === 'normal'"
        assert dialog.evaluate(fits), tab
        assert question.evaluate(fits), tab
        box, viewport = dialog.bounding_box(), page.viewport_size
        assert box and viewport and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], tab
        assert question.evaluate("e => e.getBoundingClientRect().height") > 30, f"{tab}: the question wraps"
        if tab == "members":
            screenshot(page, "settings-members-remove-dialog")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
    assert member in [m["username"] for m in api.get(f"{api.base_url}/members").json()["items"]]


# ---- secrets -------------------------------------------------------------------------------------


def test_a_secret_is_write_only_rotated_used_and_deleted_when_unused(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    name = secret_name("signing")
    value = f"first-{unique('value')}"
    rotated = f"second-{unique('value')}"
    sign_in(page, console_runtime, path="#/settings/secrets")
    form = page.get_by_role("form", name="New secret")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Value").fill(value)
    form.get_by_role("button", name="Save secret").click()
    expect(notice(page)).to_contain_text(f"The secret {name} was saved.")
    expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()
    expect(form.get_by_label("Value")).to_have_value("")
    assert value not in page.content()
    before = api.get(f"{api.base_url}/secrets/{name}").json()

    page.get_by_role("button", name=f"Rotate {name}").click()
    rotate = page.get_by_role("form", name=f"Rotate {name}")
    expect(rotate.get_by_label("New value")).to_be_focused()
    rotate.get_by_label("New value").fill(rotated)
    rotate.get_by_label("New value").press("Enter")
    expect(notice(page)).to_contain_text(f"The secret {name} has its new value")
    expect(rotate).to_have_count(0)
    assert rotated not in page.content()
    assert api.get(f"{api.base_url}/secrets/{name}").json()["updated_at"] > before["updated_at"]

    # Attached to a webhook (through the API: that is the webhooks test's business), it says so.
    webhook = unique("uses-secret")
    attached = api.post(
        f"{api.base_url}/webhooks",
        json={"name": webhook, "url": f"{console_runtime['inbox_url']}/{webhook}", "signing_secret": name},
    )
    assert attached.status_code == 201, attached.text
    page.reload()
    row = page.get_by_role("row").filter(has_text=name)
    used_by = row.get_by_role("link", name=f"webhook {webhook}")
    expect(used_by).to_have_attribute("href", "#/settings/webhooks")
    shoot(page, "settings-secrets")

    row.get_by_role("button", name=f"Delete {name}").click()
    dialog = page.get_by_role("dialog", name=f"Delete the secret {name}?")
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog.get_by_role("alert")).to_contain_text(f"used by webhook {webhook}")
    assert api.get(f"{api.base_url}/secrets/{name}").status_code == 200
    dialog.get_by_role("button", name="Cancel").click()

    assert api.delete(f"{api.base_url}/webhooks/{webhook}").status_code == 204
    page.reload()
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("nothing")
    page.get_by_role("button", name=f"Delete {name}").click()
    page.get_by_role("dialog", name=f"Delete the secret {name}?").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("row").filter(has_text=name)).to_have_count(0)
    assert api.get(f"{api.base_url}/secrets/{name}").status_code == 404


# ---- webhooks ------------------------------------------------------------------------------------


def test_a_webhook_made_through_the_form_is_tested_with_a_custom_payload(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    secret = make_secret(api, "hook_signing")
    name = unique("inbox")
    url = f"{console_runtime['inbox_url']}/{name}"
    sign_in(page, console_runtime, path="#/settings/webhooks")
    form = page.get_by_role("form", name="New webhook")
    form.get_by_label("Name").fill(name)
    form.get_by_label("URL").fill(url)
    form.get_by_label("Description").fill("the runtime's inbox")
    form.get_by_label("Signing secret").select_option(secret)
    form.get_by_role("button", name="Create webhook").click()
    expect(notice(page)).to_contain_text(f"The webhook {name} was created.")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(f"Signs with: {secret}")
    expect(row).to_contain_text("HEALTHY")
    stored = api.get(f"{api.base_url}/webhooks/{name}").json()
    assert (stored["url"], stored["signing_secret"], stored["enabled"]) == (url, secret, True)
    shoot(page, "settings-webhooks")

    marker = unique("marker")
    row.get_by_role("button", name=f"Test {name}").click()
    panel = page.get_by_role("form", name=f"Test {name}")
    payload = panel.get_by_label("Payload (JSON, optional)")
    expect(payload).to_be_focused()
    payload.fill(f'{{"marker": "{marker}", "event": "${{event_type}}"}}')
    panel.get_by_role("button", name="Send test").click()
    answer = page.get_by_role("region", name="Endpoint's answer")
    expect(answer).to_contain_text("delivered")
    expect(answer).to_contain_text("Status 200")
    expect(answer.get_by_label("Response body")).to_contain_text('"received": true')
    shoot(page, "settings-webhook-test")

    landed = requests.get(console_runtime["inbox_url"], timeout=10).json()["requests"]
    (delivery,) = [r for r in landed if r["path"] == f"/{name}"]
    assert delivery["body"]["marker"] == marker
    assert delivery["body"]["event"] and "${" not in delivery["body"]["event"]
    assert delivery["signatures"]["X-Wandb-Signature"] == "valid"

    # A payload that is not JSON: the API's message under the field, nothing sent.
    payload.fill("{not json")
    panel.get_by_role("button", name="Send test").click()
    expect(payload).to_have_attribute("aria-invalid", "true")
    expect(panel.locator(".field-error")).to_contain_text("not usable JSON")
    # Edited, the field's message goes: it was about what the field held.
    payload.press("End")
    payload.type("}")
    expect(payload).not_to_have_attribute("aria-invalid", "true")
    expect(panel.locator(".field-error")).to_have_count(0)

    # Escape puts the panel away, and the keyboard is back on the button that opened it.
    payload.press("Escape")
    expect(panel).to_have_count(0)
    expect(row.get_by_role("button", name=f"Test {name}")).to_be_focused()


def test_a_failing_webhook_shows_the_error_and_a_disabled_one_is_re_enabled(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    name = unique("nowhere")
    made = api.post(
        f"{api.base_url}/webhooks", json={"name": name, "url": f"http://127.0.0.1:{closed_port()}/x"}
    )
    assert made.status_code == 201, made.text
    sign_in(page, console_runtime, path="#/settings/webhooks")
    row = page.get_by_role("row").filter(has_text=name)
    row.get_by_role("button", name=f"Test {name}").click()
    page.get_by_role("form", name=f"Test {name}").get_by_role("button", name="Send test").click()
    answer = page.get_by_role("region", name="Endpoint's answer")
    expect(answer).to_contain_text("not delivered")
    expect(answer).to_contain_text("Status none")
    expect(answer.get_by_role("alert")).to_contain_text("connection error")
    expect(answer).to_contain_text("A real delivery would try again.")

    page.get_by_role("button", name="Close").click()
    assert api.patch(f"{api.base_url}/webhooks/{name}", json={"enabled": False}).status_code == 200
    page.reload()
    expect(row).to_contain_text("DISABLED")
    expect(row).to_contain_text("disabled by an admin")
    row.get_by_role("button", name=f"Re-enable {name}").click()
    expect(notice(page)).to_contain_text(f"The webhook {name} is enabled again")
    expect(row).to_contain_text("HEALTHY")
    expect(row.get_by_role("button", name=f"Re-enable {name}")).to_have_count(0)
    assert api.get(f"{api.base_url}/webhooks/{name}").json()["enabled"] is True


# ---- Slack ---------------------------------------------------------------------------------------


def start_connect_slack(page: Page, runtime: Runtime, name: str) -> None:
    sign_in(page, runtime, path="#/settings/slack")
    page.get_by_role("button", name="Connect Slack").click()
    form = page.get_by_role("form", name="Connect Slack")
    form.get_by_label("Integration name").fill(name)
    form.get_by_role("button", name="Continue to Slack").click()
    page.wait_for_url(f"{runtime['inbox_url']}/slack/oauth/v2/authorize?**")


def test_connect_slack_through_slacks_page(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    name = unique("alerts")
    start_connect_slack(page, console_runtime, name)
    page.get_by_label("#ml-alerts").check()
    shoot(page, "settings-slack-authorize")
    page.get_by_role("button", name="Allow").click()

    expect(page.get_by_role("main").get_by_role("status")).to_contain_text("Slack is connected")
    expect(page.get_by_role("main").get_by_role("status")).to_contain_text("#ml-alerts")
    # Slack's code is not left in the address bar: the URL is the console's Slack tab.
    assert page.url == f"{console_runtime['console_url']}#/settings/slack"
    shoot(page, "settings-slack-connected")
    page.get_by_role("link", name="Back to Slack settings").click()
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("#ml-alerts")

    integration = api.get(f"{api.base_url}/slack/{name}").json()
    assert integration["channel_name"] == "ml-alerts"
    expect(row).to_contain_text(integration["bot_token_secret"])
    token = api.get(f"{api.base_url}/secrets/{integration['bot_token_secret']}").json()
    assert token["used_by"] == [{"kind": "slack", "name": name}]


def test_a_reload_while_the_install_finishes_says_it_may_be_done(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    name = unique("reloaded")
    start_connect_slack(page, console_runtime, name)
    page.get_by_label("#ml-alerts").check()
    # The install's answer is held back: the API completes it, the page does not hear of it yet.
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route.fetch())  # the API gets the call and uses the state

    page.route("**/slack/connect/complete", hold)
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("status").filter(has_text="Finishing the Slack install")).to_be_visible()
    # Route handlers run while Playwright waits: wait (for at most 15 s) until the API has answered.
    for _ in range(300):
        if held:
            break
        page.wait_for_timeout(50)
    assert held and held[0].status == 201, "the API never completed the install"
    assert api.get(f"{api.base_url}/slack/{name}").status_code == 200
    # Slack's answer is still in the address while the install is under way: a reload asks again.
    assert "code=" in page.url and "state=" in page.url
    page.unroute("**/slack/connect/complete")
    page.reload()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Slack may be connected already")
    expect(
        page.get_by_role("table", name="Slack integrations").get_by_role("row").filter(has_text=name)
    ).to_contain_text("#ml-alerts")
    assert page.url == f"{console_runtime['console_url']}#/settings/slack"
    assert api.get(f"{api.base_url}/slack/{name}").json()["channel_name"] == "ml-alerts"
    shoot(page, "settings-slack-reloaded")


def test_cancel_on_slacks_page_says_nothing_was_connected(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    name = unique("declined")
    start_connect_slack(page, console_runtime, name)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text("the install was canceled on Slack's page")
    assert "error=" not in page.url
    page.get_by_role("link", name="Back to Slack settings").click()
    expect(page.get_by_role("heading", name="Slack", exact=True)).to_be_visible()
    assert api.get(f"{api.base_url}/slack/{name}").status_code == 404


# ---- run queues and sources ----------------------------------------------------------------------


def test_register_a_run_queue_and_a_source_and_see_its_setup(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    # The SQS queue exists first, as an operator would make it.
    sqs = boto3.client(
        "sqs",
        endpoint_url=console_runtime["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    queue = unique("gpu")
    queue_url = sqs.create_queue(QueueName=f"mlhooks-runs-{queue}")["QueueUrl"]
    sign_in(page, console_runtime, path="#/settings/run-queues")
    form = page.get_by_role("form", name="Register a run queue")
    form.get_by_label("Name").fill(queue)
    form.get_by_label("SQS queue URL").fill(queue_url)
    form.get_by_label("Description").fill("the GPU launch agent")
    form.get_by_role("button", name="Register").click()
    expect(page.get_by_role("row").filter(has_text=queue)).to_contain_text(queue_url)
    assert api.get(f"{api.base_url}/run-queues/{queue}").json()["url"] == queue_url
    # A queue the stack may not write to is refused under the URL.
    form.get_by_label("Name").fill(unique("other"))
    form.get_by_label("SQS queue URL").fill(queue_url.replace("mlhooks-runs-", "someone-elses-"))
    form.get_by_role("button", name="Register").click()
    expect(form.get_by_label("SQS queue URL")).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error")).to_contain_text("RunQueueNames")

    secret = make_secret(api, "mlflow_signing")
    source = unique("mlflow")
    page.get_by_role("link", name="Sources").click()
    form = page.get_by_role("form", name="Register a source")
    form.get_by_label("Platform").select_option("mlflow")
    form.get_by_label("Name").fill(source)
    form.get_by_label("Signing secret").select_option(secret)
    form.get_by_label("Project").fill(unique("model-registry"))
    form.get_by_role("button", name="Register source").click()
    stored = api.get(f"{api.base_url}/sources/{source}").json()
    setup = page.get_by_role("region", name=f"Set up {source}")
    expect(setup).to_contain_text(stored["inbound_url"])
    expect(setup).to_contain_text("In MLflow: create the webhook")
    for event in stored["setup"]["mlflow_webhook"]["events"]:
        expect(setup).to_contain_text(event)
    expect(setup.locator("pre")).to_contain_text("MlflowClient().create_webhook")
    expect(page.get_by_role("row").filter(has_text=source)).to_contain_text("mlflow")
    assert stored["signing_secret"] == secret
    shoot(page, "settings-sources")

    page.get_by_role("button", name=f"Deliveries of {source}").click()
    log = page.get_by_role("region", name=f"Deliveries of {source}")
    expect(log).to_contain_text("Nothing delivered yet")
    log.get_by_label("Outcome").select_option("rejected")
    expect(log).to_contain_text("No rejected delivery")


# ---- roles ---------------------------------------------------------------------------------------

WRITES = re.compile(r"^(Add|Create|Save|Delete|Remove|Revoke|Rotate|Edit|Test|Re-enable|Connect|Register)")


def test_a_viewer_sees_the_lists_and_no_write_controls(
    page: Page, console_runtime: Runtime, api: requests.Session
) -> None:
    viewer = unique("viewer")
    assert api.post(f"{api.base_url}/members", json={"username": viewer, "role": "VIEWER"}).status_code == 201
    made = api.post(f"{api.base_url}/api-keys", json={"name": "console", "member": viewer})
    key = made.json()["key"]
    secret = make_secret(api, "viewer_sees")
    webhook = unique("viewer-sees")
    hook = {"name": webhook, "url": f"{console_runtime['inbox_url']}/{webhook}"}
    assert api.post(f"{api.base_url}/webhooks", json=hook).status_code == 201
    sign_in(page, console_runtime, key=key, path="#/settings/members")
    expect(page.get_by_role("banner")).to_contain_text("VIEWER")
    seen = {  # tab: (its heading, a row it lists)
        "members": ("Members", viewer),
        "secrets": ("Secrets", secret),
        "webhooks": ("Webhooks", webhook),
        "slack": ("Slack", None),
        "run-queues": ("Run queues", "demo"),
        "sources": ("Sources", None),
    }
    main = page.get_by_role("main")
    for tab, (heading, shown) in seen.items():
        page.goto(f"{console_runtime['console_url']}#/settings/{tab}")
        expect(main.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        if shown:
            expect(main.get_by_role("table")).to_contain_text(shown)
        else:
            expect(main.locator(".table, .empty").first).to_be_visible()
        assert main.get_by_role("textbox").count() == 0, tab
        assert main.get_by_role("combobox").count() == 0, tab
        for button in main.get_by_role("button").all():
            label = button.get_attribute("aria-label") or button.inner_text()
            assert not WRITES.match(label), f"{tab}: {label}"

    # API keys are the exception the API makes: anyone manages their own, and only their own.
    page.goto(f"{console_runtime['console_url']}#/settings/api-keys")
    table = main.get_by_role("table", name="API keys")
    expect(table).to_contain_text(viewer)
    expect(table.get_by_role("row")).to_have_count(2)  # the heading and the viewer's one key
    form = page.get_by_role("form", name="Create an API key")
    expect(form.get_by_label("Name")).to_be_visible()
    expect(form.get_by_label("Member")).to_have_count(0)
    expect(form.get_by_label("Service key")).to_have_count(0)
