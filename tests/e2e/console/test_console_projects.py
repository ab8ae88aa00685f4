"""Projects, registries and their collections in the console."""

from __future__ import annotations

from typing import Any

import requests
from e2e.console.conftest import screenshot, sign_in, unique
from playwright.sync_api import Page, expect


def test_register_a_registry_and_a_collection_through_the_forms(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    registry = unique("wandb-registry-model")
    sign_in(page, console_runtime, path="#/projects")
    form = page.get_by_role("form", name="New project")
    form.get_by_label("Name").fill(registry)
    form.get_by_label("Description").fill("models we ship")
    form.get_by_label("A registry").check()
    form.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status").filter(has_text="created.")).to_contain_text(
        f"Registry {registry} created."
    )
    row = page.get_by_role("row").filter(has_text=registry)
    expect(row).to_contain_text("registry")
    assert api.get(f"{api.base_url}/projects/{registry}").json()["registry"] is True

    row.get_by_role("link", name=registry).click()
    expect(page.get_by_role("heading", name=registry)).to_be_visible()
    collection_form = page.get_by_role("form", name="New collection")
    collection_form.get_by_label("Collection").fill("resnet50")
    collection_form.get_by_role("button", name="Add collection").click()
    expect(page.get_by_role("table", name="Collections")).to_contain_text("resnet50")
    collections = api.get(f"{api.base_url}/projects/{registry}/collections").json()["items"]
    assert [c["name"] for c in collections] == ["resnet50"]
    screenshot(page, "projects-registry")

    # The same name again: the API's refusal, next to the field it is about.
    collection_form.get_by_label("Collection").fill("resnet50")
    collection_form.get_by_role("button", name="Add collection").click()
    expect(collection_form.get_by_label("Collection")).to_have_attribute("aria-invalid", "true")
    expect(collection_form.get_by_role("alert")).to_be_visible()


def test_a_bad_name_is_refused_next_to_its_field(page: Page, console_runtime: dict[str, Any]) -> None:
    sign_in(page, console_runtime, path="#/projects")
    form = page.get_by_role("form", name="New project")
    form.get_by_label("Name").fill("no spaces allowed here")
    form.get_by_role("button", name="Create").click()
    expect(form.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error")).not_to_be_empty()


def test_a_name_fields_hint_says_what_it_may_hold_and_a_refusal_is_in_words(
    page: Page, console_runtime: dict[str, Any]
) -> None:
    sign_in(page, console_runtime, path="#/projects")
    form = page.get_by_role("form", name="New project")
    name = form.get_by_label("Name")
    field = form.locator(".field", has=page.get_by_label("Name", exact=True))
    hint = field.locator(".hint")
    expect(hint).to_contain_text("letters, digits, '_', '.' and '-', starting with a letter or a digit")
    name.fill("no spaces allowed here")
    form.get_by_role("button", name="Create").click()
    error = field.locator(".field-error")
    expect(error).to_contain_text("may hold only letters, digits")
    expect(error).not_to_contain_text("String should match")
    expect(error).not_to_contain_text("^[")

    # The collection's type: refused in words too, whatever words the API uses for its pattern.
    project = unique("typed")
    name.fill(project)
    form.get_by_role("button", name="Create").click()
    page.get_by_role("row").filter(has_text=project).get_by_role("link", name=project).click()
    collection = page.get_by_role("form", name="New collection")
    collection.get_by_label("Collection").fill("resnet50")
    collection.get_by_label("Type").fill("a model")
    collection.get_by_role("button", name="Add collection").click()
    type_error = collection.locator(".field", has=page.get_by_label("Type", exact=True)).locator(
        ".field-error"
    )
    expect(type_error).to_contain_text("may hold only letters, digits, '_' and '-', up to 64 characters")
    # Fixed, the field's message goes at once; nothing else is said above the button.
    collection.get_by_label("Type").fill("model")
    expect(type_error).to_have_count(0)
    expect(collection.locator(".error-box")).to_have_count(0)


def test_a_long_unbroken_name_and_description_wrap_within_the_page(
    page: Page, console_runtime: dict[str, Any], api: requests.Session
) -> None:
    name = unique("x" * 110)  # 119 characters, no space: a name may hold 128
    description = "y" * 1000
    made = api.post(f"{api.base_url}/projects", json={"name": name, "description": description})
    assert made.status_code == 201, made.text
    wide = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    sign_in(page, console_runtime, path="#/projects")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(description)
    assert page.evaluate(wide) <= 0
    table = page.get_by_role("table", name="Projects")
    box = table.bounding_box()
    assert box and box["x"] + box["width"] <= page.viewport_size["width"]  # type: ignore[index]
    screenshot(page, "projects-long-text")

    row.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator(".subtitle")).to_contain_text(description)
    assert page.evaluate(wide) <= 0
    actions = page.locator(".page-actions").bounding_box()
    assert actions and actions["x"] + actions["width"] <= page.viewport_size["width"]  # type: ignore[index]
    screenshot(page, "projects-long-name")
    page.goto(f"{console_runtime['console_url']}#/automations?project={name}")
    expect(page.get_by_label("Scope")).to_have_value(name)
    assert page.evaluate(wide) <= 0
