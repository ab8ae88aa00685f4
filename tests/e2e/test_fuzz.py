"""The OpenAPI document fuzzed with schemathesis against the local runtime over HTTP: whatever the
generated request, no 5xx. MLHOOKS_FUZZ_EXAMPLES sets the examples per operation (10 in `make test`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.suite("input"), pytest.mark.e2e]
EXAMPLES = os.environ.get("MLHOOKS_FUZZ_EXAMPLES", "10")


def test_fuzzed_requests_never_get_a_server_error(private_runtime, record_figure, tmp_path):
    api = private_runtime["api_url"]
    cli = Path(sys.executable).with_name("schemathesis")
    completed = subprocess.run(
        [
            str(cli),
            "run",
            f"{api}/v1/openapi.json",
            "--url",
            api,
            "-H",
            f"Authorization: Bearer {private_runtime['admin_key']}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            EXAMPLES,
            "--workers",
            "2",
            "--report-dir",
            str(tmp_path),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = completed.stdout + completed.stderr
    generated = re.search(r"(\d+) generated", output)
    assert generated, output[-3000:]
    record_figure("fuzz requests", int(generated.group(1)))
    assert completed.returncode == 0, output[-5000:]
    assert "Server error" not in output
