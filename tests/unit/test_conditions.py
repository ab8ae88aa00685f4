"""Run metric conditions, checked against hand-computed windows (W&B's definitions)."""

from __future__ import annotations

import math

import pytest

from mlhooks.conditions import RunConditionState, advance, describe, evaluate, values_needed
from mlhooks.models.automation import (
    MetricChange,
    MetricThreshold,
    MetricThresholdAll,
    MetricThresholdAny,
    MetricZScore,
)

DAY = 24 * 60 * 60


def threshold(**kw):
    return MetricThreshold.model_validate({"name": "loss", "cmp": "$lt", "threshold": 0.1, **kw})


def change(**kw):
    return MetricChange.model_validate(
        {"name": "acc", "change_type": "ABSOLUTE", "change_dir": "DECREASE", "threshold": 0.05, **kw}
    )


# ---- threshold -------------------------------------------------------------------------------------


def test_threshold_none_uses_the_newest_value():
    assert evaluate(threshold(), {"loss": [0.5, 0.09]}).holds is True
    assert evaluate(threshold(), {"loss": [0.09, 0.5]}).holds is False


@pytest.mark.parametrize(
    ("agg", "expected"),
    [
        ("AVERAGE", False),  # (0.75 + 0.5 + 0.25) / 3 = 0.5, not < 0.5
        ("MIN", True),  # 0.25 < 0.5
        ("MAX", False),
    ],  # 0.75
)
def test_threshold_aggregates_the_last_window(agg, expected):
    verdict = evaluate(threshold(agg=agg, window=3, threshold=0.5), {"loss": [9.0, 0.75, 0.5, 0.25]})
    assert verdict.holds is expected and verdict.windows == {"loss": [0.75, 0.5, 0.25]}


def test_threshold_window_not_yet_full_is_not_evaluable():
    assert evaluate(threshold(agg="AVERAGE", window=3), {"loss": [0.01, 0.01]}).holds is None


@pytest.mark.parametrize(
    ("cmp", "expected"), [("$gt", False), ("$gte", True), ("$lt", False), ("$lte", True)]
)
def test_exactly_at_threshold_for_each_operator(cmp, expected):
    assert evaluate(threshold(cmp=cmp, threshold=0.25), {"loss": [0.25]}).holds is expected


def test_and_or_across_metrics():
    both = MetricThresholdAll.model_validate(
        {
            "$and": [
                {"name": "acc", "cmp": "$gt", "threshold": 0.95},
                {"name": "loss", "cmp": "$lt", "threshold": 0.1},
            ]
        }
    )
    either = MetricThresholdAny.model_validate(
        {
            "$or": [
                {"name": "acc", "cmp": "$gt", "threshold": 0.95},
                {"name": "loss", "cmp": "$lt", "threshold": 0.1},
            ]
        }
    )
    assert evaluate(both, {"acc": [0.96], "loss": [0.05]}).holds is True
    assert evaluate(both, {"acc": [0.96], "loss": [0.2]}).holds is False
    assert evaluate(both, {"acc": [0.96]}).holds is None  # loss not logged yet
    assert evaluate(either, {"acc": [0.5], "loss": [0.05]}).holds is True
    assert evaluate(either, {"acc": [0.96]}).holds is True


# ---- change ------------------------------------------------------------------------------------------


def test_change_compares_tumbling_windows():
    # prior [0.90, 0.92] averages 0.91, current [0.85, 0.83] averages 0.84: a fall of 0.07 >= 0.05.
    cond = change(agg="AVERAGE", window=2)
    verdict = evaluate(cond, {"acc": [0.5, 0.90, 0.92, 0.85, 0.83]})
    assert verdict.holds is True and verdict.windows == {"acc": [0.90, 0.92, 0.85, 0.83]}
    assert evaluate(cond, {"acc": [0.90, 0.92, 0.88]}).holds is None  # needs 2 + 2 values


def test_change_prior_window_size_defaults_to_current_and_can_differ():
    assert values_needed(change(agg="AVERAGE", window=3)) == {"acc": 6}
    assert values_needed(change(agg="AVERAGE", window=3, prior_window=5)) == {"acc": 8}
    assert values_needed(change()) == {"acc": 2}  # agg NONE: one value against the one before


@pytest.mark.parametrize(
    ("direction", "series", "expected"),
    [
        ("INCREASE", [1.0, 1.5], True),
        ("INCREASE", [1.0, 0.5], False),
        ("DECREASE", [1.0, 0.5], True),
        ("ANY", [1.0, 0.5], True),
        ("ANY", [1.0, 1.2], False),
    ],
)
def test_change_directions(direction, series, expected):
    cond = change(change_dir=direction, threshold=0.5)
    assert evaluate(cond, {"acc": series}).holds is expected


def test_change_exactly_the_amount_fires():
    assert evaluate(change(threshold=0.25), {"acc": [1.0, 0.75]}).holds is True


def test_relative_change():
    cond = change(change_type="RELATIVE", change_dir="INCREASE", threshold=0.1)
    assert evaluate(cond, {"acc": [2.0, 2.2]}).holds is True  # +10 %
    assert evaluate(cond, {"acc": [-2.0, -1.7]}).holds is True  # +15 % of |prior|
    assert evaluate(cond, {"acc": [2.0, 2.1]}).holds is False  # +5 %


def test_relative_change_from_a_prior_window_averaging_zero_is_undefined():
    cond = change(change_type="RELATIVE", change_dir="ANY", threshold=0.1, agg="AVERAGE", window=2)
    assert evaluate(cond, {"acc": [-1.0, 1.0, 5.0, 5.0]}).holds is None


# ---- z-score -----------------------------------------------------------------------------------------


def test_zscore_newest_against_the_window_before_it():
    # history [1, 2, 3, 4, 5]: mean 3, population deviation sqrt(2); newest 7 -> z = 4 / 1.414 = 2.83
    cond = MetricZScore(name="g", window=5, threshold=2.5, change_dir="INCREASE")
    assert evaluate(cond, {"g": [1, 2, 3, 4, 5, 7]}).holds is True
    stricter = MetricZScore(name="g", window=5, threshold=2.9, change_dir="INCREASE")
    assert evaluate(stricter, {"g": [1, 2, 3, 4, 5, 7]}).holds is False
    down = MetricZScore(name="g", window=5, threshold=2.5, change_dir="DECREASE")
    assert evaluate(down, {"g": [1, 2, 3, 4, 5, 7]}).holds is False
    assert evaluate(down, {"g": [1, 2, 3, 4, 5, -1]}).holds is True


def test_zscore_with_zero_variance_is_undefined():
    cond = MetricZScore(name="g", window=3)
    assert evaluate(cond, {"g": [2, 2, 2, 100]}).holds is None


def test_zscore_defaults_follow_wandb():
    cond = MetricZScore(name="g")
    assert (cond.window, cond.threshold, cond.change_dir.value) == (30, 3.0, "ANY")
    assert values_needed(cond) == {"g": 31}


# ---- firing over a run -------------------------------------------------------------------------------


def run(cond, points, *, start=0.0, gap=1.0, refire=DAY):
    """Feed (step, value) points; return the steps on which the condition fired, and the end state."""
    state, fired = RunConditionState(), []
    for i, (step, value) in enumerate(points):
        result = advance(
            state, cond, step, {"loss": value}, now=start + i * gap, refire_after=refire, event_id=f"e{i}"
        )
        state = result.state
        if result.fired:
            fired.append(step)
    return fired, state


def test_fires_on_the_transition_not_while_true():
    fired, state = run(threshold(), [(1, 0.5), (2, 0.09), (3, 0.08), (4, 0.07)])
    assert fired == [2] and state.held is True


def test_fires_at_most_once_per_day_per_run():
    points = [(1, 0.5), (2, 0.05), (3, 0.5), (4, 0.05)]
    assert run(threshold(), points, gap=60)[0] == [2]  # dips again within 24 h: no second fire
    assert run(threshold(), points, gap=DAY / 2 + 1)[0] == [2, 4]  # a day later: fires again


def test_non_finite_values_are_ignored_and_counted():
    fired, state = run(threshold(), [(1, 0.5), (2, math.nan), (3, math.inf), (4, 0.05)])
    assert fired == [4] and state.non_finite_ignored == 2
    assert [v for _, v in state.points["loss"]] == [0.05]


def test_out_of_order_steps_are_ignored_for_windows():
    cond = threshold(agg="AVERAGE", window=2)
    fired, state = run(cond, [(1, 0.5), (5, 0.3), (3, 0.01), (6, 0.3)])
    assert fired == [] and state.out_of_order_ignored == 1
    assert state.points["loss"] == [(5, 0.3), (6, 0.3)]


def test_stored_state_is_bounded_by_the_largest_window():
    _, state = run(threshold(agg="AVERAGE", window=5), [(s, 1.0) for s in range(1, 500)])
    assert len(state.points["loss"]) == 5


def test_conditions_in_words():
    assert describe(threshold(agg="AVERAGE", window=5)) == "loss (average of last 5) < 0.1"
    assert (
        describe(change(change_type="RELATIVE", agg="AVERAGE", window=3))
        == "acc falls by 5% (average last 3 vs previous 3)"
    )
    assert describe(MetricZScore(name="g")) == "g z-score 3 away from the mean of the last 30"
