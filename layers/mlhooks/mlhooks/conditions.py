"""Run metric conditions with W&B's semantics, evaluated incrementally per (automation, run).

- Threshold: the aggregate (NONE: the newest value; MIN, MAX, AVERAGE: of the last `window`
  values) compared with `threshold` by `cmp`. Not evaluable until the window is full.
- Change: the aggregate of the current window against the aggregate of the prior, non-overlapping
  window just before it (tumbling windows; `prior_window` defaults to `window`; with agg NONE both
  are one value). ABSOLUTE: current - prior; RELATIVE: (current - prior) / |prior|, undefined when
  the prior aggregate is 0. INCREASE holds when the change is >= threshold, DECREASE when it is
  <= -threshold, ANY when |change| >= threshold.
- Z-score: the newest value against the mean and (population) standard deviation of the `window`
  values before it; undefined when they have no variance. Direction as for change.

A condition fires when it becomes true for a run, not while it stays true, and at most once per run
per automation within `refire_after` seconds (24 h by default). Values of a step not newer than the
last one seen for that metric are ignored (out of order), as are NaN and infinities (counted).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import Field

from mlhooks.models.automation import (
    MetricChange,
    MetricThreshold,
    MetricThresholdAll,
    MetricThresholdAny,
    MetricZScore,
)
from mlhooks.models.base import Model
from mlhooks.models.vocabulary import Aggregation, ChangeDirection, ChangeType, Comparison

Condition = MetricThreshold | MetricThresholdAll | MetricThresholdAny | MetricChange | MetricZScore

_AGGREGATION_WORDS = {Aggregation.MIN: "min", Aggregation.MAX: "max", Aggregation.AVERAGE: "average"}
_CMP_SYMBOLS = {Comparison.GT: ">", Comparison.GTE: ">=", Comparison.LT: "<", Comparison.LTE: "<="}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one evaluation: None when not evaluable (window not full, undefined)."""

    holds: bool | None
    # The values that decided, per metric (W&B's ${metric_values}).
    windows: dict[str, list[float]]


def _parts(condition: Condition) -> list[MetricThreshold | MetricChange | MetricZScore]:
    if isinstance(condition, MetricThresholdAll):
        return list(condition.all_of)
    if isinstance(condition, MetricThresholdAny):
        return list(condition.any_of)
    return [condition]


def metric_names(condition: Condition) -> list[str]:
    return list(dict.fromkeys(part.name for part in _parts(condition)))


def values_needed(condition: Condition) -> dict[str, int]:
    """How many trailing values per metric evaluation needs: the bound on stored state."""
    need: dict[str, int] = {}
    for part in _parts(condition):
        if isinstance(part, MetricThreshold):
            n = 1 if part.agg is Aggregation.NONE else part.window
        elif isinstance(part, MetricChange):
            current, prior = _change_windows(part)
            n = current + prior
        else:
            n = part.window + 1
        need[part.name] = max(need.get(part.name, 0), n)
    return need


def _mean(values: Sequence[float]) -> float:
    # Scaled by the largest magnitude first: the sum of values near the largest float overflows,
    # their mean does not. fsum keeps the scaled sum exact.
    scale = max(abs(v) for v in values)
    if scale == 0:
        return 0.0
    return scale * (math.fsum(v / scale for v in values) / len(values))


def _z_score(history: Sequence[float], newest: float) -> float | None:
    """(newest - mean) / population standard deviation, None without variance. Computed on values
    scaled by the largest magnitude, so that huge values neither overflow nor lose their variance."""
    scale = max(abs(v) for v in history)
    if scale == 0:
        return None
    scaled = [v / scale for v in history]
    mean = _mean(scaled)
    deviation = math.sqrt(_mean([(v - mean) ** 2 for v in scaled]))
    if deviation == 0:
        return None
    return (newest / scale - mean) / deviation


def _aggregate(values: Sequence[float], agg: Aggregation) -> float:
    if agg is Aggregation.MIN:
        return min(values)
    if agg is Aggregation.MAX:
        return max(values)
    if agg is Aggregation.AVERAGE:
        return _mean(values)
    return values[-1]


def _compare(value: float, cmp: Comparison, threshold: float) -> bool:
    return {
        Comparison.GT: value > threshold,
        Comparison.GTE: value >= threshold,
        Comparison.LT: value < threshold,
        Comparison.LTE: value <= threshold,
    }[cmp]


def _directed(change: float, direction: ChangeDirection, amount: float) -> bool:
    if direction is ChangeDirection.INCREASE:
        return change >= amount
    if direction is ChangeDirection.DECREASE:
        return change <= -amount
    return abs(change) >= amount


def _change_windows(part: MetricChange) -> tuple[int, int]:
    if part.agg is Aggregation.NONE:
        return 1, 1
    return part.window, part.prior_window or part.window


def _evaluate_part(part: MetricThreshold | MetricChange | MetricZScore, values: Sequence[float]) -> Verdict:
    if isinstance(part, MetricThreshold):
        n = 1 if part.agg is Aggregation.NONE else part.window
        if len(values) < n:
            return Verdict(None, {})
        window = list(values[-n:])
        return Verdict(_compare(_aggregate(window, part.agg), part.cmp, part.threshold), {part.name: window})
    if isinstance(part, MetricChange):
        current_n, prior_n = _change_windows(part)
        if len(values) < current_n + prior_n:
            return Verdict(None, {})
        decided = list(values[-(current_n + prior_n) :])
        prior, current = _aggregate(decided[:prior_n], part.agg), _aggregate(decided[prior_n:], part.agg)
        if part.change_type is ChangeType.ABSOLUTE:
            change = current - prior
        elif prior == 0:
            return Verdict(None, {part.name: decided})  # a relative change from 0 is undefined
        else:
            change = (current - prior) / abs(prior)
        return Verdict(_directed(change, part.change_dir, part.threshold), {part.name: decided})
    if len(values) < part.window + 1:
        return Verdict(None, {})
    decided = list(values[-(part.window + 1) :])
    z = _z_score(decided[:-1], decided[-1])
    if z is None:
        return Verdict(None, {part.name: decided})  # no variance: the z-score is undefined
    return Verdict(_directed(z, part.change_dir, part.threshold), {part.name: decided})


def evaluate(condition: Condition, series: Mapping[str, Sequence[float]]) -> Verdict:
    """Evaluate on the values seen so far (any length; only the tail matters)."""
    verdicts = [_evaluate_part(part, series.get(part.name, ())) for part in _parts(condition)]
    windows: dict[str, list[float]] = {}
    for verdict in verdicts:
        windows.update(verdict.windows)
    outcomes = [v.holds for v in verdicts]
    if isinstance(condition, MetricThresholdAny):
        holds = True if any(o is True for o in outcomes) else (None if None in outcomes else False)
    else:
        holds = False if any(o is False for o in outcomes) else (None if None in outcomes else True)
    return Verdict(holds, windows)


def describe(condition: Condition) -> str:
    """In words, for people: `loss (average of last 5) < 0.1`."""

    def one(part: MetricThreshold | MetricChange | MetricZScore) -> str:
        if isinstance(part, MetricThreshold):
            subject = (
                part.name
                if part.agg is Aggregation.NONE
                else f"{part.name} ({_AGGREGATION_WORDS[part.agg]} of last {part.window})"
            )
            return f"{subject} {_CMP_SYMBOLS[part.cmp]} {part.threshold:g}"
        if isinstance(part, MetricChange):
            current_n, prior_n = _change_windows(part)
            kind = (
                f"{part.threshold:g}" if part.change_type is ChangeType.ABSOLUTE else f"{part.threshold:.0%}"
            )
            way = {"INCREASE": "rises", "DECREASE": "falls", "ANY": "changes"}[part.change_dir.value]
            agg = "" if part.agg is Aggregation.NONE else f"{_AGGREGATION_WORDS[part.agg]} "
            return f"{part.name} {way} by {kind} ({agg}last {current_n} vs previous {prior_n})"
        way = {"INCREASE": "above", "DECREASE": "below", "ANY": "away from"}[part.change_dir.value]
        return f"{part.name} z-score {part.threshold:g} {way} the mean of the last {part.window}"

    parts = [one(p) for p in _parts(condition)]
    joiner = " or " if isinstance(condition, MetricThresholdAny) else " and "
    return joiner.join(parts)


class RunConditionState(Model):
    """What one automation remembers about one run: bounded windows and the firing marker."""

    points: dict[str, list[tuple[int, float]]] = Field(default_factory=dict)  # metric -> [(step, value)]
    held: bool = False
    fired_at: float | None = None
    fired_event_id: str | None = None
    fired_windows: dict[str, list[float]] = Field(default_factory=dict)
    non_finite_ignored: int = 0
    out_of_order_ignored: int = 0


@dataclass(frozen=True)
class Step:
    state: RunConditionState
    changed: bool
    fired: Verdict | None


def advance(
    state: RunConditionState,
    condition: Condition,
    step: int,
    metrics: Mapping[str, float],
    *,
    now: float,
    refire_after: float,
    event_id: str,
) -> Step:
    """Fold one logged step into the state; say whether the condition fires on it."""
    need = values_needed(condition)
    points = {name: list(values) for name, values in state.points.items() if name in need}
    non_finite, out_of_order, changed = state.non_finite_ignored, state.out_of_order_ignored, False
    for name, keep in need.items():
        if name not in metrics:
            continue
        value = metrics[name]
        if not math.isfinite(value):
            non_finite += 1
            changed = True
            continue
        history = points.setdefault(name, [])
        if history and step <= history[-1][0]:
            out_of_order += 1
            changed = True
            continue
        history.append((step, float(value)))
        del history[:-keep]
        changed = True
    if not changed:
        return Step(state, False, None)
    verdict = evaluate(condition, {name: [v for _, v in pts] for name, pts in points.items()})
    holds = verdict.holds is True
    quiet = state.fired_at is None or now - state.fired_at >= refire_after
    fires = holds and not state.held and quiet
    new = RunConditionState(
        points=points,
        held=holds,
        fired_at=now if fires else state.fired_at,
        fired_event_id=event_id if fires else state.fired_event_id,
        fired_windows=verdict.windows if fires else state.fired_windows,
        non_finite_ignored=non_finite,
        out_of_order_ignored=out_of_order,
    )
    return Step(new, True, verdict if fires else None)


def metric_variables(condition: Condition, verdict: Verdict) -> dict[str, str]:
    """W&B's ${metric_name} and ${metric_values} for a firing, and the condition in words."""
    names = metric_names(condition)
    values: object = verdict.windows.get(names[0], []) if len(names) == 1 else verdict.windows
    return {
        "metric_name": ", ".join(names),
        "metric_values": json.dumps(values),
        "metric_condition": describe(condition),
    }
