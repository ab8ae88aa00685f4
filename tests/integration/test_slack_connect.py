""" "Connect Slack": Slack's OAuth v2 install through the API, against the fake Slack (a real HTTP
server on 127.0.0.1) with the stack deployed with a Slack app, as the template provisions it.

A browser is played by hand: load Slack's page, submit its form with the button a person would
press, read the redirect. The state is used once, by the admin who started, in the entity that
started, within ten minutes; Slack's refusals are answered with Slack's error code; nothing is left
half made; and neither the bot token nor the client secret shows in any answer or log."""

from __future__ import annotations

import logging
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import boto3
import pytest
import requests
from apiclient import Api, Team
from pipelines import Pipeline, alias_event

from mlhooks.access import AccessService
from mlhooks.components import get_components, reset_components
from mlhooks.errors import InvalidInput
from mlhooks.local.inbox import Inbox, SlackApp
from mlhooks.local.provision import provision
from mlhooks.local.runtime import local_environment
from mlhooks.local.stack import Stack
from mlhooks.models.vocabulary import Role
from mlhooks.redaction import secret_forms
from mlhooks.slack_connect import CONNECT_SECONDS, SlackConnectService, bot_token_secret, channel_name

CLIENT_ID = "1234567890.0987654321"
CLIENT_SECRET = "slack-app-client-secret-4f1d2c3b9a"
REDIRECT = "https://console.example.com/console/slack?from=connect"
SLACK_SETTINGS = ("MLHOOKS_SLACK_CLIENT_ID", "MLHOOKS_SLACK_CLIENT_SECRET_ARN", "MLHOOKS_SLACK_AUTHORIZE_URL")


@pytest.fixture
def fake_slack():
    inbox = Inbox(slack_app=SlackApp(CLIENT_ID, CLIENT_SECRET)).start()
    yield inbox
    inbox.stop()


@pytest.fixture
def slack_app(aws, template, fake_slack, monkeypatch) -> Stack:
    """The stack deployed with the SlackClientId and SlackClientSecret parameters: the client secret
    provisioned as the template declares it, the API given what the template gives it."""
    stack = provision(
        template,
        endpoint_url=None,
        parameters={
            "MaxAttempts": "3",
            "SlackClientId": CLIENT_ID,
            "SlackClientSecret": CLIENT_SECRET,
            "SlackAuthorizeUrl": fake_slack.slack_authorize_url,
        },
    )
    environment = local_environment("unused", stack)
    for name in SLACK_SETTINGS:
        monkeypatch.setenv(name, environment[name])
    monkeypatch.setenv("MLHOOKS_SLACK_API_URL", fake_slack.slack_api_url)
    reset_components()
    return stack


def connect(team: Team, name: str = "alerts", api: Api | None = None, redirect: str = REDIRECT):
    return (api or team.admin).post(f"{team.base}/slack/connect", {"name": name, "redirect_uri": redirect})


def complete(team: Team, state: str, code: str, api: Api | None = None):
    return (api or team.admin).post(f"{team.base}/slack/connect/complete", {"state": state, "code": code})


class _Form(HTMLParser):
    """The consent page's form: where it posts, its fields, and the radio a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}  # label -> (name, value)
        self._button: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a["action"]
        elif tag == "input" and (a.get("type") == "hidden" or "checked" in a):
            self.fields[a["name"]] = a["value"]
        elif tag == "button":
            self._button = (a["name"], a["value"])

    def handle_data(self, data: str) -> None:
        if self._button and data.strip():
            self.buttons[data.strip()] = self._button
            self._button = None


def slack_page(authorize_url: str, press: str = "Allow", channel: str | None = None) -> dict[str, str]:
    """What a browser does on Slack's page: load it, press a button, and follow the redirect as far
    as reading the query Slack sends back to the redirect URI."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page.text
    form = _Form()
    form.feed(page.text)
    fields = dict(form.fields)
    if channel:
        fields["channel"] = channel
    name, value = form.buttons[press]
    fields[name] = value
    answer = requests.post(urljoin(authorize_url, form.action), data=fields, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "&"), location  # the redirect URI's own query is kept
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def allowed(team: Team, name: str = "alerts", channel: str | None = None) -> dict[str, str]:
    """An install started and allowed on Slack's page: the redirect's `code` and `state`."""
    started = connect(team, name)
    assert started.status == 201, started.raw
    return slack_page(started.json["authorize_url"], channel=channel)


def secretsmanager() -> Any:
    return boto3.client("secretsmanager", region_name="us-east-1")


def stored_value(entity: str, name: str) -> str:
    return secretsmanager().get_secret_value(SecretId=f"mlhooks/mlhooks-local/{entity}/{name}")[
        "SecretString"
    ]


# ---- the whole flow -------------------------------------------------------------------------------


def test_connect_slack_makes_the_integration_and_its_notifications_reach_the_channel(
    slack_app, fake_slack, team, gateway, aws, capfd, caplog
):
    caplog.set_level(logging.DEBUG)
    replies = []
    started = connect(team)
    replies.append(started)
    assert started.status == 201, started.raw
    assert set(started.json) == {"authorize_url", "state", "expires_at"}
    url, state = started.json["authorize_url"], started.json["state"]
    assert url == (
        f"{fake_slack.slack_authorize_url}?client_id={CLIENT_ID}&scope=chat:write,incoming-webhook"
        f"&redirect_uri=https%3A%2F%2Fconsole.example.com%2Fconsole%2Fslack%3Ffrom%3Dconnect&state={state}"
    )
    assert len(state) >= 43  # 256 random bits

    back = slack_page(url, channel="C0123MLALERTS")
    assert back["state"] == state and set(back) == {"from", "code", "state"}
    done = complete(team, back["state"], back["code"])
    replies.append(done)
    assert done.status == 201, done.raw
    assert {k: v for k, v in done.json.items() if k != "created_at"} == {
        "name": "alerts",
        "bot_token_secret": "alerts_bot_token",
        "channel_id": "C0123MLALERTS",
        "channel_name": "ml-alerts",
        "team_name": "mlhooks local",
    }
    replies.append(team.viewer.get(f"{team.base}/slack/alerts"))
    assert replies[-1].json["channel_id"] == "C0123MLALERTS"

    [token] = fake_slack.issued_tokens
    assert stored_value(team.entity, "alerts_bot_token") == token
    secret = team.viewer.get(f"{team.base}/secrets/alerts_bot_token")
    replies.append(secret)
    assert secret.json["used_by"] == [{"kind": "slack", "name": "alerts"}]

    pipeline = Pipeline(team, aws, gateway.fns, boto3.client("sqs", region_name="us-east-1"))
    pipeline.automation(
        scope={"type": "ENTITY"},
        event={"type": "ADD_ARTIFACT_ALIAS"},
        action={"type": "NOTIFICATION", "slack": "alerts", "title": "New ${alias}"},
    )
    pipeline.match(alias_event(entity=team.entity))
    pipeline.drain("Slack")
    [message] = fake_slack.slack_messages
    assert message["channel"] == "C0123MLALERTS" and "production" in message["text"]
    assert pipeline.executions()[0]["state"] == "FINISHED"

    out, err = capfd.readouterr()
    seen = [r.raw.decode() + repr(r.headers) for r in replies] + [out, err, caplog.text]
    for value in (token, CLIENT_SECRET):
        forms = {form for form in secret_forms(value) if len(form) >= 8}
        assert not [form for form in forms for text in seen if form in text], value[:6]


def test_the_state_is_kept_only_as_a_hash_and_expires(slack_app, team):
    state = connect(team).json["state"]
    table = get_components().store.table
    [item] = [i for i in table.scan()["Items"] if i["SK"].startswith("SLACKOAUTH#")]
    assert state not in repr(item) and REDIRECT in item["doc"]
    assert 0 < int(item["expires_at"]) - time.time() <= CONNECT_SECONDS


# ---- the state ------------------------------------------------------------------------------------


def test_a_state_completes_once(slack_app, team):
    back = allowed(team)
    assert complete(team, back["state"], back["code"]).status == 201
    again = complete(team, back["state"], back["code"])
    assert again.status == 422 and again.error["field"] == "state"
    assert "unknown, or was completed already" in again.error["message"]


def test_a_state_of_another_entity_is_unknown_there_and_stays_usable(slack_app, team, other_team):
    back = allowed(team)
    foreign = complete(other_team, back["state"], back["code"])
    assert foreign.status == 422 and foreign.error["field"] == "state"
    assert other_team.admin.get(f"{other_team.base}/slack/alerts").status == 404
    assert complete(team, back["state"], back["code"]).status == 201


def test_a_state_started_by_another_admin_is_refused_and_stays_theirs(slack_app, team):
    access = AccessService(get_components().store)
    access.add_member(team.entity, "dave", Role.ADMIN)
    _, key = access.create_key(team.entity, "dave", "dave's key")
    back = allowed(team)  # alice's
    refused = complete(team, back["state"], back["code"], api=team.admin.as_key(key))
    assert refused.status == 403 and refused.error["field"] == "state"
    assert "alice" in refused.error["message"]
    assert complete(team, back["state"], back["code"]).status == 201


def test_an_expired_state_is_refused_without_asking_slack(slack_app, fake_slack, team):
    back = allowed(team)
    later = SlackConnectService(get_components(), clock=lambda: time.time() + CONNECT_SECONDS + 1)
    with pytest.raises(InvalidInput) as refused:
        later.complete(team.entity, "alice", back["state"], back["code"])
    assert refused.value.field == "state" and "expired" in refused.value.message
    assert fake_slack.issued_tokens == {}
    assert team.viewer.get(f"{team.base}/slack/alerts").status == 404


def test_an_unknown_state_is_refused(slack_app, team):
    reply = complete(team, "made-up-state", "123.abc")
    assert reply.status == 422 and reply.error["field"] == "state"


# ---- Slack says no --------------------------------------------------------------------------------


def test_cancel_on_slacks_page_sends_access_denied_back(slack_app, fake_slack, team):
    started = connect(team).json
    back = slack_page(started["authorize_url"], press="Cancel")
    assert back == {"from": "connect", "error": "access_denied", "state": started["state"]}


def test_a_code_slack_refuses_is_a_4xx_naming_slacks_error(slack_app, team):
    back = allowed(team)
    reply = complete(team, back["state"], "111.not-a-code")
    assert reply.status == 422, reply.raw
    assert reply.error["code"] == "slack_refused" and reply.error["field"] == "code"
    assert "invalid_code" in reply.error["message"]
    assert reply.error["details"][0]["slack_error"] == "invalid_code"
    assert team.viewer.get(f"{team.base}/slack/alerts").status == 404
    assert team.viewer.get(f"{team.base}/secrets").json["items"] == []
    # The state went with the attempt: Slack's code is single use too, so the admin starts again.
    assert complete(team, back["state"], back["code"]).error["field"] == "state"


def test_a_wrong_client_secret_names_the_stack_parameter(slack_app, team):
    secretsmanager().put_secret_value(
        SecretId=slack_app.refs["SlackClientSecretValue"], SecretString="wrong-one"
    )
    back = allowed(team)
    reply = complete(team, back["state"], back["code"])
    assert reply.status == 422 and reply.error["code"] == "slack_refused"
    assert "bad_client_secret" in reply.error["message"] and "SlackClientSecret" in reply.error["message"]
    assert "wrong-one" not in reply.raw.decode()


def test_an_unreachable_slack_is_502(slack_app, team, monkeypatch):
    back = allowed(team)
    monkeypatch.setenv("MLHOOKS_SLACK_API_URL", "http://127.0.0.1:9/api")  # nothing listens there
    reset_components()
    reply = complete(team, back["state"], back["code"])
    assert reply.status == 502 and reply.error["code"] == "slack_unavailable"


# ---- refused at the start -------------------------------------------------------------------------


def test_without_a_slack_app_both_steps_name_the_stack_parameters(team):
    for reply in (connect(team), complete(team, "s", "c")):
        assert reply.status == 409 and reply.error["code"] == "slack_app_not_configured"
        assert "SlackClientId" in reply.error["message"] and "SlackClientSecret" in reply.error["message"]


def test_a_taken_name_is_refused_before_going_to_slack(slack_app, team):
    admin, base = team.admin, team.base
    assert admin.post(f"{base}/secrets", {"name": "BOT", "value": "xoxb-by-hand-token"}).status == 201
    slack = {"name": "alerts", "bot_token_secret": "BOT", "channel_id": "C0123ABCD", "channel_name": "x"}
    assert admin.post(f"{base}/slack", slack).status == 201
    assert admin.post(f"{base}/secrets", {"name": "ops_team_bot_token", "value": "some-value"}).status == 201
    for name, says in (("alerts", "Slack integration named alerts"), ("ops.team", "ops_team_bot_token")):
        reply = connect(team, name)
        assert reply.status == 409 and reply.error["field"] == "name", reply.raw
        assert says in reply.error["message"]
    too_long = connect(team, "n" * 55)
    assert too_long.status == 422 and too_long.error["field"] == "name"


def test_a_name_taken_while_the_admin_was_on_slack_is_refused_without_a_token(slack_app, fake_slack, team):
    back = allowed(team)
    team.admin.post(f"{team.base}/secrets", {"name": "BOT", "value": "xoxb-by-hand-token"})
    slack = {"name": "alerts", "bot_token_secret": "BOT", "channel_id": "C0123ABCD", "channel_name": "x"}
    assert team.admin.post(f"{team.base}/slack", slack).status == 201
    reply = complete(team, back["state"], back["code"])
    assert reply.status == 409 and reply.error["field"] == "name"
    assert fake_slack.issued_tokens == {}


@pytest.mark.parametrize(
    "redirect",
    [
        "ftp://console.example.com/cb",
        "http://console.example.com/cb",  # http only on this machine
        "https://user:pw@console.example.com/cb",
        "https://console.example.com/cb#fragment",
        "/console/slack",
        "https://console.example.com/cb with space",
        "https://console.example.com:99999/cb",
        "https://console.example.com/" + "a" * 2100,
    ],
)
def test_a_redirect_uri_that_is_not_an_absolute_https_url_is_400(slack_app, team, redirect):
    reply = connect(team, redirect=redirect)
    assert reply.status == 400 and reply.error["field"] == "redirect_uri", reply.raw


@pytest.mark.parametrize("redirect", ["http://127.0.0.1:8080/cb", "http://localhost/cb", "http://[::1]/cb"])
def test_http_is_accepted_for_a_console_on_this_machine(slack_app, team, redirect):
    assert connect(team, redirect=redirect).status == 201


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
def test_only_admins_connect_slack(slack_app, team, role):
    back = allowed(team)
    api = team.admin.as_key(team.keys[role])
    for reply in (connect(team, api=api), complete(team, back["state"], back["code"], api=api)):
        assert reply.status == 403 and reply.error["code"] == "forbidden"
    assert complete(team, back["state"], back["code"]).status == 201


# ---- nothing half made ----------------------------------------------------------------------------


def test_an_integration_that_cannot_be_made_leaves_no_secret_behind(slack_app, team, monkeypatch):
    back = allowed(team)

    def failing(*_: Any) -> None:
        raise RuntimeError("the table is unavailable")

    monkeypatch.setattr(get_components().store, "create_slack", failing)
    reply = complete(team, back["state"], back["code"])
    assert reply.status == 500 and reply.error["code"] == "internal_error"
    assert team.viewer.get(f"{team.base}/secrets/alerts_bot_token").status == 404
    names = [s["Name"] for s in secretsmanager().list_secrets()["SecretList"]]
    assert not [name for name in names if name.endswith("alerts_bot_token")], names
    assert team.viewer.get(f"{team.base}/slack/alerts").status == 404


# ---- the template, as the local runtime reads it --------------------------------------------------


def test_the_client_secret_lives_outside_the_entities_prefix_and_only_the_api_is_told(slack_app, template):
    arn = slack_app.refs["SlackClientSecretValue"]
    assert ":secret:mlhooks-app/mlhooks-local/slack-client-secret" in arn
    assert secretsmanager().get_secret_value(SecretId=arn)["SecretString"] == CLIENT_SECRET
    assert get_components().settings.slack_client_secret_arn == arn
    for name, resource in template["Resources"].items():
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        assert ("MLHOOKS_SLACK_CLIENT_SECRET_ARN" in variables) == (name == "ApiFunction"), name


def test_without_the_parameter_no_secret_is_made_and_the_arn_is_empty(aws):
    assert "SlackClientSecretValue" not in aws.refs
    assert local_environment("unused", aws)["MLHOOKS_SLACK_CLIENT_SECRET_ARN"] == ""
    assert secretsmanager().list_secrets()["SecretList"] == []


# ---- naming ---------------------------------------------------------------------------------------


def test_the_bot_token_secret_is_named_after_the_integration():
    assert bot_token_secret("alerts") == "alerts_bot_token"
    assert bot_token_secret("ml.alerts-prod") == "ml_alerts_prod_bot_token"


def test_channel_names_drop_slacks_hash_and_fall_back_to_the_id():
    assert channel_name("#ml-alerts", "C0123") == "ml-alerts"
    assert channel_name("@someone", "D0ABC") == "d0abc"
