"""The local runtime's fake Slack serves Slack's OAuth v2 install as Slack does: its consent page, the
redirect with a single-use code, and oauth.v2.access checking the app, the code and the redirect URI,
answering Slack's shapes (`ok: false` with Slack's error codes on HTTP 200)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from mlhooks.local.inbox import AUTHORIZE_PATH, SLACK_PATH, Inbox, SlackApp

APP = SlackApp("local.slack.app", "fake-slack-client-secret")
REDIRECT = "http://127.0.0.1:9/console/slack"


@pytest.fixture
def slack() -> Iterator[Inbox]:
    inbox = Inbox(slack_app=APP).start()
    yield inbox
    inbox.stop()


def authorize(slack: Inbox, **query: str) -> requests.Response:
    fields = {"client_id": APP.client_id, "scope": "chat:write,incoming-webhook", "redirect_uri": REDIRECT}
    return requests.get(
        f"{slack.slack_authorize_url}?{urlencode({**fields, 'state': 's1', **query})}", timeout=5
    )


def decide(
    slack: Inbox, decision: str = "allow", channel: str = "C0123DEPLOYS", **form: str
) -> dict[str, str]:
    fields = {
        "client_id": APP.client_id,
        "scope": "chat:write,incoming-webhook",
        "redirect_uri": REDIRECT,
        "state": "s1",
        "channel": channel,
        "decision": decision,
        **form,
    }
    answer = requests.post(f"{slack.url}{AUTHORIZE_PATH}", data=fields, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def access(
    slack: Inbox, code: str, *, basic: bool = True, secret: str = APP.client_secret, **form: str
) -> dict:
    fields = {"code": code, "redirect_uri": REDIRECT, **form}
    if basic:
        answer = requests.post(
            f"{slack.slack_api_url}/oauth.v2.access", data=fields, auth=(APP.client_id, secret), timeout=5
        )
    else:
        fields |= {"client_id": APP.client_id, "client_secret": secret}
        answer = requests.post(f"{slack.slack_api_url}/oauth.v2.access", data=fields, timeout=5)
    assert answer.status_code == 200  # Slack answers its refusals with 200 too
    return answer.json()


def test_the_consent_page_is_self_contained_and_offers_the_channels(slack):
    page = authorize(slack)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page.text)  # nothing fetched from elsewhere
    radios = re.findall(r"<input type='radio' name='channel' value='(\w+)'( checked)?>", page.text)
    assert radios == [("C0123GENERAL", " checked"), ("C0123MLALERTS", ""), ("C0123DEPLOYS", "")]
    assert ">Allow<" in page.text and ">Cancel<" in page.text


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"client_id": "someone.else"}, "client_id"),
        ({"redirect_uri": ""}, "redirect_uri"),
        ({"state": ""}, "state"),
    ],
)
def test_the_consent_page_refuses_an_unknown_app_or_a_request_without_redirect_or_state(slack, query, says):
    page = authorize(slack, **query)
    assert page.status_code == 400 and says in page.text


def test_values_on_the_page_are_escaped(slack):
    page = authorize(slack, state="'><script>alert(1)</script>")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text


def test_allow_sends_a_single_use_code_for_the_chosen_channel(slack):
    back = decide(slack, redirect_uri=f"{REDIRECT}?keep=1")
    assert back["keep"] == "1" and back["state"] == "s1"
    answer = access(slack, back["code"], redirect_uri=f"{REDIRECT}?keep=1")
    assert answer["ok"] is True and answer["token_type"] == "bot"
    assert answer["access_token"].startswith("xoxb-") and answer["team"] == {
        "id": "T0LOCAL",
        "name": "mlhooks local",
    }
    assert answer["incoming_webhook"]["channel"] == "#deployments"
    assert answer["incoming_webhook"]["channel_id"] == "C0123DEPLOYS"
    assert slack.issued_tokens == {answer["access_token"]: "C0123DEPLOYS"}
    assert access(slack, back["code"], redirect_uri=f"{REDIRECT}?keep=1") == {
        "ok": False,
        "error": "invalid_code",
    }


def test_the_token_it_gives_posts_messages(slack):
    token = access(slack, decide(slack)["code"])["access_token"]
    answer = requests.post(
        f"{slack.url}{SLACK_PATH}",
        json={"channel": "C0123DEPLOYS", "text": "hi"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.json()["ok"] is True and slack.slack_messages == [{"channel": "C0123DEPLOYS", "text": "hi"}]


def test_cancel_sends_access_denied(slack):
    assert decide(slack, decision="cancel") == {"error": "access_denied", "state": "s1"}


def test_credentials_may_come_as_form_fields(slack):
    assert access(slack, decide(slack)["code"], basic=False)["ok"] is True


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"secret": "not-the-secret"}, "bad_client_secret"),
        ({"redirect_uri": "http://127.0.0.1:9/elsewhere"}, "bad_redirect_uri"),
        ({"code": "123.unknown"}, "invalid_code"),
    ],
)
def test_oauth_access_refuses_as_slack_does(slack, change, error):
    code = change.pop("code", None) or decide(slack)["code"]
    assert access(slack, code, **change) == {"ok": False, "error": error}
    assert slack.issued_tokens == {}


def test_an_unknown_client_id_is_refused(slack):
    code = decide(slack)["code"]
    auth = base64.b64encode(b"someone.else:" + APP.client_secret.encode()).decode()
    answer = requests.post(
        f"{slack.slack_api_url}/oauth.v2.access",
        data={"code": code, "redirect_uri": REDIRECT},
        headers={"Authorization": f"Basic {auth}"},
        timeout=5,
    )
    assert answer.json() == {"ok": False, "error": "invalid_client_id"}
