"""Query parameters every list shares: a page's size and where it continues."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page (a filtered page may hold fewer).")]
Token = Annotated[
    str | None, Query(max_length=2048, description="The `next_token` of the previous page, to continue.")
]
DEFAULT_LIMIT = 50
