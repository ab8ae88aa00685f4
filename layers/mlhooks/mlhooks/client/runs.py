"""A run logger for training code, in the spirit of `wandb.log`: `run.log({"loss": 0.3})` returns at
once; a background thread sends the metrics as `Run Metrics Logged` events, ten per call, retrying
with backoff while mlhooks is unreachable. It never blocks or raises into the training loop: the
buffer is bounded, and when it is full the oldest events are dropped, counted and warned about once.
Pending events are flushed when the run finishes and when the interpreter exits."""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import logging
import math
import random
import re
import secrets
import string
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from mlhooks.client.transport import ApiError

log = logging.getLogger("mlhooks.client")

BATCH = 10  # events per call: PutEvents' own limit, and the API's
BUFFER = 10_000
FLUSH_SECONDS = 1.0
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
EXIT_FLUSH_SECONDS = 5.0
FINISH_SECONDS = 5.0
MAX_STEP = 2**53 - 1  # what the API takes (JSON's exact integers)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_EVENT_INDEX = re.compile(r"^events\[(\d+)\]")

Send = Callable[[list[dict[str, Any]]], Any]


def new_run_id() -> str:
    """Eight lower-case letters and digits, as W&B's run ids are."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _metric(value: Any) -> float | str:
    """A finite number as it is; NaN and the infinities as the strings JSON can carry."""
    if isinstance(value, bool):
        raise TypeError("a truth value is not a metric")
    number = float(value)
    return number if math.isfinite(number) else str(number).replace("inf", "Infinity").replace("nan", "NaN")


def _event_key(run_id: str) -> str:
    """The run id where event ids allow it, else a digest of it."""
    if _SAFE_ID.match(run_id):
        return run_id
    return hashlib.sha256(run_id.encode()).hexdigest()[:16]


class Run:
    """One training run. Thread-safe; use as a context manager to finish FAILED on an exception."""

    def __init__(
        self,
        send: Send,
        *,
        entity: str | None,
        project: str,
        name: str,
        run_id: str | None = None,
        user: str | None = None,
        buffer: int = BUFFER,
        flush_seconds: float = FLUSH_SECONDS,
    ):
        self.id = run_id or new_run_id()
        self.name = name
        self.project = project
        self.entity = entity
        self.user = user
        self.sent = 0
        self.dropped = 0  # never sent: pushed out of a full buffer, or refused by the API
        self._send = send
        self._flush_seconds = flush_seconds
        self._queue: deque[dict[str, Any]] = deque()
        self._buffer = buffer
        self._lock = threading.Condition()
        self._sequence = 0
        self._step = -1
        self._in_flight = 0
        self._closing = False
        self._flushing = 0
        self._unreachable_since: float | None = None
        self._warned_full = False
        self._warned_refusals: set[str] = set()
        self._skipped: set[str] = set()
        self._thread = threading.Thread(target=self._work, name=f"mlhooks-run-{self.id}", daemon=True)
        self._thread.start()
        _open_runs.add(self)

    # -- what training code calls ------------------------------------------------------------------

    def log(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record metrics at `step` (the next step when None, as in `wandb.log`). Never blocks, and
        never raises: what cannot be sent is warned about and skipped."""
        if not isinstance(metrics, Mapping):
            self._warn_once("metrics", "log() takes a dict of metrics, e.g. {'loss': 0.3}; not sent")
            return
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP
        ):
            self._warn_once("step", f"a step is a whole number from 0 to {MAX_STEP}; {step!r} not sent")
            return
        values: dict[str, float | str] = {}
        for key, value in metrics.items():
            try:
                values[str(key)] = _metric(value)
            except (TypeError, ValueError, OverflowError):
                # Not a number (an image, a table): conditions watch numbers only; skip it.
                self._warn_once(f"metric {key}", f"{key!r} is not a number; not sent")
        if not values:
            return
        with self._lock:
            if self._closing:
                # Its sender has stopped: a value logged after finish() would wait forever.
                self.dropped += 1
                log.warning("mlhooks: run %s is finished; a value logged after finish() is not sent", self.id)
                return
            step = self._step + 1 if step is None else step
            self._step = max(self._step, step)
        self._put("Run Metrics Logged", {"state": "RUNNING", "step": step, "metrics": values})

    def finish(self, state: str = "FINISHED", timeout: float = FINISH_SECONDS) -> bool:
        """End the run in `state` (FINISHED, FAILED or CRASHED, which `RUN_STATE` automations watch)
        and send what is pending, waiting at most `timeout` seconds. True if everything logged was
        sent; else `pending` counts what is still waiting and `dropped` what could not be sent."""
        with self._lock:
            if self._closing:
                return self.pending == 0 and self.dropped == 0
        run = {"state": state} | ({"step": self._step} if self._step >= 0 else {})
        self._put("Run State Changed", run)
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        return self.flush(timeout) and self.dropped == 0

    def flush(self, timeout: float = FINISH_SECONDS) -> bool:
        """Wait until every logged event is sent or dropped, at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._flushing += 1  # the worker sends partial batches while anyone waits
            self._lock.notify_all()
            try:
                while self._queue or self._in_flight:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._lock.wait(left)
            finally:
                self._flushing -= 1
        return True

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + self._in_flight

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        self.finish("FINISHED" if kind is None else "FAILED")

    # -- the background sender ---------------------------------------------------------------------

    def _put(self, detail_type: str, run: dict[str, Any]) -> None:
        detail: dict[str, Any] = {
            "time": now(),
            "project": self.project,
            "run": {"id": self.id, "display_name": self.name, **run},
        }
        if self.entity:
            detail["entity"] = self.entity
        if self.user:
            detail["author"] = self.user
            detail["run"]["user"] = self.user
        with self._lock:
            self._sequence += 1
            # Unique per event and kept through retries, so a batch sent twice is published once.
            detail["event_id"] = f"run-{_event_key(self.id)}-{self._sequence}"
            if len(self._queue) >= self._buffer:
                # The newest values are what conditions need: the oldest give way.
                self._queue.popleft()
                self.dropped += 1
                if not self._warned_full:
                    self._warned_full = True
                    log.warning(
                        "mlhooks: run %s buffer full (%d events); dropping the oldest until mlhooks answers",
                        self.id,
                        self._buffer,
                    )
            self._queue.append({"detail_type": detail_type, "detail": detail})
            if len(self._queue) >= BATCH:
                self._lock.notify_all()

    def _work(self) -> None:
        backoff = 0.0
        while True:
            with self._lock:
                # Send a full batch at once; a partial one after flush_seconds, or when finishing.
                self._lock.wait_for(
                    lambda: len(self._queue) >= BATCH or self._closing or self._flushing,
                    timeout=self._flush_seconds,
                )
                if not self._queue:
                    if self._closing:
                        return
                    continue
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
                self._in_flight = len(batch)
            retry, unavailable = self._deliver(batch)
            with self._lock:
                self._in_flight = 0
                self._queue.extendleft(reversed(retry))
                while len(self._queue) > self._buffer:
                    self._queue.popleft()
                    self.dropped += 1
                self._lock.notify_all()
            if unavailable:
                backoff = min(BACKOFF_MAX, max(BACKOFF_FIRST, backoff * 2)) * random.uniform(0.8, 1.2)  # noqa: S311
                time.sleep(backoff)  # this thread's own pause between attempts; training goes on
            else:
                backoff = 0.0

    def _deliver(self, batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
        """Send a batch: the events to send again (none when sent or refused), and whether the API
        was unavailable (then the next try waits)."""
        try:
            self._send(batch)
        except ApiError as error:
            if error.status is None or error.status >= 500 or error.status == 429:
                if self._unreachable_since is None:
                    self._unreachable_since = time.monotonic()
                    log.warning("mlhooks: run %s cannot send metrics yet (%s); retrying", self.id, error)
                return batch, True
            bad = _EVENT_INDEX.match(error.field or "")
            if error.status == 422 and bad and int(bad.group(1)) < len(batch) and len(batch) > 1:
                # One event the API will never take: drop it, send the others.
                index = int(bad.group(1))
                self._refused(batch[index], error)
                return batch[:index] + batch[index + 1 :], False
            for event in batch:
                self._refused(event, error)
            return [], False
        except Exception as error:  # the training loop must never see the logger fail
            log.warning("mlhooks: run %s dropped %d events: %s", self.id, len(batch), error)
            self.dropped += len(batch)
            return [], False
        if self._unreachable_since is not None:
            log.warning(
                "mlhooks: run %s sending again after %.0f s",
                self.id,
                time.monotonic() - self._unreachable_since,
            )
            self._unreachable_since = None
        self.sent += len(batch)
        return [], False

    def _warn_once(self, what: str, message: str) -> None:
        if what not in self._skipped:
            self._skipped.add(what)
            log.warning("mlhooks: run %s: %s", self.id, message)

    def _refused(self, event: dict[str, Any], error: ApiError) -> None:
        self.dropped += 1
        if error.code not in self._warned_refusals:  # once per kind: a bad key would refuse them all
            self._warned_refusals.add(error.code)
            log.warning("mlhooks: run %s: mlhooks refused %s: %s", self.id, event["detail_type"], error)


_open_runs: weakref.WeakSet[Run] = weakref.WeakSet()


@atexit.register
def _flush_open_runs() -> None:
    """At exit, give unfinished runs a few seconds to send what they logged (not forever: a
    training script must be able to end while mlhooks is down; a finished run has had its wait),
    and say what could not be sent."""
    deadline = time.monotonic() + EXIT_FLUSH_SECONDS
    for run in list(_open_runs):
        if not run._closing:
            run.flush(max(0.0, deadline - time.monotonic()))
        if run.pending:
            log.warning(
                "mlhooks: run %s: %d events not sent at exit (%d sent, %d dropped before)",
                run.id,
                run.pending,
                run.sent,
                run.dropped,
            )
