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

    # The pipeline.
    event_bus_name: str = "default"
    webhook_queue_url: str = ""
    slack_queue_url: str = ""
    job_queue_url: str = ""
    events_dlq_url: str = ""
    # Delivery attempts before a job goes to its DLQ; the template's maxReceiveCount is the same value.
    max_attempts: int = 8
    # Backoff between attempts: exponential from the base, capped, with jitter.
    retry_base_seconds: float = 10.0
    retry_max_seconds: float = 3600.0
    # The longest the matcher keeps its copy of the enabled automations; any change to an entity's
    # automations ends it sooner (the automations revision), so this is only a safety bound.
    match_cache_seconds: float = 300.0
    # DynamoDB updates an index a moment after the table (well under a second, usually): automations
    # read from the index within this long of a change are used but not kept.
    index_settle_seconds: float = 10.0
    # Executions per automation per minute; more are recorded as SKIPPED.
    rate_limit_per_minute: int = 120
    secret_cache_seconds: float = 60.0
    # A run condition fires at most once per run per automation within this time (W&B: 24 h).
    run_refire_seconds: float = 24 * 60 * 60
    slack_api_url: str = "https://slack.com/api"
    # Webhook health: a webhook whose deliveries failed this many times in a row, over at least
    # this long, is disabled (0 failures: never). Both, so a burst of failures during a short
    # outage never disables it, and neither does one slow failure a day.
    webhook_disable_after_failures: int = 20
    webhook_disable_after_seconds: float = 24 * 60 * 60
    # Run queues (QUEUE_JOB): names must match this IAM resource-name pattern (`*` and `?`), the one
    # the job sender's policy allows; and none of the stack's own queues is ever a run queue.
    run_queue_names: str = "mlhooks-runs-*"
    own_queue_urls: tuple[str, ...] = ()

    @field_validator("outbound_allow", "own_queue_urls", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
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
            "event_bus_name": "MLHOOKS_EVENT_BUS_NAME",
            "webhook_queue_url": "MLHOOKS_WEBHOOK_QUEUE_URL",
            "slack_queue_url": "MLHOOKS_SLACK_QUEUE_URL",
            "job_queue_url": "MLHOOKS_JOB_QUEUE_URL",
            "events_dlq_url": "MLHOOKS_EVENTS_DLQ_URL",
            "max_attempts": "MLHOOKS_MAX_ATTEMPTS",
            "retry_base_seconds": "MLHOOKS_RETRY_BASE_SECONDS",
            "retry_max_seconds": "MLHOOKS_RETRY_MAX_SECONDS",
            "match_cache_seconds": "MLHOOKS_MATCH_CACHE_SECONDS",
            "index_settle_seconds": "MLHOOKS_INDEX_SETTLE_SECONDS",
            "rate_limit_per_minute": "MLHOOKS_RATE_LIMIT_PER_MINUTE",
            "secret_cache_seconds": "MLHOOKS_SECRET_CACHE_SECONDS",
            "run_refire_seconds": "MLHOOKS_RUN_REFIRE_SECONDS",
            "slack_api_url": "MLHOOKS_SLACK_API_URL",
            "webhook_disable_after_failures": "MLHOOKS_WEBHOOK_DISABLE_AFTER_FAILURES",
            "webhook_disable_after_seconds": "MLHOOKS_WEBHOOK_DISABLE_AFTER_SECONDS",
            "run_queue_names": "MLHOOKS_RUN_QUEUE_NAMES",
            "own_queue_urls": "MLHOOKS_OWN_QUEUE_URLS",
        }
        return cls(**{field: env[var] for field, var in names.items() if env.get(var)})


@cache
def get_settings() -> Settings:
    return Settings.from_env()
