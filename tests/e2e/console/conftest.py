"""The web console in a real browser: Debian's chromium, driven by Playwright, against `mlhooks dev`.

One runtime of their own serves every console test (automations made here must not fire on the
other end-to-end tests' events); each test works in projects and names of its own. Every page's
script errors fail the test that saw them. Screenshots go to build/screenshots/ for reviewers.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from e2e.conftest import running_runtime
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from samples import ROOT

SCREENSHOTS = ROOT / "build" / "screenshots"
# Playwright's waits, in ms: generous for a busy 2-core machine, and a failure still says what.
TIMEOUT_MS = 15_000


def chromium_path() -> str:
    found = os.environ.get("MLHOOKS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("No chromium to drive: `make browser` installs Debian's chromium (apt-get).")
    return found


@pytest.fixture(scope="session")
def console_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_runtime(tmp_path_factory.mktemp("console")) as state:
        state["console_url"] = f"{state['api_url']}/console/"
        yield state


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test (its own sessionStorage), laptop-sized; script errors on
    any page fail the test."""
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    page = context.new_page()
    yield page
    context.close()
    assert not errors, f"script errors in the console: {errors}"


@pytest.fixture
def api(console_runtime: dict[str, Any]) -> requests.Session:
    """The API as the runtime's admin, to set up what a test is not about."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {console_runtime['admin_key']}"
    session.base_url = f"{console_runtime['api_url']}/v1/entities/{console_runtime['entity']}"  # type: ignore[attr-defined]
    return session


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sign_in(page: Page, runtime: dict[str, Any], key: str | None = None, path: str = "") -> None:
    """Open the console (at `path`, a hash route such as "#/history") and sign in with `key`."""
    page.goto(runtime["console_url"] + path)
    page.get_by_label("API key").fill(key or runtime["admin_key"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def screenshot(page: Page, name: str, *, notices: bool = True) -> Path:
    """Saves what the page shows as build/screenshots/<name>.png (the whole page); `notices=False`
    leaves out the "Saved"-style notices (for the README's pictures)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=path, full_page=True, style=None if notices else ".notices { display: none; }")
    return path


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    return screenshot
