"""The layer as `sam build` makes it (layers/mlhooks/Makefile, the template's BuildMethod: makefile):
the wheels of the functions' platform, none of the code that only runs on a developer's machine, and
the bytecode of every module, which Lambda cannot write for itself (/opt is read-only)."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mlhooks.settings import FUNCTION_NEEDS, variable

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "mlhooks"
EM_AARCH64 = 183  # ELF e_machine of arm64: the functions' Architectures
UNCHECKED_HASH = 0b01  # a pyc's flags: hash-based, source never checked (PEP 552)


def build(artifacts: Path, *options: str) -> Path:
    make = shutil.which("make") or "make"
    target = ["build-MlhooksLayer", f"ARTIFACTS_DIR={artifacts}", f"PYTHON={sys.executable}", *options]
    subprocess.run([make, "-C", str(LAYER), *target], check=True, capture_output=True)
    return artifacts / "python"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("MlhooksLayer"))


@pytest.fixture(scope="module")
def built_here(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same layer with this machine's wheels, so that its functions can be imported here."""
    machine = platform.machine()
    tags = f"manylinux2014_{machine} manylinux_2_28_{machine} manylinux_2_34_{machine}"
    return build(tmp_path_factory.mktemp("MlhooksLayerHere"), f"PLATFORMS={tags}")


def test_every_module_ships_bytecode_that_is_used_as_it_is(built: Path) -> None:
    sources = list(built.rglob("*.py"))
    assert len(sources) > 500  # the dependencies are there, not only mlhooks
    wrong = []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        header = compiled.read_bytes()[:8] if compiled.exists() else b""
        if header[:4] != importlib.util.MAGIC_NUMBER or struct.unpack("<I", header[4:8])[0] != UNCHECKED_HASH:
            wrong.append(str(source.relative_to(built)))
    assert wrong == []


def test_the_layer_holds_mlhooks_without_the_developer_tools(built: Path) -> None:
    package = built / "mlhooks"
    assert (package / "settings.py").is_file() and (package / "api" / "members.py").is_file()
    assert [name for name in ("cli", "client", "local") if (package / name).exists()] == []


def test_native_modules_are_built_for_graviton(built: Path) -> None:
    native = list(built.rglob("*.so"))
    assert any(path.name.startswith("_pydantic_core") for path in native)
    assert {path.name: struct.unpack_from("<H", path.read_bytes(), 18)[0] for path in native} == {
        path.name: EM_AARCH64 for path in native
    }


def test_every_requirement_is_installed_at_its_pinned_version(built: Path) -> None:
    pinned = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (LAYER / "requirements.txt").read_text(), re.M)
    assert len(pinned) >= 6
    installed = {path.name.lower() for path in built.glob("*.dist-info")}
    missing = [
        f"{name}=={version}"
        for name, version in pinned
        if f"{re.sub(r'[-.]+', '_', name).lower()}-{version}.dist-info" not in installed
    ]
    assert missing == []


def test_sam_builds_the_layer_with_this_makefile(template: dict) -> None:
    layer = template["Resources"]["MlhooksLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "layers/mlhooks"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


# Imports what the function's requests can load after its cold start too: every API router, the docs'
# OpenAPI models and W&B's GraphQL engine.
EVERYTHING_LATER = """
from mlhooks.api import ROUTERS
app.app.include_routers(tuple(name for names in ROUTERS.values() for name in names))
import aws_lambda_powertools.event_handler.openapi.models, graphql, mlhooks.dry_run
"""
PROGRAM = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
LATER
files = (getattr(module, "__file__", None) for module in list(sys.modules.values()))
print(json.dumps(sorted({f for f in files if f and not f.startswith((sys.argv[2], sys.base_prefix))})))
"""


@pytest.mark.parametrize("function", sorted(FUNCTION_NEEDS))
def test_each_function_imports_from_the_layer_alone(built_here: Path, function: str) -> None:
    """No site-packages (-S): the function's folder, the layer and the standard library only, as on
    Lambda, so a dependency the layer lacks fails here rather than at a deployed cold start."""
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    for field in FUNCTION_NEEDS[function]:
        env[variable(field)] = "https://sqs.us-east-1.amazonaws.com/123456789012/q" if "url" in field else "x"
    program = PROGRAM.replace("LATER", EVERYTHING_LATER if function == "api" else "")
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            program,
            str(ROOT / "functions" / function),
            str(built_here),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    elsewhere = [f for f in json.loads(done.stdout) if not f.startswith(str(ROOT / "functions" / function))]
    assert elsewhere == []
