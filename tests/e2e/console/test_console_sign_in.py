"""Signing in to the console with an API key, and what the key's role shows."""

from __future__ import annotations

from typing import Any

from e2e.console.conftest import screenshot, sign_in, unique
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


def signed_in_then_revoked(page: Page, console_runtime: dict[str, Any], api: Any) -> str:
    """A VIEWER signed in on the Projects page, whose key an admin then revokes: the key."""
    username, key = member_key(console_runtime, "VIEWER")
    sign_in(page, console_runtime, key=key, path="#/projects")
    expect(page.get_by_role("banner")).to_contain_text(username)
    [made] = [k for k in api.get(f"{api.base_url}/api-keys").json()["items"] if k["member"] == username]
    assert api.delete(f"{api.base_url}/api-keys/{made['id']}").status_code == 204
    return key


def test_a_late_refusal_of_a_revoked_key_leaves_the_next_session_alone(
    page: Page, console_runtime: dict[str, Any], api: Any
) -> None:
    key = signed_in_then_revoked(page, console_runtime, api)
    # History asks for executions and for projects; the projects' answer is held back.
    held: list[Any] = []
    page.route("**/v1/entities/*/projects*", lambda route: held.append(route))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your API key was revoked or is no longer valid. Sign in again."
    )
    # The admin signs in on the page that says so, which still waits for that answer.
    page.get_by_label("API key").fill(console_runtime["admin_key"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner")).to_contain_text("ADMIN")
    [late] = [r for r in held if r.request.headers["authorization"] == f"Bearer {key}"]
    with page.expect_response(lambda response: response.request == late.request) as answered:
        late.continue_()
    assert answered.value.status == 401  # the revoked key's request, answered after the new sign-in
    for route in held:
        if route is not late:
            route.continue_()
    page.unroute("**/v1/entities/*/projects*")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("ADMIN")
    assert page.evaluate("sessionStorage.getItem('mlhooks.apiKey')") == console_runtime["admin_key"]


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


def member_key(console_runtime: dict[str, Any], role: str) -> tuple[str, str]:
    """A new member with `role`, and an API key of theirs: (username, key)."""
    import requests

    base = f"{console_runtime['api_url']}/v1/entities/{console_runtime['entity']}"
    admin = {"Authorization": f"Bearer {console_runtime['admin_key']}"}
    username = unique("signed-in")
    made = requests.post(
        f"{base}/members", json={"username": username, "role": role}, headers=admin, timeout=10
    )
    assert made.status_code == 201, made.text
    key = requests.post(
        f"{base}/api-keys", json={"name": "console", "member": username}, headers=admin, timeout=10
    )
    assert key.status_code == 201, key.text
    return username, key.json()["key"]


def test_a_role_changed_meanwhile_is_noticed_at_the_first_refusal(
    page: Page, console_runtime: dict[str, Any], api: Any
) -> None:
    username, key = member_key(console_runtime, "MEMBER")
    sign_in(page, console_runtime, key=key, path="#/projects")
    badge = page.get_by_role("banner").locator("[data-role]")
    expect(badge).to_have_text("MEMBER")
    form = page.get_by_role("form", name="New project")
    project = unique("refused")
    form.get_by_label("Name").fill(project)

    # An admin makes them a VIEWER; the console hears of it from the API's 403.
    assert api.patch(f"{api.base_url}/members/{username}", json={"role": "VIEWER"}).status_code == 200
    form.get_by_role("button", name="Create").click()
    expect(badge).to_have_text("VIEWER")
    expect(page.locator(".notices")).to_contain_text("Your role is now VIEWER (it was MEMBER)")
    expect(form).to_have_count(0)  # what a VIEWER may not do is not offered any more
    page.evaluate("window.scrollTo(0, 0)")  # the header is sticky: scrolled, it is drawn mid-page
    screenshot(page, "sign-in-role-changed")
    assert api.get(f"{api.base_url}/projects/{project}").status_code == 404


def test_a_key_revoked_while_signed_in_says_so_on_the_sign_in_page(
    page: Page, console_runtime: dict[str, Any], api: Any
) -> None:
    key = signed_in_then_revoked(page, console_runtime, api)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your API key was revoked or is no longer valid. Sign in again."
    )
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("Object.keys(sessionStorage)") == []
    # The same on a reload with the key still kept (another tab's revocation, say).
    page.evaluate(f"sessionStorage.setItem('mlhooks.apiKey', {key!r})")
    page.reload()
    expect(page.get_by_role("alert")).to_have_text(
        "Your API key was revoked or is no longer valid. Sign in again."
    )
