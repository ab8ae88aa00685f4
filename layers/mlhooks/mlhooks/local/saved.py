"""What `mlhooks dev` keeps across restarts: the stack's tables (every item: entities, members, keys,
secrets' records, integrations, automations, executions, run state), its Secrets Manager secrets
(names, values, descriptions, tags) and the dev admin key of each entity it served, in one file
beside the state file, `.mlhooks/saved.json`, readable by this user only (it holds secret values).

The file is replaced atomically (written aside, then renamed over) when the runtime stops and, while
it runs, within a few seconds of any change, so a runtime that is killed loses those seconds at
most. It is restored after provisioning and before the API serves; `mlhooks dev --reset` deletes it.
The stack's own secrets (the local Slack app's client secret) are not kept: provisioning makes them
anew each start, with that run's values.

Queue messages are not kept. Each execution still PENDING when the file was saved is queued again
on restore (a new round of attempts, as a redelivery gives), so none waits forever for a job that
went with the old process. Events on the bus not yet matched, jobs sent to run queues and
dead-lettered jobs are lost with the process (a dead-lettered execution is FAILED and can be
redelivered).

The tables are read and written in moto's in-process backend, in DynamoDB's JSON, under the lock
that makes moto's operations atomic: a snapshot takes milliseconds, and no transaction is half in it.
moto takes a free port each run and a run queue is kept by its URL, so on restore the items' mentions
of the old endpoint are rewritten to the new one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from mlhooks.clock import now_iso
from mlhooks.components import Components
from mlhooks.files import write_private
from mlhooks.jobs import Job, action_queue
from mlhooks.local import apigw
from mlhooks.local.atomic_dynamodb import atomically, writes
from mlhooks.local.stack import REGION, Stack
from mlhooks.models.vocabulary import ActionType, ExecutionState
from mlhooks.store import keys

FORMAT = 1
SAVED_FILE = "saved.json"
LOCK_FILE = "dev.lock"
# How often a running runtime looks for changes to save.
AUTOSAVE_SECONDS = 2.0

logger = logging.getLogger("mlhooks.local")


class SavedStateError(Exception):
    """The saved state cannot be used; the message is one line that says what to do."""


class SavedSecret(BaseModel):
    name: str
    value: str
    description: str = ""
    tags: list[dict[str, str]] = []


class SavedState(BaseModel):
    format: Literal[1]
    saved_at: str
    # moto's endpoint when this was saved: items that mention it are pointed at the next one.
    aws_endpoint_url: str
    # Logical id -> items, in DynamoDB's JSON ({"S": ...}, {"N": ...}, ...).
    tables: dict[str, list[dict[str, Any]]]
    secrets: list[SavedSecret] = []
    # Entity -> the API key `mlhooks dev` printed for its admin (the table keeps only its hash).
    dev_keys: dict[str, str] = {}


def _moved(value: Any, old: str, new: str) -> Any:
    """An item with every string mentioning the old endpoint rewritten to the new one."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_moved(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _moved(v, old, new) for k, v in value.items()}
    return value


def _expired(item: dict[str, Any], ttl_attribute: str | None, now: float) -> bool:
    """Whether DynamoDB's TTL would have deleted the item by now (moto never does)."""
    stamp = item.get(ttl_attribute or "", {}).get("N")
    return stamp is not None and float(stamp) < now


def _moto_dynamodb() -> Any:
    from moto.dynamodb.models import dynamodb_backends  # dev dependency: only local runs need it

    return dynamodb_backends[apigw.ACCOUNT_ID][REGION]


class SavedStateFile:
    """The saved state of one runtime folder: restored once, then saved on changes and on stop."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / SAVED_FILE
        self.loaded: SavedState | None = None  # what the last run saved, if anything
        self.state: SavedState | None = None
        self.stack: Stack | None = None
        self.endpoint_url = ""
        self.restored_pending = 0
        # Saving starts only once a restore succeeded: a state that failed to load is never overwritten.
        self._ready = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._saved_as: tuple[int, str] | None = None
        self._lock_file: Any = None

    # ---- the folder ----------------------------------------------------------------------------

    def claim(self) -> None:
        """Make the folder (this user's only) and hold it: one runtime per folder at a time."""
        if not self.folder.exists():
            self.folder.mkdir(mode=0o700, parents=True)
        elif self.folder.name == ".mlhooks":
            self.folder.chmod(0o700)  # mlhooks' own folder, perhaps made by a version that left it open
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, as before
            return
        self._lock_file = os.fdopen(os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600), "r+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SavedStateError(
                f"another mlhooks dev is running on {self.folder}; stop it first, or give this one "
                "its own --state-file"
            ) from None

    def close(self) -> None:
        """Let the folder go (another runtime may take it)."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def open(self, *, reset: bool = False) -> SavedState | None:
        """Hold the folder and read what was saved in it (nothing, after deleting it, with `reset`):
        a file that cannot be used stops the start before anything runs."""
        self.claim()
        if reset:
            self.path.unlink(missing_ok=True)
        self.loaded = self.load()
        return self.loaded

    def load(self) -> SavedState | None:
        """The saved state, or None when there is none; SavedStateError when it cannot be read."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._unusable(exc.strerror or str(exc)) from None
        try:
            found = json.loads(text).get("format")
        except (ValueError, AttributeError):
            found = FORMAT  # not even JSON: the model's error below says so
        if found != FORMAT:
            raise self._unusable(f"it is in format {found!r}, and this version of mlhooks reads {FORMAT}")
        try:
            return SavedState.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "the file"
            raise self._unusable(f"{where}: {first['msg']}") from None

    def _unusable(self, why: str) -> SavedStateError:
        return SavedStateError(
            f"the saved state {self.path} cannot be used ({why}); run `mlhooks dev --reset` to start clean"
        )

    # ---- restore -------------------------------------------------------------------------------

    def restore(self, stack: Stack, endpoint_url: str, secretsmanager: Any) -> None:
        """Put what `open` read into the freshly provisioned stack (nothing if there was nothing),
        and from now on keep the stack's state."""
        self.stack, self.endpoint_url = stack, endpoint_url
        state = self.loaded
        if state is not None:
            try:
                self._restore_tables(state, endpoint_url)
                for secret in state.secrets:
                    if secret.name in stack.secrets.values():
                        continue  # this run's provisioning made it, with this run's value
                    extra: dict[str, Any] = {"Description": secret.description} if secret.description else {}
                    if secret.tags:
                        extra["Tags"] = secret.tags
                    secretsmanager.create_secret(Name=secret.name, SecretString=secret.value, **extra)
            except Exception as exc:  # whatever moto refuses in it, the advice is the same
                raise self._unusable(f"{type(exc).__name__}: {exc}".splitlines()[0][:200]) from None
        self.state = state or SavedState(
            format=FORMAT, saved_at=now_iso(), aws_endpoint_url=endpoint_url, tables={}
        )
        self._ready = True

    def _restore_tables(self, state: SavedState, endpoint_url: str) -> None:
        backend = _moto_dynamodb()
        with atomically():
            tables = self.tables()
            for logical_id, items in state.tables.items():
                if logical_id not in tables:
                    raise ValueError(f"the template has no table {logical_id}")
                for item in items:
                    backend.put_item(tables[logical_id], _moved(item, state.aws_endpoint_url, endpoint_url))

    def requeue_pending(self, components: Components) -> int:
        """Queue a job for every PENDING execution: its message went with the old process."""
        entities = [
            item["PK"]["S"].removeprefix(keys.entity_pk(""))
            for items in (self.loaded.tables.values() if self.loaded else [])
            for item in items
            if item.get("SK", {}).get("S") == keys.ENTITY_SK
        ]
        queued = 0
        for entity in entities:
            token = None
            while True:
                records, token = components.store.list_executions(
                    entity, state=ExecutionState.PENDING.value, limit=100, token=token
                )
                for record in records:
                    if record.action_type is ActionType.NO_OP:
                        continue
                    components.sqs.send_message(
                        QueueUrl=action_queue(components.settings, record.action_type),
                        MessageBody=Job.of(record).body(),
                    )
                    queued += 1
                if token is None:
                    break
        self.restored_pending = queued
        return queued

    # ---- dev keys ------------------------------------------------------------------------------

    def dev_key(self, entity: str) -> str | None:
        return self.state.dev_keys.get(entity) if self.state else None

    def remember_key(self, entity: str, key: str, secretsmanager: Any) -> None:
        assert self.state is not None
        self.state.dev_keys[entity] = key
        self.save(secretsmanager)

    # ---- save ----------------------------------------------------------------------------------

    def tables(self) -> dict[str, str]:
        """The stack's tables: logical id -> name."""
        assert self.stack is not None
        return {
            logical_id: self.stack.refs[logical_id]
            for logical_id, arn in self.stack.arns.items()
            if arn.startswith("arn:aws:dynamodb:")
        }

    def snapshot(self, secrets: list[SavedSecret]) -> SavedState:
        assert self.state is not None
        backend, now = _moto_dynamodb(), time.time()
        tables = {}
        with atomically():
            for logical_id, name in self.tables().items():
                table = backend.get_table(name)
                ttl = (
                    table.ttl.get("AttributeName") if table.ttl.get("TimeToLiveStatus") == "ENABLED" else None
                )
                items = [item.to_json()["Attributes"] for item in table.all_items()]
                tables[logical_id] = [item for item in items if not _expired(item, ttl, now)]
        return SavedState(
            format=FORMAT,
            saved_at=now_iso(),
            aws_endpoint_url=self.endpoint_url,
            tables=tables,
            secrets=secrets,
            dev_keys=self.state.dev_keys,
        )

    @staticmethod
    def _secrets(secretsmanager: Any, listing: list[dict[str, Any]]) -> list[SavedSecret]:
        secrets = []
        for listed in listing:
            with contextlib.suppress(
                secretsmanager.exceptions.ResourceNotFoundException
            ):  # deleted meanwhile
                value = secretsmanager.get_secret_value(SecretId=listed["ARN"]).get("SecretString")
                if value is not None:
                    secrets.append(
                        SavedSecret(
                            name=listed["Name"],
                            value=value,
                            description=listed.get("Description") or "",
                            tags=listed.get("Tags") or [],
                        )
                    )
        return secrets

    def save(self, secretsmanager: Any, *, only_if_changed: bool = False) -> bool:
        """Write the state now, or only if a table or a secret changed since the last write; nothing
        before a restore succeeded. True if it wrote."""
        with self._lock:
            if not self._ready:
                return False
            # Read before the snapshot: a change made meanwhile is seen by the next look.
            provisioned = set(self.stack.secrets.values()) if self.stack else set()
            listing = [
                secret
                for page in secretsmanager.get_paginator("list_secrets").paginate()
                for secret in page["SecretList"]
                if secret["Name"] not in provisioned
            ]
            seen = (writes(), json.dumps(listing, default=str, sort_keys=True))
            if only_if_changed and seen == self._saved_as:
                return False
            self._write(self.snapshot(self._secrets(secretsmanager, listing)))
            self._saved_as = seen
            return True

    def _write(self, state: SavedState) -> None:
        self.state = state
        write_private(self.path, state.model_dump_json())

    # ---- autosave ------------------------------------------------------------------------------

    def start_autosave(self, secretsmanager: Any) -> None:
        threading.Thread(target=self._autosave, args=(secretsmanager,), daemon=True, name="autosave").start()

    def _autosave(self, secretsmanager: Any) -> None:
        while not self._stop.wait(AUTOSAVE_SECONDS):
            try:
                self.save(secretsmanager, only_if_changed=True)
            except Exception:  # moto busy or stopping: the next turn, or the final save, catches up
                logger.exception("saving the local runtime's state failed")

    def stop_autosave(self) -> None:
        self._stop.set()
