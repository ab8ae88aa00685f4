"""Configuration, read once from the environment into one typed object.

The template sets these variables on every function; the local runtime and the tests set the same
ones, so the code path is identical everywhere and only the values differ.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

# Lists arrive comma-separated ("127.0.0.0/8,10.1.0.0/16"), not as JSON.
_Ranges = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
_Urls = tuple[str, ...]
Count = Annotated[int, Field(ge=1)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class SettingsError(RuntimeError):
    """The configuration is missing something a function needs, or has a value it cannot use."""


class Settings(BaseModel):
    """Every field `x` is read from `MLHOOKS_X` (the AWS ones from AWS's own names), whatever the
    name's case; an empty variable counts as unset, and a value given to the constructor wins.

    A pydantic model that takes its values from the environment, not pydantic-settings: that
    library's import (its dotenv, CLI and cloud sources) cost every function some 55 ms of its cold
    start, a fifth of `import boto3` with one client, for the one mapping in `_environment`. Every
    value is still parsed and checked by pydantic, and the tests hold this reading to
    pydantic-settings' own (tests/unit/test_settings.py)."""

    # Frozen so that one Settings can key the per-container client caches.
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_environment(), **values})

    # The stack's resources have no defaults: a function names those it needs (FUNCTION_NEEDS) and
    # fails its cold start without them, rather than at its first delivery.
    table_name: str = ""
    # Every secret mlhooks stores lives under this Secrets Manager name prefix; the template's IAM
    # policy grants the functions access to this prefix and nothing else.
    secrets_prefix: str = ""
    # AWS endpoint seam: moto's server locally, unset (the real endpoints) in AWS.
    aws_endpoint_url: str | None = Field(
        None, validation_alias=AliasChoices("aws_endpoint_url", "AWS_ENDPOINT_URL")
    )
    aws_region: str = Field("us-east-1", validation_alias=AliasChoices("aws_region", "AWS_REGION"))
    stage: str = "dev"
    # Ranges the outbound guard lets through although they are not public. Configuration only,
    # never API: local development opens 127.0.0.0/8 here.
    outbound_allow: _Ranges = ()
    http_connect_timeout_seconds: Positive = 5.0
    http_read_timeout_seconds: Positive = 10.0
    # How much of a receiver's answer we read and keep: enough to debug, never a memory hazard.
    response_excerpt_bytes: Count = 4096
    max_request_body_bytes: Count = 256 * 1024

    # The pipeline.
    event_bus_name: str = ""
    webhook_queue_url: str = ""
    slack_queue_url: str = ""
    job_queue_url: str = ""
    events_dlq_url: str = ""
    # Delivery attempts before a job goes to its DLQ; the template's maxReceiveCount is the same value.
    max_attempts: Count = 8
    # Backoff between attempts: exponential from the base, capped, with jitter.
    retry_base_seconds: Seconds = 10.0
    retry_max_seconds: Seconds = 3600.0
    # The longest the matcher keeps its copy of the enabled automations; any change to an entity's
    # automations ends it sooner (the automations revision), so this is only a safety bound.
    match_cache_seconds: Seconds = 300.0
    # DynamoDB updates an index a moment after the table (well under a second, usually): automations
    # read from the index within this long of a change are used but not kept.
    index_settle_seconds: Seconds = 10.0
    # Executions per automation per minute; more are recorded as SKIPPED.
    rate_limit_per_minute: Count = 120
    secret_cache_seconds: Seconds = 60.0
    # A run condition fires at most once per run per automation within this time (W&B: 24 h).
    run_refire_seconds: Seconds = 24 * 60 * 60
    slack_api_url: str = "https://slack.com/api"
    # "Connect Slack" (slack_connect.py): the stack's Slack app, whose OAuth v2 install flow makes
    # Slack integrations. Optional: without an id and a secret the API says the app is not configured
    # (the SlackClientId and SlackClientSecret parameters), so no function needs them to start.
    slack_client_id: str = ""
    # The Secrets Manager secret holding the app's client secret: the template's, outside the
    # entities' prefix, so that no entity can name it.
    slack_client_secret_arn: str = ""
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    # Webhook health: a webhook whose deliveries failed this many times in a row, over at least
    # this long, is disabled (0 failures: never). Both, so a burst of failures during a short
    # outage never disables it, and neither does one slow failure a day.
    webhook_disable_after_failures: Annotated[int, Field(ge=0)] = 20
    webhook_disable_after_seconds: Seconds = 24 * 60 * 60
    # Run queues (QUEUE_JOB): names must match this IAM resource-name pattern (`*` and `?`), the one
    # the job sender's policy allows; and none of the stack's own queues is ever a run queue.
    run_queue_names: str = "mlhooks-runs-*"
    own_queue_urls: _Urls = ()
    # Sources (MLflow, W&B, SageMaker). A signed delivery older (or newer) than this is refused as
    # stale or replayed; an event id a source published within the dedupe time is not published
    # again; its deliveries are kept this long for `.../sources/{name}/deliveries`.
    source_tolerance_seconds: Positive = 300.0
    # A platform's body may be larger than an API request: MLflow escapes every non-ASCII character.
    inbound_max_body_bytes: Count = 1024 * 1024
    source_dedupe_seconds: Positive = 24 * 60 * 60
    source_retention_seconds: Positive = 14 * 24 * 60 * 60
    # Deliveries that did not verify (anyone may post to an inbound URL) are kept a shorter while.
    source_unverified_retention_seconds: Positive = 24 * 60 * 60
    # W&B signs no timestamp or delivery id: the same body is the same delivery only this long, so a
    # real repeat (an alias moved back) is not taken for a retry for a day.
    wandb_dedupe_seconds: Positive = 15 * 60
    # Whether the stack's rule takes SageMaker's events from the default bus (the SageMakerEvents
    # parameter): sources tell their admins.
    sagemaker_events: Literal["ENABLED", "DISABLED"] = "DISABLED"
    # Which entities' admins may register SageMaker sources (the SageMakerEntities parameter): the
    # events are an account's, so the operator who deploys the stack decides whose they are. Empty:
    # none; "*": any.
    sagemaker_entities: _Urls = ()

    # Operations (metrics.py, tracing.py), under Powertools' own variable names. Metrics go to this
    # CloudWatch namespace with the stack's name as their `service` dimension, so two stacks in one
    # account stay apart.
    metrics_namespace: str = Field(
        "mlhooks", min_length=1, validation_alias=AliasChoices("POWERTOOLS_METRICS_NAMESPACE")
    )
    metrics_service: str = Field(
        "mlhooks", min_length=1, validation_alias=AliasChoices("POWERTOOLS_SERVICE_NAME")
    )
    # Whether metrics also carry the entity as a dimension (the MetricsByEntity parameter): one more
    # CloudWatch metric per entity for each, so off unless a stack's teams are few.
    metrics_by_entity: Literal["ENABLED", "DISABLED"] = "DISABLED"
    # X-Ray tracing (the Tracing parameter). Off unless the variable says "false": the tracer's
    # import alone costs some 200 ms of every cold start.
    trace_disabled: bool = Field(True, validation_alias=AliasChoices("POWERTOOLS_TRACE_DISABLED"))
    # The level below which Lambda drops the function's log lines (its advanced logging controls).
    lambda_log_level: str = Field("", validation_alias=AliasChoices("AWS_LAMBDA_LOG_LEVEL"))

    @field_validator("outbound_allow", "own_queue_urls", "sagemaker_entities", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    def require(self, *fields: str) -> Settings:
        """These settings, checked: a function calls this at import, so a deployment that lacks one
        fails its first cold start with the variable's name rather than its first delivery."""
        missing = [variable(name) for name in fields if not _is_set(getattr(self, name))]
        if missing:
            raise SettingsError(
                f"Missing configuration: {', '.join(missing)}. The stack's template sets these on every "
                "function; locally, `mlhooks dev` does."
            )
        return self


def _environment() -> dict[str, str]:
    """The values the environment gives, by field name."""
    given = {name.lower(): value for name, value in os.environ.items() if value != ""}
    return {
        field: given[name] for field in Settings.model_fields if (name := variable(field).lower()) in given
    }


def variable(field: str) -> str:
    """The environment variable a setting is read from."""
    alias = Settings.model_fields[field].validation_alias
    return alias.choices[-1] if isinstance(alias, AliasChoices) else f"MLHOOKS_{field.upper()}"  # type: ignore[return-value]


def _where(loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else ""
    return variable(field) if field in Settings.model_fields else field


def _is_set(value: object) -> bool:
    return bool(value.strip()) if isinstance(value, str) else bool(value)


# What each function cannot start without.
_VAULT = ("table_name", "secrets_prefix")
FUNCTION_NEEDS: dict[str, tuple[str, ...]] = {
    "api": (
        *_VAULT,
        "event_bus_name",
        "webhook_queue_url",
        "slack_queue_url",
        "job_queue_url",
        "own_queue_urls",
    ),
    "authorizer": ("table_name",),
    "matcher": ("table_name", "webhook_queue_url", "slack_queue_url", "job_queue_url", "events_dlq_url"),
    # The webhook sender queues the alert of a webhook it disables on the Slack queue.
    "webhook_sender": (*_VAULT, "webhook_queue_url", "slack_queue_url"),
    "slack_sender": (*_VAULT, "slack_queue_url"),
    "job_sender": (*_VAULT, "job_queue_url", "own_queue_urls"),
    "inbound": (*_VAULT, "event_bus_name"),
    # The console's function hands out files and reads no setting (nor the table, nor a secret).
    "console": (),
}


@cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False))
        raise SettingsError(f"Invalid configuration: {problems}.") from None


def for_function(name: str) -> Settings:
    """The settings of function `name`, checked against what it needs (see FUNCTION_NEEDS)."""
    return get_settings().require(*FUNCTION_NEEDS[name])
