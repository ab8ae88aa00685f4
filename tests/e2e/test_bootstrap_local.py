"""`mlhooks bootstrap` as a new user runs it next to `make dev`: no --table, no credentials; and
every failure is one line saying what to do, never a traceback."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import requests
from commands import mlhooks

pytestmark = pytest.mark.e2e


def bootstrap(*args: str, state_file: str) -> subprocess.CompletedProcess[str]:
    return mlhooks(state_file, "bootstrap", *args, clean=True)


def test_bootstrap_next_to_make_dev_needs_no_table(local_runtime: dict[str, Any]) -> None:
    done = bootstrap(
        "--entity", "team-bootstrap", "--username", "zoe", state_file=local_runtime["state_file"]
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    members = requests.get(
        f"{local_runtime['api_url']}/v1/entities/team-bootstrap/members",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert members.status_code == 200 and members.json()["items"][0]["username"] == "zoe"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--entity", "bad name", "--username", "zoe"), "not a valid entity"),
        (("--entity", "ok", "--username", "zoe"), "no local runtime running"),
        (
            ("--entity", "ok", "--username", "zoe", "--table", "t", "--endpoint-url", "http://127.0.0.1:9"),
            "could not write to table t",
        ),
    ],
)
def test_a_failed_bootstrap_is_one_line_that_says_what_to_do(tmp_path, args, says) -> None:
    done = bootstrap(*args, state_file=str(tmp_path / "none.json"))
    assert done.returncode == 1
    assert (
        says in done.stderr and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    )
