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

from standardwebhooks import Webhook

# A trickled answer is longer than any excerpt a sender reads: it never ends on its own in a test.
TRICKLE_BYTES = 1_000_000


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


def standard_webhooks_verified(secret: str, request: Received) -> Any:
    """The request checked by the `standardwebhooks` package, as a receiver would check it: an oracle
    independent of our signer. Raises WebhookVerificationError when the signature does not hold. A
    secret without the `whsec_` prefix is keyed by its UTF-8 bytes, which the library takes base64'd."""
    key = secret if secret.startswith("whsec_") else "whsec_" + base64.b64encode(secret.encode()).decode()
    return Webhook(key).verify(request.body, request.headers)


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
    # numbers: "reset" closes the connection without an answer, ("sleep", s) answers after s seconds,
    # ("trickle", s) answers 200 with a long body, one byte every s seconds, until the client leaves;
    # ("hold", arrived, release) sets the `arrived` event and answers 200 once `release` is set.
    statuses: list[Any] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)
    answered: list[int] = field(default_factory=list)  # the statuses actually sent back
    # Builds the answer from the request instead of `reply`/`extra_headers`: an echoing receiver.
    echo: Callable[[Received], tuple[bytes, dict[str, str]]] | None = None

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _client_left(self) -> bool:
                """Whether the client hung up while this answer slept (it timed out): an answer
                now would reach nobody, and must not count as one the sender saw."""
                try:
                    return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
                except BlockingIOError:
                    return False  # still connected, nothing more sent
                except OSError:
                    return True

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
                if isinstance(status, tuple) and status[0] == "hold":
                    _, arrived, release = status
                    arrived.set()
                    release.wait(30)  # the test lets it answer; a bound, so a failed test cannot hang
                    status = 200
                if isinstance(status, tuple) and status[0] == "trickle":
                    self._trickle(status[1])
                    return
                if isinstance(status, tuple):
                    time.sleep(status[1])
                    if self._client_left():
                        self.close_connection = True
                        return
                    status = 200
                receiver.answered.append(status)
                reply, headers = (
                    receiver.echo(receiver.requests[-1])
                    if receiver.echo
                    else (receiver.reply, receiver.extra_headers)
                )
                self.send_response(status)
                if not any(name.lower() == "content-type" for name in headers):
                    self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def _trickle(self, interval: float) -> None:
                receiver.answered.append(200)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(TRICKLE_BYTES))
                self.end_headers()
                for _ in range(TRICKLE_BYTES):
                    self.wfile.write(b"x")  # unbuffered: each byte is sent on its own
                    time.sleep(interval)

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
