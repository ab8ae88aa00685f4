"""How commands answer: a table or a record on a terminal, JSON with `--json`, and an exit code a
script can rely on for every kind of failure."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mlhooks import __version__
from mlhooks.client import ApiError, NotConfigured

# Exit codes (README "Commands"): what a script can branch on.
OK = 0
FAILED = 1  # the API refused the request (invalid input), or a test delivery failed
USAGE = 2  # the command line itself was wrong (Click's own code)
NOT_FOUND = 3
CONFLICT = 4  # exists, in use, changed meanwhile, or a state that does not allow it (409, 412)
NOT_ALLOWED = 5  # no key, a wrong key, or a role that may not do this
UNAVAILABLE = 6  # the API could not be reached, or failed (5xx)

# Piped into a file or another program, a table keeps its rows on one line each.
WIDTH = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS") or 250)
# Names, payloads and events are users' text: printed as they are, never read as Rich markup
# (`[/]`) or emoji codes (`:thumbsup:`), so what is shown is what was sent.
out = Console(highlight=False, markup=False, emoji=False, width=WIDTH)
err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)


def plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def emit_json(value: Any) -> None:
    click.echo(json.dumps(plain(value), indent=2))


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def table(
    rows: Iterable[Any], columns: Sequence[tuple[str, Callable[[Any], Any] | str]], as_json: bool
) -> None:
    """Rows as a table; columns are (heading, attribute name or function of the row)."""
    rows = list(rows)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        err.print("(none)")
        return
    grid = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
    for heading, _ in columns:
        grid.add_column(heading, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(cell(getattr(row, c) if isinstance(c, str) else c(row))) for _, c in columns))
    out.print(grid)


def record(value: Any, as_json: bool, fields: Sequence[str] | None = None) -> None:
    """One object: its fields, one per line (nested values as compact JSON)."""
    if as_json:
        emit_json(value)
        return
    data = plain(value)
    grid = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for name in fields or list(data):
        if name in data:
            grid.add_row(name, Text(cell(data[name])))
    out.print(grid)


def done(message: str, as_json: bool, value: Any = None) -> None:
    """A change made: a line for a person, the object (or `{"ok": true}`) for a script."""
    if as_json:
        emit_json(value if value is not None else {"ok": True, "message": message})
    else:
        out.print(message)


HINTS = {
    401: "Check the key: `mlhooks login URL` saves one; `mlhooks whoami` shows which is used.",
    403: "Your key may not do this: an ADMIN can change roles (`mlhooks members set-role`) or make a "
    "service key (`mlhooks keys create --service`).",
}


def exit_code(error: ApiError) -> int:
    if error.status is None or error.status >= 500:
        return UNAVAILABLE
    return {404: NOT_FOUND, 409: CONFLICT, 412: CONFLICT, 401: NOT_ALLOWED, 403: NOT_ALLOWED}.get(
        error.status, FAILED
    )


def fail(message: str, code: int, error: ApiError | None = None, as_json: bool = False) -> None:
    """One line (or a few) on stderr and the exit code; with `--json`, the API's error object on
    stdout too, so a script reading stdout always gets JSON."""
    if as_json:
        found = error or ApiError(None, "error", message)
        fields = {"status": found.status, "code": found.code, "message": found.message, "field": found.field}
        emit_json({"error": {**fields, "details": found.details, "exit_code": code}})
    err.print(Text(f"Error: {message}"))
    sys.exit(code)


def api_errors[**P, R](command: Callable[P, R]) -> Callable[P, R]:
    """The API's refusals as one line (the message, the field at fault, what to do) and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except ValidationError as error:
            # An answer that is not the API's models: another service at that URL, or another version.
            fail(
                f"The answer is not what this mlhooks ({__version__}) expects from an mlhooks API: "
                f"{error.error_count()} problem(s), first at {'.'.join(map(str, error.errors()[0]['loc']))}. "
                "Check the URL (`mlhooks whoami`).",
                UNAVAILABLE,
                ApiError(None, "unexpected_answer", "The answer is not an mlhooks API's."),
                as_json,
            )
        except NotConfigured as error:
            fail(error.message, NOT_ALLOWED, error, as_json)
        except ApiError as error:
            where = f" (field: {error.field})" if error.field else ""
            status = f"{error.status} {error.code}" if error.status else error.code
            lines = [f"{error.message}{where} [{status}]"]
            lines += [f"  {d.get('field') or '-'}: {d.get('message')}" for d in error.details[1:]]
            hint = HINTS.get(error.status or 0)
            if error.status == 403 and error.field and error.field.endswith((".author", ".run.user")):
                hint = "Publish as yourself (`--as-me`), or with a service key (`keys create --service`)."
            if error.status is None:
                hint = (
                    "Is the API running? `make dev` starts one locally; `mlhooks whoami` shows the URL used."
                )
            if hint:
                lines.append(hint)
            fail("\n".join(lines), exit_code(error), error, as_json)
        raise AssertionError("unreachable")  # fail() exits

    return wrapper
