"""Tracing costs nothing when it is off: a delivery with the template's default never imports the
X-Ray SDK. When the Tracing parameter turns it on, the matcher's look-ups, each delivery, its outbound
call and every AWS call are subsegments of the function's trace. Each case runs in a fresh interpreter
(tracing_probe.py): patching botocore lasts as long as the process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("tracing_probe.py")
# As Lambda sets them: the function's trace (sampled), and the task root the X-Ray SDK recognises
# Lambda by.
LAMBDA = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_LAMBDA_FUNCTION_NAME": "probe",
}


def probe(case: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in LAMBDA} | environment
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(PROBE), "-q", "-s", "-p", "no:cacheprovider", "-k", case],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROBE.parents[2],
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("case", "environment"),
    [("test_off_delivers_without_ever_importing_the_xray_sdk", {}), ("test_on_traces", LAMBDA)],
    ids=["off", "on"],
)
def test_tracing(case, environment):
    run = probe(case, **environment)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout and "PROBE " in run.stdout
