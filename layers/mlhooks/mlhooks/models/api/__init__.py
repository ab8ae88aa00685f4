"""Requests and responses of the REST API, one module per concept (the routers' own, so a request
loads the models of its concept only): the edges, thin over the automation language
(models/automation.py) and the stored records (models/records.py).

Inputs forbid unknown fields, so a misspelt option is an error rather than silently ignored.
The OpenAPI document is generated from these same classes."""

from __future__ import annotations

from pydantic import Field

from mlhooks.models.base import Output

MAX_WEBHOOK_SECRETS = 20
MAX_URL_CHARS = 2048


class Page[T](Output):
    items: list[T]
    next_token: str | None = Field(None, description="Pass as `next_token` to get the next page.")
