"""One warm Lambda container, for the cost model: imports a function's handler as Lambda does, then
invokes it once per event line read from stdin, and writes one line per invocation to stderr with
what it cost: CPU time, log bytes written, and every AWS call, with DynamoDB's request units.

    python -I bench/lambda_container.py FUNCTION_DIR MEMORY_MB < events.jsonl 2> costs.jsonl > logs

Run by bench/cost_model.py, with the function's environment; stdout must be a file (the function's
log lines land there, as Lambda sends stdout to CloudWatch Logs, and their bytes are counted).

DynamoDB bills on-demand tables by request units, from item sizes: a read unit per 4 KB read
strongly consistent (half for eventually consistent; twice for transactional), a write unit per KB
written (twice for transactional), at least one unit per item. moto does not report consumed
capacity by size, so the units are computed here from the items each call read or wrote; for an
update, from the item as it stands after it (read back through a client of its own, not counted).
"""

from __future__ import annotations

import base64
import json
import math
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

MARK = "COST "
LAYER = Path(__file__).resolve().parents[1] / "layers" / "mlhooks"


def value_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one typed attribute value (its sizing rules, approximately for numbers)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return len(data.strip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(x.encode()) for x in data)
    if kind == "NS":
        return sum(len(x) // 2 + 1 for x in data)
    if kind == "BS":
        return sum(len(base64.b64decode(x)) for x in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in data.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in data)
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    return units * (2 if transactional else 1 if consistent else 0.5)


def write_units(size: int, transactional: bool = False) -> float:
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


class Meter:
    """Every AWS call of this process, through botocore's hooks on the default session (which every
    client mlhooks makes copies)."""

    def __init__(self, session: Any):
        import botocore.session

        self.calls: Counter[str] = Counter()
        self.rru = self.wru = 0.0
        self.entries = 0  # events put on a bus
        self._request = threading.local()
        self._lock = threading.Lock()
        # A client of its own (no hooks) to read back what an update left.
        self.reader = botocore.session.get_session().create_client(
            "dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=os.environ["AWS_REGION"]
        )
        self.errors = 0
        session.events.register("before-call", self._before)
        session.events.register("after-call", self._after)
        # First, and as specific as boto3's own hook, which turns DynamoDB's typed values into Python's
        # (botocore runs a more specific event's hooks before a less specific one's).
        session.events.register_first("after-call.dynamodb", self._after_dynamodb)

    def reset(self) -> None:
        self.calls.clear()
        self.rru = self.wru = 0.0
        self.entries = self.errors = 0

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or b"{}"
        try:
            self._request.params = json.loads(body) if body[:1] in (b"{", "{") else {}
        except ValueError:
            self._request.params = {}

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        params = getattr(self._request, "params", {})
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1
            if service == "events" and operation == "PutEvents":
                self.entries += len(params.get("Entries", []))

    def _after_dynamodb(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        try:
            rru, wru = self._units(model.name, getattr(self._request, "params", {}), parsed)
        except Exception:  # a measuring mistake must not change what the function does
            rru = wru = 0.0
            self.errors += 1
        with self._lock:
            self.rru += rru
            self.wru += wru

    def _units(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
        failed = "Error" in parsed
        consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
        if operation == "GetItem":
            return read_units(item_size(parsed.get("Item")), consistent), 0.0
        if operation == "BatchGetItem":
            total = 0.0
            for table, request in params.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                sizes = [item_size(i) for i in found] + [0] * (len(request["Keys"]) - len(found))
                total += sum(read_units(s, bool(request.get("ConsistentRead"))) for s in sizes)
            return total, 0.0
        if operation in ("Query", "Scan"):
            items = parsed.get("Items", [])
            returned = sum(item_size(i) for i in items)
            # Items a filter dropped were read too: scale by what the call evaluated.
            scanned = parsed.get("ScannedCount", len(items))
            evaluated = returned * scanned / len(items) if items else 0
            return read_units(int(evaluated), consistent), 0.0
        if operation == "PutItem":
            return 0.0, write_units(item_size(params.get("Item")))
        if operation == "UpdateItem":
            return 0.0, write_units(0 if failed else self._stored_size(params["TableName"], params["Key"]))
        if operation == "DeleteItem":
            return 0.0, write_units(0)
        if operation == "TransactWriteItems":
            total = 0.0
            for action in params.get("TransactItems", []):
                ((kind, part),) = action.items()
                if kind == "Put":
                    size = item_size(part.get("Item"))
                elif kind == "Update" and not failed:
                    size = self._stored_size(part["TableName"], part["Key"])
                else:  # Delete, ConditionCheck (counted as a transactional write: the dearer reading)
                    size = 0
                total += write_units(size, transactional=True)
            return 0.0, total
        if operation == "TransactGetItems":
            items = [r.get("Item") for r in parsed.get("Responses", [])]
            return sum(read_units(item_size(i), True, transactional=True) for i in items), 0.0
        return 0.0, 0.0

    def _stored_size(self, table: str, key: dict[str, Any]) -> int:
        return item_size(self.reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item"))


def main(function_dir: str, memory: int) -> None:
    sys.path[:0] = [function_dir, str(LAYER)]
    import boto3

    boto3.setup_default_session()
    meter = Meter(boto3.DEFAULT_SESSION)
    import app  # the cold start, as Lambda's init phase does it

    class Context:
        function_name = Path(function_dir).name
        memory_limit_in_mb = memory
        invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        aws_request_id = "cost-model"
        log_group_name = log_stream_name = ""

        def get_remaining_time_in_millis(self) -> int:
            return 29000

    for line in sys.stdin:
        event = json.loads(line)
        meter.reset()
        sys.stdout.flush()
        logged = os.fstat(1).st_size
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            result = app.lambda_handler(event, Context())
        except Exception as exc:  # the authorizer refuses by raising, as on AWS
            result = {"raised": f"{type(exc).__name__}: {exc}"}
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        sys.stdout.flush()
        cost = {
            "cpu_ms": cpu * 1000,
            "wall_ms": wall * 1000,
            "log_bytes": os.fstat(1).st_size - logged,
            "calls": dict(meter.calls),
            "rru": meter.rru,
            "wru": meter.wru,
            "events_put": meter.entries,
            "meter_errors": meter.errors,
            "result": result,
        }
        sys.stderr.write(MARK + json.dumps(cost, default=str) + "\n")
        sys.stderr.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
