"""W&B's wire form of an automation's event, read as the automation language.

What W&B's SDK sends (`wandb.automations`, `CreateFilterTriggerInput.eventFilter`) differs from the
language in three ways, each undone here before the language's own validation runs:

- the filter is JSON text, not a JSON value;
- "no filter" is spelt `{"$or": [{"$and": []}]}` (artifact events) or `{"$and": []}` (run filters);
- a run event's filter nests the run filter, itself JSON text, beside the condition:
  `{"run_filter": "<json>", "run_metric_filter": {"threshold_filter" | "change_filter" |
  "zscore_filter": {...}}, "metric_filter": null}`, or `{"run_filter": ..., "run_state_filter":
  {"states": [...]}}`. The condition's keys are W&B's (`agg_op`, `window_size`, `cmp_op`, ...), which
  the language accepts as aliases of its own (models/automation.py).

The language's own form passes through unchanged, so both can be written, and mlhooks answers in the
language's form.
"""

from __future__ import annotations

from typing import Any

from mlhooks import bounded_json
from mlhooks.models.vocabulary import EventType

# Which W&B condition key belongs with which event type.
_CONDITIONS = {
    "threshold_filter": EventType.RUN_METRIC_THRESHOLD,
    "change_filter": EventType.RUN_METRIC_CHANGE,
    "zscore_filter": EventType.RUN_METRIC_ZSCORE,
}
_RUN_KEYS = frozenset({"run_filter", "run_metric_filter", "run_state_filter", "metric_filter"})
_NO_FILTER = ({}, {"$and": []}, {"$or": [{"$and": []}]})


def json_text(value: Any, what: str) -> Any:
    """A JSON value given as JSON text, parsed; anything else as it is."""
    if not isinstance(value, str):
        return value
    try:
        return bounded_json.loads(value)
    except bounded_json.JsonRefused as refused:
        raise ValueError(f"{what} is a string but not JSON text that can be read: {refused}") from None


def simplified(filter_: Any) -> Any:
    """A filter that matches everything (W&B's spellings of "no filter") as no filter."""
    return None if filter_ in _NO_FILTER else filter_


def event_from_wandb(value: Any) -> Any:
    """An event in W&B's wire form, in the language's form; any other value unchanged."""
    if not isinstance(value, dict) or "filter" not in value:
        return value
    event = dict(value)
    filter_ = json_text(event["filter"], "the filter")
    if isinstance(filter_, dict) and filter_ and set(filter_) <= _RUN_KEYS:
        event.pop("filter")
        event.update(_run_event_parts(filter_, event.get("type")))
    else:
        event["filter"] = simplified(filter_)
    return event


def _run_event_parts(wire: dict[str, Any], event_type: Any) -> dict[str, Any]:
    if wire.get("metric_filter") is not None:
        raise ValueError("`metric_filter` is W&B's retired form; send the condition as `run_metric_filter`")
    parts: dict[str, Any] = {"filter": simplified(json_text(wire.get("run_filter"), "`run_filter`"))}
    if "run_metric_filter" in wire and "run_state_filter" in wire:
        raise ValueError("a filter has `run_metric_filter` or `run_state_filter`, not both")
    if "run_state_filter" in wire:
        states = wire["run_state_filter"]
        if not isinstance(states, dict) or set(states) != {"states"}:
            raise ValueError('`run_state_filter` is {"states": [...]}')
        _expect(event_type, EventType.RUN_STATE, "`run_state_filter`")
        parts["states"] = states["states"]
    elif "run_metric_filter" in wire:
        condition = wire["run_metric_filter"]
        if not isinstance(condition, dict) or len(condition) != 1 or next(iter(condition)) not in _CONDITIONS:
            raise ValueError(f"`run_metric_filter` holds one of {', '.join(_CONDITIONS)}")
        [(key, metric)] = condition.items()
        _expect(event_type, _CONDITIONS[key], f"`{key}`")
        parts["metric"] = metric
    return parts


def _expect(event_type: Any, expected: EventType, what: str) -> None:
    if event_type != expected.value:
        raise ValueError(f"{what} is the condition of {expected.value} events, not of {event_type}")
