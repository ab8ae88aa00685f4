"""The console's files as ConsoleFunction serves them (mlhooks.console): the page, its scripts, and
nothing else."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from samples import ROOT

from mlhooks.console import respond
from mlhooks.local.template import api_routes, load_template

STATIC = ROOT / "functions" / "console" / "static"


def get(
    path: str, *, stage: str = "", headers: dict[str, str] | None = None, method: str = "GET"
) -> dict[str, Any]:
    """An API Gateway proxy event as the stage `stage` hands it on (the full path in requestContext)."""
    return respond(
        {
            "httpMethod": method,
            "path": path,
            "headers": headers or {},
            "queryStringParameters": None,
            "requestContext": {"path": f"{stage}{path}"},
        },
        STATIC,
    )


def test_the_page_says_where_it_is_served_so_links_work_behind_a_stage() -> None:
    answer = get("/console/", stage="/prod")
    assert answer["statusCode"] == 200
    assert '<base href="/prod/console/">' in answer["body"]
    assert get("/console/")["body"].count('<base href="/console/">') == 1


def test_a_return_path_the_console_routes_itself_gets_the_page() -> None:
    answer = get("/console/slack/callback", stage="/dev")
    assert answer["statusCode"] == 200 and '<base href="/dev/console/">' in answer["body"]


def test_the_root_without_a_slash_moves_to_it_keeping_the_stage() -> None:
    answer = get("/console", stage="/dev")
    assert answer["statusCode"] == 301 and answer["headers"]["Location"] == "/dev/console/"


def test_the_policy_allows_this_origin_and_the_import_map_by_its_hash_only() -> None:
    answer = get("/console/")
    policy = answer["headers"]["Content-Security-Policy"]
    (import_map,) = re.findall(r'<script type="importmap">(.*?)</script>', answer["body"], re.S)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy
    assert answer["headers"]["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/console/app.js", "text/javascript"),
        ("/console/styles.css", "text/css"),
        ("/console/pages/history.js", "text/javascript"),
    ],
)
def test_files_are_served_with_their_type_and_a_validator(path: str, content_type: str) -> None:
    answer = get(path)
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"].startswith(content_type)
    assert answer["body"] == (STATIC / path.removeprefix("/console/")).read_text()
    again = get(path, headers={"if-none-match": answer["headers"]["ETag"]})
    assert again["statusCode"] == 304 and again["body"] == ""


@pytest.mark.parametrize(
    "path",
    [
        "/console/../app.py",
        "/console/pages/../../app.py",
        "/console/%2e%2e/app.py",
        "/console/vendor/.built",
        "/console/.hidden.js",
        "/console/app.py",
        "/console/nope.js",
        "/console/pages",
        "/console/pages\\..\\app.js",
        "/console//etc/hostname.txt",
        f"/console/{STATIC}/app.js",
        "/console//" + str(STATIC / "app.js").lstrip("/"),
    ],
)
def test_nothing_outside_the_static_files_is_served(path: str) -> None:
    answer = get(path)
    assert answer["statusCode"] == 404
    assert '"code": "not_found"' in answer["body"]


def test_only_get_and_head() -> None:
    assert get("/console/app.js", method="POST")["statusCode"] == 405


def test_every_vendor_file_the_import_map_names_is_built() -> None:
    index = (STATIC / "index.html").read_text()
    named = re.findall(r'"\./(vendor/[^"]+)"', index)
    assert named and all((STATIC / name).is_file() for name in named), "run `make console`"


def test_the_template_serves_the_console_without_an_api_key() -> None:
    routes = [r for r in api_routes(load_template(ROOT / "template.yaml")) if r.function == "ConsoleFunction"]
    assert {(r.method, r.path, r.authorized) for r in routes} == {
        ("GET", "/console", False),
        ("GET", "/console/{proxy+}", False),
    }
    console = next(r for r in routes if r.path == "/console")
    assert console.matches("GET", "/console/") and not console.matches("GET", "/consoles")


def test_the_console_function_loads_neither_the_aws_sdk_nor_powertools() -> None:
    code = (
        "import sys; sys.path.insert(0, 'functions/console'); import app; "
        "heavy = ('boto3', 'botocore', 'aws_lambda_powertools'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(ROOT), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
