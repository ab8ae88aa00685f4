"""A webhook URL as those who may not see it whole see it (redaction.url_shown, without_url)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from mlhooks.redaction import url_shown, urls_shown_under, without_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/abc123", "https://hooks.slack.com/[REDACTED]"),
        ("https://example.com/hook?sig=abc", "https://example.com/[REDACTED]"),
        ("https://user:pass@example.com:8443/x", "https://example.com:8443/[REDACTED]"),
        ("http://[2001:db8::1]:8080/t", "http://[2001:db8::1]:8080/[REDACTED]"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com", "https://example.com"),
    ],
)
def test_a_url_is_shown_by_its_origin(url, shown):
    assert url_shown(url) == shown


def test_a_url_is_hidden_wherever_it_shows_in_a_json_value():
    url = "https://hooks.example.com/services/T0/B0/tok3n-value?sig=s1g"
    value = {
        "request": {"url": url, "headers": {"X": "y"}},
        "error": f"Max retries exceeded with url: {url.removeprefix('https://hooks.example.com')}",
        "echo": json.dumps({"u": url}).replace("/", "\\/"),
        "encoded": f"next={quote(url, safe='')}",
        "numbers": [1, 2.5, None, True],
    }
    hidden = without_url(value, url)
    assert hidden["request"] == {"url": "https://hooks.example.com/[REDACTED]", "headers": {"X": "y"}}
    assert hidden["numbers"] == [1, 2.5, None, True]
    text = json.dumps(hidden)
    for part in ("tok3n-value", "s1g"):
        assert part not in text
    assert value["request"]["url"] == url  # a copy: the record itself is left whole


def test_a_short_path_is_no_credential_and_text_keeps_it():
    url = "https://example.com/hook"
    hidden = without_url({"url": url, "text": "a webhook hook"}, url)
    assert hidden == {"url": "https://example.com/[REDACTED]", "text": "a webhook hook"}


def test_a_name_equal_to_the_path_is_no_url_and_stays():
    url = "https://example.com/viewer-sees-6fa2fbf1"
    value = {
        "name": "viewer-sees-6fa2fbf1",
        "url": url,
        "error": f"POST {url} failed; POST /viewer-sees-6fa2fbf1",
    }
    assert without_url(value, url) == {
        "name": "viewer-sees-6fa2fbf1",
        "url": "https://example.com/[REDACTED]",
        "error": "POST https://example.com/[REDACTED] failed; POST [REDACTED]",
    }


TEAMS = (
    "https://prod.westus.logic.azure.com/workflows/abc123def456/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGsecret0123456789"
)


@pytest.mark.parametrize(
    "echoed",
    [
        {"args": {"sig": "SIGsecret0123456789"}},  # httpbin's echo of the query
        "Cannot POST /workflows/abc123def456/triggers/manual/paths/invoke",  # the path alone
        "sp=/triggers/manual/run&sv=1.0&sig=SIGsecret0123456789",  # the query, decoded
        json.dumps({"q": "sig=SIGsecret0123456789"}).replace("/", "\\/"),
    ],
)
def test_a_receiver_echoing_part_of_the_url_shows_none_of_it(echoed):
    text = json.dumps(without_url({"excerpt": echoed}, TEAMS))
    for part in ("SIGsecret0123456789", "abc123def456", "triggers%2Fmanual"):
        assert part not in text


def test_a_decoded_path_and_a_fragment_are_hidden_too():
    assert (
        without_url("got /hook/a+b tok3nvalue", "https://h.example/hook/a%2Bb%20tok3nvalue")
        == "got [REDACTED]"
    )
    # The fragment is never sent, so a receiver echoes the URL without it.
    url = "https://h.example/p/secretpath#frag"
    assert without_url(["POST /p/secretpath", "https://h.example/p/secretpath"], url) == [
        "POST [REDACTED]",
        "https://h.example/[REDACTED]",
    ]


def test_urls_in_explanations_show_their_origin_and_other_texts_stay():
    value = {
        "reason": 'disabled: it would go out as "https://hooks.example.com/services/T/B/tok". Save again.',
        "attempts": [
            {"error": "HTTPS://Hooks.Example.com:8443/x?y=z refused", "response_excerpt": "https://docs.x/y"}
        ],
        "event": {"run_url": "https://wandb.ai/team/project/runs/abc"},
    }
    assert urls_shown_under(value, frozenset({"reason", "error"})) == {
        "reason": 'disabled: it would go out as "https://hooks.example.com/[REDACTED]". Save again.',
        "attempts": [
            {
                "error": "https://Hooks.Example.com:8443/[REDACTED] refused",
                "response_excerpt": "https://docs.x/y",
            }
        ],
        "event": {"run_url": "https://wandb.ai/team/project/runs/abc"},
    }
