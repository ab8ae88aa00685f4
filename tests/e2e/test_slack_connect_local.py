""" "Connect Slack" offline: `mlhooks dev` gives the stack a Slack app that its fake Slack knows, so the
install runs end to end over real HTTP (start, Slack's page, Allow, the redirect, complete), the
notifications reach the channel picked, and a restart (a new client secret) still connects."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from conftest import running_runtime
from samples import load_event
from waiting import eventually

pytestmark = pytest.mark.e2e
REDIRECT = "http://127.0.0.1:9/console/slack"  # never followed: the test reads the redirect itself


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a["action"]
        elif tag == "input" and (a.get("type") == "hidden" or "checked" in a):
            self.fields[a["name"]] = a["value"]


def connect_slack(runtime: dict[str, Any], name: str, channel: str) -> dict[str, Any]:
    """Everything an admin's browser and the console do: the integration the install made."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {runtime['admin_key']}"
    api = f"{runtime['api_url']}/v1/entities/{runtime['entity']}/slack/connect"
    started = http.post(api, json={"name": name, "redirect_uri": REDIRECT}, timeout=30)
    assert started.status_code == 201, started.text
    authorize_url = started.json()["authorize_url"]
    assert authorize_url.startswith(
        f"{runtime['inbox_url']}/slack/oauth/v2/authorize?client_id=local.slack.app&"
    )
    page = requests.get(authorize_url, timeout=10)
    form = _Form()
    form.feed(page.text)
    choice = {**form.fields, "channel": channel, "decision": "allow"}
    redirect = requests.post(
        urljoin(authorize_url, form.action), data=choice, allow_redirects=False, timeout=10
    )
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith(REDIRECT + "?")
    back = {k: v[0] for k, v in parse_qs(urlsplit(redirect.headers["Location"]).query).items()}
    assert back["state"] == started.json()["state"]
    done = http.post(f"{api}/complete", json={"state": back["state"], "code": back["code"]}, timeout=30)
    assert done.status_code == 201, done.text
    return done.json()


def test_connect_slack_runs_offline_and_survives_a_restart(tmp_path: Path):
    folder = tmp_path
    with running_runtime(folder) as runtime:
        connected = connect_slack(runtime, "alerts", "C0123MLALERTS")
        assert connected["channel_id"] == "C0123MLALERTS" and connected["team_name"] == "mlhooks local"
        assert "xoxb-" not in str(connected)
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {runtime['admin_key']}"
        base = f"{runtime['api_url']}/v1/entities/{runtime['entity']}"
        automation = {
            "name": "tell the channel",
            "scope": {"type": "ENTITY"},
            "event": {"type": "ADD_ARTIFACT_ALIAS"},
            "action": {"type": "NOTIFICATION", "slack": "alerts", "title": "New ${alias}"},
        }
        assert http.post(f"{base}/automations", json=automation, timeout=30).status_code == 201
        envelope = load_event("platform-alias-added.json")
        detail = {k: v for k, v in envelope["detail"].items() if k != "author"}
        detail |= {"entity": runtime["entity"], "event_id": f"ev-{uuid.uuid4().hex}"}
        event = {"events": [{"detail_type": envelope["detail-type"], "detail": detail}]}
        assert http.post(f"{runtime['api_url']}/v1/events", json=event, timeout=30).status_code == 202

        def notified() -> list[dict[str, Any]]:
            messages = requests.get(runtime["inbox_url"], timeout=10).json()["slack_messages"]
            return [m for m in messages if m["channel"] == "C0123MLALERTS"]

        eventually(notified, timeout=40, what="the notification in the channel picked")

    with running_runtime(folder) as runtime:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {runtime['admin_key']}"
        base = f"{runtime['api_url']}/v1/entities/{runtime['entity']}"
        assert http.get(f"{base}/slack/alerts", timeout=30).json()["channel_id"] == "C0123MLALERTS"
        assert connect_slack(runtime, "deploys", "C0123DEPLOYS")["channel_name"] == "deployments"
