"""Redaction: secret values, in every form text can carry them, removed before text is kept or shown.

A secret does not only travel raw. A receiver that echoes our request answers with it JSON-escaped
(`\\"`, `\\u00e4`, Go's `\\u003c`), an exception quotes it with `repr`, a proxy URL-encodes it, a
template engine turns it into HTML entities (`&#34;`, `&#x2b;`), a Basic header base64-encodes it;
and these compose: httpbin echoes our body, which holds the JSON-escaped value, as a JSON string
(JSON inside JSON), a query string URL-encodes an escaped one. So a `Redactor` knows, for each value,
every one-step encoding of it and every one-step encoding of those (`secret_forms`), and removes
them all; overlapping matches are merged, so no part of a longer form survives a shorter one.

Truncation happens after redaction, never before: a value that crosses the cut would otherwise leave
its first part behind. `Redactor.excerpt` therefore takes text read `margin` characters past the cut,
finds every form in the whole of it, and only then cuts, in the original text's coordinates.

What redaction cannot do is hide that a value matched: text equal to a secret shows redacted. So a
stored request is never redacted by matching values: it is rendered again with every secret's
placeholder set to the marker (delivery.py), and only what the receiver says back is matched.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

REDACTED = "[REDACTED]"
# A base64 fragment shorter than this would match unrelated text too often to be worth removing.
MIN_BASE64_FRAGMENT = 8
_HEX_ESCAPE = re.compile(r"%[0-9A-F]{2}")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")


def _json(value: str) -> set[str]:
    ascii_form = json.dumps(value)[1:-1]
    forms = {json.dumps(value, ensure_ascii=False)[1:-1], ascii_form}
    # Other encoders write \u escapes in upper case, some (PHP) escape "/" as "\/", and Go's
    # encoding/json escapes <, > and & as \u003c, \u003e and \u0026.
    forms.add(_UNICODE_ESCAPE.sub(lambda m: "\\u" + m.group(1).upper(), ascii_form))
    forms |= {form.replace("/", "\\/") for form in list(forms)}
    go = ascii_form.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return forms | {go, go.replace("'", "\\u0027")}


def _repr(value: str) -> set[str]:
    forms = {repr(value)[1:-1], repr(value.encode("utf-8", "surrogatepass"))[2:-1]}
    # repr picks its quote by content, so a value with both quote kinds is escaped differently.
    return forms | {form.replace("'", "\\'") for form in forms}


def _url(value: str) -> set[str]:
    raw = value.encode("utf-8", "surrogatepass")  # any text, even half a surrogate pair
    forms = {quote(raw, safe=""), quote_plus(raw, safe=""), quote(raw)}
    every_byte = "".join(f"%{byte:02X}" for byte in raw)
    forms.add(every_byte)
    return forms | {_HEX_ESCAPE.sub(lambda m: m.group(0).lower(), form) for form in forms}


def _html(value: str) -> set[str]:
    special = [c for c in value if not c.isalnum()]

    def entities(chars: Iterable[str], write: Callable[[str], str]) -> str:
        chosen = set(chars)
        return "".join(write(c) if c in chosen else c for c in value)

    return {
        html.escape(value),
        html.escape(value, quote=False),
        entities(special, lambda c: f"&#{ord(c)};"),
        entities(special, lambda c: f"&#x{ord(c):x};"),
        entities(special, lambda c: f"&#x{ord(c):X};"),
        entities(value, lambda c: f"&#{ord(c)};"),
        entities(value, lambda c: f"&#x{ord(c):x};"),
    }


# One step of encoding each: what a value can become in one pass of a writer.
_STEPS: tuple[Callable[[str], set[str]], ...] = (_json, _repr, _url, _html)


def _base64(value: str) -> set[str]:
    """The part of the value's base64 that is the same wherever the value sits in a longer encoded
    text: for each of the three byte alignments, every character whose six bits are the value's
    alone; and, for a value that ends the encoded text (a Basic header's password), that part with
    the rest of the text's last group and its padding, so nothing of the value is left after it."""
    raw = value.encode("utf-8", "surrogatepass")
    forms: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        # Character k holds bits 6k..6k+5 of the bytes: skip those mixing in the prefix's bits, and
        # end before the one mixing in the bits of whatever follows the value.
        start = -(-offset * 4 // 3)  # ceil(offset * 4 / 3)
        end = (offset + len(raw)) * 8 // 6
        fragment = encoded[start:end]
        if len(fragment) >= MIN_BASE64_FRAGMENT:
            for form in (fragment, encoded[start:], encoded[start:].rstrip("=")):
                forms |= {form, form.replace("+", "-").replace("/", "_")}
    return forms


def _one_step(value: str) -> set[str]:
    return {form for step in _STEPS for form in step(value)}


def _common_step(value: str) -> set[str]:
    """What the everyday writers make of a text that holds the value (a body echoed as a JSON string,
    put in a query string, escaped into HTML, printed by repr): the second step of a composition.
    The per-character schemes (every byte %-encoded, every character an entity) are not applied to
    an already encoded form: nothing writes that way, and they would multiply its length."""
    return {
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value.encode("utf-8", "surrogatepass"), safe=""),
        quote_plus(value.encode("utf-8", "surrogatepass"), safe=""),
        html.escape(value),
        repr(value)[1:-1],
    }


def secret_forms(value: str) -> set[str]:
    """Every form of a value worth removing from text: the value, every one-step encoding of it
    (JSON, repr, URL, HTML), what the everyday writers make of those, and the base64 of each."""
    if not value:
        return set()
    first = {value} | _one_step(value)
    forms = set(first)
    for form in first:
        forms |= _common_step(form)
    for form in list(forms):
        forms |= _base64(form)
    return {form for form in forms if form}


# Cached per value, not only per set: a delivery's values are the webhook's secrets and URL, the
# same delivery after delivery, with that delivery's own signatures, so no two sets are alike.
@functools.lru_cache(maxsize=1024)
def _value_forms(value: str) -> frozenset[str]:
    return frozenset(secret_forms(value))


@functools.lru_cache(maxsize=256)
def _forms(values: frozenset[str]) -> tuple[str, ...]:
    """All forms of a set of values, longest first (cached: a container delivers the same webhook's
    secrets over and over)."""
    return tuple(sorted({form for value in values for form in _value_forms(value)}, key=len, reverse=True))


@functools.lru_cache(maxsize=1024)
def _mixed_percent(value: str) -> re.Pattern[str]:
    """The value with any of its characters %-encoded and the others not (`ghp%5Fexample`):
    writers differ in which safe characters they escape, and no list of forms covers every mix.
    Each byte is its literal character or `%XX` (either case); the alternatives start with
    different characters, so the match never backtracks: linear in the text, as str.find."""

    def byte(b: int) -> str:
        hexed = f"%{b:02X}"
        encoded = "%" + "".join(f"[{c}{c.lower()}]" if c.isalpha() else c for c in hexed[1:])
        if 0x20 < b < 0x7F and chr(b) != "%":
            return f"(?:{re.escape(chr(b))}|{encoded})"
        return encoded

    return re.compile("".join(byte(b) for b in value.encode("utf-8", "surrogatepass")))


def _spans(text: str, forms: tuple[str, ...], mixed: Iterable[re.Pattern[str]] = ()) -> list[tuple[int, int]]:
    """Where any form occurs, overlapping occurrences merged, left to right. Each form is looked for
    with str.find (CPython's fast search, in C): linear in the text for each form."""
    found: list[tuple[int, int]] = []
    for form in forms:
        start = text.find(form)
        while start != -1:
            found.append((start, start + len(form)))
            start = text.find(form, start + 1)
    if "%" in text:
        found += [match.span() for pattern in mixed for match in pattern.finditer(text)]
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class Redactor:
    """Knows the secret values in play for one piece of work (a delivery, a test call) and removes
    them, in all their forms, from any text about it."""

    def __init__(self, values: Iterable[str] = ()):
        self._values: frozenset[str] = frozenset()
        self.add(*values)

    def add(self, *values: str) -> None:
        self._values |= {v for v in values if v}

    @property
    def values(self) -> frozenset[str]:
        return self._values

    @property
    def margin(self) -> int:
        """How far past a cut to read, so that any form starting before the cut is seen whole."""
        forms = _forms(self._values)
        return len(forms[0]) if forms else 0

    def redact(self, text: str) -> str:
        return self.excerpt(text, len(text))

    def excerpt(self, text: str, limit: int) -> str:
        """The first `limit` characters of `text`, redacted as if the text were whole. `text` should
        run at least `margin` characters past `limit` when there is more of it."""
        if not self._values or not text:
            return text[:limit]
        kept, position = [], 0
        mixed = [_mixed_percent(value) for value in self._values]
        for start, end in _spans(text, _forms(self._values), mixed):
            if start >= limit:
                break
            # A form that crosses the cut is removed whole: nothing of it stays before the cut.
            kept += [text[position:start], REDACTED]
            position = end
        kept.append(text[position:limit])
        return "".join(kept)

    def redact_mapping(self, values: Mapping[str, str]) -> dict[str, str]:
        return {self.redact(k): self.redact(v) for k, v in values.items()}


# ---- webhook URLs -------------------------------------------------------------------------------
# A webhook's URL can be a credential itself: Slack's, Teams' and Discord's incoming webhooks carry
# their token in the path or the query, and whoever holds the URL can post to the channel, from
# anywhere and for as long as it lives. Those who do not manage webhooks see a URL's origin only
# (access.sees_webhook_urls says who does).

# A part of a URL shorter than this is shown in text: a few characters are no credential, and
# redacting them would cut every word that holds them.
URL_SECRET_MIN_CHARS = 8
# Any http(s) URL in a text: up to a space, a quote, an angle bracket or a backslash (of a JSON
# escape), which no URL in a text carries unencoded. One character class, so linear in the text.
_ANY_URL = re.compile(r"https?://[^\s\"'<>\\]+", re.IGNORECASE)
# What ends a sentence, not a URL: left after the URL shown.
_AFTER_URL = ".,;:!?)]}"


def _origin(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, without any user:password@ (a credential too); None for
    text that only looks like a URL ("http://[x")."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def url_shown(url: str) -> str:
    """The URL as shown to those who may not see it whole: `https://host/[REDACTED]`."""
    origin = _origin(url)
    if origin is None:  # nothing of it is shown
        return REDACTED
    return url if url in (origin, origin + "/") else f"{origin}/{REDACTED}"


def urls_shown(text: str) -> str:
    """Every http(s) URL in a text as `url_shown` shows it."""

    def shown(found: re.Match[str]) -> str:
        url = found[0]
        cut = url.find(REDACTED)
        if cut != -1:  # shown already, or cut by a redaction: its origin, and nothing after the cut
            after = url[cut + len(REDACTED) :]
            origin = _origin(url[:cut].rstrip("/"))
            return (REDACTED if origin is None else f"{origin}/{REDACTED}") + after[
                len(after.rstrip(_AFTER_URL)) :
            ]
        url = url.rstrip(_AFTER_URL)
        return url_shown(url) + found[0][len(url) :]

    return _ANY_URL.sub(shown, text)


def url_parts(url: str) -> set[str]:
    """What of a URL a text may carry without the rest: the path with its query, the path alone (a
    server's "Cannot POST /path"), each query pair, key and value (httpbin's `args`), each as sent
    and decoded; from the path's leading `/`, so that a name equal to the path (a webhook named as
    its endpoint) is no URL. Never the fragment, which is not sent."""
    try:
        parts = urlsplit(url)
    except ValueError:  # no URL the guard would send to: nothing of it goes out to be echoed
        return set()
    found = {parts.path + (f"?{parts.query}" if parts.query else ""), parts.path}
    for pair in parts.query.split("&"):  # a token may be a key, a value or a pair with no `=`
        key, _, item = pair.partition("=")
        found |= {pair, key, item}
    found |= {unquote(part) for part in found} | {unquote_plus(part) for part in found}
    return {part for part in found if len(part.lstrip("/")) >= URL_SECRET_MIN_CHARS}


def _at(value: Any, path: list[str], change: Callable[[str], str]) -> Any:
    if not path:
        return change(value) if isinstance(value, str) else value
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(value, list):
        return [_at(item, rest, change) for item in value]
    if isinstance(value, dict) and head in value:
        return {**value, head: _at(value[head], rest, change)}
    return value


def shown_to_others(value: Any, url: str | None, holders: Iterable[str], texts: Iterable[str]) -> Any:
    """A JSON value as those who may not see webhook URLs see it. Paths are dotted, `*` for every
    item of a list. At each of `holders` (fields that hold a URL: a request's), the value shows as
    `url_shown` shows it when it is `url`; another URL there (Slack's API) is no credential. At
    each of `texts` (the texts that may quote or echo a URL), every URL shows by its origin, and
    `url`'s parts (`url_parts`) are redacted in every form, as a secret's value is. Nothing else is
    touched: event data and enumerations stay as they are."""
    redactor = Redactor(url_parts(url) if url else ())
    whole = (url, url.partition("#")[0]) if url else ()

    def held(found: str) -> str:
        return url_shown(found) if found in whole else found

    def text(found: str) -> str:
        # The URL itself first, then its parts, and only then any other URL: a URL may hold a
        # character that ends a URL in text (`'`), and shown first by its origin up to there, its
        # parts would no longer be found whole in what follows.
        for form in whole:
            found = found.replace(form, url_shown(form))
        return urls_shown(redactor.redact(found))

    for paths, change in ((holders, held), (texts, text)):
        for path in paths:
            value = _at(value, path.split("."), change)
    return value
