"""A webhook URL as those who may not see it whole see it (redaction.url_shown, urls_shown,
url_parts, shown_to_others)."""

from __future__ import annotations

import json

import pytest

from mlhooks.redaction import Redactor, shown_to_others, url_parts, url_shown, urls_shown

TEAMS = (
    "https://prod.westus.logic.azure.com/workflows/abc123def456/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGsecret0123456789"
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/abc123", "https://hooks.slack.com/[REDACTED]"),
        ("https://example.com/hook?sig=abc", "https://example.com/[REDACTED]"),
        ("https://user:pass@example.com:8443/x", "https://example.com:8443/[REDACTED]"),
        ("http://[2001:db8::1]:8080/t", "http://[2001:db8::1]:8080/[REDACTED]"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com", "https://example.com"),
        ("http://[x", "[REDACTED]"),  # only looks like a URL: nothing of it is shown, nothing raised
    ],
)
def test_a_url_is_shown_by_its_origin(url, shown):
    assert url_shown(url) == shown


def test_every_url_in_a_text_shows_its_origin_and_the_sentence_keeps_its_punctuation():
    text = 'failed (last: https://hooks.example.com/services/T/B/tok); see "https://x.y/a?b=c", http://[x.'
    assert urls_shown(text) == (
        'failed (last: https://hooks.example.com/[REDACTED]); see "https://x.y/[REDACTED]", [REDACTED].'
    )


HOLDERS = ("request.url",)
DETAIL = ("reason", "attempts.*.error", "attempts.*.response_excerpt")


def test_the_url_is_hidden_in_the_named_texts_and_nothing_else_is_touched():
    url = "https://hooks.example.com/services/T0/B0/tok3n-value?sig=s1g0123456789&event=LINK_ARTIFACT"
    value = {
        "event_type": "LINK_ARTIFACT",  # equal to a query value, and no text: left as it is
        "reason": None,
        "request": {"url": url, "body": '{"see": "https://docs.example.com/x"}'},
        "attempts": [
            {"error": "Max retries exceeded with url: /services/T0/B0/tok3n-value", "response_excerpt": "ok"},
            {"error": None, "response_excerpt": json.dumps({"url": url}).replace("/", "\\/")},
        ],
        "event": {"run_url": "https://wandb.ai/team/project/runs/abc", "reason": "https://a.b/c/d/e"},
    }
    seen = shown_to_others(value, url, HOLDERS, DETAIL)
    assert seen["request"] == {
        "url": "https://hooks.example.com/[REDACTED]",
        "body": value["request"]["body"],
    }
    assert seen["event"] == value["event"] and seen["event_type"] == "LINK_ARTIFACT"
    assert seen["attempts"][0] == {
        "error": "Max retries exceeded with url: [REDACTED]",
        "response_excerpt": "ok",
    }
    for part in ("tok3n-value", "s1g0123456789"):
        assert part not in json.dumps(seen["attempts"])
    assert value["request"]["url"] == url  # a copy: the record itself is left whole


@pytest.mark.parametrize(
    "echoed",
    [
        json.dumps({"args": {"sig": "SIGsecret0123456789"}}),  # httpbin's echo of the query
        "Cannot POST /workflows/abc123def456/triggers/manual/paths/invoke",  # the path alone
        "sp=/triggers/manual/run&sv=1.0&sig=SIGsecret0123456789",  # the query, decoded
        json.dumps({"q": "sig=SIGsecret0123456789"}).replace("/", "\\/"),
    ],
)
def test_a_receiver_echoing_part_of_the_url_shows_none_of_it(echoed):
    seen = shown_to_others({"excerpt": echoed}, TEAMS, (), ("excerpt",))["excerpt"]
    for part in ("SIGsecret0123456789", "abc123def456", "triggers%2Fmanual"):
        assert part not in seen
    # The sender's own redactor knows the same parts, so what it stores keeps none of them either.
    stored = Redactor(url_parts(TEAMS)).redact(echoed)
    assert "SIGsecret0123456789" not in stored and "abc123def456" not in stored


def test_a_decoded_path_and_a_fragment_are_hidden_too():
    url = "https://h.example/hook/a%2Bb%20tok3nvalue"
    assert shown_to_others({"t": "got /hook/a+b tok3nvalue"}, url, (), ("t",)) == {"t": "got [REDACTED]"}
    # The fragment is never sent, so a receiver echoes the URL without it.
    url = "https://h.example/p/secretpath#frag"
    seen = shown_to_others(
        {"a": "POST /p/secretpath", "b": "https://h.example/p/secretpath"}, url, ("b",), ("a",)
    )
    assert seen == {"a": "POST [REDACTED]", "b": "https://h.example/[REDACTED]"}


def test_a_name_equal_to_the_path_or_a_short_path_is_no_url_and_stays():
    url = "https://example.com/viewer-sees-6fa2fbf1"
    value = {"url": url, "error": "webhook viewer-sees-6fa2fbf1: POST /viewer-sees-6fa2fbf1"}
    assert shown_to_others(value, url, ("url",), ("error",)) == {
        "url": "https://example.com/[REDACTED]",
        "error": "webhook viewer-sees-6fa2fbf1: POST [REDACTED]",
    }
    short = "https://example.com/hook"
    assert shown_to_others({"t": "a webhook hook /hook"}, short, (), ("t",)) == {"t": "a webhook hook /hook"}


def test_without_a_url_only_quoted_urls_change():
    status = {
        "state": "FAILING",
        "reason": "3 failures in a row; last: POST https://old.example/t0k3n/x failed",
    }
    assert shown_to_others(status, None, (), ("reason",)) == {
        "state": "FAILING",
        "reason": "3 failures in a row; last: POST https://old.example/[REDACTED] failed",
    }


def test_another_url_where_a_request_holds_one_is_no_credential_and_stays():
    """A Slack action's request holds Slack's API URL: not the webhook's, and shown as it is."""
    slack = {"request": {"url": "https://slack.com/api/chat.postMessage"}}
    assert shown_to_others(slack, None, HOLDERS, DETAIL) == slack
    assert shown_to_others(slack, "https://hooks.example.com/x/y/zzzzzzzz", HOLDERS, DETAIL) == slack


def test_a_string_that_is_no_url_has_no_parts_and_hides_nothing():
    assert url_parts("http://[x/services/token-value") == set()
    assert shown_to_others({"t": "http://[x/a"}, "http://[x/a", ("t",), ()) == {"t": "[REDACTED]"}


def test_a_url_holding_a_quote_and_a_token_as_a_query_key_show_nothing_of_their_path():
    quoted = "https://hooks.example.com/x'/T0123/B0456/SECRETTOKENabc"
    seen = shown_to_others(
        {"s": f"Would send POST to {quoted}.", "e": "got /x'/T0123/B0456/SECRETTOKENabc"},
        quoted,
        (),
        ("s", "e"),
    )
    assert seen == {"s": "Would send POST to https://hooks.example.com/[REDACTED].", "e": "got [REDACTED]"}
    keyed = "https://httpbin.org/post?abcdef0123456789SECRET"
    echoed = json.dumps({"args": {"abcdef0123456789SECRET": ""}})
    assert "SECRET" not in shown_to_others({"x": echoed}, keyed, (), ("x",))["x"]


def test_a_url_shown_already_or_cut_by_a_redaction_shows_its_origin_once():
    text = (
        "a https://h.example/[REDACTED]. b https://h.example[REDACTED]; c https://h/x[REDACTED]/more/secret)"
    )
    assert (
        urls_shown(text)
        == "a https://h.example/[REDACTED]. b https://h.example/[REDACTED]; c https://h/[REDACTED])"
    )
    assert urls_shown(urls_shown(text)) == urls_shown(text)
