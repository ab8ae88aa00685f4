"""A webhook URL as those who may not see it whole see it (redaction.url_shown, without_url)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from mlhooks.redaction import url_shown, without_url


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
