"""Matcher cost per run-metrics event with 10 metrics and 50 run automations in the project, and the
DynamoDB calls each event makes. Prints a table; asserts nothing.

    .venv/bin/python bench/run_metrics_cost.py [events]
"""

from __future__ import annotations

import collections
import random
import sys
import time

from support import DynamoMeter, local_aws, table

from mlhooks.models.automation import AutomationSpec
from mlhooks.models.records import AutomationRecord

METRICS = [f"metric_{i}" for i in range(10)]


def automations(count: int) -> list[AutomationRecord]:
    kinds = [
        lambda m: {
            "type": "RUN_METRIC_THRESHOLD",
            "metric": {"name": m, "agg": "AVERAGE", "window": 10, "cmp": "$lt", "threshold": -1},
        },
        lambda m: {
            "type": "RUN_METRIC_CHANGE",
            "metric": {
                "name": m,
                "agg": "AVERAGE",
                "window": 5,
                "change_type": "RELATIVE",
                "change_dir": "ANY",
                "threshold": 10,
            },
        },
        lambda m: {"type": "RUN_METRIC_ZSCORE", "metric": {"name": m, "window": 30, "threshold": 50}},
    ]
    records = []
    for i in range(count):
        data = AutomationSpec.model_validate(
            {
                "name": f"run-{i}",
                "scope": {"type": "PROJECT", "project": "training"},
                "event": kinds[i % 3](METRICS[i % len(METRICS)]),
                "action": {"type": "NO_OP"},
            }
        )
        records.append(
            AutomationRecord(
                entity="bench",
                id=f"au_run_{i:03d}",
                created_by="bench",
                created_at="2026-01-01T00:00:00Z",
                updated_at="2026-01-01T00:00:00Z",
                **data.model_dump(by_alias=True),
            )
        )
    return records


def event(step: int, rng: random.Random) -> dict:
    return {
        "source": "mlhooks.platform",
        "detail-type": "Run Metrics Logged",
        "detail": {
            "event_id": f"bench-run-{step}",
            "time": "2026-11-24T09:00:00Z",
            "entity": "bench",
            "project": "training",
            "author": "bench",
            "run": {
                "id": "run-1",
                "display_name": "bench",
                "user": "bench",
                "state": "RUNNING",
                "step": step,
                "metrics": {m: rng.gauss(1.0, 0.01) for m in METRICS},
            },
        },
    }


def measure(events: int) -> list[list[object]]:
    from mlhooks.components import get_components
    from mlhooks.matcher import EventMatcher

    rows = []
    for cache_seconds, label in ((0.0, "cold (look-ups every event)"), (30.0, "warm (cached look-ups)")):
        with local_aws():
            components = get_components()
            with components.store.table.batch_writer() as batch:
                for record in automations(50):
                    batch.put_item(
                        Item=components.store._item(
                            "bench",
                            f"AUTOMATION#{record.id}",
                            record,
                            **components.store._automation_attributes(record),
                        )
                    )
            matcher = EventMatcher(components)
            matcher.cache.ttl = cache_seconds
            rng = random.Random(1)
            matcher.handle(event(0, rng))
            meter = DynamoMeter(components.store.client)
            operations: collections.Counter[str] = collections.Counter()
            components.store.client.meta.events.register(
                "before-call.dynamodb.*",
                lambda event_name, **_: operations.update([event_name.rsplit(".", 1)[1]]),
            )
            meter.reset()
            started = time.perf_counter()
            for step in range(1, events + 1):
                matcher.handle(event(step, rng))
            elapsed = (time.perf_counter() - started) / events
            per_event = ", ".join(f"{op} {n / events:.0f}" for op, n in sorted(operations.items()))
            rows.append(
                [
                    label,
                    f"{elapsed * 1000:.1f}",
                    f"{(elapsed - meter.seconds / events) * 1000:.1f}",
                    f"{meter.calls / events:.1f}",
                    per_event,
                ]
            )
    return rows


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    print(
        "Run-metrics events: 10 metrics each, 50 run automations in the project, moto in-process, "
        f"{n} events\n"
    )
    print(
        table(
            ["look-ups", "ms/event on moto", "matcher CPU ms/event", "DynamoDB calls/event", "calls by kind"],
            measure(n),
        )
    )
