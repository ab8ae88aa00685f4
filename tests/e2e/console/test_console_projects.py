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
    expect(page.get_by_role("status")).to_contain_text(f"Registry {registry} created.")
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
