"""The local request inbox, and a fake Slack API speaking Slack's shapes.

`make dev` runs one on http://127.0.0.1:3001: point a webhook at http://127.0.0.1:3001/<any path>
and every delivery is recorded, with whether its signatures verify; `GET /requests` lists them.
Slack notifications sent to `/slack/api/chat.postMessage` are recorded as Slack would receive them.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Verifier = Callable[[str, dict[str, str], bytes], dict[str, str]]
SLACK_PATH = "/slack/api/chat.postMessage"


class Inbox:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        verifier: Verifier | None = None,
        slack_token_prefix: str = "xoxb-",  # noqa: S107 - a token prefix, not a token
    ):
        self.verifier = verifier
        self.slack_token_prefix = slack_token_prefix
        self.requests: list[dict[str, Any]] = []
        self.slack_messages: list[dict[str, Any]] = []
        self._scripted: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def slack_api_url(self) -> str:
        return f"{self.url}/slack/api"

    def start(self) -> Inbox:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, path: str, statuses: list[int]) -> None:
        """Answer the next requests to `path` with these statuses (then 200): a flaky receiver."""
        with self._lock:
            self._scripted[path] = list(statuses)

    def _next_status(self, path: str) -> int:
        with self._lock:
            queue = self._scripted.get(path)
            return queue.pop(0) if queue else 200

    def _record_webhook(self, path: str, headers: dict[str, str], body: bytes) -> int:
        verdicts = self.verifier(path, headers, body) if self.verifier else {}
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = body.decode("utf-8", errors="replace")
        status = self._next_status(path)
        with self._lock:
            self.requests.append(
                {
                    "received_at": dt.datetime.now(dt.UTC).isoformat(),
                    "path": path,
                    "headers": headers,
                    "body": payload,
                    "signatures": verdicts,
                    "answered": status,
                }
            )
        return status

    def _record_slack(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        token = headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token.startswith(self.slack_token_prefix):
            return 200, {"ok": False, "error": "invalid_auth"}  # Slack answers auth errors with 200
        try:
            message = json.loads(body)
        except ValueError:
            return 200, {"ok": False, "error": "invalid_json"}
        if not message.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}
        status = self._next_status(SLACK_PATH)
        if status == 429:
            return 429, {"ok": False, "error": "ratelimited"}
        if status >= 500:
            return status, {"ok": False, "error": "service_unavailable"}
        ts = f"{dt.datetime.now(dt.UTC).timestamp():.6f}"
        with self._lock:
            self.slack_messages.append(message)
        return 200, {
            "ok": True,
            "channel": message["channel"],
            "ts": ts,
            "message": {"text": message.get("text")},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
                raw = json.dumps(payload, indent=2).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                with inbox._lock:
                    self._reply(200, {"requests": inbox.requests, "slack_messages": inbox.slack_messages})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                path = self.path.split("?", 1)[0]
                if path == SLACK_PATH:
                    status, answer = inbox._record_slack(headers, body)
                    self._reply(status, answer, {"Retry-After": "1"} if status == 429 else None)
                    return
                status = inbox._record_webhook(path, headers, body)
                self._reply(status, {"received": status < 400})

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
