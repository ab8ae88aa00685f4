"""The local runtime as a user runs it: `mlhooks dev` in its own process, driven over real HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from samples import ROOT
from waiting import eventually

# Three attempts without backoff, and no matcher cache: failure paths run in seconds.
TEST_SETTINGS = {
    "MLHOOKS_MAX_ATTEMPTS": "3",
    "MLHOOKS_RETRY_BASE_SECONDS": "0",
    "MLHOOKS_MATCH_CACHE_SECONDS": "0",
}


@contextlib.contextmanager
def running_runtime(
    folder: Path, *args: str, settings: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """`mlhooks dev` in its own process, with more arguments if given (`--fast`), and `settings` in
    its environment instead of TEST_SETTINGS; yields what it wrote to its state file, with the
    process id (`pid`) and the file holding what its terminal showed (`terminal`). The folder keeps
    the runtime's saved state, so a second runtime on it starts where the first stopped."""
    state_file, log_file = folder / "dev.json", folder / "dev.log"
    state_file.unlink(missing_ok=True)  # left by a runtime that was killed: not this one's
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLHOOKS_"))}
    env |= TEST_SETTINGS if settings is None else settings
    # The runtime's terminal goes to a file: a pipe nobody reads would fill up and block it.
    log = log_file.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlhooks.cli",
            "dev",
            "--port",
            "0",
            "--inbox-port",
            "0",
            "--state-file",
            str(state_file),
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        eventually(lambda: state_file.exists() or process.poll() is not None, timeout=60, what="mlhooks dev")
    finally:
        if not state_file.exists():
            process.kill()
    if not state_file.exists():
        raise RuntimeError(f"mlhooks dev did not start:\n{log_file.read_text()}")
    state = json.loads(state_file.read_text())
    state |= {"state_file": str(state_file), "pid": process.pid, "terminal": str(log_file)}
    try:
        yield state
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Where it is stuck, from the runtime itself (faulthandler on SIGUSR1), then gone.
            process.send_signal(signal.SIGUSR1)
            dumped = "most recent call first"
            eventually(lambda: dumped in log_file.read_text(), timeout=10, what="the stacks")
            process.kill()
            process.wait()
            terminal = log_file.read_text()[-8000:]
            raise AssertionError(f"mlhooks dev did not stop within 30 s:\n{terminal}") from None
        finally:
            log.close()


@pytest.fixture(scope="session")
def local_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One runtime shared by the end-to-end tests; each test works in its own projects."""
    with running_runtime(tmp_path_factory.mktemp("dev")) as state:
        yield state


@pytest.fixture(scope="module")
def private_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A runtime of its own, for tests that fill it with arbitrary data (fuzzing)."""
    with running_runtime(tmp_path_factory.mktemp("private")) as state:
        yield state


@pytest.fixture
def http(local_runtime: dict[str, Any]) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {local_runtime['admin_key']}"
    return session
