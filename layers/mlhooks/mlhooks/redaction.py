"""Redaction: secret values, in every form text can carry them, removed before text is kept or shown.

A secret does not only travel raw. A receiver that echoes our request answers with it JSON-escaped
(`\\"`, `\\u00e4`, `\\/`), an exception quotes it with `repr` (`'ghp_x\\n'`, `b'\\xe2\\x82\\xac'`), a
proxy URL-encodes it, a Basic header base64-encodes it. So a `Redactor` knows, for each value, all of
those forms, and removes them in one left-to-right pass (longest form first at each position).

Truncation happens after redaction, never before: a value that crosses the cut would otherwise leave
its first part behind. `Redactor.excerpt` therefore takes text read `margin` characters past the cut,
finds every form in the whole of it, and only then cuts, in the original text's coordinates.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
# A base64 fragment shorter than this would match unrelated text too often to be worth removing.
MIN_BASE64_FRAGMENT = 8


def _json_forms(value: str) -> set[str]:
    ascii_form = json.dumps(value, ensure_ascii=True)[1:-1]
    forms = {json.dumps(value, ensure_ascii=False)[1:-1], ascii_form}
    # Other encoders write \u escapes in upper case, and some (PHP's) escape "/" as "\/".
    forms.add(re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), ascii_form))
    forms |= {form.replace("/", "\\/") for form in list(forms)}
    return forms


def _repr_forms(value: str) -> set[str]:
    forms = {repr(value)[1:-1], repr(value.encode("utf-8", "surrogatepass"))[2:-1]}
    # repr picks its quote by content, so a value with both quote kinds is escaped differently.
    return forms | {form.replace("'", "\\'") for form in forms}


def _url_forms(value: str) -> set[str]:
    raw = value.encode("utf-8", "surrogatepass")  # any text, even half a surrogate pair
    forms = {quote(raw, safe=""), quote_plus(raw, safe=""), quote(raw)}
    return forms | {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms}


def _base64_forms(value: str) -> set[str]:
    """The part of the value's base64 that is the same wherever the value sits in a longer encoded
    text: for each of the three byte alignments, the characters that depend on the value's bytes
    alone."""
    raw = value.encode("utf-8", "surrogatepass")
    forms: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        # Characters fully determined by the value: skip those mixing in the prefix, and the last
        # group, which mixes in whatever follows the value (or padding).
        start = -(-offset * 4 // 3)  # ceil(offset * 4 / 3)
        end = ((offset + len(raw)) // 3) * 4
        fragment = encoded[start:end]
        if len(fragment) >= MIN_BASE64_FRAGMENT:
            forms |= {fragment, fragment.replace("+", "-").replace("/", "_")}
    return forms


def secret_forms(value: str) -> set[str]:
    """Every form of a value worth removing from text: raw, JSON-escaped, repr'd, URL-encoded,
    HTML-escaped and base64-encoded."""
    if not value:
        return set()
    forms = {value, html.escape(value), html.escape(value, quote=False)}
    forms |= _json_forms(value) | _repr_forms(value) | _url_forms(value) | _base64_forms(value)
    return {form for form in forms if form}


class Redactor:
    """Knows the secret values in play for one piece of work (a delivery, a test call) and removes
    them, in all their forms, from any text about it."""

    def __init__(self, values: Iterable[str] = ()):
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*values)

    def add(self, *values: str) -> None:
        new = {v for v in values if v and v not in self._values}
        if not new:
            return
        self._values |= new
        for value in new:
            self._forms |= secret_forms(value)
        # Longest first: at any position the whole of the longest form is removed, not a part of it.
        ordered = sorted(self._forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(form) for form in ordered))

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)

    @property
    def margin(self) -> int:
        """How far past a cut to read, so that any form starting before the cut is seen whole."""
        return max((len(form) for form in self._forms), default=0)

    def redact(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(REDACTED, text)

    def excerpt(self, text: str, limit: int) -> str:
        """The first `limit` characters of `text`, redacted as if the text were whole. `text` should
        run at least `margin` characters past `limit` when there is more of it."""
        if self._pattern is None:
            return text[:limit]
        kept, position = [], 0
        for match in self._pattern.finditer(text):
            if match.start() >= limit:
                break
            # A form that crosses the cut is removed whole: nothing of it stays before the cut.
            kept += [text[position : match.start()], REDACTED]
            position = match.end()
        kept.append(text[position:limit])
        return "".join(kept)

    def redact_mapping(self, values: Mapping[str, str]) -> dict[str, str]:
        return {self.redact(k): self.redact(v) for k, v in values.items()}
