"""The web console's files, as ConsoleFunction serves them at `/console/`.

The console is a single page of ES modules (Preact and htm, pinned in tools/console and copied into
`static/vendor` by `make console`) that signs in with an API key and calls the public `/v1` API like
any other client: this module only hands out files and reads no data.

Every page path under `/console/` that is not a file gets the same `index.html`, so links such as
Slack's return to `/console/slack/callback` load the console, which routes on the path and the hash.
The page carries `<base href>` for where it is served (with API Gateway's stage in front), so its
relative links and the import map work at any depth, and the API is found beside it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlencode

from mlhooks.gateway import served_prefix

ROOT = "/console"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
# Page paths the console routes itself (index.html is served for them); anything else is a file.
PAGES = frozenset({"", "index.html", "slack/callback"})
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def _headers(content_type: str, csp: str | None = None) -> dict[str, str]:
    headers = {
        "Content-Type": content_type,
        "X-Content-Type-Options": "nosniff",
        # The Slack return URL carries a code and a state: no page's address goes to another site.
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        # Revalidate every time: file names carry no hash, and an upgrade must show at once.
        "Cache-Control": "no-cache",
    }
    if csp:
        headers["Content-Security-Policy"] = csp
    return headers


def _policy(index: str) -> str:
    """Only this origin's scripts, styles and API; the one inline script (the import map) by hash."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()}'"
        for m in _IMPORT_MAP.findall(index)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    body = json.dumps({"error": {"code": code, "message": message, "field": None, "details": []}})
    return {"statusCode": status, "headers": _headers("application/json"), "body": body}


def _file(static: Path, relative: str) -> Path | None:
    """The file under `static` that `relative` names, or None: no dot segments, no hidden files,
    only the types the console uses."""
    wanted = PurePosixPath(relative)
    parts = wanted.parts
    if wanted.is_absolute() or not parts or any(p in ("..", ".") or p.startswith(".") for p in parts):
        return None  # "/console//etc/x.js" would otherwise join to /etc/x.js
    if "\\" in relative:
        return None
    path = static.joinpath(*parts)
    # Whatever the path says, nothing outside the static folder (a symbolic link included).
    if not path.resolve().is_relative_to(static.resolve()):
        return None
    if path.suffix not in TYPES or not path.is_file():
        return None
    return path


def respond(event: dict[str, Any], static: Path) -> dict[str, Any]:
    """API Gateway's proxy answer for a GET under /console."""
    if (event.get("httpMethod") or "GET").upper() not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", "The console's files are read with GET.")
    path = event.get("path") or ROOT
    prefix = served_prefix(event)
    if path == ROOT:
        query = urlencode(event.get("queryStringParameters") or {})
        location = f"{prefix}{ROOT}/" + (f"?{query}" if query else "")
        return {"statusCode": 301, "headers": _headers(TYPES[".txt"]) | {"Location": location}, "body": ""}
    relative = path.removeprefix(f"{ROOT}/")
    if relative in PAGES:
        index = (static / "index.html").read_bytes().decode()
        page = index.replace("%BASE%", f"{prefix}{ROOT}/")
        return {"statusCode": 200, "headers": _headers(TYPES[".html"], _policy(index)), "body": page}
    file = _file(static, relative)
    if file is None:
        return _error(404, "not_found", f"The console has no file {relative!r}.")
    content = file.read_bytes()  # read each time: `make dev` shows an edit at once
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    headers = _headers(TYPES[file.suffix]) | {"ETag": etag}
    asked = {k.lower(): v for k, v in (event.get("headers") or {}).items()}.get("if-none-match")
    if asked == etag:
        return {"statusCode": 304, "headers": headers, "body": ""}
    return {"statusCode": 200, "headers": headers, "body": content.decode()}
