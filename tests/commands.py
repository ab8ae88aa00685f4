"""The `mlhooks` command line as a user runs it beside `make dev`: its own process, pointed at the
running runtime by its state file."""

from __future__ import annotations

import os
import subprocess
import sys

from samples import ROOT


def mlhooks(
    state_file: str,
    *args: str,
    timeout: float = 120,
    clean: bool = False,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`.venv/bin/mlhooks <args>` from the project folder. `clean`: without this process's AWS_ and
    MLHOOKS_ variables, as in a fresh terminal. `input`: what is piped to its stdin; `env`: more
    variables."""
    environment = dict(os.environ)
    if clean:
        environment = {k: v for k, v in environment.items() if not k.startswith(("AWS_", "MLHOOKS_"))}
    return subprocess.run(
        [sys.executable, "-m", "mlhooks.cli", *args],
        cwd=ROOT,
        capture_output=True,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        text=True,
        timeout=timeout,
        check=False,
        # A login saved on this machine would take precedence over the runtime: the tests have their own.
        env={
            **environment,
            "MLHOOKS_DEV_STATE": state_file,
            "MLHOOKS_CONFIG": f"{state_file}.logins.json",
            **(env or {}),
        },
    )
