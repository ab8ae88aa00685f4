"""`mlhooks` command line: `dev` (the local runtime), `invoke` (like `sam local invoke`),
`bootstrap` (the first admin key of an entity, written straight into the table) and `receive`
(a webhook receiver to try deliveries with)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

STATE_FILE = Path(".mlhooks") / "dev.json"


def find_root(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file():
            return folder
    raise SystemExit("mlhooks: no template.yaml here or above; run from the project folder.")


def _write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # The dev admin key is in here: readable by this user only.
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def dev(args: argparse.Namespace) -> int:
    from mlhooks.access import AccessService
    from mlhooks.components import get_components
    from mlhooks.local.runtime import LocalRuntime

    root = find_root()
    runtime = LocalRuntime(
        root, api_port=args.port, moto_port=args.moto_port, inbox_port=args.inbox_port, entity=args.entity
    )
    runtime.start()
    _, key = AccessService(get_components().store).bootstrap(args.entity, args.username)
    demo_queue = register_demo_run_queue(args.entity)
    state_file = Path(args.state_file) if args.state_file else root / STATE_FILE
    inbox_url = runtime.inbox.url if runtime.inbox else ""
    _write_state(
        state_file,
        {
            "api_url": runtime.api_url,
            "aws_endpoint_url": runtime.endpoint_url,
            "inbox_url": inbox_url,
            "entity": args.entity,
            "username": args.username,
            "admin_key": key,
        },
    )
    print(
        f"""
mlhooks local runtime is up: API, event bus, matcher, queues and senders
(no Docker; AWS is moto's server at {runtime.endpoint_url}).

  API          {runtime.api_url}/v1
  API docs     {runtime.api_url}/v1/docs
  inbox        {inbox_url}/<any path>  (webhook receiver; GET {inbox_url}/ lists what landed)
  event bus    {os.environ["MLHOOKS_EVENT_BUS_NAME"]}  (publish: .venv/bin/mlhooks publish events/<file>.json)
  run queue    {DEMO_RUN_QUEUE}  (QUEUE_JOB jobs land in {demo_queue})
  entity       {args.entity}
  admin key    {key}
               (a dev key for this throwaway runtime; also saved in {state_file})

Try it:
  curl -s -H "Authorization: Bearer {key}" {runtime.api_url}/v1/entities/{args.entity}/members

Webhook receivers on 127.0.0.1 are allowed here
(MLHOOKS_OUTBOUND_ALLOW={os.environ["MLHOOKS_OUTBOUND_ALLOW"]}).
Press Ctrl-C to stop.""",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
        state_file.unlink(missing_ok=True)
        print("mlhooks local runtime stopped.", flush=True)
        # Everything is stopped and saved. A delivery still in a sender's worker thread (a receiver
        # answering slowly) would hold the interpreter's exit, which waits for such threads: leave now.
        sys.stderr.flush()
        os._exit(0)


DEMO_RUN_QUEUE = "demo"


def register_demo_run_queue(entity: str) -> str:
    """A run queue for QUEUE_JOB walk-throughs: the SQS queue `mlhooks-runs-demo`, registered as
    `demo` for the dev entity, so no queue has to be made by hand."""
    from mlhooks.components import get_components
    from mlhooks.errors import Conflict
    from mlhooks.run_queues import RunQueueService

    components = get_components()
    url = components.sqs.create_queue(QueueName="mlhooks-runs-demo")["QueueUrl"]
    with contextlib.suppress(Conflict):  # registered by an earlier start
        RunQueueService(components.store, components.sqs, components.settings).create(
            entity, {"name": DEMO_RUN_QUEUE, "url": url, "description": "created by mlhooks dev"}
        )
    return url


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


def invoke(args: argparse.Namespace) -> int:
    from mlhooks.components import reset_components
    from mlhooks.local.functions import Functions
    from mlhooks.local.provision import provision
    from mlhooks.local.runtime import LocalRuntime, local_environment, local_parameters

    root = find_root()
    raw = sys.stdin.read() if args.event == "-" else Path(args.event).read_text()
    event = json.loads(raw)
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
            result = fns.invoke(args.function, event)
    except Exception as exc:
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
        return 1
    finally:
        if runtime:
            runtime.stop()
    print(json.dumps(result, indent=2))
    return 0


def bootstrap(args: argparse.Namespace) -> int:
    """The entity's first admin key, written straight into the table: the deployed stack's (`--table`,
    or MLHOOKS_TABLE_NAME), else the running `make dev`'s. A failure is one line saying what to do."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mlhooks.access import AccessService
    from mlhooks.components import build_components
    from mlhooks.errors import MlhooksError
    from mlhooks.models.names import ENTITY_PATTERN, USERNAME_PATTERN, is_valid
    from mlhooks.settings import Settings

    for what, value, pattern in (
        ("entity", args.entity, ENTITY_PATTERN),
        ("username", args.username, USERNAME_PATTERN),
    ):
        if not is_valid(pattern, value):
            raise SystemExit(
                f"mlhooks bootstrap: {value!r} is not a valid {what}: letters, digits, '_', '.', '-' "
                "(a username also '@' and '+'), starting with a letter or digit."
            )
    local = not (args.table or args.endpoint_url or os.environ.get("MLHOOKS_TABLE_NAME"))
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
            "table_name": args.table,
            "aws_region": args.region,
            "aws_endpoint_url": args.endpoint_url,
        }.items()
        if v
    }
    try:
        settings = Settings().model_copy(update=overrides)
        _, key = AccessService(build_components(settings).store).bootstrap(args.entity, args.username)
    except MlhooksError as error:
        raise SystemExit(f"mlhooks bootstrap: {error.message}") from None
    except (BotoCoreError, ClientError) as error:
        where = "the local runtime's table" if local else f"table {settings.table_name or '(none)'}"
        raise SystemExit(
            f"mlhooks bootstrap: could not write to {where}: {error}. Check --table, --region and your "
            "AWS credentials (aws sts get-caller-identity)."
        ) from None
    print(
        f"Admin {args.username} of entity {args.entity}; API key (shown once, stored only as a hash):\n{key}"
    )
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


def publish(args: argparse.Namespace) -> int:
    """Put sample events (EventBridge envelopes, as in events/) on the local bus: mlhooks' own on the
    stack's bus, a platform's (SageMaker's `aws.sagemaker`) on the default bus, where AWS puts them."""
    import uuid

    from mlhooks.components import get_components

    _local_stack(find_root())
    components = get_components()
    for path in args.files:
        envelope = json.loads(Path(path).read_text())
        detail = envelope["detail"]
        if args.new_id and "event_id" in detail:
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


def redrive_command(args: argparse.Namespace) -> int:
    from mlhooks.components import get_components
    from mlhooks.redrive import redrive

    if args.dlq_url and args.queue_url:
        dlq_url, queue_url = args.dlq_url, args.queue_url
    else:
        stack = _local_stack(find_root())
        kind = args.kind.capitalize()
        dlq_url, queue_url = stack.refs[f"{kind}DLQ"], stack.refs[f"{kind}Queue"]
    components = get_components()
    moved = redrive(components.sqs, components.store, dlq_url, queue_url)
    print(f"moved {moved} job(s) from {dlq_url} back to {queue_url}")
    return 0


def simulate_run(args: argparse.Namespace) -> int:
    """Log a training run's loss curve to the local bus, one `Run Metrics Logged` event per step."""
    import datetime as dt
    import math
    import uuid

    from mlhooks.components import get_components

    _local_stack(find_root())
    components = get_components()
    run_id = args.run_id or f"run-{uuid.uuid4().hex[:8]}"

    def entry(detail_type: str, event_id: str, **run: Any) -> dict[str, Any]:
        detail = {
            "event_id": f"{run_id}-{event_id}",
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "entity": args.entity,
            "project": args.project,
            "author": args.user,
            "run": {"id": run_id, "display_name": args.name, "user": args.user, **run},
        }
        return {
            "Source": "mlhooks.platform",
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "EventBusName": components.settings.event_bus_name,
        }

    entries = []
    for step in range(1, args.steps + 1):
        # An exponentially decaying loss with a little wobble: crosses low thresholds once.
        loss = args.start * math.exp(-args.decay * step) + 0.002 * math.sin(step)
        entries.append(
            entry(
                "Run Metrics Logged",
                f"step-{step}",
                state="RUNNING",
                step=step,
                metrics={"loss": round(loss, 6)},
            )
        )
    if args.fail:
        entries.append(entry("Run State Changed", "failed", state="FAILED", step=args.steps))
    for start in range(0, len(entries), 10):  # PutEvents takes ten at a time; sent in step order
        components.events.put_events(Entries=entries[start : start + 10])
    print(
        f"run {run_id}: logged {args.steps} steps of loss to project {args.project}"
        + (", then FAILED" if args.fail else "")
    )
    return 0


def schemas(args: argparse.Namespace) -> int:
    from mlhooks.models.events import write_schemas

    for path in write_schemas(Path(args.out)):
        print(path)
    return 0


def receive(args: argparse.Namespace) -> int:
    from mlhooks.local.receiver import serve

    serve(args.port, args.signing_secret, args.status)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlhooks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("dev", help="run the local runtime (moto + the API on localhost)")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--moto-port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--inbox-port", type=int, default=3001, help="the request inbox (and fake Slack API)")
    p.add_argument("--entity", default="dev")
    p.add_argument("--username", default="admin")
    p.add_argument("--state-file", help=f"where to write URLs and the dev key (default {STATE_FILE})")
    p.set_defaults(run=dev)

    p = commands.add_parser("invoke", help="run one function on one event, as `sam local invoke` does")
    p.add_argument("function", help="logical id in template.yaml, e.g. ApiFunction")
    p.add_argument("-e", "--event", required=True, help="event file (events/...json), or - for stdin")
    p.set_defaults(run=invoke)

    p = commands.add_parser("bootstrap", help="create an entity's first admin key straight in the table")
    p.add_argument("--entity", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--table", help="table name (default: MLHOOKS_TABLE_NAME, else the running `make dev`)")
    p.add_argument("--region", help="AWS region (default: AWS_REGION)")
    p.add_argument("--endpoint-url", help="AWS endpoint (default: AWS_ENDPOINT_URL, else AWS)")
    p.set_defaults(run=bootstrap)

    p = commands.add_parser("publish", help="put event files (events/*.json) on the local bus")
    p.add_argument("files", nargs="+")
    p.add_argument("--new-id", action="store_true", help="give each event a fresh event_id (no dedupe)")
    p.set_defaults(run=publish)

    p = commands.add_parser("redrive", help="move jobs from a dead-letter queue back to their queue")
    p.add_argument(
        "kind",
        nargs="?",
        default="webhook",
        choices=["webhook", "slack", "job"],
        help="which local queue (with `make dev` running)",
    )
    p.add_argument("--dlq-url", help="in AWS: the dead-letter queue's URL")
    p.add_argument("--queue-url", help="in AWS: the queue to send the jobs back to")
    p.set_defaults(run=redrive_command)

    p = commands.add_parser("simulate-run", help="log a training run's loss curve to the local bus")
    p.add_argument("--project", default="training")
    p.add_argument("--entity", default="dev")
    p.add_argument("--name", default="resnet50-baseline", help="the run's display name")
    p.add_argument("--user", default="admin")
    p.add_argument("--run-id")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--start", type=float, default=2.0, help="loss at step 0")
    p.add_argument("--decay", type=float, default=0.03, help="per-step decay rate of the loss")
    p.add_argument("--fail", action="store_true", help="end the run FAILED")
    p.set_defaults(run=simulate_run)

    p = commands.add_parser("schemas", help="write the platform events' JSON Schemas")
    p.add_argument("--out", default="events/schemas")
    p.set_defaults(run=schemas)

    p = commands.add_parser(
        "receive", help="a local webhook receiver that prints requests and checks signatures"
    )
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--signing-secret", help="the webhook's signing secret value, to verify signatures")
    p.add_argument("--status", type=int, default=200, help="status code to answer with")
    p.set_defaults(run=receive)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
