"""The layer as `sam build` makes it (layers/mlhooks/Makefile, the template's BuildMethod: makefile):
the wheels of the functions' platform, none of the code that only runs on a developer's machine, and
the bytecode of every module, which Lambda cannot write for itself (/opt is read-only)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "mlhooks"
EM_AARCH64 = 183  # ELF e_machine of arm64: the functions' Architectures
UNCHECKED_HASH = 0b01  # a pyc's flags: hash-based, source never checked (PEP 552)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("MlhooksLayer")
    make = shutil.which("make") or "make"
    target = ["build-MlhooksLayer", f"ARTIFACTS_DIR={artifacts}", f"PYTHON={sys.executable}"]
    subprocess.run(
        [make, "-C", str(LAYER), *target],
        check=True,
        capture_output=True,
    )
    return artifacts / "python"


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
