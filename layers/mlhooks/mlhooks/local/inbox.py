"""The local request inbox, and a fake Slack speaking Slack's shapes.

`make dev` runs one on http://127.0.0.1:3001: point a webhook at http://127.0.0.1:3001/<any path>
and every delivery is recorded, with whether its signatures verify; `GET /requests` lists them.
Slack notifications sent to `/slack/api/chat.postMessage` are recorded as Slack would receive them.

With a Slack app (`SlackApp`, the client id and secret the local stack is given), it also serves
Slack's OAuth v2 install, so "Connect Slack" runs offline: `/slack/oauth/v2/authorize`, a consent
page on which the admin picks a channel and allows (or cancels), redirecting with a single-use
`code` (or `error=access_denied`); and `/slack/api/oauth.v2.access`, which checks the app's
credentials, the code and its redirect URI as Slack does, and answers a fresh bot token for the
chosen channel, in Slack's shapes (`ok: false` with Slack's error codes, on HTTP 200).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

Verifier = Callable[[str, dict[str, str], bytes], dict[str, str]]
SLACK_PATH = "/slack/api/chat.postMessage"
AUTHORIZE_PATH = "/slack/oauth/v2/authorize"
OAUTH_ACCESS_PATH = "/slack/api/oauth.v2.access"
# The fake workspace and its channels, as oauth.v2.access describes them.
TEAM = {"id": "T0LOCAL", "name": "mlhooks local"}
CHANNELS = {"C0123GENERAL": "general", "C0123MLALERTS": "ml-alerts", "C0123DEPLOYS": "deployments"}


@dataclass(frozen=True)
class SlackApp:
    """The Slack app the fake Slack knows: what `mlhooks dev` gives the stack as SlackClientId and
    SlackClientSecret."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class _Grant:
    """What an Allow granted, until its code is exchanged (once)."""

    client_id: str
    redirect_uri: str
    channel_id: str | None  # None: the scopes did not ask for a channel (no incoming-webhook)


class Inbox:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        verifier: Verifier | None = None,
        slack_token_prefix: str = "xoxb-",  # noqa: S107 - a token prefix, not a token
        slack_app: SlackApp | None = None,
    ):
        self.verifier = verifier
        self.slack_token_prefix = slack_token_prefix
        self.slack_app = slack_app
        self._grants: dict[str, _Grant] = {}
        # Bot tokens oauth.v2.access gave out -> the channel of their install.
        self.issued_tokens: dict[str, str | None] = {}
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

    @property
    def slack_authorize_url(self) -> str:
        return f"{self.url}{AUTHORIZE_PATH}"

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

    # ---- Slack's OAuth v2 install ---------------------------------------------------------------

    def _install_problem(self, query: dict[str, str]) -> str | None:
        """Why Slack would not show its page for this request, or None."""
        if self.slack_app is None or query.get("client_id") != self.slack_app.client_id:
            return "Invalid client_id parameter: this fake Slack knows no such app."
        redirect = urlsplit(query.get("redirect_uri", ""))
        if redirect.scheme not in ("http", "https") or not redirect.netloc:
            return "Missing or invalid redirect_uri parameter."
        if not query.get("state"):
            return "Missing state parameter."
        return None

    def authorize_page(self, query: dict[str, str]) -> tuple[int, str]:
        """Slack's consent page: the app asks to post, the admin picks a channel, allows or cancels."""
        problem = self._install_problem(query)
        if problem:
            return 400, _page("Something went wrong", f"<p class='error'>{html.escape(problem)}</p>")
        scopes = [s for s in query.get("scope", "").split(",") if s]
        hidden = "".join(
            f"<input type='hidden' name='{name}' value='{html.escape(query.get(name, ''), quote=True)}'>"
            for name in ("client_id", "scope", "redirect_uri", "state")
        )
        picker = ""
        if "incoming-webhook" in scopes:
            options = "".join(
                f"<label><input type='radio' name='channel' value='{cid}'{' checked' if i == 0 else ''}>"
                f" #{html.escape(name)}</label>"
                for i, (cid, name) in enumerate(CHANNELS.items())
            )
            picker = f"<h2>Where should mlhooks post?</h2><fieldset>{options}</fieldset>"
        asks = "".join(f"<li><code>{html.escape(scope)}</code></li>" for scope in scopes)
        body = (
            f"<p><b>mlhooks</b> is requesting permission to access the <b>{TEAM['name']}</b> Slack "
            "workspace.</p><h2>What will mlhooks be able to do?</h2>"
            f"<ul><li>Send messages as mlhooks</li><li>Post messages to a channel you pick</li>{asks}</ul>"
            f"<form method='post' action='{AUTHORIZE_PATH}'>{hidden}{picker}<div class='buttons'>"
            "<button type='submit' name='decision' value='cancel' class='cancel'>Cancel</button>"
            "<button type='submit' name='decision' value='allow' class='allow'>Allow</button>"
            "</div></form>"
        )
        return 200, _page("mlhooks is requesting permission", body)

    def decide(self, form: dict[str, str]) -> tuple[int, str, str | None]:
        """The page's Allow or Cancel: (status, page, where to redirect)."""
        problem = self._install_problem(form)
        channel = form.get("channel")
        scopes = form.get("scope", "").split(",")
        picks = form.get("decision") == "allow" and "incoming-webhook" in scopes
        if problem is None and picks and channel not in CHANNELS:
            problem = "Pick a channel for mlhooks to post to."
        if problem:
            return 400, _page("Something went wrong", f"<p class='error'>{html.escape(problem)}</p>"), None
        assert self.slack_app is not None
        if form.get("decision") == "allow":
            code = f"{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
            with self._lock:
                self._grants[code] = _Grant(
                    self.slack_app.client_id,
                    form["redirect_uri"],
                    channel if "incoming-webhook" in scopes else None,
                )
            answer = {"code": code, "state": form["state"]}
        else:
            answer = {"error": "access_denied", "state": form["state"]}
        redirect = form["redirect_uri"]
        return 302, "", f"{redirect}{'&' if '?' in redirect else '?'}{urlencode(answer)}"

    def oauth_access(self, headers: dict[str, str], form: dict[str, str]) -> dict[str, Any]:
        """oauth.v2.access: the app's credentials (HTTP Basic, or form fields, as Slack takes both),
        then the code, used once, with the redirect URI it was given for."""
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return {"ok": False, "error": "invalid_client_id"}
        app = self.slack_app
        if app is None or client_id != app.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != app.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or grant.client_id != client_id:
            return {"ok": False, "error": "invalid_code"}
        if form.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        token = f"{self.slack_token_prefix}local-{secrets.token_hex(20)}"
        with self._lock:
            self.issued_tokens[token] = grant.channel_id
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": "A0LOCALAPP",
            "authed_user": {"id": "U0LOCALADMIN"},
            "scope": "chat:write,incoming-webhook" if grant.channel_id else "chat:write",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": "U0LOCALBOT",
            "team": dict(TEAM),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if grant.channel_id:
            hook = secrets.token_hex(12)
            answer["incoming_webhook"] = {
                "channel": f"#{CHANNELS[grant.channel_id]}",
                "channel_id": grant.channel_id,
                "configuration_url": f"{self.url}/slack/services/B0LOCAL",
                "url": f"{self.url}/slack/services/{TEAM['id']}/B0LOCAL/{hook}",
            }
        return answer

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

            def _reply_page(self, status: int, page: str, location: str | None = None) -> None:
                raw = page.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == AUTHORIZE_PATH:
                    self._reply_page(*inbox.authorize_page(_fields(query)))
                    return
                with inbox._lock:
                    self._reply(200, {"requests": inbox.requests, "slack_messages": inbox.slack_messages})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                path = self.path.split("?", 1)[0]
                if path == AUTHORIZE_PATH:
                    self._reply_page(*inbox.decide(_fields(body.decode("utf-8", errors="replace"))))
                    return
                if path == OAUTH_ACCESS_PATH:
                    form = _fields(body.decode("utf-8", errors="replace"))
                    self._reply(200, inbox.oauth_access(headers, form))  # Slack says no with a 200 too
                    return
                if path == SLACK_PATH:
                    status, answer = inbox._record_slack(headers, body)
                    self._reply(status, answer, {"Retry-After": "1"} if status == 429 else None)
                    return
                status = inbox._record_webhook(path, headers, body)
                self._reply(status, {"received": status < 400})

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _fields(text: str) -> dict[str, str]:
    """A query string or a form body, the first value of each field."""
    return {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}


_STYLE = """
body{margin:0;background:#f8f8f8;font:15px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;
color:#1d1c1d}
main{max-width:34rem;margin:3rem auto;background:#fff;border:1px solid #ddd;border-radius:8px;
padding:2rem 2.5rem}
.brand{font-weight:900;font-size:1.4rem;color:#4a154b;margin-bottom:1rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}h2{font-size:1rem;margin:1.4rem 0 .5rem}
fieldset{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem}
label{display:block;padding:.3rem 0;cursor:pointer}
.buttons{display:flex;justify-content:flex-end;gap:.75rem;margin-top:1.5rem}
button{font:inherit;font-weight:700;padding:.5rem 1.4rem;border-radius:4px;cursor:pointer}
.cancel{background:#fff;border:1px solid #bbb;color:#1d1c1d}
.allow{background:#007a5a;border:1px solid #007a5a;color:#fff}
.error{color:#e01e5a}.note{color:#616061;font-size:.85rem;margin-top:1.5rem}
"""


def _page(title: str, body: str) -> str:
    """A self-contained page in Slack's look (no outside assets: it works offline)."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{html.escape(title)}"
        f"</title><style>{_STYLE}</style></head><body><main><div class='brand'>slack</div>"
        f"<h1>{html.escape(title)}</h1>{body}"
        "<p class='note'>The local fake Slack of <code>mlhooks dev</code>: nothing leaves this machine.</p>"
        "</main></body></html>"
    )
