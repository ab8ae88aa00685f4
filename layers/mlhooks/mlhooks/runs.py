"""Run automations: fold a run-metrics event into every watching automation's state for that run.

Cost per event is bounded whatever the number of metrics and automations: one BatchGetItem for
the states (per 100 automations) and one TransactWriteItems for the changed ones, each written only
if still at the version read. When two matchers handle events of one run at once, the loser re-reads
and folds again: no value is lost and the transition to true is seen (and fires) once.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlhooks.conditions import RunConditionState, Verdict, advance, metric_names
from mlhooks.errors import Conflict
from mlhooks.models.events import RunMetricsLogged
from mlhooks.models.records import AutomationRecord
from mlhooks.store import Store, keys

MAX_RETRIES = 8
QUIET_RUN_SECONDS = 3 * 24 * 60 * 60  # state expires (TTL) this long after a run's last event


@dataclass(frozen=True)
class Firing:
    automation: AutomationRecord
    verdict: Verdict


class RunConditions:
    def __init__(self, store: Store, refire_after: float):
        self.store = store
        self.refire_after = refire_after

    def apply(
        self, detail: RunMetricsLogged, automations: list[AutomationRecord], now: float
    ) -> list[Firing]:
        run, step = detail.run, detail.run.step
        assert step is not None
        watching = [a for a in automations if set(metric_names(a.event.metric)) & set(run.metrics)]  # type: ignore[union-attr]
        if not watching:
            return []
        run_key = keys.run(detail.project, run.user, run.id)
        for _ in range(MAX_RETRIES):
            stored = self.store.get_run_states(detail.entity, run_key, [a.id for a in watching])
            writes: list[tuple[str, str, int]] = []
            firings: list[Firing] = []
            for automation in watching:
                doc, version = stored.get(automation.id, (None, 0))
                state = RunConditionState.model_validate_json(doc) if doc else RunConditionState()
                result = advance(
                    state,
                    automation.event.metric,
                    step,
                    run.metrics,
                    now=now,  # type: ignore[union-attr]
                    refire_after=self.refire_after,
                    event_id=detail.event_id,
                )
                if result.fired is not None:
                    firings.append(Firing(automation, result.fired))
                elif not result.changed and state.fired_event_id == detail.event_id:
                    # This event already fired it, and the matcher stopped before the execution was
                    # written: fire again (the execution id is the same, so it is created once).
                    firings.append(Firing(automation, Verdict(True, state.fired_windows)))
                if result.changed:
                    writes.append((automation.id, result.state.model_dump_json(), version))
            if not writes or self.store.put_run_states(
                detail.entity, run_key, writes, expires_at=int(now) + QUIET_RUN_SECONDS
            ):
                return firings
        raise Conflict(f"Run {run.id} kept changing under the matcher; the event will be retried.")
