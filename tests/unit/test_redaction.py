"""Redaction: a secret value is removed in every form text can carry it, before any cut."""

from __future__ import annotations

import base64
import html
import json
import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from mlhooks.redaction import REDACTED, Redactor

pytestmark = pytest.mark.suite("secret forms")

SECRET = 'ghp_Sé"c\\ret/€1<2>3'

# Ways a secret reaches text: what an echoing receiver, an exception, a proxy or a header make of it.
FORMS = {
    "raw": lambda s: s,
    "JSON, ensure_ascii": lambda s: json.dumps(s),
    "JSON, UTF-8": lambda s: json.dumps(s, ensure_ascii=False),
    "JSON, upper-case escapes": lambda s: re.sub(
        r"\\u[0-9a-f]{4}", lambda m: m[0].upper().replace("\\U", "\\u"), json.dumps(s)
    ),
    "JSON, escaped slashes": lambda s: json.dumps(s).replace("/", "\\/"),
    "repr": repr,
    "repr of UTF-8 bytes": lambda s: repr(s.encode()),
    "repr inside a header tuple": lambda s: repr(("Authorization", f"Bearer {s}")),
    "URL-encoded": lambda s: quote(s, safe=""),
    "form-encoded": lambda s: quote_plus(s),
    "URL-encoded, lower-case hex": lambda s: re.sub(
        r"%[0-9A-F]{2}", lambda m: m[0].lower(), quote(s, safe="")
    ),
    "URL-encoded, safe characters too": lambda s: "".join(
        f"%{ord(c):02X}" if c in "_-.~" else quote(c, safe="") for c in s
    ),
    "URL-encoded, every other character": lambda s: "".join(
        quote(c, safe="") if i % 2 else "".join(f"%{b:02x}" for b in c.encode()) for i, c in enumerate(s)
    ),
    "HTML-escaped": html.escape,
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64 in a Basic header": lambda s: base64.b64encode(f"api:{s}".encode()).decode(),
    "base64, one byte in": lambda s: base64.b64encode(f"x{s}".encode()).decode(),
    "url-safe base64, two bytes in": lambda s: base64.urlsafe_b64encode(f"xy{s}".encode()).decode(),
}


def leaked(text: str, secret: str) -> bool:
    """Whether any recognisable part of the secret is left: the value, or a run of 6 of its characters."""
    return secret in text or any(secret[i : i + 6] in text for i in range(len(secret) - 5))


@pytest.mark.parametrize("form", FORMS, ids=list(FORMS))
def test_every_form_of_the_value_is_removed(form):
    text = f"before {FORMS[form](SECRET)} after"
    redacted = Redactor([SECRET]).redact(text)
    assert REDACTED in redacted
    assert FORMS[form](SECRET) not in redacted
    assert redacted.startswith("before ") and redacted.endswith(" after")


def test_the_raw_value_check_alone_would_not_have_caught_these():
    # Not vacuous: most forms do not contain the raw value, which is all the old redaction looked for.
    missed = [name for name, form in FORMS.items() if SECRET not in form(SECRET)]
    assert len(missed) >= len(FORMS) - 3


@pytest.mark.parametrize("prefix", ["", "a", "ab", "api:"])
def test_base64_of_a_value_at_the_end_leaves_nothing_of_it(prefix):
    # A Basic header's password ends the encoded text: its last group and padding go too.
    encoded = base64.b64encode(f"{prefix}{SECRET}".encode()).decode()
    redacted = Redactor([SECRET]).redact(f"Basic {encoded}")
    assert redacted.endswith(REDACTED)
    # What is left before the marker encodes the prefix, and at most the value's first 4 bits.
    kept = redacted.removeprefix("Basic ").removesuffix(REDACTED)
    assert len(kept) <= -(-len(prefix) * 4 // 3)


@pytest.mark.parametrize("prefix", ["", "a", "ab"])
def test_base64_of_a_value_inside_a_text_keeps_at_most_one_mixed_character(prefix):
    encoded = base64.b64encode(f"{prefix}{SECRET} and more".encode()).decode()
    after = Redactor([SECRET]).redact(encoded).split(REDACTED)[1]
    # Each character after the marker holds at most 4 bits of the value; only the first can.
    rest = base64.b64encode(f"{prefix}{SECRET} and more".encode())
    assert len(after) <= len(rest) - len(base64.b64encode(f"{prefix}{SECRET}".encode()).rstrip(b"=")) + 1


def test_a_value_containing_another_is_removed_whole():
    redactor = Redactor(["abc123", "abc123-and-more"])
    assert redactor.redact("x abc123-and-more y") == f"x {REDACTED} y"


def test_values_are_added_as_they_are_read():
    redactor = Redactor()
    assert redactor.redact("token-value-1") == "token-value-1"
    redactor.add("token-value-1")
    assert redactor.redact("token-value-1") == REDACTED


def test_an_excerpt_never_shows_the_first_part_of_a_value_that_crosses_the_cut():
    redactor = Redactor([SECRET])
    for start in range(1000 - len(SECRET), 1001):
        text = "a" * start + SECRET + "b" * 200
        excerpt = redactor.excerpt(text, 1000)
        assert not leaked(excerpt, SECRET), start
        assert len(excerpt) <= 1000 + len(REDACTED)


def test_an_excerpt_of_escaped_text_is_redacted_across_the_cut_too():
    redactor = Redactor([SECRET])
    echoed = json.dumps({"headers": {"Authorization": f"Bearer {SECRET}"}})
    text = "p" * (1024 - 30) + echoed
    assert not leaked(redactor.excerpt(text, 1024), json.dumps(SECRET)[1:-1])


def test_the_margin_covers_the_longest_form():
    redactor = Redactor([SECRET])
    escaped = [form(SECRET) for name, form in FORMS.items() if "base64" not in name and "tuple" not in name]
    # The forms above carry their quotes (`"…"`, `b'…'`): the value's own escaped text is inside them.
    assert redactor.margin >= max(len(text.strip("b'\"")) for text in escaped)


SECRETS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=8, max_size=60
).filter(lambda s: s.strip() == s)
FILLER = st.text(alphabet="abcdefghij .,:{}[]", max_size=300)


@settings(max_examples=300, deadline=None)
@given(secret=SECRETS, form=st.sampled_from(sorted(FORMS)), before=FILLER, after=FILLER)
@example(secret="[REDACTE", form="HTML-escaped", before="", after="")
def test_no_form_of_any_value_survives(secret, form, before, after):
    rendered = FORMS[form](secret)
    # A value that is part of the marker itself ("[REDACTE") shows in every marker, and a value that
    # holds the marker ("[REDACTED]") looks the same redacted or not: both leak nothing.
    assume(rendered not in REDACTED and REDACTED not in secret)
    redacted = Redactor([secret]).redact(before + rendered + after)
    assert rendered not in redacted


@settings(max_examples=300, deadline=None)
@given(secret=SECRETS, prefix=st.integers(0, 120), limit=st.integers(1, 120))
def test_an_excerpt_never_ends_in_the_start_of_a_value(secret, prefix, limit):
    text = "x" * prefix + secret + "y" * 200
    excerpt = Redactor([secret]).excerpt(text, limit)
    cut = excerpt.removesuffix(REDACTED).lstrip("x")
    # What is left after the filler must not be a piece of the secret.
    assert not (cut and secret.startswith(cut) and len(cut) >= 1 and cut != REDACTED[: len(cut)])
