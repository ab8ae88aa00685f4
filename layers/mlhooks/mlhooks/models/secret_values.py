"""What a secret value may contain, so that it can always be sent where it is used.

Every value is refused when it holds a control character (a newline pasted from a terminal is the
usual one) or half of a surrogate pair: neither survives a header, and a value that cannot be sent
would only fail later, at every delivery. A value used as a token in a header (a webhook's access
token, a Slack bot token) must also be visible ASCII: HTTP header values are latin-1 at best, and a
space would split `Authorization: Bearer <token>`.

The messages say what is wrong and never quote the value.
"""

from __future__ import annotations

import base64
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr

# Long enough for any token or key people use (a JWT, a PEM key), short enough that every encoded
# form of every value of a delivery can be looked for in what its receiver answers.
MAX_SECRET_VALUE_CHARS = 4096
# Shorter values are guessable, and would be redacted wherever their few characters appear.
MIN_SECRET_VALUE_CHARS = 8


def value_problem(value: str) -> str | None:
    """Why a value cannot be stored as a secret, or None."""
    if value != value.rstrip("\r\n") and "\n" not in value.rstrip("\r\n"):
        return (
            "The value ends with a line break (as pasted from a terminal); remove it and set the value again."
        )
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            return (
                "The value contains a control character (a line break, tab or similar), which cannot "
                "be sent in a request; remove it."
            )
        if category == "Cs":
            return "The value contains half of a surrogate pair, which is not valid text."
    return None


def header_token_problem(value: str) -> str | None:
    """Why a value cannot be sent as a token in an HTTP header, or None."""
    if all("!" <= char <= "~" for char in value):
        return None
    return (
        "A token sent in an HTTP header must be visible ASCII: letters, digits and punctuation, "
        "without spaces or other characters."
    )


def signing_secret_problem(value: str) -> str | None:
    """Why a value cannot sign, or None. A `whsec_` value is a Standard Webhooks secret, whose key is
    the base64 after the prefix: one that does not decode would sign with other bytes than a
    receiver's library uses, and every signature would fail to verify."""
    if not value.startswith("whsec_"):
        return None
    try:
        key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except ValueError:
        key = b""
    if not key:
        return "A value starting with whsec_ must be followed by the key in base64 (Standard Webhooks)."
    return None


def _storable(value: SecretStr) -> SecretStr:
    problem = value_problem(value.get_secret_value())
    if problem:
        raise ValueError(problem)
    return value


SecretValue = Annotated[
    SecretStr,
    Field(min_length=MIN_SECRET_VALUE_CHARS, max_length=MAX_SECRET_VALUE_CHARS),
    AfterValidator(_storable),
]
