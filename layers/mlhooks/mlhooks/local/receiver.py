"""`mlhooks receive`: a webhook receiver for trying mlhooks out. It prints each request and whether
its signatures verify, the way a receiver built for W&B would check them."""

from __future__ import annotations

import contextlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mlhooks.models.vocabulary import SignatureEncoding
from mlhooks.signing import (
    WANDB_SIGNATURE_HEADER,
    WEBHOOK_ID_HEADER,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
    sign_standard_webhooks,
    sign_wandb,
)


def verdicts(headers: dict[str, str], body: bytes, signing_secret: str | None) -> dict[str, str]:
    """Each signature header's verdict: "valid", "INVALID", or "missing" when the header is absent
    (a receiver should tell "not signed" from "signed wrongly")."""
    if not signing_secret:
        return {}
    headers = {name.lower(): value for name, value in headers.items()}
    wandb = headers.get(WANDB_SIGNATURE_HEADER.lower())
    expected = {sign_wandb(signing_secret, body, encoding) for encoding in SignatureEncoding}
    result = {
        WANDB_SIGNATURE_HEADER: "missing"
        if wandb is None
        else "valid"
        if any(hmac.compare_digest(wandb, e) for e in expected)
        else "INVALID"
    }
    msg_id, timestamp = headers.get(WEBHOOK_ID_HEADER, ""), headers.get(WEBHOOK_TIMESTAMP_HEADER, "")
    if WEBHOOK_SIGNATURE_HEADER not in headers:
        result[WEBHOOK_SIGNATURE_HEADER] = "missing"
    elif msg_id and timestamp.isdigit():
        standard = sign_standard_webhooks(signing_secret, msg_id, int(timestamp), body)
        given = headers.get(WEBHOOK_SIGNATURE_HEADER, "").split()
        result[WEBHOOK_SIGNATURE_HEADER] = (
            "valid" if any(hmac.compare_digest(g, standard) for g in given) else "INVALID"
        )
    return result


def serve(port: int, signing_secret: str | None, status: int = 200) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            print(f"\n--- POST {self.path}")
            for name, value in headers.items():
                print(f"{name}: {value}")
            try:
                print(json.dumps(json.loads(body), indent=2))
            except ValueError:
                print(body.decode("utf-8", errors="replace"))
            for header, verdict in verdicts(headers, body, signing_secret).items():
                print(f"{header} {verdict}")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"received": true}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"Receiving on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
