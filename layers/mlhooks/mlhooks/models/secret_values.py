"""What a secret value may contain, so that it can always be sent where it is used.

Every value is refused when it holds a control character (a newline pasted from a terminal is the
usual one) or half of a surrogate pair: neither survives a header, and a value that cannot be sent
would only fail later, at every delivery. A value used as a token in a header (a webhook's access
token, a Slack bot token) must also be visible ASCII: HTTP header values are latin-1 at best, and a
space would split `Authorization: Bearer <token>`.

The messages say what is wrong and never quote the value.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr

MAX_SECRET_VALUE_CHARS = 16 * 1024


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


def _storable(value: SecretStr) -> SecretStr:
    problem = value_problem(value.get_secret_value())
    if problem:
        raise ValueError(problem)
    return value


SecretValue = Annotated[
    SecretStr, Field(min_length=1, max_length=MAX_SECRET_VALUE_CHARS), AfterValidator(_storable)
]
