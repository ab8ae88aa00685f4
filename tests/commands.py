"""The `mlhooks` command line as a user runs it beside `make dev`: its own process, pointed at the
running runtime by its state file."""

from __future__ import annotations

import os
import subprocess
import sys

from samples import ROOT


def mlhooks(
    state_file: str, *args: str, timeout: float = 120, clean: bool = False
) -> subprocess.CompletedProcess[str]:
    """`.venv/bin/mlhooks <args>` from the project folder. `clean`: without this process's AWS_ and
    MLHOOKS_ variables, as in a fresh terminal."""
    env = dict(os.environ)
    if clean:
        env = {k: v for k, v in env.items() if not k.startswith(("AWS_", "MLHOOKS_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlhooks.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**env, "MLHOOKS_DEV_STATE": state_file},
    )
