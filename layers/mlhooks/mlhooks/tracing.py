"""AWS X-Ray tracing, at no cost when it is off.

Powertools' Tracer is a wrapper over the X-Ray SDK, and making one loads the SDK and patches the
libraries it traces: some 210 ms of a cold start, paid even by a disabled Tracer. So no Tracer is
made unless the stack turns tracing on (the Tracing parameter sets POWERTOOLS_TRACE_DISABLED to
"false", and the functions' `Tracing` to Active); the SDK is not even imported otherwise.

When it is on, `start` (at cold start, with the components) makes the Tracer and patches botocore,
so each DynamoDB, SQS and Secrets Manager call is a subsegment, and `subsegment` marks the steps
worth seeing: the matcher's look-ups and writes, a sender's delivery and its outbound call. Only
`requests` is left unpatched: the X-Ray SDK would record every outbound URL, and a webhook's URL
(Slack's, Teams') can be a credential. The outbound call's subsegment says what came back instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlhooks.settings import Settings

_tracer: Any = None  # Powertools' Tracer, once started


class Span:
    """A subsegment to annotate (annotations are indexed: X-Ray can search traces by them)."""

    def __init__(self, segment: Any = None):
        self._segment = segment

    def annotate(self, **annotations: str | int | float | bool | None) -> None:
        if self._segment is None:
            return
        for key, value in annotations.items():
            if value is not None:
                # X-Ray takes strings, numbers and booleans (an enum member goes as its value).
                self._segment.put_annotation(key, value if isinstance(value, int | float) else str(value))


_OFF = Span()


def start(settings: Settings) -> bool:
    """Make the tracer if tracing is on (once per container); whether it is on."""
    global _tracer
    if settings.trace_disabled:
        return False
    if _tracer is None:
        from aws_lambda_powertools.tracing import Tracer

        try:
            _tracer = Tracer(service=settings.metrics_service, auto_patch=True, patch_modules=["botocore"])
        except ImportError:  # the layer is built with aws-xray-sdk: a hand-made package may lack it
            logging.getLogger(__name__).warning("tracing is on, but aws-xray-sdk is not installed: no traces")
            return False
    return True


def enabled() -> bool:
    return _tracer is not None


@contextmanager
def subsegment(name: str) -> Iterator[Span]:
    """A subsegment around the block, or nothing at all when tracing is off."""
    tracer = _tracer
    if tracer is None:
        yield _OFF
        return
    with tracer.provider.in_subsegment(name) as segment:
        yield Span(segment)
