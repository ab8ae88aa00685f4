"""mlhooks: self-hosted, serverless automations for ML platforms."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # `mlhooks.Client` for users, loaded on first use: the Lambda functions import this package
    # too, and never need the client.
    if name in ("Client", "ApiError", "Run"):
        from mlhooks import client

        return getattr(client, name)
    raise AttributeError(f"module 'mlhooks' has no attribute {name!r}")
