"""Shared set-up for the benchmarks: in-process moto with the template's resources."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the tables, not the functions' logs


@contextmanager
def local_aws():
    from moto import mock_aws

    from mlhooks.components import reset_components
    from mlhooks.local.provision import provision
    from mlhooks.local.runtime import local_environment
    from mlhooks.local.template import load_template

    os.environ.update(local_environment("unused"))
    os.environ.pop("AWS_ENDPOINT_URL")
    with mock_aws():
        stack = provision(load_template(ROOT / "template.yaml"), None)
        os.environ.update(local_environment("unused", stack))
        os.environ.pop("AWS_ENDPOINT_URL")
        os.environ["MLHOOKS_MATCH_CACHE_SECONDS"] = "0"
        os.environ["MLHOOKS_OUTBOUND_ALLOW"] = "127.0.0.0/8"
        reset_components()
        yield stack


def table(headers: list[str], rows: list[list[object]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = "-|-".join("-" * w for w in widths)
    body = "\n".join(" | ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return f"{line}\n{rule}\n{body}"


class DynamoMeter:
    """Counts DynamoDB calls, the items they read (what DynamoDB bills and what its latency follows)
    and the time spent in them, through botocore's event hooks."""

    def __init__(self, client):  # type: ignore[no-untyped-def]
        self.calls = self.items = 0
        self.seconds = 0.0
        self._started = 0.0
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, **_):  # type: ignore[no-untyped-def]
        self._started = time.perf_counter()

    def _after(self, parsed, **_):  # type: ignore[no-untyped-def]
        self.seconds += time.perf_counter() - self._started
        self.calls += 1
        self.items += int(parsed.get("ScannedCount", parsed.get("Count", 0)) or 0)

    def reset(self) -> None:
        self.calls = self.items = 0
        self.seconds = 0.0


sys.path.insert(0, str(ROOT / "bench"))
