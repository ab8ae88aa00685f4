"""The commands of the local runtime and of the deployed stack's table: `dev` (the runtime),
`invoke` (like `sam local invoke`), `bootstrap` (an entity's first admin key, straight into the
table), `publish` (events onto the local bus), `redrive`, `simulate-run`, `schemas` and `receive`
(a webhook receiver to try deliveries with)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from mlhooks.local.dev import STATE_FILE


@contextlib.contextmanager
def port_in_use(command: str, options: str) -> Iterator[None]:
    """A port another program holds is one line saying which options choose others, not a traceback."""
    try:
        yield
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(
            f"{command}: a port it needs is in use ({error.strerror}); choose others with {options}."
        ) from None


def find_root(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file():
            return folder
    raise SystemExit("mlhooks: no template.yaml here or above; run from the project folder.")


@click.command()
@click.option("--port", default=3000, help="The API's port (0: any free port).")
@click.option("--moto-port", default=0, help="moto's port (0: any free port).")
@click.option("--inbox-port", default=3001, help="The request inbox (and fake Slack API).")
@click.option("--entity", default="dev", help="The entity the admin key belongs to.")
@click.option("--username", default="admin", help="The admin's username.")
@click.option(
    "--state-file",
    help=f"Where to write URLs and the dev key (default {STATE_FILE}); its folder keeps the saved state "
    "(saved.json) and the functions' logs (functions.log).",
)
@click.option("--reset", is_flag=True, help="Start clean: delete the saved state (a new admin key too).")
@click.option(
    "--fast",
    is_flag=True,
    help="Retry failed deliveries within seconds (backoff 1 s doubling up to 2 s) and keep no look-ups "
    "cached; variables set in the environment win.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text: one line per delivery attempt and rejected event, the functions' JSON logs in "
    "functions.log beside the state file; json: the functions' logs and those lines as JSON.",
)
def dev(
    port: int,
    moto_port: int,
    inbox_port: int,
    entity: str,
    username: str,
    state_file: str | None,
    reset: bool,
    fast: bool,
    log_format: str,
) -> None:
    """Run the local runtime: moto, the stack, the API on http://127.0.0.1:3000. Its state (secrets,
    integrations, automations, executions, the dev key) is kept in .mlhooks/ across restarts.

    \b
    Settings (environment variables; --fast sets the first five):
      MLHOOKS_RETRY_BASE_SECONDS, MLHOOKS_RETRY_MAX_SECONDS   the backoff between attempts
      MLHOOKS_MATCH_CACHE_SECONDS, MLHOOKS_INDEX_SETTLE_SECONDS, MLHOOKS_SECRET_CACHE_SECONDS   caches
      MLHOOKS_MAX_ATTEMPTS                                      attempts before FAILED (default 8)
      MLHOOKS_RATE_LIMIT_PER_MINUTE, MLHOOKS_HTTP_READ_TIMEOUT_SECONDS, MLHOOKS_RUN_REFIRE_SECONDS,
      MLHOOKS_WEBHOOK_DISABLE_AFTER_FAILURES, MLHOOKS_WEBHOOK_DISABLE_AFTER_SECONDS
    """
    from mlhooks.local.dev import serve

    with port_in_use("mlhooks dev", "--port and --inbox-port"):
        sys.exit(
            serve(
                find_root(),
                port=port,
                moto_port=moto_port,
                inbox_port=inbox_port,
                entity=entity,
                username=username,
                state_file=Path(state_file) if state_file else None,
                reset=reset,
                fast=fast,
                log_format=log_format,
            )
        )


def _running_endpoint(root: Path) -> str | None:
    """The moto endpoint of a running `mlhooks dev`, if there is one. Slack is then its inbox too, as
    for the running runtime's own functions."""
    state_file = Path(os.environ.get("MLHOOKS_DEV_STATE") or root / STATE_FILE)
    if not state_file.is_file():
        return None
    state = json.loads(state_file.read_text())
    endpoint = state.get("aws_endpoint_url")
    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310 - local endpoint
    except OSError:
        return None
    if state.get("inbox_url"):
        os.environ.setdefault("MLHOOKS_SLACK_API_URL", f"{state['inbox_url']}/slack/api")
    return endpoint


@click.command()
@click.argument("function")
@click.option("-e", "--event", required=True, help="Event file (events/...json), or - for stdin.")
def invoke(function: str, event: str) -> int:
    """Run one function (a logical id in template.yaml, e.g. ApiFunction) on one event, as `sam local
    invoke` does: the result on stdout, the logs on stderr, exit code 1 when the function raised."""
    from mlhooks.components import reset_components
    from mlhooks.local.functions import Functions
    from mlhooks.local.provision import provision
    from mlhooks.local.runtime import LocalRuntime, local_environment, local_parameters

    root = find_root()
    raw = sys.stdin.read() if event == "-" else Path(event).read_text()
    payload = json.loads(raw)
    endpoint = _running_endpoint(root)
    runtime = None
    if endpoint:
        template = LocalRuntime(root).template
        os.environ.update(local_environment(endpoint))
        os.environ.update(
            local_environment(endpoint, provision(template, endpoint, local_parameters()))
        )  # finds what exists
        reset_components()
        fns = Functions(root, template)
    else:
        # No `make dev` running: bring up a private, empty moto for this one invocation.
        runtime = LocalRuntime(root)
        runtime.start_aws()
        fns = runtime.functions
    try:
        # Like `sam local invoke`: the function's logs go to stderr, its result alone to stdout.
        with contextlib.redirect_stdout(sys.stderr):
            result = fns.invoke(function, payload)
    except Exception as exc:
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
        sys.exit(1)
    finally:
        if runtime:
            runtime.stop()
    print(json.dumps(result, indent=2))
    return 0


@click.command()
@click.option("--entity", required=True, help="The entity to create.")
@click.option("--username", required=True, help="Its first admin.")
@click.option("--table", help="Table name (default: MLHOOKS_TABLE_NAME, else the running `make dev`).")
@click.option("--region", help="AWS region (default: AWS_REGION).")
@click.option("--endpoint-url", help="AWS endpoint (default: AWS_ENDPOINT_URL, else AWS).")
def bootstrap(
    entity: str, username: str, table: str | None, region: str | None, endpoint_url: str | None
) -> int:
    """The entity's first admin key, written straight into the table: the deployed stack's (`--table`,
    or MLHOOKS_TABLE_NAME), else the running `make dev`'s. A failure is one line saying what to do."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mlhooks.access import AccessService
    from mlhooks.components import build_components
    from mlhooks.errors import MlhooksError
    from mlhooks.models.names import ENTITY_PATTERN, USERNAME_PATTERN, is_valid
    from mlhooks.settings import Settings

    for what, value, pattern in (
        ("entity", entity, ENTITY_PATTERN),
        ("username", username, USERNAME_PATTERN),
    ):
        if not is_valid(pattern, value):
            raise SystemExit(
                f"mlhooks bootstrap: {value!r} is not a valid {what}: letters, digits, '_', '.', '-' "
                "(a username also '@' and '+'), starting with a letter or digit."
            )
    local = not (table or endpoint_url or os.environ.get("MLHOOKS_TABLE_NAME"))
    if local:
        root = find_root()
        if not _running_endpoint(root):
            raise SystemExit(
                "mlhooks bootstrap: no table named and no local runtime running; start `make dev`, "
                "or pass --table <the stack's TableName output> (and --region) for a deployed stack."
            )
        _local_stack(root)
    overrides = {
        k: v
        for k, v in {
            "table_name": table,
            "aws_region": region,
            "aws_endpoint_url": endpoint_url,
        }.items()
        if v
    }
    try:
        settings = Settings().model_copy(update=overrides)
        _, key = AccessService(build_components(settings).store).bootstrap(entity, username)
    except MlhooksError as error:
        raise SystemExit(f"mlhooks bootstrap: {error.message}") from None
    except (BotoCoreError, ClientError) as error:
        where = "the local runtime's table" if local else f"table {settings.table_name or '(none)'}"
        raise SystemExit(
            f"mlhooks bootstrap: could not write to {where}: {error}. Check --table, --region and your "
            "AWS credentials (aws sts get-caller-identity)."
        ) from None
    print(f"Admin {username} of entity {entity}; API key (shown once, stored only as a hash):\n{key}")
    return 0


def _local_stack(root: Path):  # type: ignore[no-untyped-def]
    """The running `mlhooks dev`'s resources, with this process's environment pointed at them."""
    from mlhooks.components import reset_components
    from mlhooks.local.provision import provision
    from mlhooks.local.runtime import LocalRuntime, local_environment, local_parameters

    endpoint = _running_endpoint(root)
    if not endpoint:
        raise SystemExit("mlhooks: no local runtime is running here; start it with `make dev`.")
    os.environ.update(local_environment(endpoint))
    stack = provision(LocalRuntime(root).template, endpoint, local_parameters())
    os.environ.update(local_environment(endpoint, stack))
    reset_components()
    return stack


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--new-id", is_flag=True, help="Give each event a fresh event_id (no dedupe).")
def publish(files: tuple[str, ...], new_id: bool) -> int:
    """Put sample events (EventBridge envelopes, as in events/) on the local bus: mlhooks' own on the
    stack's bus, a platform's (SageMaker's `aws.sagemaker`) on the default bus, where AWS puts them."""
    import uuid

    from mlhooks.components import get_components

    _local_stack(find_root())
    components = get_components()
    for path in files:
        envelope = json.loads(Path(path).read_text())
        detail = envelope["detail"]
        if new_id and "event_id" in detail:
            detail["event_id"] = f"{detail['event_id']}-{uuid.uuid4().hex[:8]}"
        own = str(envelope["source"]).startswith("mlhooks.")
        answer = components.events.put_events(
            Entries=[
                {
                    "Source": envelope["source"],
                    "DetailType": envelope["detail-type"],
                    "Detail": json.dumps(detail),
                    "Resources": envelope.get("resources") or [],
                    "EventBusName": components.settings.event_bus_name if own else "default",
                }
            ]
        )
        outcome = f"FAILED {answer['Entries']}" if answer["FailedEntryCount"] else "published"
        print(f"{path}: {outcome} ({envelope['detail-type']}, event_id {detail.get('event_id', '-')})")
    return 0


@click.command("redrive")
@click.argument("kind", default="webhook", type=click.Choice(["webhook", "slack", "job"]))
@click.option("--dlq-url", help="In AWS: the dead-letter queue's URL.")
@click.option("--queue-url", help="In AWS: the queue to send the jobs back to.")
def redrive_command(kind: str, dlq_url: str | None, queue_url: str | None) -> int:
    """Move jobs from a dead-letter queue back to their queue: the local KIND's (webhook, slack, job)
    with `make dev` running, or in AWS the queues named by --dlq-url and --queue-url."""
    from mlhooks.components import get_components
    from mlhooks.redrive import redrive

    if dlq_url and queue_url:
        dlq_url, queue_url = dlq_url, queue_url
    else:
        stack = _local_stack(find_root())
        kind = kind.capitalize()
        dlq_url, queue_url = stack.refs[f"{kind}DLQ"], stack.refs[f"{kind}Queue"]
    components = get_components()
    moved = redrive(components.sqs, components.store, dlq_url, queue_url)
    print(f"moved {moved} job(s) from {dlq_url} back to {queue_url}")
    return 0


@click.command("simulate-run")
@click.option("--project", default="training", help="The run's project.")
@click.option("--entity", default="dev", help="The run's entity.")
@click.option("--name", default="resnet50-baseline", help="The run's display name.")
@click.option("--user", default="admin", help="The run's user.")
@click.option("--run-id", help="The run's id (default: a new one).")
@click.option("--steps", default=200, help="How many steps to log.")
@click.option("--start", default=2.0, help="Loss at step 0.")
@click.option("--decay", default=0.03, help="Per-step decay rate of the loss.")
@click.option("--fail", is_flag=True, help="End the run FAILED.")
def simulate_run(
    project: str,
    entity: str,
    name: str,
    user: str,
    run_id: str | None,
    steps: int,
    start: float,
    decay: float,
    fail: bool,
) -> int:
    """Log a training run's loss curve to the local bus, one `Run Metrics Logged` event per step."""
    import datetime as dt
    import math
    import uuid

    from mlhooks.components import get_components

    _local_stack(find_root())
    components = get_components()
    run_id = run_id or f"run-{uuid.uuid4().hex[:8]}"

    def entry(detail_type: str, event_id: str, **run: Any) -> dict[str, Any]:
        detail = {
            "event_id": f"{run_id}-{event_id}",
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "entity": entity,
            "project": project,
            "author": user,
            "run": {"id": run_id, "display_name": name, "user": user, **run},
        }
        return {
            "Source": "mlhooks.platform",
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "EventBusName": components.settings.event_bus_name,
        }

    entries = []
    for step in range(1, steps + 1):
        # An exponentially decaying loss with a little wobble: crosses low thresholds once.
        loss = start * math.exp(-decay * step) + 0.002 * math.sin(step)
        entries.append(
            entry(
                "Run Metrics Logged",
                f"step-{step}",
                state="RUNNING",
                step=step,
                metrics={"loss": round(loss, 6)},
            )
        )
    if fail:
        entries.append(entry("Run State Changed", "failed", state="FAILED", step=steps))
    for first in range(0, len(entries), 10):  # PutEvents takes ten at a time; sent in step order
        components.events.put_events(Entries=entries[first : first + 10])
    print(
        f"run {run_id}: logged {steps} steps of loss to project {project}" + (", then FAILED" if fail else "")
    )
    return 0


@click.command()
@click.option("--out", default="events/schemas", help="Folder to write them to.")
def schemas(out: str) -> int:
    """Write the platform events' JSON Schemas."""
    from mlhooks.models.events import write_schemas

    for path in write_schemas(Path(out)):
        print(path)
    return 0


@click.command()
@click.option("--port", default=8000, help="Port on 127.0.0.1.")
@click.option("--signing-secret", help="The webhook's signing secret value, to verify signatures.")
@click.option("--status", default=200, help="Status code to answer with.")
def receive(port: int, signing_secret: str | None, status: int) -> int:
    """A local webhook receiver that prints each request and checks its signatures."""
    from mlhooks.local.receiver import serve

    with port_in_use("mlhooks receive", "--port"):
        serve(port, signing_secret, status)
    return 0


COMMANDS = [dev, invoke, bootstrap, publish, redrive_command, simulate_run, schemas, receive]
