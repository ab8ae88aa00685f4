"""Signing in to the console with an API key, and what the key's role shows."""

from __future__ import annotations

from typing import Any

from e2e.console.conftest import screenshot, sign_in
from playwright.sync_api import Page, expect


def test_a_wrong_key_is_refused_next_to_the_field(page: Page, console_runtime: dict[str, Any]) -> None:
    page.goto(console_runtime["console_url"])
    page.get_by_label("API key").fill("mlh_000000000000_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("does not know this key")
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "sign-in-refused")


def test_the_key_lasts_for_the_tab_session_and_sign_out_forgets_it(
    page: Page, console_runtime: dict[str, Any]
) -> None:
    sign_in(page, console_runtime)
    header = page.get_by_role("banner")
    expect(header).to_contain_text(console_runtime["entity"])
    expect(header).to_contain_text("ADMIN")
    page.reload()  # sessionStorage survives a reload of the same tab
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("Object.keys(sessionStorage)") == []
    page.reload()
    expect(page.get_by_label("API key")).to_be_visible()


def test_console_paths_without_the_trailing_slash_and_unknown_files(console_runtime: dict[str, Any]) -> None:
    import requests

    root = console_runtime["api_url"]
    moved = requests.get(f"{root}/console", allow_redirects=False, timeout=10)
    assert moved.status_code == 301 and moved.headers["Location"] == "/console/"
    missing = requests.get(f"{root}/console/nope.js", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    page = requests.get(f"{root}/console/", timeout=10)
    assert "script-src 'self' 'sha256-" in page.headers["Content-Security-Policy"]
    assert '<base href="/console/">' in page.text
