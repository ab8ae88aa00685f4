"""Files that hold keys or secret values (a saved login, `mlhooks dev`'s state): readable by their
owner only, from the moment they exist, and replaced whole."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Replace the file at once (a reader or a crash sees the old one or the new one, whole), readable
    by this user only from the moment it exists; a folder it needs is made readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        os.fchmod(out.fileno(), 0o600)  # a temporary file left by a crash keeps its mode otherwise
        out.write(text)
    temporary.replace(path)
