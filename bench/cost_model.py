"""What a million deliveries cost, from a run: docs/cost.md and the run's figures (docs/cost-run.json).

    .venv/bin/python bench/cost_model.py [events]      # measure (moto), then write both files
    .venv/bin/python bench/cost_model.py --render      # write docs/cost.md again from docs/cost-run.json

The run drives each function as a warm Lambda container would (bench/lambda_container.py: one
process per function, its handler imported once and invoked once per event) against moto's server
with the template's stack and a seeded team: events that match nothing, events that each match one
automation (webhook, Slack, job), each matched job delivered by its sender to a local receiver, and
events published through `POST /v1/events` with the authorizer in front. Every AWS call is counted
through botocore's hooks, DynamoDB's request units computed from the items read and written, the
functions' log bytes counted, and their CPU time measured. The prices below turn that into dollars;
nothing in the document is typed in by hand, and tests/unit/test_cost_doc.py checks that it is what
`render` makes of the stored run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUN_FILE = ROOT / "docs" / "cost-run.json"
DOC_FILE = ROOT / "docs" / "cost.md"
COMMAND = "make cost"

# ---- prices ---------------------------------------------------------------------------------------
# AWS public list prices for us-east-1 (N. Virginia), in US dollars, as published on each service's
# pricing page (AWS Lambda, Amazon DynamoDB on-demand, Amazon SQS, Amazon EventBridge, AWS Secrets
# Manager, Amazon CloudWatch, Amazon API Gateway) as of PRICES_AS_OF: first pricing tier, standard
# classes, no free tier. Prices change: check those pages before relying on a figure here.
PRICES_AS_OF = "2025-06"
REGION = "us-east-1"
PRICES = {
    "lambda_request": 0.20 / 1e6,  # per invocation
    "lambda_gb_second_x86_64": 0.0000166667,
    "lambda_gb_second_arm64": 0.0000133334,
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand read request unit
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand write request unit
    "sqs_request": 0.40 / 1e6,  # standard queue, per request (64 KB chunk)
    "eventbridge_event": 1.00 / 1e6,  # custom event put on a bus (64 KB chunk)
    "eventbridge_api_destination": 0.20 / 1e6,  # per API destination invocation
    "secrets_manager_call": 0.05 / 10_000,  # per API call
    "secrets_manager_secret_month": 0.40,
    "logs_ingested_gb": 0.50,  # CloudWatch Logs, standard ingestion (Lambda's vended logs, first tier)
    "metric_month": 0.30,  # CloudWatch custom metric (an EMF metric is one), first 10,000
    "alarm_month": 0.10,  # standard-resolution metric alarm
    "dashboard_month": 3.00,  # beyond the 3 free dashboards
    "api_gateway_request": 3.50 / 1e6,  # REST API, first 333 million
}

# ---- what the run cannot measure (assumed) ---------------------------------------------------------
# Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB. The CPU time
# measured here (on one core of the machine that ran it) is scaled by that share.
FULL_VCPU_MB = 1769
# Round trips from a function to AWS in the same region, and to the other side of a delivery; moto's
# answers say nothing about AWS's latency. Typical figures, assumed.
LATENCY_MS = {
    "dynamodb": 6,
    "sqs": 12,
    "secretsmanager": 20,
    "events": 25,
    "webhook receiver": 100,
    "slack": 250,
}
# Lambda's SQS poller receives and deletes each message: two SQS requests per job, besides the send.
# (At a low rate it receives one message per request; full batches of 10 would make it 0.2.)
POLLER_REQUESTS_PER_JOB = 2
# The monthly volume priced, used to spread what a warm container reads once per cache lifetime
# (secret values, every 60 s) over the deliveries of that time, as one container would see them.
VOLUME = 1_000_000
SECONDS_PER_MONTH = 30 * 24 * 3600
# POST /v1/events takes up to 10 events; the Python client's run logger sends 10 at a time.
EVENTS_PER_PUBLISH = 10
KINDS = ("webhook", "slack", "job")
SENDER = {"webhook": "WebhookSenderFunction", "slack": "SlackSenderFunction", "job": "JobSenderFunction"}
OUTBOUND = {"webhook": "webhook receiver", "slack": "slack", "job": None}
LABELS = {
    "none": "an event that matches nothing",
    "webhook": "a webhook delivery",
    "slack": "a Slack delivery",
    "job": "a job sent to a run queue",
}


# ---- the run ----------------------------------------------------------------------------------------


def container(stand: Any, logical_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Invoke one warm container of the function once per event; what each invocation cost."""
    props = stand.functions_of_template()[logical_id]
    env = stand.environment(logical_id)
    with tempfile.TemporaryFile() as logs:
        done = subprocess.run(  # noqa: S603 - this interpreter and this repository's script
            [
                sys.executable,
                "-I",
                str(ROOT / "bench" / "lambda_container.py"),
                str(ROOT / props["CodeUri"]),
                str(stand.memory(logical_id)),
            ],
            input="".join(json.dumps(e) + "\n" for e in events),
            stdout=logs,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            check=True,
        )
        logs.seek(0)
        lines = logs.read().decode().splitlines()
    costs = [json.loads(line[5:]) for line in done.stderr.splitlines() if line.startswith("COST ")]
    if len(costs) != len(events):
        raise RuntimeError(
            f"{logical_id}: {len(costs)} of {len(events)} invocations reported\n{done.stderr[-3000:]}"
        )
    for cost in costs:
        cost["emf"] = []
    costs[-1]["emf"] = [line for line in lines if '"_aws"' in line]
    return costs


def jobs_on(stand: Any, kind: str, count: int) -> list[dict[str, Any]]:
    """The jobs the matcher queued for this kind, each as a batch of one (a low rate's batches)."""
    from mlhooks.local.sources import sqs_record

    queue = {"webhook": "WebhookQueue", "slack": "SlackQueue", "job": "JobQueue"}[kind]
    url, arn = stand.runtime.stack.refs[queue], stand.runtime.stack.arns[queue]
    events: list[dict[str, Any]] = []
    for _ in range(50 * count):
        answer = stand.components.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=900
        )
        events += [{"Records": [sqs_record(m, arn)]} for m in answer.get("Messages", [])]
        if len(events) >= count:
            return events[:count]
    raise RuntimeError(f"{len(events)} of {count} {kind} jobs reached {queue}")


def publish_requests(stand: Any, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`POST /v1/events` with 10 events that match nothing: the authorizer's events and the API's."""
    from support import UNMATCHED_COLLECTION, alias_added

    from mlhooks.local.apigw import authorizer_context, authorizer_request_event, proxy_event

    headers = {"Authorization": f"Bearer {stand.seeded.admin_key}", "Content-Type": "application/json"}
    authorizations, requests = [], []
    for n in range(count):
        events = [alias_added(f"cost-api-{n}-{i}", UNMATCHED_COLLECTION) for i in range(EVENTS_PER_PUBLISH)]
        for event in events:
            event["detail"]["author"] = "admin"  # a member's key publishes as that member
        body = json.dumps(
            {"events": [{"detail_type": e["detail-type"], "detail": e["detail"]} for e in events]}
        )
        authorization = authorizer_request_event(
            proxy_event("POST", "/v1/events", headers=headers, body=body)
        )
        policy = stand.functions.invoke("AuthorizerFunction", authorization)
        authorizations.append(authorization)
        requests.append(
            proxy_event(
                "POST", "/v1/events", headers=headers, body=body, authorizer=authorizer_context(policy)
            )
        )
    return authorizations, requests


def measure(count: int) -> dict[str, Any]:
    from support import COLLECTIONS, UNMATCHED_COLLECTION, Stand, alias_added

    stand = Stand()
    try:
        # The matcher keeps no automation read within the index's settle time of its change
        # (MLHOOKS_INDEX_SETTLE_SECONDS): wait that out, as a stack whose automations are not being
        # edited this second would be.
        time.sleep(stand.components.settings.index_settle_seconds + 1)
        scenarios: dict[str, list[dict[str, Any]]] = {}
        unmatched = [alias_added(f"cost-none-{n}", UNMATCHED_COLLECTION) for n in range(count)]
        scenarios["none/matcher"] = container(stand, "MatcherFunction", unmatched)
        for kind in KINDS:
            matched = [alias_added(f"cost-{kind}-{n}", COLLECTIONS[kind]) for n in range(count)]
            scenarios[f"{kind}/matcher"] = container(stand, "MatcherFunction", matched)
            scenarios[f"{kind}/sender"] = container(stand, SENDER[kind], jobs_on(stand, kind, count))
        authorizations, requests = publish_requests(stand, count)
        scenarios["publish/authorizer"] = container(stand, "AuthorizerFunction", authorizations)
        scenarios["publish/api"] = container(stand, "ApiFunction", requests)
        for name, costs in scenarios.items():
            check(name, costs)
        memory = {name: stand.memory(name) for name in stand.functions_of_template()}
        template = stand.template
    finally:
        stand.stop()
    resources = template["Resources"].values()
    return {
        "generated": {
            "command": COMMAND,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {_cpu_name()}",
            "python": platform.python_version(),
            "events per scenario": count,
        },
        "architecture": template["Globals"]["Function"]["Architectures"][0],
        "memory": memory,
        "alarms": sum(1 for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"),
        "dashboards": sum(1 for r in resources if r["Type"] == "AWS::CloudWatch::Dashboard"),
        "scenarios": {name: summarize(costs) for name, costs in scenarios.items()},
        "metric streams": len(
            metric_streams([line for costs in scenarios.values() for c in costs for line in c["emf"]])
        ),
    }


def check(scenario: str, costs: list[dict[str, Any]]) -> None:
    """Every invocation did what its scenario prices, or there is no document to write."""
    kind, part = scenario.split("/")
    for cost in costs:
        result = cost["result"] or {}
        if part == "matcher":
            done = result.get("created") == (0 if kind == "none" else 1)
        elif part == "sender":
            done = result.get("batchItemFailures") == []
        elif part == "authorizer":
            done = result.get("policyDocument", {}).get("Statement", [{}])[0].get("Effect") == "Allow"
        else:
            done = result.get("statusCode") == 202
        if not done or cost.get("meter_errors"):
            raise RuntimeError(f"{scenario}: an invocation did not do its work: {str(result)[:500]}")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def summarize(costs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first invocation (a cold container) and the mean of the others (a warm one)."""
    warm = costs[1:]
    operations = sorted({op for c in warm for op in c["calls"]})
    return {
        "cold": {"calls": costs[0]["calls"], "cpu_ms": round(costs[0]["cpu_ms"], 1)},
        "warm": {
            "invocations": len(warm),
            "cpu_ms": round(statistics.mean(c["cpu_ms"] for c in warm), 2),
            "log_bytes": round(statistics.mean(c["log_bytes"] for c in warm), 1),
            "read_units": round(statistics.mean(c["rru"] for c in warm), 3),
            "write_units": round(statistics.mean(c["wru"] for c in warm), 3),
            "events_put": round(statistics.mean(c["events_put"] for c in warm), 3),
            "calls": {
                op: round(statistics.mean(c["calls"].get(op, 0) for c in warm), 3) for op in operations
            },
        },
        "result": costs[-1]["result"],
    }


def metric_streams(lines: list[str]) -> set[tuple[str, ...]]:
    """The distinct CloudWatch metrics (name and dimension values) the EMF lines define."""
    streams = set()
    for line in lines:
        try:
            document = json.loads(line)
        except ValueError:
            continue
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            for dimensions in directive.get("Dimensions", [[]]):
                values = tuple(f"{d}={document.get(d)}" for d in dimensions)
                for metric in directive.get("Metrics", []):
                    streams.add((directive.get("Namespace", ""), metric["Name"], *values))
    return streams


# ---- the model -----------------------------------------------------------------------------------------


def service_calls(warm: dict[str, Any], service: str) -> float:
    return sum(n for op, n in warm["calls"].items() if op.split(".")[0] == service)


def billed_ms(run: dict[str, Any], scenario: str, outbound: str | None = None) -> float:
    """Lambda's billed duration of one invocation: the measured CPU time at the function's share of
    a vCPU, plus the round trips it waits on (assumed latencies)."""
    warm = run["scenarios"][scenario]["warm"]
    function = scenario_function(scenario)
    share = min(1.0, run["memory"][function] / FULL_VCPU_MB)
    waiting = sum(
        service_calls(warm, s) * LATENCY_MS[s] for s in ("dynamodb", "sqs", "secretsmanager", "events")
    )
    return warm["cpu_ms"] / share + waiting + (LATENCY_MS[outbound] if outbound else 0)


def scenario_function(scenario: str) -> str:
    part = scenario.split("/")[1]
    return {"matcher": "MatcherFunction", "authorizer": "AuthorizerFunction", "api": "ApiFunction"}.get(
        part, SENDER.get(scenario.split("/")[0], "")
    )


def outbound_of(scenario: str) -> str | None:
    """Whom a sender calls over HTTP, for its waiting time."""
    return OUTBOUND[scenario.split("/")[0]] if scenario.endswith("/sender") else None


def lambda_gb_seconds(run: dict[str, Any], scenario: str, outbound: str | None = None) -> float:
    return billed_ms(run, scenario, outbound) / 1000 * run["memory"][scenario_function(scenario)] / 1024


def per_unit(run: dict[str, Any], kind: str) -> dict[str, float]:
    """The cost in dollars of one unit of `kind` (an unmatched event, or one delivery of a kind,
    from the event that caused it to the job's end), by service."""
    gb_second = PRICES[f"lambda_gb_second_{run['architecture']}"]
    scenarios = ["none/matcher"] if kind == "none" else [f"{kind}/matcher", f"{kind}/sender"]
    cost = dict.fromkeys(
        (
            "Lambda requests",
            "Lambda duration",
            "DynamoDB",
            "SQS",
            "EventBridge",
            "Secrets Manager",
            "CloudWatch Logs",
        ),
        0.0,
    )
    cost["EventBridge"] = PRICES["eventbridge_event"]  # the event itself, put on the bus
    for scenario in scenarios:
        warm = run["scenarios"][scenario]["warm"]
        outbound = outbound_of(scenario)
        cost["Lambda requests"] += PRICES["lambda_request"]
        cost["Lambda duration"] += lambda_gb_seconds(run, scenario, outbound) * gb_second
        cost["DynamoDB"] += (
            warm["read_units"] * PRICES["dynamodb_read_unit"]
            + warm["write_units"] * PRICES["dynamodb_write_unit"]
        )
        cost["SQS"] += service_calls(warm, "sqs") * PRICES["sqs_request"]
        cost["Secrets Manager"] += secrets_calls(run, scenario) * PRICES["secrets_manager_call"]
        cost["CloudWatch Logs"] += warm["log_bytes"] / 1e9 * PRICES["logs_ingested_gb"]
    if kind != "none":
        cost["SQS"] += POLLER_REQUESTS_PER_JOB * PRICES["sqs_request"]
    return cost


def secrets_calls(run: dict[str, Any], scenario: str) -> float:
    """Secrets Manager calls per invocation after caching: what a warm container makes, plus the reads
    of a cold cache spread over the deliveries of one cache lifetime at the priced volume."""
    entry = run["scenarios"][scenario]
    warm = service_calls(entry["warm"], "secretsmanager")
    refresh = sum(n for op, n in entry["cold"]["calls"].items() if op.startswith("secretsmanager."))
    per_lifetime = VOLUME / SECONDS_PER_MONTH * 60  # invocations in one 60 s cache lifetime
    return warm + refresh / max(1.0, per_lifetime)


def publish_overhead(run: dict[str, Any]) -> dict[str, float]:
    """What publishing through `POST /v1/events` (10 events a request) adds per event."""
    gb_second = PRICES[f"lambda_gb_second_{run['architecture']}"]
    cost = {"API Gateway": PRICES["api_gateway_request"]}
    for scenario in ("publish/authorizer", "publish/api"):
        warm = run["scenarios"][scenario]["warm"]
        cost["Lambda requests"] = cost.get("Lambda requests", 0.0) + PRICES["lambda_request"]
        cost["Lambda duration"] = (
            cost.get("Lambda duration", 0.0) + lambda_gb_seconds(run, scenario) * gb_second
        )
        cost["DynamoDB"] = cost.get("DynamoDB", 0.0) + (
            warm["read_units"] * PRICES["dynamodb_read_unit"]
            + warm["write_units"] * PRICES["dynamodb_write_unit"]
        )
        cost["CloudWatch Logs"] = (
            cost.get("CloudWatch Logs", 0.0) + warm["log_bytes"] / 1e9 * PRICES["logs_ingested_gb"]
        )
    return {name: value / EVENTS_PER_PUBLISH for name, value in cost.items()}


# ---- the document -------------------------------------------------------------------------------------


def architecture(run: dict[str, Any]) -> list[str]:
    """Why the functions run where they do, and what the other choice would cost."""
    other = "x86_64" if run["architecture"] == "arm64" else "arm64"
    webhook = sum(per_unit(run, "webhook").values())
    elsewhere = sum(per_unit({**run, "architecture": other}, "webhook").values())
    return [
        f"The functions run on {run['architecture']} (the template's `Architectures`). A million GB-seconds"
        f" cost {money(PRICES['lambda_gb_second_arm64'] * 1e6)} on arm64 (Graviton) against"
        f" {money(PRICES['lambda_gb_second_x86_64'] * 1e6)} on x86_64, and every dependency of the layer has"
        " an aarch64 wheel (pydantic-core, google-re2, charset-normalizer and wrapt are compiled; the rest is"
        " pure Python), so `sam build` makes the layer for arm64 without a container (layers/mlhooks/Makefile"
        f" asks pip for those wheels). On {other}, a million webhook deliveries would cost"
        f" {money(elsewhere * 1e6)} instead of {money(webhook * 1e6)}. The CPU time above was measured on"
        f" {run['generated']['machine'].split(',')[0]}; a Graviton core is taken to be as fast, which for"
        " these functions, mostly waiting on DynamoDB and the receiver, moves little. The cost of arm64 is"
        " local: `sam local invoke` on an x86_64 machine emulates it (Docker with QEMU); `mlhooks dev` runs"
        " the handlers in-process and does not care.",
    ]


def money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:,.4f}"


def number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(" --- " for _ in headers) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def render(run: dict[str, Any]) -> str:
    generated = run["generated"]
    arch = run["architecture"]
    scenarios = run["scenarios"]
    lines = [
        "# What mlhooks costs to run",
        "",
        f"Generated by `{generated['command']}` (`bench/cost_model.py`) on {generated['date']}, on"
        f" {generated['machine']}, Python {generated['python']}: every figure below is rendered from that"
        " run's measurements (`docs/cost-run.json`) and the price table in the script; none is typed in by"
        " hand, and `tests/unit/test_cost_doc.py` checks that this page is what the script makes of the"
        " stored run. Run `make cost` to measure again.",
        "",
        f"Prices: AWS's public list prices for {REGION} as of {PRICES_AS_OF} (first pricing tier, no free"
        " tier), from each service's pricing page; Lambda at the stack's architecture"
        f" ({arch}). They change: check the pricing pages before relying on a figure.",
        "",
        "## A million of each",
        "",
        "Each delivery is priced from the event that caused it (put on the bus, matched) to its job's end"
        f" (sent, recorded, deleted from its queue), at {VOLUME:,} a month.",
        "",
    ]
    services = [
        "Lambda requests",
        "Lambda duration",
        "DynamoDB",
        "SQS",
        "EventBridge",
        "Secrets Manager",
        "CloudWatch Logs",
    ]
    rows = []
    for kind in ("none", *KINDS):
        unit = per_unit(run, kind)
        total = sum(unit.values())
        # The event on the bus, and (for a delivery) the rule's target: an API destination, or for a
        # job the queue a rule can target directly (its SendMessage is an SQS request).
        target = {"none": 0.0, "job": PRICES["sqs_request"]}.get(kind, PRICES["eventbridge_api_destination"])
        destination = PRICES["eventbridge_event"] + target
        rows.append(
            [f"a million x {LABELS[kind]}"]
            + [money(unit[s] * 1e6) for s in services]
            + [f"**{money(total * 1e6)}**", money(destination * 1e6)]
        )
    lines += md_table(["", *services, "total", "EventBridge alone"], rows)
    overhead = publish_overhead(run)
    lines += [
        "",
        f"Publishing through `POST /v1/events` instead of `PutEvents` adds, per million events"
        f" ({EVENTS_PER_PUBLISH} a request, as the Python client's run logger sends them):"
        + ";".join(f" {name} {money(value * 1e6)}" for name, value in overhead.items())
        + f"; **{money(sum(overhead.values()) * 1e6)}** in all.",
        "",
        "**What the comparison leaves out.** EventBridge alone: an API destination (a rule whose target is"
        " an HTTP endpoint) costs the event put on the bus plus $0.20 per million invocations (for a job, a"
        " rule can target an SQS queue directly: the event and the queue's request), and does"
        " less: its rule matches on the event's fields only (no scopes, filters on regexes, run metric"
        " conditions or rate limits), it keeps no history of what was sent and answered, signs nothing"
        " (a static header at most; no `X-Wandb-Signature`, no Standard Webhooks signature or replay"
        " protection), renders no payload from templates with secrets, and neither posts to Slack with"
        " Block Kit nor queues jobs. mlhooks' price over it is what those cost: DynamoDB for the"
        " automations, executions and attempts, and the functions' time.",
        "",
        "## Architecture",
        "",
        *architecture(run),
        "",
        "## Fixed monthly costs",
        "",
    ]
    fixed = [
        [
            "secrets",
            f"{money(PRICES['secrets_manager_secret_month'])} a secret stored (the teams', the Slack app's)",
        ],
        [
            "EMF metrics",
            f"{run['metric streams']} metrics seen in this run x {money(PRICES['metric_month'])}"
            f" = {money(run['metric streams'] * PRICES['metric_month'])}"
            " (`MetricsByEntity` adds a set per team)",
        ],
        [
            "alarms",
            f"{run['alarms']} in the template x {money(PRICES['alarm_month'])}"
            f" = {money(run['alarms'] * PRICES['alarm_month'])}",
        ],
        [
            "dashboard",
            f"{run['dashboards']} x {money(PRICES['dashboard_month'])}"
            " (free within an account's first three)",
        ],
        [
            "SQS pollers",
            "Lambda's pollers long-poll each of the three action queues when idle: some 650,000 requests a"
            f" queue a month, {money(650_000 * 3 * PRICES['sqs_request'])} for the three",
        ],
    ]
    lines += md_table(["what", "per month"], fixed)
    lines += [
        "",
        "## Measured, per invocation",
        "",
        f"Means over a warm container's invocations ({generated['events per scenario'] - 1} each, after its"
        " first), on moto's server; `cold` is the first invocation's calls (empty caches).",
        "",
    ]
    measured = []
    for name, entry in scenarios.items():
        warm = entry["warm"]
        function = scenario_function(name)
        calls = (
            ", ".join(f"{op.split('.', 1)[1]} {number(n)}" for op, n in warm["calls"].items() if n) or "none"
        )
        cold_secrets = sum(n for op, n in entry["cold"]["calls"].items() if op.startswith("secretsmanager."))
        measured.append(
            [
                name,
                f"{function} ({run['memory'][function]} MB)",
                f"{warm['cpu_ms']:.1f}",
                calls,
                f"{warm['read_units']:.2f} / {warm['write_units']:.2f}",
                f"{number(cold_secrets)} → {number(service_calls(warm, 'secretsmanager'))}",
                f"{warm['log_bytes']:,.0f}",
                f"{billed_ms(run, name, outbound_of(name)):.0f}",
            ]
        )
    lines += md_table(
        [
            "scenario",
            "function",
            "CPU ms",
            "AWS calls (warm)",
            "DynamoDB read / write units",
            "Secrets Manager calls, cold → warm",
            "log bytes",
            "billed ms (modelled)",
        ],
        measured,
    )
    latencies = ", ".join(f"{name} {ms} ms" for name, ms in LATENCY_MS.items())
    lines += [
        "",
        "## How the figures are modelled",
        "",
        "- **DynamoDB** is billed on demand by request units, computed from the size of each item read or"
        " written (bench/lambda_container.py): a read unit per 4 KB strongly consistent (half eventually"
        " consistent, twice in a transaction), a write unit per KB (twice in a transaction; a condition"
        " check in a transaction is counted as a transactional write).",
        f"- **Lambda duration**: the CPU time measured here, scaled to the function's share of a vCPU"
        f" (memory / {FULL_VCPU_MB:,} MB), plus the round trips it waits on, at assumed latencies"
        f" ({latencies}), which moto cannot measure. Each delivery is its own invocation (batches of one,"
        " as at a low rate); full batches of 10 share the waiting and cost less.",
        f"- **SQS**: the sends and visibility changes the functions make, plus {POLLER_REQUESTS_PER_JOB}"
        " requests a job for Lambda's poller (receive, delete).",
        "- **Secrets Manager after caching**: a warm sender reads a team's secret values once per"
        f" cache lifetime (60 s); at {VOLUME:,} deliveries a month one container makes that read for"
        f" {VOLUME / SECONDS_PER_MONTH * 60:.0f} deliveries.",
        "- **CloudWatch Logs**: the bytes each invocation writes (its JSON log lines and the EMF metric"
        " lines); Lambda's own START/END/REPORT lines are off (`SystemLogLevel: WARN`). Stored logs"
        " ($0.03 per GB-month, compressed) and the X-Ray traces of the optional tracing are not priced.",
        "- **EventBridge**: one custom event per platform event; rules and their Lambda targets cost"
        " nothing more. A cold container's first invocation (its import, billed since August 2025) is"
        " rare at these rates and left out.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] != ["--render"]:
        count = int(sys.argv[1]) if len(sys.argv) > 1 else 21
        RUN_FILE.write_text(json.dumps(measure(count), indent=2, sort_keys=True) + "\n")
        print(f"wrote {RUN_FILE.relative_to(ROOT)}")
    # Always from the stored run, as the test renders it.
    DOC_FILE.write_text(render(json.loads(RUN_FILE.read_text())))
    print(f"wrote {DOC_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    main()
