"""Constrained names. One definition each, used by the API models and by path checks alike.

Names end up inside DynamoDB keys (`KIND#name`) and Secrets Manager names, so none may contain
`#` or `/`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

ENTITY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
PROJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
INTEGRATION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$"
# W&B secret names: letters, digits and underscores, so they can stand in `${NAME}`.
SECRET_PATTERN = r"^[A-Za-z0-9_]{1,64}$"  # noqa: S105 - a name pattern, not a secret

EntityName = Annotated[str, StringConstraints(pattern=ENTITY_PATTERN)]
ProjectName = Annotated[str, StringConstraints(pattern=PROJECT_PATTERN)]
CollectionName = Annotated[str, StringConstraints(pattern=PROJECT_PATTERN)]
IntegrationName = Annotated[str, StringConstraints(pattern=INTEGRATION_PATTERN)]
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
SecretName = Annotated[str, StringConstraints(pattern=SECRET_PATTERN)]
# Shown in Slack, headers of queued jobs and the console: any text but control characters.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f-\x9f]+$"
AutomationName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=NO_CONTROL_CHARACTERS),
]
Description = Annotated[str, StringConstraints(max_length=1024)]


def is_valid(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None
