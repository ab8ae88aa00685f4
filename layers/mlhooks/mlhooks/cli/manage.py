"""The commands that manage an mlhooks API, local or deployed: one group per resource of the API,
with its verbs. Every command is a thin call of `mlhooks.Client`."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from mlhooks.cli.output import (
    FAILED,
    NOT_FOUND,
    api_errors,
    done,
    emit_json,
    err,
    fail,
    out,
    record,
    table,
)
from mlhooks.client import Client
from mlhooks.client.config import DEFAULT_PROFILE, NotConfigured, api_root, remove_profile, save_profile
from mlhooks.local.terminal import outcome_text
from mlhooks.models.api.automations import DryRunOut
from mlhooks.models.vocabulary import ExecutionState, Role, SignatureEncoding

as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts) instead of a table.")
sure = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")


def client() -> Client:
    """The client for this command line's profile, made on first use."""
    context = click.get_current_context()
    root = context.find_root()
    root.obj = root.obj or {}
    if "client" not in root.obj:
        root.obj["client"] = Client(profile=root.obj.get("profile"))
    return root.obj["client"]


def read_json(path: str) -> Any:
    """A JSON document from a file, or stdin for `-`; a mistake is a one-line usage error."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        return json.loads(text)
    except OSError as error:
        raise click.BadParameter(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise click.BadParameter(f"{path} is not JSON: {error}") from None


def confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.UsageError("Not asking on a non-interactive input: pass --yes to confirm.")
    click.confirm(question, abort=True)


# ---- login --------------------------------------------------------------------------------------------


@click.command()
@click.argument("url")
@click.option("--profile", default=DEFAULT_PROFILE, help="Name of this login, to keep several.")
@api_errors
def login(url: str, profile: str) -> None:
    """Save URL and an API key for the commands that follow (asked for, or read from stdin; never an
    argument). The file is readable by you only; MLHOOKS_URL and MLHOOKS_API_KEY override it."""
    try:
        url = api_root(url)
    except NotConfigured as error:
        raise click.BadParameter(error.message, param_hint="URL") from None
    if sys.stdin.isatty():
        key = click.prompt("API key", hide_input=True).strip()
    else:
        key = sys.stdin.readline().strip()
    if not key:
        raise click.UsageError("No API key given.")
    who = Client(url, key).whoami()
    path = save_profile(profile, url, key, who.entity)
    out.print(
        f"Logged in to {url} as {who.username} ({who.role.value}) of entity {who.entity}; saved in {path}."
    )


@click.command()
@click.option("--profile", default=DEFAULT_PROFILE, help="Which saved login.")
def logout(profile: str) -> None:
    """Forget a saved login."""
    if not remove_profile(profile):
        fail(f"No saved login named {profile}.", NOT_FOUND)
    out.print(f"Removed login {profile}.")


@click.command()
@as_json
@api_errors
def whoami(as_json: bool) -> None:
    """Which API and key the commands use, and who the key is."""
    api = client()
    who = api.whoami()
    if as_json:
        emit_json({"url": api.url, "from": api.credentials.origin, **who.model_dump(mode="json")})
    else:
        out.print(f"{who.username} ({who.role.value}) of entity {who.entity} at {api.url}")
        out.print(f"key {who.key_id}; {api.credentials.origin}")


# ---- automations --------------------------------------------------------------------------------------


def describe_event(a: Any) -> str:
    return str(a.event.type.value if hasattr(a.event.type, "value") else a.event.type)


def describe_scope(a: Any) -> str:
    scope = a.scope
    return (
        "/".join(
            str(part)
            for part in (getattr(scope, "project", None), getattr(scope, "collection", None))
            if part
        )
        or "entity"
    )


def describe_action(a: Any) -> str:
    action = a.action
    target = (
        getattr(action, "webhook", None) or getattr(action, "slack", None) or getattr(action, "queue", None)
    )
    kind = action.type.value if hasattr(action.type, "value") else action.type
    return f"{kind} {target}" if target else str(kind)


AUTOMATION_COLUMNS = [
    ("NAME", "name"),
    ("ID", "id"),
    ("SCOPE", describe_scope),
    ("EVENT", describe_event),
    ("ACTION", describe_action),
    ("ENABLED", "enabled"),
    ("STATUS", lambda a: a.action_status.state),
    ("LAST EXECUTED", "last_executed_at"),
]


@click.group()
def automations() -> None:
    """Automations: list, get, create, edit, enable, disable, delete, dry-run. Name or id."""


@automations.command("list")
@click.option("--project", help="Only automations scoped to this project or its collections.")
@click.option("--event-type", help="Only this event type, e.g. ADD_ARTIFACT_ALIAS.")
@click.option("--enabled/--disabled", default=None, help="Only enabled, or only disabled ones.")
@click.option("--name", help="Exactly this name.")
@as_json
@api_errors
def automations_list(
    project: str | None, event_type: str | None, enabled: bool | None, name: str | None, as_json: bool
) -> None:
    """List automations."""
    items = client().automations.list(project=project, event_type=event_type, enabled=enabled, name=name)
    table(items, AUTOMATION_COLUMNS, as_json)


@automations.command("get")
@click.argument("automation")
@as_json
@api_errors
def automations_get(automation: str, as_json: bool) -> None:
    """Show an automation (by name or id)."""
    record(client().automations.get(automation), as_json)


@automations.command("create")
@click.option(
    "-f", "--file", "path", required=True, help="The automation as JSON (the API's body); - for stdin."
)
@as_json
@api_errors
def automations_create(path: str, as_json: bool) -> None:
    """Create an automation from a JSON file."""
    created = client().automations.create(read_json(path))
    done(f"Created automation {created.name!r} ({created.id}).", as_json, created)


EDITABLE = ("name", "description", "enabled", "scope", "event", "action")


@automations.command("edit")
@click.argument("automation")
@click.option(
    "-f", "--file", "path", help="Changes as JSON (any of the fields), instead of opening an editor."
)
@as_json
@api_errors
def automations_edit(automation: str, path: str | None, as_json: bool) -> None:
    """Change an automation: in $EDITOR (its fields as JSON), or with the changes in a file. The
    change is refused if someone else changed it meanwhile."""
    api = client()
    current = api.automations.get(automation)
    if path:
        changes = read_json(path)
    else:
        fields = {k: v for k, v in current.model_dump(mode="json").items() if k in EDITABLE}
        edited = _edit_json(json.dumps(fields, indent=2) + "\n")
        if edited is None:
            out.print("No changes.")
            return
        changes = {k: v for k, v in edited.items() if fields.get(k) != v}
        if not changes:
            out.print("No changes.")
            return
    if isinstance(changes, dict):
        changes.setdefault("version", current.version)
    updated = api.automations.update(current.id, changes)
    done(f"Updated automation {updated.name!r} (version {updated.version}).", as_json, updated)


def _edit_json(text: str) -> dict[str, Any] | None:
    """The text as edited in $EDITOR, read as a JSON object; a mistake reopens the editor on what was
    written (never thrown away), until it reads or the person gives up. None: left unchanged."""
    while True:
        edited = click.edit(text, extension=".json")
        if edited is None:
            return None
        try:
            document = json.loads(edited)
            if isinstance(document, dict):
                return document
            problem = "it is not a JSON object"
        except ValueError as error:
            problem = str(error)
        err.print(f"The edited text does not read: {problem}.")
        if not click.confirm("Edit it again?", default=True):
            fail("Nothing changed.", FAILED)
        text = edited


@automations.command("enable")
@click.argument("automation")
@as_json
@api_errors
def automations_enable(automation: str, as_json: bool) -> None:
    """Enable an automation."""
    updated = client().automations.enable(automation)
    done(f"Enabled {updated.name!r}.", as_json, updated)


@automations.command("disable")
@click.argument("automation")
@as_json
@api_errors
def automations_disable(automation: str, as_json: bool) -> None:
    """Disable an automation: events no longer start executions."""
    updated = client().automations.disable(automation)
    done(f"Disabled {updated.name!r}.", as_json, updated)


@automations.command("delete")
@click.argument("automation")
@sure
@as_json
@api_errors
def automations_delete(automation: str, yes: bool, as_json: bool) -> None:
    """Delete an automation (its executions stay in the history)."""
    api = client()
    found = api.automations.get(automation)
    confirm(f"Delete automation {found.name!r} ({found.id})?", yes)
    api.automations.delete(found.id)
    done(f"Deleted automation {found.name!r}.", as_json)


@automations.command("dry-run")
@click.argument("automation", required=False)
@click.option("-f", "--file", "path", help="An unsaved automation's JSON body to try instead of a saved one.")
@click.option(
    "--event",
    "event_path",
    help="A file holding the event as JSON ({detail_type, detail}, or a file of events/); - for stdin. "
    "Default: a sample of the automation's event type.",
)
@as_json
@api_errors
def automations_dry_run(
    automation: str | None, path: str | None, event_path: str | None, as_json: bool
) -> None:
    """Would it fire on this event, and what exactly would it send? Nothing is sent."""
    if bool(automation) == bool(path):
        raise click.UsageError("Name a saved automation, or give an unsaved one with -f FILE (not both).")
    event = read_json(event_path) if event_path else None
    result = client().automations.dry_run(automation if automation else read_json(path or "-"), event)
    if as_json:
        emit_json(result)
        return
    render_dry_run(result)


def render_dry_run(result: DryRunOut) -> None:
    out.print(Text(result.summary, style="bold"))
    for check in result.checks:
        mark = {True: "pass", False: "FAIL", None: "-"}[check.passed]
        out.print(f"  {mark:4}  {check.check.value:10}  {check.message}")
    status = result.action.status
    reason = f" ({status.reason})" if status.reason else ""
    out.print(f"Action {result.action.type.value}: {status.state}{reason}")
    sample = " (a sample)" if result.event.sample else ""
    out.print(f"Event {result.event.detail_type}{sample}")
    if result.action.request is not None:
        out.print("Request it would send (secrets redacted):")
        out.print(json.dumps(result.action.request, indent=2))


# ---- executions ---------------------------------------------------------------------------------------

EXECUTION_COLUMNS = [
    ("ID", "id"),
    ("AUTOMATION", "automation_name"),
    ("EVENT", lambda e: e.event_type.value),
    ("ACTION", lambda e: e.action_type.value),
    ("STATE", lambda e: e.state.value),
    ("ATTEMPTS", "attempt_count"),
    ("CREATED", "created_at"),
    ("REASON", "reason"),
]
STATES = click.Choice([s.value for s in ExecutionState], case_sensitive=False)


@click.group()
def executions() -> None:
    """The execution history: list, show, tail, redeliver, retry, cancel."""


def _history(project: str | None, collection: str | None, automation: str | None) -> dict[str, Any]:
    if collection and not project:
        raise click.UsageError("--collection needs --project.")
    return {"project": project, "collection": collection, "automation": automation}


@executions.command("list")
@click.option("--state", type=STATES, help="Only executions in this state.")
@click.option("--project", help="Only this project's executions.")
@click.option("--collection", help="Only this collection's (with --project).")
@click.option("--automation", help="Only this automation's (name or id).")
@click.option(
    "--limit", default=20, type=click.IntRange(min=1), show_default=True, help="How many, newest first."
)
@as_json
@api_errors
def executions_list(
    state: str | None,
    project: str | None,
    collection: str | None,
    automation: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List executions, newest first."""
    where = _history(project, collection, automation)
    items = client().executions.list(state=state and state.upper(), limit=limit, **where)
    table(items, EXECUTION_COLUMNS, as_json)


def attempt_line(execution: Any, attempt: Any) -> str:
    """An attempt in the words of the `make dev` terminal: `delivered 200`, `failed 503`, …"""
    return (
        f'{attempt.at}  {execution.id}  "{execution.automation_name}"  attempt {attempt.number}: '
        f"{outcome_text(attempt)} in {attempt.duration_ms} ms"
    )


@executions.command("show")
@click.argument("execution_id", default="latest")
@click.option("--automation", help="With `latest`: the newest of this automation's (name or id).")
@click.option("--project", help="With `latest`: the newest in this project.")
@as_json
@api_errors
def executions_show(execution_id: str, automation: str | None, project: str | None, as_json: bool) -> None:
    """An execution: its event, the request (secrets redacted) and every attempt. EXECUTION_ID
    `latest` is the newest one (of --automation or --project when given)."""
    api = client().executions
    if execution_id == "latest":
        newest = api.list(automation=automation, project=project, limit=1)
        if not newest:
            fail("No executions yet.", NOT_FOUND, as_json=as_json)
        execution_id = newest[0].id
    execution = api.get(execution_id)
    if as_json:
        emit_json(execution)
        return
    record(
        execution,
        False,
        [f for f in type(execution).model_fields if f not in ("event", "request", "attempts")],
    )
    out.print(Text("\nEvent", style="bold"))
    out.print(json.dumps(execution.event, indent=2))
    out.print(Text("\nRequest", style="bold"), "(secrets redacted)")
    out.print(json.dumps(execution.request, indent=2))
    out.print(Text("\nAttempts", style="bold"))
    for attempt in execution.attempts:
        out.print(attempt_line(execution, attempt))
    if not execution.attempts:
        out.print("(none yet)")


@executions.command("retry")
@click.argument("execution_id")
@as_json
@api_errors
def executions_retry(execution_id: str, as_json: bool) -> None:
    """Send a PENDING execution now instead of after its backoff, or a FAILED or CANCELED one again."""
    execution = client().executions.retry(execution_id)
    done(f"{execution.id}: queued to send now ({execution.state.value}).", as_json, execution)


# W&B's word for sending again: the same operation.
executions.add_command(executions_retry, "redeliver")


@executions.command("cancel")
@click.argument("execution_id")
@click.option("--reason", help="Why, for the history (who canceled is recorded).")
@as_json
@api_errors
def executions_cancel(execution_id: str, reason: str | None, as_json: bool) -> None:
    """End a PENDING execution as CANCELED before its next attempt."""
    execution = client().executions.cancel(execution_id, reason)
    done(f"{execution.id}: {execution.state.value} ({execution.reason}).", as_json, execution)


@executions.command("tail")
@click.option("--project", help="Only this project's executions.")
@click.option("--collection", help="Only this collection's (with --project).")
@click.option("--automation", help="Only this automation's (name or id).")
@click.option(
    "--interval",
    default=2.0,
    type=click.FloatRange(min=0.2),
    show_default=True,
    help="Seconds between looks.",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0), help="Stop after this many seconds (default: until Ctrl-C)."
)
@click.option(
    "--last",
    default=5,
    type=click.IntRange(min=0),
    show_default=True,
    help="Show this many recent ones first.",
)
@api_errors
def executions_tail(
    project: str | None,
    collection: str | None,
    automation: str | None,
    interval: float,
    timeout: float | None,
    last: int,
) -> None:
    """Follow new executions and their attempts live, one line each."""
    api = client().executions
    where = _history(project, collection, automation)
    seen: dict[str, tuple[str, int]] = {}
    first = True
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            recent = api.list(limit=max(last, 50), **where)
            if first:
                # The history before now is not news: only the `last` newest are shown.
                seen = {e.id: (e.state.value, e.attempt_count) for e in recent[last:]}
                recent = recent[:last] if last else []
            for summary in reversed(recent):
                before = seen.get(summary.id)
                now = (summary.state.value, summary.attempt_count)
                if before == now:
                    continue
                seen[summary.id] = now
                if before is None:
                    out.print(
                        f'{summary.created_at}  {summary.id}  "{summary.automation_name}"  '
                        f"{summary.event_type.value} -> {summary.action_type.value}: {summary.state.value}"
                    )
                if summary.attempt_count > (before[1] if before else 0):
                    execution = api.get(summary.id)
                    for attempt in execution.attempts[(before[1] if before else 0) :]:
                        out.print(attempt_line(execution, attempt))
                if before is not None and before[0] != now[0]:
                    reason = f" ({summary.reason})" if summary.reason else ""
                    out.print(f"{summary.updated_at}  {summary.id}  now {now[0]}{reason}")
            first = False
            if deadline and time.monotonic() >= deadline:
                return
            time.sleep(interval)  # polling the API: the pause between two looks
    except KeyboardInterrupt:
        return


# ---- integrations -------------------------------------------------------------------------------------

WEBHOOK_COLUMNS = [
    ("NAME", "name"),
    ("URL", "url"),
    ("ENABLED", "enabled"),
    ("HEALTH", lambda w: w.health.state),
    ("ACCESS TOKEN", "access_token_secret"),
    ("SIGNING", "signing_secret"),
]


@click.group()
def webhooks() -> None:
    """Webhook integrations: list, get, create, update, delete, test."""


@webhooks.command("list")
@as_json
@api_errors
def webhooks_list(as_json: bool) -> None:
    """List webhooks with their health."""
    table(client().webhooks.list(), WEBHOOK_COLUMNS, as_json)


@webhooks.command("get")
@click.argument("name")
@as_json
@api_errors
def webhooks_get(name: str, as_json: bool) -> None:
    """Show a webhook."""
    record(client().webhooks.get(name), as_json)


def webhook_options(create: bool):  # type: ignore[no-untyped-def]
    def decorate(command):  # type: ignore[no-untyped-def]
        options = [
            click.option(
                "--url", required=create, help="Where deliveries go (the outbound guard checks it)."
            ),
            click.option("--access-token-secret", help="A secret sent as `Authorization: Bearer`."),
            click.option(
                "--signing-secret", help="A secret that signs X-Wandb-Signature and Standard Webhooks."
            ),
            click.option(
                "--signature-encoding",
                type=click.Choice([e.value for e in SignatureEncoding]),
                default=SignatureEncoding.HEX.value if create else None,
                help="How X-Wandb-Signature is encoded.",
            ),
            click.option(
                "--secret",
                "secrets",
                multiple=True,
                help="A further secret the payload may use as ${NAME} (repeat).",
            ),
            click.option("--description", help="A note for people."),
            click.option(
                "--alert-slack", help="A Slack integration told when the webhook is disabled for failing."
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _fields(**given: Any) -> dict[str, Any]:
    fields = {k: v for k, v in given.items() if v not in (None, ())}
    if "secrets" in fields:
        fields["secrets"] = list(fields["secrets"])
    return fields


@webhooks.command("create")
@click.argument("name")
@webhook_options(create=True)
@as_json
@api_errors
def webhooks_create(name: str, as_json: bool, **fields: Any) -> None:
    """Create a webhook."""
    created = client().webhooks.create({"name": name, **_fields(**fields)})
    done(f"Created webhook {created.name!r} -> {created.url}.", as_json, created)


@webhooks.command("update")
@click.argument("name")
@webhook_options(create=False)
@click.option(
    "--enable/--disable",
    "enabled",
    default=None,
    help="Re-enable (failure count afresh), or stop deliveries.",
)
@click.option("--no-access-token", is_flag=True, help="Send no access token any more.")
@click.option("--no-signing-secret", is_flag=True, help="Sign no more (no signature headers).")
@click.option("--no-secrets", is_flag=True, help="Detach every further secret (the payload may use none).")
@as_json
@api_errors
def webhooks_update(
    name: str, as_json: bool, no_access_token: bool, no_signing_secret: bool, no_secrets: bool, **fields: Any
) -> None:
    """Change a webhook's fields (those given); --no-… options detach a secret, so it can be deleted."""
    changes = _fields(**fields)
    # The API removes an access token or signing secret given as null, and replaces the list whole.
    removals = {"access_token_secret": no_access_token, "signing_secret": no_signing_secret}
    for field, remove in removals.items():
        if remove and field in changes:
            raise click.UsageError(f"--{field.replace('_', '-')} and its --no-… option contradict.")
        if remove:
            changes[field] = None
    if no_secrets:
        if "secrets" in changes:
            raise click.UsageError("--secret and --no-secrets contradict each other.")
        changes["secrets"] = []
    if not changes:
        raise click.UsageError("Nothing to change: give at least one option (see --help).")
    updated = client().webhooks.update(name, changes)
    done(f"Updated webhook {updated.name!r}.", as_json, updated)


@webhooks.command("delete")
@click.argument("name")
@sure
@as_json
@api_errors
def webhooks_delete(name: str, yes: bool, as_json: bool) -> None:
    """Delete a webhook (refused while an automation uses it)."""
    confirm(f"Delete webhook {name!r}?", yes)
    client().webhooks.delete(name)
    done(f"Deleted webhook {name!r}.", as_json)


@webhooks.command("test")
@click.argument("name")
@click.option(
    "--payload", "payload_path", help="A payload template as JSON (file, or - for stdin); default: a sample."
)
@as_json
@api_errors
def webhooks_test(name: str, payload_path: str | None, as_json: bool) -> None:
    """Send a test request signed as a real delivery, and show the endpoint's answer."""
    result = client().webhooks.test(name, read_json(payload_path) if payload_path else None)
    if as_json:
        emit_json(result)
    else:
        record(result, False)
    if not result.ok:
        sys.exit(FAILED)


@click.group()
def slack() -> None:
    """Slack integrations: list, get, create, delete."""


@slack.command("list")
@as_json
@api_errors
def slack_list(as_json: bool) -> None:
    """List Slack integrations."""
    table(
        client().slack.list(),
        [
            ("NAME", "name"),
            ("CHANNEL", "channel_name"),
            ("CHANNEL ID", "channel_id"),
            ("TOKEN", "bot_token_secret"),
        ],
        as_json,
    )


@slack.command("get")
@click.argument("name")
@as_json
@api_errors
def slack_get(name: str, as_json: bool) -> None:
    """Show a Slack integration."""
    record(client().slack.get(name), as_json)


@slack.command("create")
@click.argument("name")
@click.option("--bot-token-secret", required=True, help="The secret holding the bot token (xoxb-…).")
@click.option("--channel-id", required=True, help="The channel's id, e.g. C0ALERTS1.")
@click.option("--channel-name", required=True, help="The channel's name, e.g. ml-alerts.")
@as_json
@api_errors
def slack_create(name: str, bot_token_secret: str, channel_id: str, channel_name: str, as_json: bool) -> None:
    """Create a Slack integration."""
    created = client().slack.create(
        {
            "name": name,
            "bot_token_secret": bot_token_secret,
            "channel_id": channel_id,
            "channel_name": channel_name,
        }
    )
    done(
        f"Created Slack integration {created.name!r} (#{created.channel_name.lstrip('#')}).", as_json, created
    )


@slack.command("delete")
@click.argument("name")
@sure
@as_json
@api_errors
def slack_delete(name: str, yes: bool, as_json: bool) -> None:
    """Delete a Slack integration."""
    confirm(f"Delete Slack integration {name!r}?", yes)
    client().slack.delete(name)
    done(f"Deleted Slack integration {name!r}.", as_json)


# ---- secrets ------------------------------------------------------------------------------------------


@click.group()
def secrets() -> None:
    """Secrets: set, list, delete. Values are written, never shown."""


@secrets.command("list")
@as_json
@api_errors
def secrets_list(as_json: bool) -> None:
    """List secrets (names only)."""
    table(
        client().secrets.list(),
        [("NAME", "name"), ("CREATED", "created_at"), ("UPDATED", "updated_at")],
        as_json,
    )


@secrets.command("set")
@click.argument("name")
@as_json
@api_errors
def secrets_set(name: str, as_json: bool) -> None:
    """Create or rotate a secret. The value is asked for (hidden), or read from stdin when piped —
    never taken as an argument, where shell history and `ps` would keep it."""
    if sys.stdin.isatty():
        value = click.prompt(f"Value of {name}", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    if not value:
        raise click.UsageError("The secret's value is empty.")
    saved = client().secrets.set(name, value)
    done(f"Saved secret {saved.name!r}.", as_json, saved)


@secrets.command("delete")
@click.argument("name")
@sure
@as_json
@api_errors
def secrets_delete(name: str, yes: bool, as_json: bool) -> None:
    """Delete a secret (refused while something uses it)."""
    confirm(f"Delete secret {name!r}?", yes)
    client().secrets.delete(name)
    done(f"Deleted secret {name!r}.", as_json)


# ---- events -------------------------------------------------------------------------------------------


@click.group()
def events() -> None:
    """Platform events: publish through the API."""


@events.command("publish")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--new-id", is_flag=True, help="Give each event a fresh event_id (else a repeat is deduplicated)."
)
@click.option(
    "--as-me",
    is_flag=True,
    help="Publish as your key's member: drop the files' author and run user (only a service key may "
    "publish for others).",
)
@as_json
@api_errors
def events_publish(files: tuple[str, ...], new_id: bool, as_me: bool, as_json: bool) -> None:
    """Publish events from JSON files (an event, an EventBridge envelope as in events/, or
    {"events": [...]}) to the API, as a platform's own code would. - reads stdin."""
    batch: list[dict[str, Any]] = []
    for path in files:
        document = read_json(path)
        events = document["events"] if isinstance(document, dict) and "events" in document else [document]
        if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
            raise click.BadParameter(
                f"{path} holds no event: an object ({{detail_type, detail}} or an EventBridge envelope), "
                'or {"events": [...]} of them',
                param_hint="FILES",
            )
        batch += events
    for event in batch:
        detail = event.get("detail")
        if not isinstance(detail, dict):
            continue  # the API says what is wrong with it
        if new_id:
            detail["event_id"] = f"{detail.get('event_id', 'event')}-{uuid.uuid4().hex[:8]}"
        if as_me:
            detail.pop("author", None)
            if isinstance(detail.get("run"), dict):
                detail["run"].pop("user", None)
    published = []
    api = client()
    for start in range(0, len(batch), 10):
        published += api.publish_many(batch[start : start + 10]).published
    if as_json:
        emit_json(published)
        return
    for event, result in zip(batch, published, strict=True):
        out.print(
            f"published {event.get('detail_type') or event.get('detail-type')}: event_id {result.event_id}"
        )


# ---- members and keys ---------------------------------------------------------------------------------

ROLES = click.Choice([r.value for r in Role], case_sensitive=False)


@click.group()
def members() -> None:
    """Members of the entity and their roles."""


@members.command("list")
@as_json
@api_errors
def members_list(as_json: bool) -> None:
    """List members."""
    table(
        client().members.list(),
        [("USERNAME", "username"), ("ROLE", lambda m: m.role.value), ("SINCE", "created_at")],
        as_json,
    )


@members.command("add")
@click.argument("username")
@click.option("--role", type=ROLES, default=Role.MEMBER.value, help="Their role.")
@as_json
@api_errors
def members_add(username: str, role: str, as_json: bool) -> None:
    """Add a member (admins)."""
    added = client().members.add(username, role.upper())
    done(f"Added {added.username} as {added.role.value}.", as_json, added)


@members.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLES)
@as_json
@api_errors
def members_set_role(username: str, role: str, as_json: bool) -> None:
    """Change a member's role (admins)."""
    changed = client().members.set_role(username, role.upper())
    done(f"{changed.username} is now {changed.role.value}.", as_json, changed)


@members.command("remove")
@click.argument("username")
@sure
@as_json
@api_errors
def members_remove(username: str, yes: bool, as_json: bool) -> None:
    """Remove a member and their keys (admins)."""
    confirm(f"Remove {username} and their keys?", yes)
    client().members.remove(username)
    done(f"Removed {username}.", as_json)


@click.group()
def keys() -> None:
    """API keys: list, create (shown once), delete."""


@keys.command("list")
@as_json
@api_errors
def keys_list(as_json: bool) -> None:
    """List API keys (never the keys themselves)."""
    table(
        client().keys.list(),
        [
            ("ID", "id"),
            ("NAME", "name"),
            ("MEMBER", "member"),
            ("SERVICE", "service"),
            ("PREFIX", "prefix"),
            ("CREATED", "created_at"),
        ],
        as_json,
    )


@keys.command("create")
@click.argument("name")
@click.option("--member", help="Whose key (admins may name another member).")
@click.option(
    "--service", is_flag=True, help="A service key, which may publish events for any author (admins)."
)
@as_json
@api_errors
def keys_create(name: str, member: str | None, service: bool, as_json: bool) -> None:
    """Create an API key; it is printed this once."""
    created = client().keys.create(name, member=member, service=service)
    if as_json:
        emit_json(created)
        return
    err.print(f"Key {created.id} for {created.member} (shown once, stored only as a hash):")
    click.echo(created.key)


@keys.command("delete")
@click.argument("key_id")
@sure
@as_json
@api_errors
def keys_delete(key_id: str, yes: bool, as_json: bool) -> None:
    """Delete (revoke) an API key."""
    confirm(f"Revoke key {key_id}?", yes)
    client().keys.delete(key_id)
    done(f"Revoked key {key_id}.", as_json)


# ---- projects, run queues, sources ----------------------------------------------------------------------


@click.group()
def projects() -> None:
    """Projects, registries and their collections."""


@projects.command("list")
@as_json
@api_errors
def projects_list(as_json: bool) -> None:
    """List projects and registries."""
    table(
        client().projects.list(),
        [("NAME", "name"), ("REGISTRY", "registry"), ("DESCRIPTION", "description")],
        as_json,
    )


@projects.command("create")
@click.argument("name")
@click.option("--registry", is_flag=True, help="A registry (W&B's wandb-registry-<name>).")
@click.option("--description", default="", help="A note for people.")
@as_json
@api_errors
def projects_create(name: str, registry: bool, description: str, as_json: bool) -> None:
    """Create a project or registry."""
    created = client().projects.create(name, registry=registry, description=description)
    done(f"Created {'registry' if created.registry else 'project'} {created.name!r}.", as_json, created)


@projects.command("collections")
@click.argument("project")
@as_json
@api_errors
def projects_collections(project: str, as_json: bool) -> None:
    """List a project's collections."""
    table(
        client().projects.collections(project),
        [("NAME", "name"), ("TYPE", "type"), ("CREATED", "created_at")],
        as_json,
    )


@projects.command("add-collection")
@click.argument("project")
@click.argument("name")
@click.option("--type", "kind", default="model", help="The artifact type.")
@as_json
@api_errors
def projects_add_collection(project: str, name: str, kind: str, as_json: bool) -> None:
    """Create a collection in a project."""
    created = client().projects.create_collection(project, name, type=kind)
    done(f"Created collection {project}/{created.name}.", as_json, created)


@click.group("run-queues")
def run_queues() -> None:
    """Run queues that QUEUE_JOB automations send jobs to."""


@run_queues.command("list")
@as_json
@api_errors
def run_queues_list(as_json: bool) -> None:
    """List run queues."""
    table(
        client().run_queues.list(),
        [("NAME", "name"), ("URL", "url"), ("DESCRIPTION", "description")],
        as_json,
    )


@run_queues.command("create")
@click.argument("name")
@click.option("--url", required=True, help="The SQS queue's URL (a name the stack's RunQueueNames allows).")
@click.option("--description", default="", help="A note for people.")
@as_json
@api_errors
def run_queues_create(name: str, url: str, description: str, as_json: bool) -> None:
    """Register a run queue."""
    created = client().run_queues.create({"name": name, "url": url, "description": description})
    done(f"Registered run queue {created.name!r}.", as_json, created)


@run_queues.command("delete")
@click.argument("name")
@sure
@as_json
@api_errors
def run_queues_delete(name: str, yes: bool, as_json: bool) -> None:
    """Remove a run queue (the SQS queue stays)."""
    confirm(f"Remove run queue {name!r}?", yes)
    client().run_queues.delete(name)
    done(f"Removed run queue {name!r}.", as_json)


@click.group()
def sources() -> None:
    """Platforms that send events in (MLflow, W&B, SageMaker)."""


@sources.command("list")
@as_json
@api_errors
def sources_list(as_json: bool) -> None:
    """List sources."""
    table(
        client().sources.list(),
        [("NAME", "name"), ("KIND", lambda s: s.kind), ("INBOUND URL", "inbound_url")],
        as_json,
    )


@sources.command("get")
@click.argument("name")
@as_json
@api_errors
def sources_get(name: str, as_json: bool) -> None:
    """Show a source, with its set-up steps."""
    record(client().sources.get(name), as_json)


@sources.command("create")
@click.option("-f", "--file", "path", required=True, help="The source as JSON (the API's body); - for stdin.")
@as_json
@api_errors
def sources_create(path: str, as_json: bool) -> None:
    """Register a source from a JSON file."""
    created = client().sources.create(read_json(path))
    where = f"; deliveries go to {created.inbound_url}" if created.inbound_url else ""
    done(f"Registered source {created.name!r}{where}.", as_json, created)


@sources.command("delete")
@click.argument("name")
@sure
@as_json
@api_errors
def sources_delete(name: str, yes: bool, as_json: bool) -> None:
    """Remove a source."""
    confirm(f"Remove source {name!r}?", yes)
    client().sources.delete(name)
    done(f"Removed source {name!r}.", as_json)


@sources.command("deliveries")
@click.argument("name")
@click.option("--outcome", help="Only deliveries with this outcome (published, duplicate, rejected, ...).")
@click.option(
    "--limit", default=20, type=click.IntRange(min=1), show_default=True, help="How many, newest first."
)
@as_json
@api_errors
def sources_deliveries(name: str, outcome: str | None, limit: int, as_json: bool) -> None:
    """What a source delivered, and what came of each delivery."""
    items = client().sources.deliveries(name, outcome=outcome, limit=limit)
    table(
        items,
        [
            ("AT", "received_at"),
            ("OUTCOME", lambda d: d.outcome),
            ("EVENT", "platform_event"),
            ("REASON", "reason"),
        ],
        as_json,
    )


COMMANDS = [
    login,
    logout,
    whoami,
    automations,
    executions,
    webhooks,
    slack,
    secrets,
    events,
    members,
    keys,
    projects,
    run_queues,
    sources,
]
