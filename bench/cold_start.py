"""Each function's cold start against `import boto3` plus one client, in one run. Prints a table;
asserts nothing (speed goals never go in tests).

    .venv/bin/python bench/cold_start.py [samples]
    .venv/bin/python bench/cold_start.py --profile MatcherFunction   # what its import spends, by module
    .venv/bin/python bench/cold_start.py 9 --markdown                # the README's table

A sample is a fresh `python -I -S` process that does what Lambda's runtime does at a cold start: the
function's folder (its CodeUri), the layer's code and the layer's dependencies (support.lambda_site,
not .venv) on `sys.path`, the environment the template gives the
functions (resolved against a local stack, as `mlhooks dev` resolves it) plus the variables Lambda
sets itself, then `import app` (the init phase), then one invocation of its handler with a real
event (the first request). The AWS calls of that invocation go to moto's server in this process, and
the webhook and Slack calls to the local inbox, so each sample does real work: the matcher matches
and enqueues, each sender delivers one job of a fresh execution, the authorizer checks a real key.

Times are the sample process's CPU time (`time.process_time`): on a shared machine wall time
counts other processes' turns too, and moto's own work happens in this process, not the sample's.
The baseline is the same kind of process doing `import boto3` and creating one DynamoDB client.
Rounds go through every row in turn, so a busy moment falls on all rows alike; tables show medians.
Two rows are no function: the fixed stack alone (boto3, pydantic, Powertools), the floor that no
function's import can go under, against the same baseline.

"import, no .pyc" is the same import from copies of the layer's code and dependencies that hold no
bytecode, under -B: Lambda's /opt is read-only, so that is what each cold start paid while the layer
was built by SAM's Python builder, which ships none (layers/mlhooks/Makefile now compiles it).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from support import LAYER, ROOT, Stand, lambda_site, table, without_bytecode

GOAL = 1.2
BASELINE = "boto3 + 1 client"
COMPILING = " (layer without .pyc)"
MARK = "COLD-START "

PROGRAM = """
import json, sys, time
sys.path[:0] = PATHS
event = json.loads(sys.stdin.read())
cpu = time.process_time()
wall = time.perf_counter()
LOAD
loaded, loaded_wall = time.process_time(), time.perf_counter()
INVOKE
done = time.process_time()
times = {"load": loaded - cpu, "wall": loaded_wall - wall, "invoke": done - loaded}
print(MARK + json.dumps({**times, "result": result}))
"""
BASELINE_LOAD = "import boto3\nboto3.client('dynamodb')"
# What the project's fixed stack costs before any mlhooks code: `import boto3` (no client: the
# functions make theirs on first use), pydantic with one model defined, Powertools' Logger and
# Metrics; and, for the API, Powertools' REST resolver. A function's import cannot go below its row.
STACK = "stack: boto3, pydantic, Logger + Metrics"
API_STACK = "stack + REST resolver (the API's)"
STACK_LOAD = """import boto3
from pydantic import BaseModel
class Defined(BaseModel):
    x: int
from aws_lambda_powertools import Logger, Metrics
Logger(service="stack"), Metrics(namespace="stack")"""
REFERENCES = {
    STACK: STACK_LOAD,
    API_STACK: STACK_LOAD
    + "\nfrom aws_lambda_powertools.event_handler import APIGatewayRestResolver\nAPIGatewayRestResolver()",
}
FUNCTION_LOAD = "import app"
NO_INVOCATION = "result = None"
INVOCATION = """
class Context:
    function_name = FUNCTION
    memory_limit_in_mb = MEMORY
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + FUNCTION
    aws_request_id = "cold-start-bench"
    log_group_name = log_stream_name = ""

    def get_remaining_time_in_millis(self):
        return 29000

try:
    result = app.lambda_handler(event, Context())
except Exception as exc:  # the authorizer refuses by raising, as on AWS
    result = {"raised": f"{type(exc).__name__}: {exc}"}
"""


@dataclass
class Row:
    paths: list[str]
    env: dict[str, str]
    load: str = FUNCTION_LOAD
    invocation: str = NO_INVOCATION
    # -B for a row whose folders must stay without bytecode (see `compiling`).
    flags: tuple[str, ...] = ()
    samples: list[dict[str, Any]] = field(default_factory=list)

    def program(self) -> str:
        text = PROGRAM
        for name, value in (
            ("PATHS", repr(self.paths)),
            ("MARK", repr(MARK)),
            ("LOAD", self.load),
            ("INVOKE", self.invocation),
        ):
            text = text.replace(name, value)
        return text

    def run(self, event: Any, *flags: str) -> subprocess.CompletedProcess:
        flags = (*self.flags, *flags)
        return subprocess.run(  # noqa: S603 - this interpreter, running a program written above
            [sys.executable, "-I", "-S", *flags, "-c", self.program()],
            input=json.dumps(event),
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )

    def sample(self, event: Any) -> dict[str, Any]:
        done = self.run(event)
        lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
        if not lines:
            raise RuntimeError(f"the sample printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return json.loads(lines[-1].removeprefix(MARK))


def rows_of(stand: Stand) -> dict[str, Row]:
    # The baseline's client is made as in AWS: with no endpoint of moto's to skip resolving one.
    baseline = {k: v for k, v in stand.environment(None).items() if k != "AWS_ENDPOINT_URL"}
    site = lambda_site()
    rows = {BASELINE: Row([str(site)], baseline, load=BASELINE_LOAD)}
    rows |= {name: Row([str(site)], baseline, load=load) for name, load in REFERENCES.items()}
    bare = [str(without_bytecode(LAYER)), str(without_bytecode(site))]
    for logical_id, props in stand.functions_of_template().items():
        invocation = INVOCATION.replace("FUNCTION", repr(logical_id)).replace(
            "MEMORY", str(stand.memory(logical_id))
        )
        code, env = str(ROOT / props["CodeUri"]), stand.environment(logical_id)
        rows[logical_id] = Row([code, str(LAYER), str(site)], env, invocation=invocation)
        rows[logical_id + COMPILING] = Row([code, *bare], env, flags=("-B",))
    return rows


def what_it_did(logical_id: str, result: Any) -> str:
    """One line on the first sample's invocation, so the table shows the work was real."""
    if logical_id == BASELINE:
        return ""
    if logical_id in REFERENCES:
        return "(no function: the floor under them)"
    if isinstance(result, dict) and "raised" in result:
        return f"raised {result['raised']}"[:60]
    if logical_id == "AuthorizerFunction":
        effect = result["policyDocument"]["Statement"][0]["Effect"]
        return f"{effect} a valid key"
    if "statusCode" in (result or {}):
        return f"answered {result['statusCode']}"
    if logical_id == "MatcherFunction":
        return f"{result['created']} execution, {result['enqueued']} job"
    if logical_id == "InboundFunction":
        return f"outcome {result['outcome']} (no source claims it)"
    failures = result.get("batchItemFailures")
    return "delivered 1 job" if failures == [] else f"failed: {failures}"


def measure(stand: Stand, samples: int) -> dict[str, Row]:
    rows = rows_of(stand)
    for name, row in rows.items():
        row.sample(stand.event(name, 0))  # writes the bytecode caches, so no row pays for compiling
    for n in range(1, samples + 1):
        for name, row in rows.items():
            row.samples.append(row.sample(stand.event(name, n)))
    return rows


def render(rows: dict[str, Row]) -> list[list[str]]:
    """Medians; a ratio is the median of each round's ratio, so a slow spell of the machine (which
    falls on a round's rows alike) does not tilt it."""
    base = [s["load"] for s in rows[BASELINE].samples]
    lines = []
    for name, row in rows.items():
        if name == BASELINE or name.endswith(COMPILING):
            continue
        loaded = [s["load"] for s in row.samples]
        if name in REFERENCES:
            ratio = statistics.median(t / b for t, b in zip(loaded, base, strict=True))
            median, baseline = statistics.median(loaded) * 1000, statistics.median(base) * 1000
            no_goal_no_invocation = ["", "", "", "", ""]
            lines.append(
                [
                    name,
                    f"{median:.0f}",
                    f"{baseline:.0f}",
                    f"{ratio:.2f}x",
                    *no_goal_no_invocation,
                    what_it_did(name, None),
                ]
            )
            continue
        compiling = statistics.median(s["load"] for s in rows[name + COMPILING].samples)
        whole = [s["load"] + s["invoke"] for s in row.samples]
        ratio = statistics.median(t / b for t, b in zip(loaded, base, strict=True))
        lines.append(
            [
                name,
                f"{statistics.median(loaded) * 1000:.0f}",
                f"{statistics.median(base) * 1000:.0f}",
                f"{ratio:.2f}x",
                "yes" if ratio <= GOAL else "NO",
                f"{statistics.median(s['invoke'] for s in row.samples) * 1000:.0f}",
                f"{statistics.median(whole) * 1000:.0f}",
                f"{statistics.median(t / b for t, b in zip(whole, base, strict=True)):.2f}x",
                f"{compiling * 1000:.0f}",
                what_it_did(name, row.samples[0]["result"]),
            ]
        )
    return lines


HEADERS = [
    "function",
    "import ms",
    "baseline ms",
    "ratio",
    f"<= {GOAL}x",
    "1st invocation ms",
    "import + 1st ms",
    "ratio",
    "import, no .pyc ms",
    "the 1st invocation",
]


def profile(logical_id: str, top: int = 25) -> None:
    """`python -X importtime` of one function's import: the modules that cost most, with what
    they pull in (cumulative) and on their own (self)."""
    stand = Stand()
    try:
        row = rows_of(stand)[logical_id]
        row.run(None)
        lines = row.run(None, "-X", "importtime").stderr.splitlines()
    finally:
        stand.stop()
    entries = []
    for line in lines:
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        own, cumulative, module = line.removeprefix("import time:").split("|", 2)
        entries.append((int(cumulative), int(own), module.rstrip()))
    print(f"{logical_id}: the {top} imports that cost most, cumulative (self) ms\n")
    for cumulative, own, module in sorted(entries, reverse=True)[:top]:
        print(f"{cumulative / 1000:8.1f} ({own / 1000:6.1f})  {module}")


def main(samples: int, markdown: bool = False) -> None:
    stand = Stand()
    try:
        rows = measure(stand, samples)
        lines = render(rows)
    finally:
        stand.stop()
    if markdown:  # the README's table
        print("| " + " | ".join(HEADERS) + " |\n|" + "|".join(" --- " for _ in HEADERS) + "|")
        print("\n".join("| " + " | ".join(line) + " |" for line in lines))
        return
    print(
        f"Cold start of each function: a fresh process each, {samples} samples, medians of the process's CPU"
        " time.\nimport: Lambda's init phase (`import app`); 1st invocation: the handler's first request"
        " (AWS on moto's server, webhooks\nand Slack on a local receiver). Baseline: `import boto3` and one"
        f" DynamoDB client, in the same run. Goal: import at most {GOAL}x.\n"
    )
    print(table(HEADERS, lines))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--markdown"]
    if arguments[:1] == ["--profile"]:
        profile(arguments[1])
    else:
        main(int(arguments[0]) if arguments else 7, markdown="--markdown" in sys.argv)
