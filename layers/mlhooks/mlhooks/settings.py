"""Configuration, read once from the environment into one typed object.

The template sets these variables on every function; the local runtime and the tests set the same
ones, so the code path is identical everywhere and only the values differ.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cache

from pydantic import BaseModel, ConfigDict, field_validator


class Settings(BaseModel):
    # Frozen so that one Settings can key the per-container client caches.
    model_config = ConfigDict(frozen=True)

    table_name: str = "mlhooks"
    # Every secret mlhooks stores lives under this Secrets Manager name prefix; the template's IAM
    # policy grants the functions access to this prefix and nothing else.
    secrets_prefix: str = "mlhooks/dev"
    # AWS endpoint seam: moto's server locally, unset (the real endpoints) in AWS.
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    stage: str = "dev"
    # Ranges the outbound guard lets through although they are not public. Configuration only,
    # never API: local development opens 127.0.0.0/8 here.
    outbound_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    http_connect_timeout_seconds: float = 5.0
    http_read_timeout_seconds: float = 10.0
    # How much of a receiver's answer we read and keep: enough to debug, never a memory hazard.
    response_excerpt_bytes: int = 4096
    max_request_body_bytes: int = 256 * 1024

    @field_validator("outbound_allow", mode="before")
    @classmethod
    def _split_ranges(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = {
            "table_name": "MLHOOKS_TABLE_NAME",
            "secrets_prefix": "MLHOOKS_SECRETS_PREFIX",
            "aws_endpoint_url": "AWS_ENDPOINT_URL",
            "aws_region": "AWS_REGION",
            "stage": "MLHOOKS_STAGE",
            "outbound_allow": "MLHOOKS_OUTBOUND_ALLOW",
            "http_connect_timeout_seconds": "MLHOOKS_HTTP_CONNECT_TIMEOUT_SECONDS",
            "http_read_timeout_seconds": "MLHOOKS_HTTP_READ_TIMEOUT_SECONDS",
            "response_excerpt_bytes": "MLHOOKS_RESPONSE_EXCERPT_BYTES",
            "max_request_body_bytes": "MLHOOKS_MAX_REQUEST_BODY_BYTES",
        }
        return cls(**{field: env[var] for field, var in names.items() if env.get(var)})


@cache
def get_settings() -> Settings:
    return Settings.from_env()
