"""The OpenAPI document fuzzed with schemathesis against the local runtime over HTTP: whatever the
generated request, no 5xx, and every answer is one the document declares (status, content type,
schema). MLHOOKS_FUZZ_EXAMPLES sets the examples per operation (10 in `make test`).

`{entity}` is pinned to the runtime's own entity, whose admin key the fuzzer sends: a random entity
only ever reaches the 404 for another entity's paths. `{username}` and `{key_id}` are pinned to a
member and a key of their own, so the admin the fuzzer acts as is never demoted or revoked. The
stateful phase follows the document's links (create -> get/update/delete), so generated requests
reach what earlier ones created.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.suite("input"), pytest.mark.e2e]
EXAMPLES = os.environ.get("MLHOOKS_FUZZ_EXAMPLES", "10")


def schemathesis_config(path: Path, pinned: dict[str, str]) -> Path:
    """schemathesis.toml: path parameters that always take the given values."""
    lines = [f"{json.dumps('path.' + name)} = {json.dumps(value)}" for name, value in pinned.items()]
    path.write_text("[parameters]\n" + "\n".join(lines) + "\n")
    return path


def expendable(runtime: dict[str, str]) -> dict[str, str]:
    """A member and an API key the fuzzer may change and delete, so that it never demotes, removes
    or revokes the admin whose key it sends: after that every answer would be a 401 or 403, and the
    run would test nothing (which happened, at random, when the member it picked was the admin)."""
    api = f"{runtime['api_url']}/v1/entities/{runtime['entity']}"
    headers = {"Authorization": f"Bearer {runtime['admin_key']}"}
    member = requests.post(
        f"{api}/members", json={"username": "fuzz-target", "role": "MEMBER"}, headers=headers, timeout=10
    )
    key = requests.post(f"{api}/api-keys", json={"name": "fuzz-target"}, headers=headers, timeout=10)
    assert member.status_code == 201 and key.status_code == 201, (member.text, key.text)
    return {"entity": runtime["entity"], "username": "fuzz-target", "key_id": key.json()["id"]}


def answered(events: Path) -> dict[str, list[int]]:
    """The status of every response the fuzzer received, by phase, from its NDJSON event log."""
    statuses: dict[str, list[int]] = {}
    for line in events.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if scenario is None:
            continue
        interactions = (scenario.get("recorder") or {}).get("interactions", {}).values()
        statuses.setdefault(scenario["phase"], []).extend(
            i["response"]["status_code"] for i in interactions if i.get("response")
        )
    return statuses


def test_fuzzed_requests_never_get_a_server_error(private_runtime, record_figure, tmp_path):
    api = private_runtime["api_url"]
    cli = Path(sys.executable).with_name("schemathesis")
    config = schemathesis_config(tmp_path / "schemathesis.toml", expendable(private_runtime))
    completed = subprocess.run(
        [
            str(cli),
            "--config-file",
            str(config),
            "run",
            f"{api}/v1/openapi.json",
            "--url",
            api,
            "-H",
            f"Authorization: Bearer {private_runtime['admin_key']}",
            "--checks",
            # No 5xx; and every answer is one the document declares, in the declared shape.
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            EXAMPLES,
            "--workers",
            "2",
            "--report",
            "ndjson",
            "--report-dir",
            str(tmp_path),
            "--report-ndjson-path",
            str(tmp_path / "events.ndjson"),
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
    by_phase = answered(tmp_path / "events.ndjson")
    statuses = [status for phase in by_phase.values() for status in phase]
    successes = sum(200 <= status < 300 for status in statuses)
    record_figure("fuzz 2xx", successes)
    assert completed.returncode == 0, output[-5000:]
    assert "Server error" not in output
    assert not [status for status in statuses if status >= 500], output[-5000:]
    assert successes > 0, output[-3000:]
    # The stateful phase ran, and what it chained reached the API's success paths too.
    assert any(200 <= status < 300 for status in by_phase.get("stateful", [])), output[-3000:]
