"""A receiver that echoes our request back, in whatever form its stack writes, never gets a secret
shown: not in the test call's answer (`body_excerpt`, `headers`), not in a stored attempt's
`response_excerpt`, which every VIEWER reads.

The findings these specify: only one-step encodings of a value were redacted, so an echo in a
composed form showed it whole (httpbin answers the body it got, which holds the JSON-escaped value, as
a JSON string: JSON inside JSON; a proxy URL-encodes twice; a template engine writes numeric entities;
Go's encoding/json escapes `<`, `>` and `&`), an answer in UTF-16 was read as UTF-8 and matched no
form at all, and the signatures of a delivery, which let anyone with the body guess a weak signing
secret offline, were shown as echoed.

Each echo below quotes what the receiver really got; the checks look for the exact text the receiver
sent back (any 10 characters of it), so they hold whatever redaction believes a form to be."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote

import pytest
from pipelines import Pipeline, alias_event
from receivers import Received

pytestmark = pytest.mark.suite("secret forms")

# A header token: any visible ASCII, here every character an encoder treats specially.
TOKEN = "Echo\"<tok>&'\\+/9f3a"
# A payload secret: any text, here non-ASCII as well.
EXTRA = "Echo-é€ü\"<x>&'\\+/-c0ffee"
PAYLOAD = {"auth": "${ACCESS_TOKEN}", "extra": "${ECHO_EXTRA}", "version": "${artifact_version_string}"}
WINDOW = 10  # this many characters in a row of an echoed form is a leak
MARKER = "echoed:"  # the receiver's own words, which redaction must leave


def in_body(value: str) -> str:
    """The value as the request body carries it (rendered JSON, non-ASCII as is)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def every_special_as(entity: Callable[[int], str]) -> Callable[[str], str]:
    return lambda value: "".join(c if c.isalnum() else entity(ord(c)) for c in value)


# What a receiver's stack makes of a value it quotes (the token's form is echoed in a header too).
STRING_FORMS: dict[str, Callable[[str], str]] = {
    "numeric HTML entities (&#34;)": every_special_as(lambda n: f"&#{n};"),
    "hex HTML entities (&#x2b;)": every_special_as(lambda n: f"&#x{n:x};"),
    "every character an HTML entity": lambda v: "".join(f"&#{ord(c)};" for c in v),
    "every byte percent-encoded": lambda v: "".join(f"%{b:02X}" for b in v.encode()),
    "double URL-encoding": lambda v: quote(quote(v, safe=""), safe=""),
}


class Echo:
    """What the receiver answered and which parts of it carry a secret (as text, once decoded)."""

    def __init__(self, build: Callable[[Received], tuple[str, bytes, dict[str, str], list[str]]]):
        self.build = build
        self.text = ""
        self.forms: list[str] = []

    def __call__(self, received: Received) -> tuple[bytes, dict[str, str]]:
        self.text, answer, headers, self.forms = self.build(received)
        return answer, headers


def string_form(encode: Callable[[str], str]) -> Echo:
    def build(received: Received) -> tuple[str, bytes, dict[str, str], list[str]]:
        forms = [encode(TOKEN), encode(EXTRA)]
        text = f"{MARKER} {forms[0]} | {forms[1]}"
        return text, text.encode(), {"X-Echo": forms[0]}, forms

    return Echo(build)


def httpbin_data() -> Echo:
    """httpbin's /anything: the body it got, as a JSON string (so the body's escapes are escaped)."""

    def build(received: Received) -> tuple[str, bytes, dict[str, str], list[str]]:
        text = json.dumps({"data": received.body.decode(), "said": MARKER})
        forms = [json.dumps(in_body(value))[1:-1] for value in (TOKEN, EXTRA)]
        return text, text.encode(), {"X-Echo": forms[0]}, forms

    return Echo(build)


def go_json() -> Echo:
    """Go's encoding/json: `<`, `>` and `&` as \\u003c, \\u003e and \\u0026 (the header token; see
    the report for a payload secret that also holds non-ASCII characters)."""

    def build(received: Received) -> tuple[str, bytes, dict[str, str], list[str]]:
        escaped = in_body(TOKEN).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        text = json.dumps({"said": MARKER})[:-1] + f', "token": "{escaped}"}}'
        return text, text.encode(), {"X-Echo": escaped}, [escaped]

    return Echo(build)


def base64_body() -> Echo:
    """The body it got, base64-encoded: the characters that encode the secrets' bytes alone."""

    def build(received: Received) -> tuple[str, bytes, dict[str, str], list[str]]:
        encoded = base64.b64encode(received.body).decode()
        forms = []
        for value in (TOKEN, EXTRA):
            raw = in_body(value).encode()
            start = received.body.index(raw)
            end = start + len(raw)
            # Whole groups of three bytes inside the value: four characters each, all of it secret.
            forms.append(encoded[-(-start // 3) * 4 : end // 3 * 4])
        text = f"{MARKER} {encoded}"
        return text, text.encode(), {}, forms

    return Echo(build)


def utf16_answer() -> Echo:
    """The request quoted back in UTF-16, as its Content-Type declares."""

    def build(received: Received) -> tuple[str, bytes, dict[str, str], list[str]]:
        quoted = {"said": MARKER, "authorization": received.headers["Authorization"], "json": received.json}
        text = json.dumps(quoted, ensure_ascii=False)
        headers = {"Content-Type": "text/plain; charset=utf-16"}
        return text, text.encode("utf-16"), headers, [in_body(TOKEN), in_body(EXTRA)]

    return Echo(build)


ECHOES: dict[str, Callable[[], Echo]] = {
    "the body as a JSON string (httpbin's data)": httpbin_data,
    "Go's encoding/json escapes": go_json,
    **{name: (lambda encode=encode: string_form(encode)) for name, encode in STRING_FORMS.items()},
    "base64 of the echoed JSON body": base64_body,
    "a UTF-16 answer declared in its Content-Type": utf16_answer,
}


def shown(form: str, text: str) -> bool:
    """Whether any WINDOW characters in a row of the form can be read in the text (NUL bytes, which
    a UTF-16 answer read as UTF-8 puts between characters, are no disguise)."""
    text = text.replace("\x00", "")
    return any(form[i : i + WINDOW] in text for i in range(max(1, len(form) - WINDOW + 1)))


@pytest.fixture
def echoing(pipeline: Pipeline, receiver) -> Pipeline:
    """Webhook `echo` with the token and the payload secret, and an automation delivering to it."""
    admin, base = pipeline.team.admin, pipeline.base
    for name, value in (("ECHO_TOKEN", TOKEN), ("ECHO_EXTRA", EXTRA)):
        assert admin.post(f"{base}/secrets", {"name": name, "value": value}).status == 201
    webhook = {
        "name": "echo",
        "url": receiver.url,
        "access_token_secret": "ECHO_TOKEN",
        "secrets": ["ECHO_EXTRA"],
    }
    assert admin.post(f"{base}/webhooks", webhook).status == 201
    pipeline.automation(action={"type": "GENERIC_WEBHOOK", "webhook": "echo", "payload": PAYLOAD})
    return pipeline


def assert_sent_the_values(receiver) -> None:
    """Not vacuous: the receiver got the real values, and echoed them."""
    [request] = receiver.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.json["auth"] == TOKEN and request.json["extra"] == EXTRA


@pytest.mark.parametrize("name", ECHOES)
def test_an_echoed_secret_is_not_shown_in_the_test_call_answer(echoing, receiver, name):
    receiver.echo = echo = ECHOES[name]()
    reply = echoing.team.admin.post(f"{echoing.base}/webhooks/echo/test", {"payload": PAYLOAD})
    assert reply.status == 200 and reply.json["status_code"] == 200, reply.raw
    assert_sent_the_values(receiver)
    assert echo.forms and all(form and form in echo.text for form in echo.forms)
    excerpt, headers = reply.json["body_excerpt"], json.dumps(reply.json["headers"])
    assert [form for form in echo.forms if shown(form, excerpt) or shown(form, headers)] == []
    assert MARKER in excerpt and "[REDACTED]" in excerpt  # the echo is shown, without the secrets


@pytest.mark.parametrize("name", ECHOES)
def test_an_echoed_secret_is_not_shown_in_a_stored_attempt(echoing, receiver, name):
    receiver.echo = echo = ECHOES[name]()
    echoing.deliver(alias_event())
    assert_sent_the_values(receiver)
    [summary] = echoing.executions()
    [attempt] = echoing.execution(summary["id"])["attempts"]
    excerpt = attempt["response_excerpt"]
    assert [form for form in echo.forms if shown(form, excerpt)] == []
    assert MARKER in excerpt and "[REDACTED]" in excerpt  # the echo is shown, without the secrets


def echo_headers(received: Received) -> tuple[bytes, dict[str, str]]:
    return json.dumps({"headers": received.headers}).encode(), {}


@pytest.mark.parametrize("header", ["X-Wandb-Signature", "webhook-signature"])
def test_a_signature_echoed_back_is_not_shown_to_a_viewer(pipeline, receiver, header):
    receiver.echo = echo_headers
    pipeline.automation()
    pipeline.deliver(alias_event())
    [request] = receiver.requests
    signature = request.headers[header]
    assert len(signature) >= 40  # not vacuous: the delivery was signed, and the echo quoted it
    [summary] = pipeline.executions()
    execution = pipeline.team.viewer.get(f"{pipeline.base}/executions/{summary['id']}").json
    [attempt] = execution["attempts"]
    assert signature not in json.dumps(execution)
    assert "User-Agent" in attempt["response_excerpt"] and "[REDACTED]" in attempt["response_excerpt"]
