"""A real HTTP receiver on 127.0.0.1 that verifies what mlhooks sends, as a user's service would:
the bearer token, `X-Wandb-Signature` (hex or base64) and the Standard Webhooks signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def wandb_signature(secret: str, body: bytes, encoding: str = "hex") -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timed-out delivery) leaves the answer nowhere to go: expected here.
        pass


@dataclass
class Receiver:
    """Answers with `status` (and `reply`), records every request."""

    status: int = 200
    reply: bytes = b'{"ok":true}'
    requests: list[Received] = field(default_factory=list)
    # Statuses for the next requests, before `status` applies again: a flaky endpoint. Besides
    # numbers: "reset" closes the connection without an answer, ("sleep", s) answers after s seconds.
    statuses: list[Any] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)
    answered: list[int] = field(default_factory=list)  # the statuses actually sent back
    # Builds the answer from the request instead of `reply`/`extra_headers`: an echoing receiver.
    echo: Callable[[Received], tuple[bytes, dict[str, str]]] | None = None

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                if status == "reset":
                    # SO_LINGER 0: close with a TCP reset, the way a crashed server or a proxy does.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if isinstance(status, tuple):
                    time.sleep(status[1])
                    status = 200
                receiver.answered.append(status)
                reply, headers = (
                    receiver.echo(receiver.requests[-1])
                    if receiver.echo
                    else (receiver.reply, receiver.extra_headers)
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
