"""The local API's server stays quiet when a client leaves before its answer (a training script that
exits while its run logger waits), and still reports the runtime's own errors."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from mlhooks.local.apigw import GatewayServer


@pytest.mark.parametrize(
    ("raised", "printed"), [(BrokenPipeError, False), (ConnectionResetError, False), (KeyError, True)]
)
def test_only_the_runtimes_own_errors_reach_the_terminal(capsys, raised, printed) -> None:
    server = GatewayServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    try:
        # As socketserver calls it: from the except clause around a request's handling.
        try:
            raise raised("while answering")
        except Exception:
            server.handle_error(None, ("127.0.0.1", 5555))
    finally:
        server.server_close()
    assert ("Traceback" in capsys.readouterr().err) is printed
