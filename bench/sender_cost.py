"""The webhook sender's cost per delivery against a bare `requests.post` of the same body to the
same local receiver. Prints a table; asserts nothing.

    .venv/bin/python bench/sender_cost.py [deliveries]
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from support import local_aws, table


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # No Nagle: otherwise a delayed ACK adds ~40 ms to every keep-alive answer and hides the cost.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def per_call(n: int, action) -> float:  # type: ignore[no-untyped-def]
    action(0)  # warm up: connections, caches
    started = time.perf_counter()
    for i in range(1, n + 1):
        action(i)
    return (time.perf_counter() - started) / n * 1000


def main(n: int) -> None:
    from mlhooks.components import get_components
    from mlhooks.delivery import prepare_webhook_request, send
    from mlhooks.local.sources import sqs_record
    from mlhooks.matcher import EventMatcher
    from mlhooks.models.records import WebhookRecord
    from mlhooks.senders import WebhookSender

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    template = {"event_type": "${event_type}", "client_payload": {"version": "${artifact_version_string}"}}
    variables = {"event_type": "ADD_ARTIFACT_ALIAS", "artifact_version_string": "e/p/model:v3"}
    webhook = WebhookRecord(
        entity="bench",
        name="w",
        url=url,
        access_token_secret="T",
        signing_secret="S",
        created_at="",
        updated_at="",
    )
    secrets = {"T": "token-value", "S": "signing-value"}
    rows = []
    with local_aws() as stack:
        components = get_components()
        body = prepare_webhook_request(webhook, template, variables, secrets, message_id="m").body
        bare = requests.Session()
        baseline = per_call(
            n, lambda i: bare.post(url, data=body, headers={"Content-Type": "application/json"})
        )
        rows.append(["bare requests.post (keep-alive)", f"{baseline:.3f}", "1.0x"])

        def mlhooks_delivery(i: int) -> None:
            request = prepare_webhook_request(webhook, template, variables, secrets, message_id=f"m{i}")
            assert send(components.outbound, request, time.time()).status_code == 200

        delivery = per_call(n, mlhooks_delivery)
        rows.append(
            ["render + sign + guarded POST + redact", f"{delivery:.3f}", f"{delivery / baseline:.1f}x"]
        )

        # The whole sender on one job: execution read, lease, secrets (cached), delivery, attempt write.
        from mlhooks.access import AccessService
        from mlhooks.automations import AutomationService
        from mlhooks.integrations import WebhookService
        from mlhooks.models.automation import AutomationSpec
        from mlhooks.models.events import ArtifactAliasAdded
        from mlhooks.models.vocabulary import EventType
        from mlhooks.projects import ProjectService
        from mlhooks.secrets import SecretsService

        AccessService(components.store).bootstrap("bench", "admin")
        SecretsService(components.store, components.vault).create("bench", "T", "token-value")
        SecretsService(components.store, components.vault).create("bench", "S", "signing-value")
        WebhookService(components).create(
            "bench", {"name": "w", "url": url, "access_token_secret": "T", "signing_secret": "S"}
        )
        ProjectService(components.store).create("bench", {"name": "p"})
        AutomationService(components.store, components.settings).create(
            "bench",
            AutomationSpec.model_validate(
                {
                    "name": "a",
                    "scope": {"type": "PROJECT", "project": "p"},
                    "event": {"type": "ADD_ARTIFACT_ALIAS"},
                    "action": {"type": "GENERIC_WEBHOOK", "webhook": "w", "payload": template},
                }
            ),
            "admin",
        )
        matcher, sender = (
            EventMatcher(components),
            WebhookSender(components, components.settings.webhook_queue_url),
        )
        queue_arn = stack.arns["WebhookQueue"]

        def full_job(i: int) -> None:
            detail = ArtifactAliasAdded.model_validate(
                {
                    "event_id": f"bench-{i}",
                    "time": "2026-11-24T09:00:00Z",
                    "entity": "bench",
                    "project": "p",
                    "author": "b",
                    "collection": "m",
                    "alias": "production",
                    "artifact": {"id": "a", "version_index": 3, "type": "model"},
                }
            )
            revision = components.store.automations_revision("bench")
            execution = matcher._execution(
                matcher.candidates(detail, EventType.ADD_ARTIFACT_ALIAS, revision)[0],
                detail,
                "Artifact Alias Added",
                EventType.ADD_ARTIFACT_ALIAS,
            )
            components.store.create_execution(execution)
            message = {
                "MessageId": f"msg-{i}",
                "ReceiptHandle": "r",
                "Attributes": {"ApproximateReceiveCount": "1"},
                "Body": json.dumps({"entity": "bench", "execution_id": execution.id}),
            }
            assert sender.process(sqs_record(message, queue_arn))

        whole = per_call(n, full_job)
        rows.append(
            ["whole sender job on moto (+ writing the execution)", f"{whole:.3f}", f"{whole / baseline:.1f}x"]
        )
    server.shutdown()
    print(f"Webhook delivery to a local receiver, {n} deliveries each, one at a time\n")
    print(table(["path", "ms/delivery", "vs bare"], rows))
    print(
        "\nThe whole-job row includes moto's in-process DynamoDB; in AWS those calls are network round trips."
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
