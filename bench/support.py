"""Shared set-up for the benchmarks: in-process moto with the template's resources."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def local_aws():
    from moto import mock_aws

    from mlhooks import wiring
    from mlhooks.local.runtime import local_environment, provision
    from mlhooks.local.template import load_template

    os.environ.update(local_environment("unused"))
    os.environ.pop("AWS_ENDPOINT_URL")
    with mock_aws():
        stack = provision(load_template(ROOT / "template.yaml"), None)
        os.environ.update(local_environment("unused", stack))
        os.environ.pop("AWS_ENDPOINT_URL")
        os.environ["MLHOOKS_MATCH_CACHE_SECONDS"] = "0"
        os.environ["MLHOOKS_OUTBOUND_ALLOW"] = "127.0.0.0/8"
        wiring.reset()
        yield stack


def table(headers: list[str], rows: list[list[object]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = "-|-".join("-" * w for w in widths)
    body = "\n".join(" | ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return f"{line}\n{rule}\n{body}"


sys.path.insert(0, str(ROOT / "bench"))
