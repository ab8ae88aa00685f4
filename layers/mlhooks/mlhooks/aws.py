"""AWS clients, created once per container and shared by every invocation.

The endpoint comes from settings, so moto's server (locally) and AWS (deployed) go through the
same code.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from mlhooks.metrics import count_calls
from mlhooks.settings import Settings, get_settings

# AWS SDK and HTTP wire logs at DEBUG carry request bodies, Secrets Manager values included. Lambda
# sets the root logger to the function's ApplicationLogLevel, so a DEBUG stack would write them to
# CloudWatch: these loggers stay at WARNING whatever the level.
# For the same reason Powertools' resolver stays quiet at DEBUG: it logs every route's parsed arguments,
# which are whole request bodies (up to 256 KB) of user data.
for _name in ("botocore", "boto3", "urllib3", "s3transfer", "aws_lambda_powertools.event_handler"):
    logging.getLogger(_name).setLevel(logging.WARNING)

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


def _kwargs(settings: Settings) -> dict[str, Any]:
    return {"region_name": settings.aws_region, "endpoint_url": settings.aws_endpoint_url, "config": _CONFIG}


@cache
def dynamodb_resource(settings: Settings | None = None) -> Any:
    resource = boto3.resource("dynamodb", **_kwargs(settings or get_settings()))
    count_calls(resource.meta.client)  # DynamoDBCallsPerDelivery, DynamoDBCallsPerEvent
    return resource


@cache
def secretsmanager_client(settings: Settings | None = None) -> Any:
    return count_calls(boto3.client("secretsmanager", **_kwargs(settings or get_settings())))


@cache
def sqs_client(settings: Settings | None = None) -> Any:
    return boto3.client("sqs", **_kwargs(settings or get_settings()))


@cache
def events_client(settings: Settings | None = None) -> Any:
    return boto3.client("events", **_kwargs(settings or get_settings()))


def reset_clients() -> None:
    """Forget cached clients and settings (tests and the local runtime change endpoints)."""
    get_settings.cache_clear()
    dynamodb_resource.cache_clear()
    secretsmanager_client.cache_clear()
    sqs_client.cache_clear()
    events_client.cache_clear()
