"""The Automations tab: the list of a project's automations, the editor that follows the event type,
its payload checked as it is typed, the dry-run preview, saving, switching, editing, deleting, and
what a VIEWER may see. Each test works in a project of its own."""

from __future__ import annotations

import re
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

import requests
from e2e.console.conftest import screenshot, sign_in, unique
from playwright.sync_api import Page, expect
from waiting import eventually


def url(api: requests.Session, path: str) -> str:
    return f"{api.base_url}{path}"  # type: ignore[attr-defined]


def created(response: requests.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


def project_with_webhook(api: requests.Session, runtime: dict[str, Any]) -> tuple[str, str, str]:
    """A project of its own and a secret-less webhook to the runtime's inbox, at a path of its own."""
    project, webhook = unique("auto"), unique("hook")
    inbox = f"{runtime['inbox_url']}/{unique('path')}"
    created(api.post(url(api, "/projects"), json={"name": project}))
    created(api.post(url(api, "/webhooks"), json={"name": webhook, "url": inbox}))
    return project, webhook, inbox


def automation(api: requests.Session, name: str) -> dict[str, Any]:
    found = api.get(url(api, "/automations"), params={"name": name}).json()["items"]
    assert len(found) == 1, found
    return found[0]


def picture(page: Page, name: str) -> None:
    """A screenshot of the whole page from its top (the header is sticky: scrolled, it would be
    drawn halfway down)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def alias_added(project: str) -> dict[str, Any]:
    return {
        "detail_type": "Artifact Alias Added",
        "detail": {
            "event_id": f"evt-{uuid.uuid4().hex}",
            "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "project": project,
            "collection": "resnet50",
            "artifact": {
                "id": "QXJ0aWZhY3Q6MTIzNDU2",
                "version_index": 3,
                "type": "model",
                "aliases": ["latest", "production"],
                "tags": [],
                "metadata": {},
            },
            "alias": "production",
        },
    }


def test_an_alias_automation_is_checked_previewed_saved_switched_and_edited(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project, webhook, inbox = project_with_webhook(api, console_runtime)
    name = unique("deploy on production")
    sign_in(page, console_runtime, path=f"#/automations?project={project}")
    expect(page.get_by_label("Scope")).to_have_value(project)
    expect(page.get_by_text(f"No automations in {project} yet.")).to_be_visible()

    page.get_by_role("link", name="New automation").click()
    expect(page).to_have_url(re.compile(rf"#/automations/new\?project={project}$"))
    expect(page.get_by_label("Project or registry")).to_have_value(project)
    page.get_by_label("Name", exact=True).fill(name)
    expect(page.get_by_label("When")).to_have_value("ADD_ARTIFACT_ALIAS")
    page.get_by_label("Alias (regex)").fill("^production$")
    page.get_by_label("Webhook").select_option(webhook)
    payload = page.get_by_label("Payload", exact=True)
    status = page.get_by_role("status").filter(has_text="Template")

    # A typo: the API's suggestion shows under the editor, and the editor is marked invalid.
    payload.fill('{"version": "${artifact_versio}", "alias": "${alias}"}')
    expect(page.get_by_text("did you mean ${artifact_version}?")).to_be_visible()
    expect(payload).to_have_attribute("aria-invalid", "true")
    payload.fill('{"version": "${artifact_version}", "alias": "${alias}"}')
    expect(status).to_have_text("Template OK")
    expect(payload).not_to_have_attribute("aria-invalid", "true")
    # The variables come from the dry run's answer, with their values on a sample event.
    variables = page.get_by_role("table", name="Payload variables")
    expect(variables).to_contain_text("${artifact_version_string}")
    expect(variables).to_contain_text(f"{console_runtime['entity']}/{project}/")
    picture(page, "automations-editor-webhook")

    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("complementary", name="Preview")
    expect(preview).to_contain_text("Would fire")
    expect(preview).to_contain_text("Would deliver")
    expect(preview.get_by_role("list")).to_contain_text("scope")
    expect(preview).to_contain_text(f"POST {inbox}")
    expect(preview.get_by_label("Body")).to_contain_text('"version": "wandb-artifact://_id/')
    expect(preview.get_by_label("Body")).to_contain_text('"alias": "production"')
    picture(page, "automations-preview")

    page.get_by_role("button", name="Create automation").click()
    expect(page.get_by_role("status").filter(has_text=f"Created “{name}”.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"#/automations\?project={project}$"))
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(f"Project {project}")
    expect(row).to_contain_text("An artifact alias is added")
    expect(row).to_contain_text("alias ~ /^production$/")
    expect(row).to_contain_text(f"Webhook {webhook}")
    expect(row).to_contain_text("ready")
    expect(row).to_contain_text("never")
    saved = automation(api, name)
    assert saved["scope"] == {"type": "PROJECT", "project": project}
    assert saved["event"] == {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "^production$"}}}
    assert saved["action"]["webhook"] == webhook
    assert saved["action"]["payload"] == {"version": "${artifact_version}", "alias": "${alias}"}
    assert saved["enabled"] is True

    # The switch calls …/disable and …/enable; the row then shows what the API answered.
    switch = row.get_by_role("switch", name=f"Enabled: {name}")
    switch.click()
    expect(page.get_by_role("status").filter(has_text=f"Disabled “{name}”.")).to_be_visible()
    expect(switch).not_to_be_checked()
    assert automation(api, name)["enabled"] is False
    switch.click()
    expect(page.get_by_role("status").filter(has_text=f"Enabled “{name}”.")).to_be_visible()
    expect(switch).to_be_checked()
    before = automation(api, name)
    assert before["enabled"] is True and before["version"] == saved["version"] + 2

    # Edit: the save sends the version it started from, and the version goes up by one.
    row.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_label("Alias (regex)")).to_have_value("^production$")
    page.get_by_label("Description").fill("Deploys what is promoted to production.")
    page.get_by_label("Alias (regex)").fill("^(production|staging)$")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text=f"version {before['version'] + 1}")).to_be_visible()
    expect(page.get_by_text(f"version {before['version'] + 1} · created by")).to_be_visible()
    after = automation(api, name)
    assert after["version"] == before["version"] + 1
    assert after["description"] == "Deploys what is promoted to production."
    assert after["event"]["filter"] == {"alias": {"$regex": "^(production|staging)$"}}


def test_a_run_metric_threshold_with_a_field_error_then_deleted(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project, webhook, _ = project_with_webhook(api, console_runtime)
    name = unique("loss below 0.1")
    sign_in(page, console_runtime, path=f"#/automations/new?project={project}")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("When").select_option("RUN_METRIC_THRESHOLD")
    page.get_by_label("Metric", exact=True).fill("loss")
    page.get_by_label("Of", exact=True).select_option("AVERAGE")
    page.get_by_label("Of the last").fill("5")
    page.get_by_label("Is", exact=True).select_option("$lt")
    page.get_by_label("Threshold").fill("0.1")
    page.get_by_label("Run name (regex)").fill("exp-(")
    page.get_by_label("Webhook").select_option(webhook)
    expect(page.get_by_role("table", name="Payload variables")).to_contain_text("${metric_values}")

    # The API refuses the regex: its message is next to the field at fault.
    page.get_by_role("button", name="Create automation").click()
    run_name = page.get_by_label("Run name (regex)")
    expect(run_name).to_have_attribute("aria-invalid", "true")
    error = page.locator(".field", has=run_name).locator(".field-error")
    expect(error).to_contain_text("does not compile")
    assert api.get(url(api, "/automations"), params={"name": name}).json()["items"] == []

    run_name.fill("^exp-")
    page.get_by_role("button", name="Create automation").click()
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("A run metric crosses a threshold")
    expect(row).to_contain_text("loss: average of 5 < 0.1")
    saved = automation(api, name)
    assert saved["event"] == {
        "type": "RUN_METRIC_THRESHOLD",
        "filter": {"display_name": {"$regex": "^exp-"}},
        "metric": {"name": "loss", "agg": "AVERAGE", "window": 5, "cmp": "$lt", "threshold": 0.1},
    }

    # Delete asks first, in a dialog; Cancel keeps it.
    row.get_by_role("link", name=name).click()
    expect(page.get_by_label("Metric", exact=True)).to_have_value("loss")
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete automation")
    expect(dialog).to_contain_text(name)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text=f"Deleted “{name}”.")).to_be_visible()
    expect(page.get_by_text(f"No automations in {project} yet.")).to_be_visible()
    assert api.get(url(api, f"/automations/{saved['id']}")).status_code == 404


def test_a_change_made_meanwhile_is_a_conflict_with_a_reload(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project, webhook, _ = project_with_webhook(api, console_runtime)
    saved = created(
        api.post(
            url(api, "/automations"),
            json={
                "name": unique("linked"),
                "scope": {"type": "PROJECT", "project": project},
                "event": {"type": "LINK_ARTIFACT"},
                "action": {
                    "type": "GENERIC_WEBHOOK",
                    "webhook": webhook,
                    "payload": {"v": "${artifact_version}"},
                },
            },
        )
    )
    sign_in(page, console_runtime, path=f"#/automations/{saved['id']}")
    expect(page.get_by_label("When")).to_have_value("LINK_ARTIFACT")
    created(api.patch(url(api, f"/automations/{saved['id']}"), json={"description": "changed elsewhere"}))
    page.get_by_label("Description").fill("changed here")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed this automation")
    page.get_by_role("button", name="Reload").click()
    expect(page.get_by_label("Description")).to_have_value("changed elsewhere")
    expect(page.get_by_text("version 2 · created by")).to_be_visible()


def test_the_list_shows_the_last_execution_after_an_event(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project, webhook, _ = project_with_webhook(api, console_runtime)
    scope = {"type": "PROJECT", "project": project}
    deploy = created(
        api.post(
            url(api, "/automations"),
            json={
                "name": "deploy on production",
                "description": "Tells the deployer.",
                "scope": scope,
                "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": {"alias": {"$regex": "^production$"}}},
                "action": {
                    "type": "GENERIC_WEBHOOK",
                    "webhook": webhook,
                    "payload": {"model": "${artifact_version_string}"},
                },
            },
        )
    )
    created(
        api.post(
            url(api, "/automations"),
            json={
                "name": "evaluate when loss is low",
                "scope": scope,
                "event": {
                    "type": "RUN_METRIC_THRESHOLD",
                    "metric": {"name": "loss", "agg": "AVERAGE", "window": 5, "cmp": "$lt", "threshold": 0.1},
                },
                "action": {"type": "QUEUE_JOB", "queue": "demo", "job": "evaluate-model"},
            },
        )
    )
    created(
        api.post(
            url(api, "/automations"),
            json={
                "name": "failed runs",
                "enabled": False,
                "scope": scope,
                "event": {"type": "RUN_STATE", "states": ["FAILED"]},
                "action": {"type": "NO_OP"},
            },
        )
    )
    sign_in(page, console_runtime, path=f"#/automations?project={project}")
    row = page.get_by_role("row").filter(has_text="deploy on production")
    expect(row).to_contain_text("never")
    expect(page.get_by_role("row").filter(has_text="failed runs").get_by_role("switch")).not_to_be_checked()

    published = requests.post(
        f"{console_runtime['api_url']}/v1/events",
        json={"events": [alias_added(project)]},
        headers={"Authorization": f"Bearer {console_runtime['admin_key']}"},
        timeout=10,
    )
    assert published.status_code == 202, published.text
    executed = eventually(
        lambda: api.get(url(api, f"/automations/{deploy['id']}")).json()["last_executed_at"],
        timeout=30,
        what="the automation to execute",
    )
    page.reload()
    last = row.get_by_role("link", name="History of deploy on production")
    expect(last.locator("time")).to_have_attribute("datetime", executed)
    # By id: a name may be used in several scopes (test_console_history has two alike).
    expect(last).to_have_attribute("href", f"#/history?automation={deploy['id']}")
    expect(page.get_by_role("row").filter(has_text="evaluate when loss is low")).to_contain_text("never")
    screenshot(page, "automations-list")


def test_a_viewer_sees_the_list_and_the_form_but_changes_nothing(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project, webhook, inbox = project_with_webhook(api, console_runtime)
    viewer = unique("viewer")
    created(api.post(url(api, "/members"), json={"username": viewer, "role": "VIEWER"}))
    key = created(api.post(url(api, "/api-keys"), json={"name": "console test", "member": viewer}))["key"]
    name = unique("deploy")
    created(
        api.post(
            url(api, "/automations"),
            json={
                "name": name,
                "scope": {"type": "PROJECT", "project": project},
                "event": {"type": "ADD_ARTIFACT_ALIAS"},
                "action": {
                    "type": "GENERIC_WEBHOOK",
                    "webhook": webhook,
                    "payload": {"v": "${artifact_version}"},
                },
            },
        )
    )
    sign_in(page, console_runtime, key=key, path=f"#/automations?project={project}")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row.get_by_text("on", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New automation")).to_have_count(0)
    expect(page.get_by_role("switch")).to_have_count(0)
    screenshot(page, "automations-viewer")

    row.get_by_role("link", name=name).click()
    expect(page.get_by_role("note")).to_contain_text("Read-only")
    expect(page.get_by_label("Name", exact=True)).to_be_disabled()
    expect(page.get_by_label("Payload", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    # A viewer may dry-run a saved automation: the preview works, with the webhook's URL shown by its
    # origin only (a URL can be a credential; admins see it whole).
    page.get_by_role("button", name="Preview").click()
    origin = inbox.partition("//")[0] + "//" + inbox.partition("//")[2].partition("/")[0]
    expect(page.get_by_role("complementary", name="Preview")).to_contain_text(f"POST {origin}/[REDACTED]")
    expect(page.get_by_role("complementary", name="Preview")).not_to_contain_text(inbox)
    expect(page.get_by_role("table", name="Payload variables")).to_contain_text("${artifact_version}")
    picture(page, "automations-viewer-editor")
    assert automation(api, name)["version"] == 1


def test_a_filter_the_fields_cannot_say_is_edited_as_json_and_kept(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project, webhook, _ = project_with_webhook(api, console_runtime)
    either = {"$or": [{"alias": "production"}, {"alias": "staging"}]}
    saved = created(
        api.post(
            url(api, "/automations"),
            json={
                "name": unique("either"),
                "scope": {"type": "PROJECT", "project": project},
                "event": {"type": "ADD_ARTIFACT_ALIAS", "filter": either},
                "action": {"type": "GENERIC_WEBHOOK", "webhook": webhook, "payload": {"v": "${alias}"}},
            },
        )
    )
    other = created(
        api.post(
            url(api, "/automations"),
            json={
                "name": unique("other"),
                "scope": {"type": "PROJECT", "project": project},
                "event": {"type": "CREATE_ARTIFACT"},
                "action": {"type": "NO_OP"},
            },
        )
    )
    sign_in(page, console_runtime, path=f"#/automations/{saved['id']}")
    expect(page.get_by_label("Filter (JSON)")).to_have_value(re.compile(r'"\$or"'))
    expect(page.get_by_label("Alias (regex)")).to_have_count(0)
    name = page.get_by_label("Name", exact=True)
    # A name taken in the scope: the API's conflict shows by the name, and focus goes there.
    name.fill(other["name"])
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field", has=name).locator(".field-error")).to_contain_text("exists in this scope")
    expect(name).to_be_focused()
    name.fill(saved["name"] + " renamed")
    name.press("Enter")  # a real form: Enter saves
    expect(page.get_by_role("status").filter(has_text="version 2")).to_be_visible()
    after = api.get(url(api, f"/automations/{saved['id']}")).json()
    assert after["name"] == saved["name"] + " renamed"
    assert after["event"]["filter"] == either


def test_a_long_list_pages_with_show_more(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project = unique("many")
    created(api.post(url(api, "/projects"), json={"name": project}))
    names = [f"watch {i:02d}" for i in range(55)]  # more than a page (50)
    for name in names:
        body = {
            "name": name,
            "scope": {"type": "PROJECT", "project": project},
            "event": {"type": "CREATE_ARTIFACT"},
            "action": {"type": "NO_OP"},
        }
        created(api.post(url(api, "/automations"), json=body))
    sign_in(page, console_runtime, path=f"#/automations?project={project}")
    expect(page.get_by_text(re.compile(r"^\d+ automations so far$"))).to_be_visible()
    # A filtered page may hold fewer than 50 (README): follow "Show more" until the list is whole.
    more = page.get_by_role("button", name="Show more")
    ready = more.and_(page.locator("button:enabled"))
    whole = page.get_by_text("55 automations", exact=True)
    while True:
        expect(ready.or_(whole)).to_be_visible()
        if whole.is_visible():
            break
        ready.click()
    table = page.get_by_role("table", name="Automations")
    expect(table.get_by_role("link")).to_have_count(55)
    assert sorted(table.get_by_role("link").all_inner_texts()) == names


def test_leaving_a_half_edited_automation_asks_first(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project = unique("auto")
    created(api.post(url(api, "/projects"), json={"name": project}))
    name = unique("half edited")
    asked: list[str] = []
    answer = {"leave": False}

    def confirm(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept() if answer["leave"] else dialog.dismiss()

    page.on("dialog", confirm)
    history_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="History")
    # From the entity-wide list, a new automation starts scoped to the entity.
    sign_in(page, console_runtime, path="#/automations")
    page.get_by_role("link", name="New automation").click()
    expect(page.get_by_label("Watch")).to_have_value("ENTITY")
    # Nothing changed yet: leaving asks nothing.
    history_link.click()
    expect(page).to_have_url(re.compile(r"#/history$"))
    page.go_back()
    name_field = page.get_by_label("Name", exact=True)
    expect(name_field).to_have_value("")
    assert asked == []

    name_field.fill(name)
    # The page's URL changes before it asks, so each step waits for the question itself.
    with page.expect_event("dialog"):
        history_link.click()  # declined: the editor stays, with what was typed
    expect(page).to_have_url(re.compile(r"#/automations/new$"))
    expect(name_field).to_have_value(name)
    assert len(asked) == 1 and "without saving" in asked[0]
    with page.expect_event("dialog"):
        page.go_back()  # Back, declined too
    expect(page).to_have_url(re.compile(r"#/automations/new$"))
    expect(name_field).to_have_value(name)
    assert len(asked) == 2

    # A reload or closing the tab gets the browser's own prompt.
    with page.expect_event("dialog"):
        page.close(run_before_unload=True)
    expect(page.get_by_label("Name", exact=True)).to_have_value(name)
    assert len(asked) == 3

    # Saved, it leaves without asking.
    page.get_by_label("Watch").select_option("PROJECT")
    page.get_by_label("Project or registry").select_option(project)
    page.get_by_label("When").select_option("CREATE_ARTIFACT")
    page.get_by_label("Then").select_option("NO_OP")
    page.get_by_role("button", name="Create automation").click()
    expect(page).to_have_url(re.compile(rf"#/automations\?project={project}$"))
    saved = automation(api, name)
    page.get_by_role("row").filter(has_text=name).get_by_role("link", name=name).click()
    expect(page.get_by_label("Name", exact=True)).to_have_value(name)  # the saved one, loaded
    page.get_by_label("Description").fill("changed, then left on purpose")
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    answer["leave"] = True
    with page.expect_event("dialog"):
        history_link.click()
    expect(page).to_have_url(re.compile(r"#/history$"))
    assert len(asked) == 4
    assert automation(api, name)["version"] == saved["version"]  # nothing saved by leaving
    page.go_back()
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete automation").get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(rf"#/automations\?project={project}$"))
    assert len(asked) == 4
    assert api.get(url(api, f"/automations/{saved['id']}")).status_code == 404


def test_an_old_error_goes_when_its_field_changes_or_another_action_runs(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project = unique("auto")
    created(api.post(url(api, "/projects"), json={"name": project}))
    taken = created(
        api.post(
            url(api, "/automations"),
            json={
                "name": unique("taken"),
                "scope": {"type": "PROJECT", "project": project},
                "event": {"type": "CREATE_ARTIFACT"},
                "action": {"type": "NO_OP"},
            },
        )
    )
    sign_in(page, console_runtime, path=f"#/automations/new?project={project}")
    name = page.get_by_label("Name", exact=True)
    name.fill(taken["name"])
    page.get_by_label("When").select_option("CREATE_ARTIFACT")
    page.get_by_label("Then").select_option("QUEUE_JOB")
    page.get_by_label("Run queue").select_option("demo")
    job = page.get_by_label("Job", exact=True)
    job.fill("evaluate")
    name_error = page.locator(".field", has=name).locator(".field-error")

    # A save refused for the name; a preview (which does not mind the name) replaces that message.
    page.get_by_role("button", name="Create automation").click()
    expect(name_error).to_contain_text("exists in this scope")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("complementary", name="Preview")).to_contain_text("Would fire")
    expect(name_error).to_have_count(0)
    expect(name).not_to_have_attribute("aria-invalid", "true")

    # Refused again; changing the field takes its message away at once.
    page.get_by_role("button", name="Create automation").click()
    expect(name_error).to_contain_text("exists in this scope")
    name.fill(taken["name"] + " 2")
    expect(name_error).to_have_count(0)

    # JSON that does not parse is said in plain words, by its field, until the field changes.
    overrides = page.get_by_label("Overrides (JSON)")
    overrides.fill('{"lr": ')
    page.get_by_role("button", name="Preview").click()
    overrides_error = page.locator(".field", has=overrides).locator(".field-error")
    expect(overrides_error).to_contain_text("Overrides are not valid JSON")
    overrides.fill('{"lr": 0.1}')
    expect(overrides_error).to_have_count(0)
    page.get_by_role("button", name="Create automation").click()
    expect(page).to_have_url(re.compile(rf"#/automations\?project={project}$"))
    assert automation(api, taken["name"] + " 2")["action"]["overrides"] == {"lr": 0.1}


def test_a_failing_actions_status_says_when_in_words(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    project, webhook = unique("auto"), unique("dead")
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    created(api.post(url(api, "/projects"), json={"name": project}))
    created(api.post(url(api, "/webhooks"), json={"name": webhook, "url": f"http://127.0.0.1:{port}/x"}))
    failing = created(
        api.post(
            url(api, "/automations"),
            json={
                "name": unique("failing"),
                "scope": {"type": "PROJECT", "project": project},
                "event": {"type": "ADD_ARTIFACT_ALIAS"},
                "action": {"type": "GENERIC_WEBHOOK", "webhook": webhook, "payload": {"v": "${alias}"}},
            },
        )
    )
    published = requests.post(
        f"{console_runtime['api_url']}/v1/events",
        json={"events": [alias_added(project)]},
        headers={"Authorization": f"Bearer {console_runtime['admin_key']}"},
        timeout=10,
    )
    assert published.status_code == 202, published.text

    def failing_status() -> dict[str, Any] | None:
        status = api.get(url(api, f"/automations/{failing['id']}")).json()["action_status"]
        return status if status["state"] == "FAILING" else None

    status = eventually(failing_status, timeout=30, what="the action to fail")
    [since] = re.findall(r"since (\d{4}-\d\d-\d\dT[0-9:.]+Z)", status["reason"])
    sign_in(page, console_runtime, path=f"#/automations?project={project}")
    reason = (
        page.get_by_role("row").filter(has_text=failing["name"]).locator(".hint").filter(has_text="in a row")
    )
    expect(reason.locator("time")).to_have_attribute("datetime", since)
    assert since not in reason.inner_text() and "since" in reason.inner_text()
