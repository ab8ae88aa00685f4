"""Constrained names and texts. One definition each, used by the API models and by path checks alike.

Names end up inside DynamoDB keys (`KIND#name`) and Secrets Manager names, so none may contain
`#` or `/`. Free texts that people read (an automation's name, descriptions, Slack titles) are
normalised to NFC, so that a name typed on two systems is one name, and hold no control characters
or text-direction overrides, which would make text display as something other than what it is
(U+202E, "Trojan Source").
"""

from __future__ import annotations

import re
import unicodedata
from functools import partial
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, ValidationInfo

ENTITY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
PROJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
INTEGRATION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$"
# W&B secret names: letters, digits and underscores, so they can stand in `${NAME}`.
SECRET_PATTERN = r"^[A-Za-z0-9_]{1,64}$"  # noqa: S105 - a name pattern, not a secret

# Slack's channel ids (C public, G private, D direct) and names as Slack writes them.
SLACK_CHANNEL_ID_PATTERN = r"^[CGD][A-Z0-9]{2,31}$"
SLACK_CHANNEL_NAME_PATTERN = r"^#?[a-z0-9_-]{1,80}$"

# What each name pattern allows, in words: the API's refusal says this, not the regex.
_NAME_WORDS = "letters, digits, '_', '.' and '-', starting with a letter or digit"
PATTERN_WORDS = {
    ENTITY_PATTERN: f"{_NAME_WORDS}, up to 64 characters",
    PROJECT_PATTERN: f"{_NAME_WORDS}, up to 128 characters",
    USERNAME_PATTERN: "letters, digits, '_', '.', '@', '+' and '-', starting with a letter or digit, "
    "up to 128 characters",
    SECRET_PATTERN: "letters, digits and '_' (it stands in ${NAME}), up to 64 characters",
    SLACK_CHANNEL_ID_PATTERN: "Slack's channel id: C, G or D and then capital letters and digits (C0123ABCD)",
    SLACK_CHANNEL_NAME_PATTERN: "lower-case letters, digits, '_' and '-', as Slack writes channel names",
}

EntityName = Annotated[str, StringConstraints(pattern=ENTITY_PATTERN)]
ProjectName = Annotated[str, StringConstraints(pattern=PROJECT_PATTERN)]
CollectionName = Annotated[str, StringConstraints(pattern=PROJECT_PATTERN)]
IntegrationName = Annotated[str, StringConstraints(pattern=INTEGRATION_PATTERN)]
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
SecretName = Annotated[str, StringConstraints(pattern=SECRET_PATTERN)]
# Shown in Slack, headers of queued jobs and the console: any text but control characters.
_DIRECTION_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def plain_text(value: str, *, lines: bool = False) -> str:
    """NFC, without control characters (line breaks and tabs allowed in `lines` texts) or
    text-direction controls."""
    value = unicodedata.normalize("NFC", value)
    for char in value:
        if char in _DIRECTION_CONTROLS:
            raise ValueError("must not contain text-direction controls (such as U+202E)")
        if unicodedata.category(char) == "Cc" and not (lines and char in "\n\t"):
            raise ValueError(
                "must not contain control characters" + (" other than line breaks and tabs" if lines else "")
            )
    return value


PlainText = AfterValidator(plain_text)
MultilineText = AfterValidator(partial(plain_text, lines=True))

# Shown in Slack, headers of queued jobs and the console.
# An automation's id (`au_` and hex digits). Routes take an automation by id or by name, so no name
# may look like an id: it would find another automation than the one named.
AUTOMATION_ID_PATTERN = r"^au_[0-9a-f]+$"


def _not_an_id(value: str, info: ValidationInfo) -> str:
    stored = bool(info.context and info.context.get("stored"))
    if re.fullmatch(AUTOMATION_ID_PATTERN, value) and not stored:
        raise ValueError("must not look like an automation id (au_ and hex digits): routes take either")
    return value


AutomationName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    PlainText,
    AfterValidator(_not_an_id),
]
Description = Annotated[str, StringConstraints(max_length=1024), MultilineText]


def is_valid(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None
