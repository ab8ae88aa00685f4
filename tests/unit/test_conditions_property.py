"""Property: folding a stream of logged values into the bounded state fires at exactly the same
points as a straightforward recomputation over the whole history."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from mlhooks.conditions import RunConditionState, advance, evaluate
from mlhooks.models.automation import MetricChange, MetricThreshold, MetricZScore

DAY = 24 * 60 * 60
values = st.one_of(
    st.floats(-5, 5, allow_nan=False), st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0])
)
aggregations = st.sampled_from(["NONE", "MIN", "MAX", "AVERAGE"])
directions = st.sampled_from(["INCREASE", "DECREASE", "ANY"])

thresholds = st.builds(
    lambda agg, window, cmp, t: MetricThreshold.model_validate(
        {"name": "m", "agg": agg, "window": window, "cmp": cmp, "threshold": t}
    ),
    aggregations,
    st.integers(1, 6),
    st.sampled_from(["$gt", "$gte", "$lt", "$lte"]),
    st.floats(-2, 2),
)
changes = st.builds(
    lambda agg, window, prior, kind, direction, amount: MetricChange.model_validate(
        {
            "name": "m",
            "agg": agg,
            "window": window,
            "prior_window": prior,
            "change_type": kind,
            "change_dir": direction,
            "threshold": amount,
        }
    ),
    aggregations,
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 5)),
    st.sampled_from(["ABSOLUTE", "RELATIVE"]),
    directions,
    st.floats(0.01, 3),
)
zscores = st.builds(
    lambda window, t, direction: MetricZScore.model_validate(
        {"name": "m", "window": window, "threshold": t, "change_dir": direction}
    ),
    st.integers(2, 8),
    st.floats(0.1, 3),
    directions,
)
streams = st.lists(
    st.tuples(st.integers(0, 80), values, st.sampled_from([1.0, 600.0, DAY / 3, DAY])),
    min_size=1,
    max_size=80,
)


def recompute(condition, stream):
    """The straightforward way: keep every accepted value, evaluate on the whole history each time."""
    history, last_step, held, fired_at, fired, now = [], None, False, None, [], 0.0
    for index, (step, value, gap) in enumerate(stream):
        now += gap
        if math.isfinite(value) and (last_step is None or step > last_step):
            history.append(value)
            last_step = step
        holds = evaluate(condition, {"m": history}).holds is True
        if holds and not held and (fired_at is None or now - fired_at >= DAY):
            fired.append(index)
            fired_at = now
        held = holds
    return fired


def incremental(condition, stream):
    state, fired, now = RunConditionState(), [], 0.0
    for index, (step, value, gap) in enumerate(stream):
        now += gap
        result = advance(state, condition, step, {"m": value}, now=now, refire_after=DAY, event_id=str(index))
        state = result.state
        if result.fired is not None:
            fired.append(index)
    return fired


@settings(max_examples=300, deadline=None)
@given(st.one_of(thresholds, changes, zscores), streams)
def test_incremental_state_fires_where_full_recomputation_does(condition, stream):
    assert incremental(condition, stream) == recompute(condition, stream)


extreme_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.7976931348623157e308, -1.7976931348623157e308, 5e-324, -5e-324, 0.0, -0.0]),
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(thresholds, changes, zscores), st.lists(extreme_values, min_size=1, max_size=12))
def test_no_condition_raises_on_any_finite_values(condition, history):
    """Values at the edges of the float range (sums overflow, differences overflow, deviations
    vanish) never make the evaluation fail: one metric must not lose the event for every automation."""
    verdict = evaluate(condition, {"m": history})
    assert verdict.holds in (True, False, None)
    if (
        isinstance(condition, MetricThreshold)
        and condition.agg.value == "AVERAGE"
        and verdict.holds is not None
    ):
        window = history[-condition.window :]
        assert min(window) <= evaluate_average(window) <= max(window)


def evaluate_average(window):
    from mlhooks.conditions import _mean

    return _mean(window)
