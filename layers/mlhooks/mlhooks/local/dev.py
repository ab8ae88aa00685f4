"""`mlhooks dev`: the local runtime in the foreground, with the dev entity's admin key.

Its folder (`.mlhooks/`, or the folder of `--state-file`) holds:

    dev.json        the running runtime's URLs and admin key, for the other commands; gone on stop
    saved.json      what survives a restart: the tables, the secrets, the admin key (`saved.py`)
    functions.log   the functions' JSON logs of this run, as CloudWatch would hold them
    dev.lock        held while a runtime runs on the folder

The terminal shows one line per delivery attempt and per rejected event (`terminal.py`); with
`--log-format json`, the functions' logs and those lines as JSON records instead.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Literal, TextIO

from mlhooks.files import write_private

STATE_FILE = Path(".mlhooks") / "dev.json"
FUNCTIONS_LOG = "functions.log"
LogFormat = Literal["text", "json"]


def _write_state(path: Path, state: dict[str, Any]) -> None:
    write_private(path, json.dumps(state, indent=2))  # the dev admin key is in here


def _functions_log(path: Path) -> TextIO:
    """This run's log file, this user's only, written line by line."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "w", buffering=1)


def _log_to(log: TextIO) -> None:
    """Lambda sends a function's stdout to CloudWatch; here it goes to the log file. Powertools binds
    each logger to the stdout of the moment it is made: those made already follow too."""
    terminal, sys.stdout = sys.stdout, log
    for made in logging.root.manager.loggerDict.values():
        for handler in getattr(made, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream is terminal:
                handler.setStream(log)


def _fast(environment: MutableMapping[str, str]) -> dict[str, str]:
    """`--fast`'s settings the environment leaves unset, now set; returns them."""
    from mlhooks.local.runtime import FAST_SETTINGS

    chosen = {name: value for name, value in FAST_SETTINGS.items() if not environment.get(name)}
    environment.update(chosen)
    return chosen


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _duration(seconds: float) -> str:
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 120:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _settings_lines(fast: dict[str, str], yours: dict[str, str]) -> str:
    """What governs deliveries in this run, and where each value that is not the template's came from."""
    from mlhooks.components import get_components

    settings = get_components().settings
    lines = [
        f"  deliveries   {settings.max_attempts} attempts, backoff {_duration(settings.retry_base_seconds)} "
        f"doubling up to {_duration(settings.retry_max_seconds)}",
        f"  caches       automations {_duration(settings.match_cache_seconds)}, "
        f"secrets {_duration(settings.secret_cache_seconds)}",
    ]
    if fast:
        lines.append(f"               --fast: {' '.join(f'{k}={v}' for k, v in fast.items())}")
    if yours:
        lines.append(
            f"               from your environment: {' '.join(f'{k}={v}' for k, v in yours.items())}"
        )
    return "\n".join(lines)


def serve(
    root: Path,
    *,
    port: int,
    moto_port: int,
    inbox_port: int,
    entity: str,
    username: str,
    state_file: Path | None,
    reset: bool = False,
    fast: bool = False,
    log_format: LogFormat = "text",
) -> int:
    """Run the local runtime until Ctrl-C or SIGTERM."""
    from mlhooks.local.saved import SAVED_FILE, SavedStateError, SavedStateFile

    state_file = state_file or root / STATE_FILE
    folder = state_file.parent
    saved = SavedStateFile(folder)
    try:
        loaded = saved.open(reset=reset)
    except SavedStateError as exc:
        raise SystemExit(f"mlhooks dev: {exc}") from None

    from mlhooks.local.runtime import LOCAL_OVERRIDABLE

    yours = {
        name: os.environ[name]
        for name in (*LOCAL_OVERRIDABLE, "MLHOOKS_MAX_ATTEMPTS")
        if os.environ.get(name)
    }
    chosen = _fast(os.environ) if fast else {}

    terminal_out = sys.stdout
    log_path = folder / FUNCTIONS_LOG
    if log_format == "text":
        _log_to(_functions_log(log_path))

    from mlhooks.access import AccessService, authenticate
    from mlhooks.components import get_components
    from mlhooks.local.runtime import LocalRuntime
    from mlhooks.local.terminal import Terminal
    from mlhooks.models.vocabulary import Role

    def say(text: str) -> None:
        terminal_out.write(text + "\n")
        terminal_out.flush()

    terminal = Terminal(terminal_out, json_records=log_format == "json")
    runtime = LocalRuntime(
        root,
        api_port=port,
        moto_port=moto_port,
        inbox_port=inbox_port,
        entity=entity,
        saved=saved,
        terminal=terminal,
    )
    try:
        runtime.start()
    except SavedStateError as exc:
        runtime.stop()
        raise SystemExit(f"mlhooks dev: {exc}") from None

    store = get_components().store
    key = saved.dev_key(entity)
    caller = authenticate(store, f"Bearer {key}") if key else None
    if caller is None or caller.entity != entity or caller.role is not Role.ADMIN:
        _, key = AccessService(store).bootstrap(entity, username)
        saved.remember_key(entity, key, runtime.secretsmanager)
    demo_queue = register_demo_run_queue(entity)
    inbox_url = runtime.inbox.url if runtime.inbox else ""
    _write_state(
        state_file,
        {
            "api_url": runtime.api_url,
            "aws_endpoint_url": runtime.endpoint_url,
            "inbox_url": inbox_url,
            "entity": entity,
            "username": username,
            "admin_key": key,
        },
    )
    saved_path = folder / SAVED_FILE
    if loaded is None:
        kept = f"new; kept in {saved_path} across restarts (--reset starts clean)"
    else:
        items = sum(len(table) for table in loaded.tables.values())
        requeued = saved.restored_pending
        kept = (
            f"restored from {saved_path} ({_count(items, 'item')}, {_count(len(loaded.secrets), 'secret')}"
            + (f", {_count(requeued, 'PENDING execution')} queued again)" if requeued else ")")
        )
    logs = (
        f"{log_path} (the functions' JSON logs)"
        if log_format == "text"
        else "on this terminal (--log-format json)"
    )
    say(
        f"""
mlhooks local runtime is up: API, event bus, matcher, queues and senders
(no Docker; AWS is moto's server at {runtime.endpoint_url}).

  console      {runtime.api_url}/console/  (sign in with the admin key below)
  API          {runtime.api_url}/v1
  API docs     {runtime.api_url}/v1/docs
  inbox        {inbox_url}/<any path>  (webhook receiver; GET {inbox_url}/ lists what landed)
  slack        {inbox_url}/slack  (a fake Slack: notifications land in the inbox; Connect Slack works)
  event bus    {os.environ["MLHOOKS_EVENT_BUS_NAME"]}  (publish: .venv/bin/mlhooks publish events/<file>.json)
  run queue    {DEMO_RUN_QUEUE}  (QUEUE_JOB jobs land in {demo_queue})
  entity       {entity}
  admin key    {key}
               (a dev key, the same after a restart; also in {state_file} while it runs)
  state        {kept}
  logs         {logs}
{_settings_lines(chosen, yours)}

Try it:
  curl -s -H "Authorization: Bearer {key}" {runtime.api_url}/v1/entities/{entity}/members

Webhook receivers on 127.0.0.1 are allowed here
(MLHOOKS_OUTBOUND_ALLOW={os.environ["MLHOOKS_OUTBOUND_ALLOW"]}).
Each delivery attempt and each rejected event is a line below. Press Ctrl-C to stop.
"""
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # `kill -USR1 <pid>` writes where every thread is to the terminal: a runtime that does not stop
    # can be asked why (the tests do, before they kill one).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()  # saves the state
        state_file.unlink(missing_ok=True)
        say(f"mlhooks local runtime stopped; its state is saved in {saved_path}.")
        # Everything is stopped and saved. A delivery still in a sender's worker thread (a receiver
        # answering slowly) would hold the interpreter's exit, which waits for such threads: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


DEMO_RUN_QUEUE = "demo"


def register_demo_run_queue(entity: str) -> str:
    """A run queue for QUEUE_JOB walk-throughs: the SQS queue `mlhooks-runs-demo`, registered as
    `demo` for the dev entity, so no queue has to be made by hand. A restored state has it already
    (its URL pointed at this run's moto)."""
    from mlhooks.components import get_components
    from mlhooks.errors import Conflict
    from mlhooks.run_queues import RunQueueService

    components = get_components()
    url = components.sqs.create_queue(QueueName="mlhooks-runs-demo")["QueueUrl"]
    with contextlib.suppress(Conflict):  # registered by an earlier start
        RunQueueService(components.store, components.sqs, components.settings).create(
            entity, {"name": DEMO_RUN_QUEUE, "url": url, "description": "created by mlhooks dev"}
        )
    return url
