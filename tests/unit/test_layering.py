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
    # The HTTP edge, and its clients (the Python client and the command line), speak the API's models.
    edges = ("api", "client", "cli")
    core = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in edges]
    core = [p for p in core if p.relative_to(PACKAGE).parts[:2] != ("models", "api")]
    assert len(core) > 40  # the whole core is looked at, not a moved folder's remains
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(n for n in imported(p) if n == e or n.startswith(e + "."))
        for p in core
        for e in EDGE
    }
    assert {path: names for path, names in offenders.items() if names} == {}


CLIENTS = ("mlhooks.cli", "mlhooks.client")


def test_the_functions_never_load_the_command_line_or_the_client() -> None:
    """The Lambda layer carries neither Click nor Rich (the `cli` extra): only the command line
    imports them, and nothing the functions load imports the command line or the client."""
    outside = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in ("cli", "client")]
    # `mlhooks.Client` for users: the package's __getattr__ loads the client on first use only.
    outside.remove(PACKAGE / "__init__.py")
    assert len(outside) > 40
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(
            n for n in imported(p) if n.split(".")[0] in ("click", "rich") or n.startswith(CLIENTS)
        )
        for p in outside
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    layer = (PACKAGE.parent / "requirements.txt").read_text().lower()
    assert "click" not in layer and "rich" not in layer
