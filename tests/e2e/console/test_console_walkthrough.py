"""The README's first walk-throughs done in the console alone, as a new user would: a secret, a
webhook and its test; a registry and a collection; an automation made with the form, previewed,
its sample event published, and the execution followed to its page. Nothing is set up through the
API. The two pictures the README shows are taken here (`make screenshots` copies them to docs/)."""

from __future__ import annotations

import re
from typing import Any

import requests
from e2e.console.conftest import screenshot, sign_in, unique
from playwright.sync_api import Page, expect
from waiting import eventually


def test_a_secret_a_webhook_an_automation_an_event_and_the_delivery(
    page: Page, console_runtime: dict[str, Any]
) -> None:
    secret, webhook = unique("SIGNING").replace("-", "_").upper(), unique("inbox")
    registry, automation = unique("wandb-registry-model"), unique("deploy on production")
    inbox_path = f"/{unique('github')}"
    sign_in(page, console_runtime)

    # Team settings → Secrets: the value goes in and never comes back.
    page.get_by_role("link", name="Team settings").click()
    page.get_by_role("link", name="Secrets").click()
    form = page.get_by_role("form", name="New secret")
    form.get_by_label("Name").fill(secret)
    form.get_by_label("Value").fill("demo-signing-secret-walkthrough")
    form.get_by_role("button", name="Save secret").click()
    expect(page.get_by_role("row").filter(has_text=secret)).to_be_visible()

    # Team settings → Webhooks: one to the inbox of `make dev`, signed; then W&B's "Test webhook".
    page.get_by_role("link", name="Webhooks").click()
    form = page.get_by_role("form", name="New webhook")
    form.get_by_label("Name").fill(webhook)
    form.get_by_label("URL").fill(console_runtime["inbox_url"] + inbox_path)
    form.get_by_label("Signing secret").select_option(secret)
    form.get_by_role("button", name="Create webhook").click()
    row = page.get_by_role("row").filter(has_text=webhook)
    row.get_by_role("button", name=f"Test {webhook}").click()
    page.get_by_role("form", name=f"Test {webhook}").get_by_role("button", name="Send test").click()
    expect(page.get_by_label("Response body")).to_contain_text('"received": true')
    page.get_by_role("button", name="Close").click()

    # Projects: the registry and its collection.
    page.get_by_role("link", name="Projects").click()
    form = page.get_by_role("form", name="New project")
    form.get_by_label("Name").fill(registry)
    form.get_by_label("A registry").check()
    form.get_by_role("button", name="Create").click()
    page.get_by_role("link", name=registry).click()
    form = page.get_by_role("form", name="New collection")
    form.get_by_label("Collection").fill("resnet50")
    form.get_by_role("button", name="Add collection").click()
    page.get_by_role("table", name="Collections").get_by_role("link", name="New automation").click()

    # Automations: the form, scoped to the collection, with the walk-through's payload.
    expect(page.get_by_label("Project or registry")).to_have_value(registry)
    page.get_by_label("Name", exact=True).fill(automation)
    page.get_by_label("Alias (regex)").fill("^production$")
    page.get_by_label("Webhook").select_option(webhook)
    page.get_by_label("Payload", exact=True).fill(
        '{"event_type": "DEPLOY_MODEL", "client_payload": '
        '{"version": "${artifact_version_string}", "author": "${event_author}"}}'
    )
    expect(page.get_by_role("status").filter(has_text="Template")).to_have_text("Template OK")
    page.get_by_role("button", name="Create automation").click()
    expect(page.get_by_role("row").filter(has_text=automation)).to_contain_text("ready")
    screenshot(page, "readme-automations", notices=False)

    # Preview the saved automation, then publish its sample event for real.
    page.get_by_role("link", name=automation).click()
    expect(page).to_have_url(re.compile(r"#/automations/au_[0-9a-f]+$"))
    automation_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("complementary", name="Preview")
    expect(preview).to_contain_text("Would fire")
    preview.get_by_role("button", name="Publish this event").click()
    published = preview.get_by_role("status").filter(has_text="Published")
    expect(published).to_have_text(re.compile(r"^Published \S+\. See its executions in History$"))
    # Its history by id: names repeat across scopes, ids do not.
    expect(published.get_by_role("link")).to_have_attribute("href", f"#/history?automation={automation_id}")
    published.get_by_role("link", name="See its executions in History").click()

    # History: the execution appears and finishes without a reload; its page shows the delivery.
    row = page.get_by_role("row").filter(has_text=automation)
    expect(row).to_contain_text("FINISHED")
    row.get_by_role("link", name="View").click()
    expect(page.get_by_role("heading", name="Attempts")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("FINISHED")
    expect(page.get_by_role("main")).to_contain_text(f"{registry}/resnet50:production")
    assert "demo-signing-secret-walkthrough" not in page.content()
    screenshot(page, "readme-execution", notices=False)

    # What the receiver got: the payload, signed with the secret the form stored.
    def delivered() -> dict[str, Any] | None:
        landed = requests.get(console_runtime["inbox_url"] + "/", timeout=10).json()["requests"]
        return next((r for r in landed if r["path"] == inbox_path and "client_payload" in r["body"]), None)

    request = eventually(delivered, timeout=15, what="the delivery in the inbox")
    assert request["body"]["event_type"] == "DEPLOY_MODEL"
    assert request["body"]["client_payload"]["author"] == console_runtime["username"]
    assert request["signatures"]["X-Wandb-Signature"] == "valid"
