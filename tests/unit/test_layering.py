"""The core does not depend on the HTTP edge: nothing outside `mlhooks/api/` imports `mlhooks.api` or
`mlhooks.models.api`, so a second wire format (W&B's) can map onto the same automation language."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "mlhooks" / "mlhooks"
EDGE = ("mlhooks.api", "mlhooks.models.api")


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_core_imports_nothing_from_the_http_edge() -> None:
    core = [p for p in PACKAGE.rglob("*.py") if "api" not in p.relative_to(PACKAGE).parts[:1]]
    core = [p for p in core if p.relative_to(PACKAGE) != Path("models/api.py")]
    assert len(core) > 40  # the whole core is looked at, not a moved folder's remains
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(n for n in imported(p) if n == e or n.startswith(e + "."))
        for p in core
        for e in EDGE
    }
    assert {path: names for path, names in offenders.items() if names} == {}
