"""Dry runs: whether an automation would fire on one event, why not, and what it would send.

The matcher's checks, in the matcher's order, each answered in words: the automation is enabled; the
event is of the type it watches and in its scope; it passes the filter; it makes the run condition
true (a metric condition is evaluated on the run's stored history, which is read, never written); it
is not an event already handled; the automation's rate limit has room this minute. Then the request
its action would send, built by the code the senders use: `delivery.prepare_webhook_request`,
`slack.build_message`, and `senders.queue_job.launch_request` with `queue_message`.

Nothing is sent and nothing is written: no execution, no rate-limit count, no run state. No secret is
read either (`delivery.preview_webhook_request`): where a secret goes the answer shows the redaction
marker, and a signature shows as "present". So a dry run needs no more than reading automations does,
and it cannot tell anyone whether event data equals a secret, as redacting by value would
(redaction.py).

Without an event, a sample of the automation's event type is made up, in its scope, with the values
its filter names where that is simple (a field's value, `$eq`, the first of `$in`, `$contains`, a
plain `^prefix` regex), so that the answer can show the request; it says so when the sample still
does not pass.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from mlhooks.access import Caller
from mlhooks.automations import AutomationService
from mlhooks.clock import iso_from_epoch
from mlhooks.components import Components
from mlhooks.conditions import (
    Condition,
    RunConditionState,
    Verdict,
    advance,
    describe,
    evaluate,
    metric_names,
    metric_variables,
    values_needed,
)
from mlhooks.delivery import PRESENT, USER_AGENT, preview_webhook_request
from mlhooks.errors import InvalidInput, MlhooksError
from mlhooks.filters import parse_filter
from mlhooks.health import webhook_state
from mlhooks.matcher import METRIC_EVENT_TYPES, as_json, execution_id, rate_window
from mlhooks.models.automation import (
    AutomationSpec,
    MetricThreshold,
    MetricThresholdAll,
    MetricThresholdAny,
    NotificationAction,
    QueueJobAction,
    RunStateEvent,
    WebhookAction,
)
from mlhooks.models.dry_run import REASON_OF, ActionPreview, ActionState, Check, CheckResult, DryRun
from mlhooks.models.events import (
    DETAIL_TYPE_OF,
    DETAIL_TYPES,
    EventDetail,
    Publisher,
    RunMetricsLogged,
    filter_fields,
    template_variables,
)
from mlhooks.models.records import AutomationRecord
from mlhooks.models.vocabulary import ActionType, Comparison, EventType, RunState, ScopeType
from mlhooks.redaction import REDACTED
from mlhooks.run_queues import RunQueueService
from mlhooks.runs import QUIET_RUN_SECONDS
from mlhooks.senders.queue_job import launch_request, queue_message
from mlhooks.slack import SlackClient, build_message
from mlhooks.store import keys
from mlhooks.store.automations import scope_key
from mlhooks.templating import EVENT_VARIABLES, METADATA_PREFIX, discover_variables, render_payload

METRICS_DETAIL_TYPE = "Run Metrics Logged"
SAMPLE_PROJECT = "sample-project"
SAMPLE_COLLECTION = "sample-model"
SAMPLE_RUN = "sample-run"
SAMPLE_TAG = "sample-tag"
# What stands for the execution's id in the request of an unsaved automation, which has none yet.
UNSAVED_EXECUTION = "(the execution's id)"
# A `$regex` whose text is a plain prefix or word, which a sample value can simply be.
_PLAIN_PATTERN = re.compile(r"\^?([A-Za-z0-9_-]{1,64})\$?")

Automation = AutomationSpec | AutomationRecord


def _under(prefix: str, error: MlhooksError) -> MlhooksError:
    """The same error, its fields named as the request names them (`automation.action.webhook`)."""
    details = [
        {**detail, "field": f"{prefix}.{detail['field']}" if detail.get("field") else prefix}
        for detail in error.details
    ]
    field = f"{prefix}.{error.field}" if error.field else prefix
    return type(error)(error.message, field=field, details=details)


def read_event(
    entity: str, detail_type: str, detail: dict[str, Any], *, author: str, publisher: Publisher, now: float
) -> EventDetail:
    """An event as POST /v1/events takes one, for this entity. `event_id`, `time`, `author` (and a
    run's `user`) may be left out: a dry run publishes nothing, so they default (to the caller)."""
    model = DETAIL_TYPES.get(detail_type)
    if model is None:
        raise InvalidInput(
            f"Unknown detail_type {detail_type[:100]!r}; known: {', '.join(DETAIL_TYPES)}.",
            field="event.detail_type",
        )
    if detail.get("entity", entity) != entity:
        raise InvalidInput(
            f"A dry run takes an event of this entity ({entity}); leave `entity` out.",
            field="event.detail.entity",
        )
    data = {
        "event_id": f"dry-run-{uuid.uuid4().hex[:16]}",
        "time": iso_from_epoch(now),
        "entity": entity,
        "author": author,
        **detail,
        "publisher": publisher.model_dump(),  # as the API records it; never the body's word
    }
    if isinstance(data.get("run"), dict):
        data["run"] = {"user": author, **data["run"]}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {
                "field": ".".join(["event.detail", *map(str, error["loc"])]),
                "message": str(error["msg"]).removeprefix("Value error, "),
            }
            for error in exc.errors(include_input=False)
        ]
        more = f" (and {len(problems) - 1} more, in details)" if len(problems) > 1 else ""
        raise InvalidInput(
            f"Invalid event: {problems[0]['field']}: {problems[0]['message']}{more}.",
            field=problems[0]["field"],
            details=problems,
        ) from None


def event_out(detail: EventDetail) -> dict[str, Any]:
    """The event as the answer shows it: NaN and the infinities spelled as the bus spells them (they
    are no JSON numbers), and without the publisher, which is the caller."""
    event = detail.model_dump(mode="json", exclude={"publisher"})
    if isinstance(detail, RunMetricsLogged):
        event["run"]["metrics"] = {name: as_json(value) for name, value in detail.run.metrics.items()}
    return event


# ---- sample events --------------------------------------------------------------------------------


def _filter_values(doc: Any) -> dict[str, str]:
    """Values that satisfy the simple parts of a filter, by field: a field's literal, `$eq`, the first
    of `$in`, `$contains`, a plain `$regex`; every part of an `$and`, the first branch of an `$or`.
    The rest (`$ne`, `$nin`, `$not`, ranges, real regexes) is left to the sample's own values."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "$and" and isinstance(value, list):
                for item in value:
                    walk(item)
            elif key == "$or" and isinstance(value, list) and value:
                walk(value[0])
            elif not key.startswith("$"):
                wanted = _wanted(value)
                if isinstance(wanted, str) and 0 < len(wanted) <= 256:
                    found[key] = wanted

    walk(doc)
    return found


def _wanted(spec: Any) -> Any:
    if not isinstance(spec, dict):
        return spec
    if "$eq" in spec:
        return spec["$eq"]
    if isinstance(spec.get("$in"), list) and spec["$in"]:
        return spec["$in"][0]
    if "$contains" in spec:
        return spec["$contains"]
    pattern = spec.get("$regex")
    plain = _PLAIN_PATTERN.fullmatch(pattern) if isinstance(pattern, str) else None
    return plain[1] if plain else None


def _threshold_parts(condition: Condition) -> list[Any]:
    if isinstance(condition, MetricThresholdAll):
        return list(condition.all_of)
    if isinstance(condition, MetricThresholdAny):
        return list(condition.any_of)
    return [condition]


def _sample_metrics(condition: Condition) -> dict[str, float]:
    """A value per metric: one that passes a threshold compared with the newest value; 0 where one
    value cannot decide (changes, z-scores, averages over a window)."""
    values: dict[str, float] = {}
    for part in _threshold_parts(condition):
        if isinstance(part, MetricThreshold):
            offset = {Comparison.GT: 1.0, Comparison.GTE: 0.0, Comparison.LT: -1.0, Comparison.LTE: 0.0}
            values[part.name] = part.threshold + offset[part.cmp]
        else:
            values.setdefault(part.name, 0.0)
    return values


def _templates(automation: Automation) -> Any:
    action = automation.action
    if isinstance(action, WebhookAction):
        return action.payload
    if isinstance(action, NotificationAction):
        return [action.title, action.message]
    if isinstance(action, QueueJobAction):
        return action.overrides
    return None


def sample_event(
    automation: Automation, entity: str, author: str, wanted: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """A plausible event of the automation's type, in its scope, with the `wanted` filter values."""
    event, scope = automation.event, automation.scope
    project = getattr(scope, "project", None) or SAMPLE_PROJECT
    collection = getattr(scope, "collection", None) or wanted.get("collection") or SAMPLE_COLLECTION
    base: dict[str, Any] = {"entity": entity, "project": project, "author": author}
    run = {
        "id": SAMPLE_RUN,
        "display_name": wanted.get("display_name", SAMPLE_RUN),
        "user": wanted.get("user", author),
    }
    if isinstance(event, RunStateEvent):
        states = [state for state in event.states if state is not RunState.KILLED] or [RunState.FAILED]
        return DETAIL_TYPE_OF[event.type], {**base, "run": {**run, "state": states[0].value}}
    if event.type in METRIC_EVENT_TYPES:
        metrics = _sample_metrics(event.metric)  # type: ignore[union-attr]
        return METRICS_DETAIL_TYPE, {
            **base,
            "run": {**run, "state": "RUNNING", "step": 1, "metrics": metrics},
        }
    detail: dict[str, Any] = {**base, "collection": collection}
    if event.type in (EventType.ADD_COLLECTION_TAG, EventType.REMOVE_COLLECTION_TAG):
        return DETAIL_TYPE_OF[event.type], {**detail, "tag": wanted.get("tag", SAMPLE_TAG)}
    alias = wanted.get("alias", "production")
    metadata = {
        name.removeprefix(METADATA_PREFIX): f"sample {name.removeprefix(METADATA_PREFIX)}"
        for name in sorted(discover_variables(_templates(automation)))
        if name.startswith(METADATA_PREFIX)
    }
    detail["artifact"] = {
        "id": "QXJ0aWZhY3Q6MTIzNDU2",
        "version_index": 3,
        "type": wanted.get("artifact_type", "model"),
        "aliases": list(dict.fromkeys(["latest", alias])),
        "tags": [],
        "metadata": metadata,
    }
    if event.type is EventType.ADD_ARTIFACT_ALIAS:
        detail["alias"] = alias
    elif event.type in (EventType.ADD_ARTIFACT_TAG, EventType.REMOVE_ARTIFACT_TAG):
        detail["tag"] = wanted.get("tag", SAMPLE_TAG)
    return DETAIL_TYPE_OF[event.type], detail


# ---- the checks that need no reads ------------------------------------------------------------------


def _enabled(automation: Automation) -> CheckResult:
    if automation.enabled:
        return CheckResult(Check.ENABLED, True, "The automation is enabled.")
    return CheckResult(
        Check.ENABLED, False, "The automation is disabled: it fires on nothing until it is enabled."
    )


def _event_type(detail_type: str, detail: EventDetail, watched: EventType) -> CheckResult:
    carries = type(detail).event_type
    expected = DETAIL_TYPE_OF.get(watched, METRICS_DETAIL_TYPE)
    if carries is None:  # run metrics: every metric condition watches them
        if watched in METRIC_EVENT_TYPES:
            return CheckResult(Check.EVENT_TYPE, True, f"{watched.value} watches `{detail_type}` events.")
    elif carries is watched:
        return CheckResult(Check.EVENT_TYPE, True, f"{watched.value} watches `{detail_type}` events.")
    return CheckResult(
        Check.EVENT_TYPE,
        False,
        f"The automation watches {watched.value}, which `{expected}` events are; "
        f"this is a `{detail_type}` event.",
    )


def _scope(automation: Automation, detail: EventDetail) -> CheckResult:
    collection = getattr(detail, "collection", None)
    where = f"project {detail.project}" + (f", collection {collection}" if collection else "")
    scope = automation.scope
    watched = {
        ScopeType.ENTITY: "the whole entity",
        ScopeType.PROJECT: f"project {getattr(scope, 'project', '')}",
        ScopeType.ARTIFACT_COLLECTION: f"collection {getattr(scope, 'collection', '')} "
        f"of project {getattr(scope, 'project', '')}",
    }[scope.type]
    inside = scope_key(scope) in keys.scopes_of_event(detail.project, collection)
    return CheckResult(Check.SCOPE, inside, f"The event is in {where}; the automation watches {watched}.")


def _filter(automation: Automation, detail: EventDetail) -> CheckResult:
    doc = automation.event.filter
    if not doc:
        return CheckResult(Check.FILTER, True, "The automation has no filter.")
    fields = filter_fields(detail)
    try:
        passes = parse_filter(doc, automation.event.type).matches(fields)
    except InvalidInput as exc:  # saved under rules since tightened: the matcher could not use it either
        return CheckResult(Check.FILTER, False, f"The filter no longer parses: {exc.message}")
    verb = "pass" if passes else "do not pass"
    return CheckResult(
        Check.FILTER,
        passes,
        f"The event's fields {_json(fields)} {verb} the filter {_json(doc)}.",
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _run_state(event: RunStateEvent, state: RunState) -> CheckResult:
    watched = ", ".join(s.value for s in event.states)
    if state is RunState.KILLED:
        return CheckResult(
            Check.CONDITION, False, "The run was killed: killed runs never trigger automations."
        )
    crashed = state is RunState.CRASHED and RunState.CRASHED not in event.states
    note = " (a crashed run counts as failed, as in W&B)" if crashed and event.watches(state) else ""
    return CheckResult(
        Check.CONDITION,
        event.watches(state),
        f"The run is {state.value}{note}; the automation watches {watched}.",
    )


def _about_sample(check: CheckResult) -> CheckResult:
    """A sample that fails the filter or the condition says nothing about real events: say so."""
    if check.passed is not False or check.check not in (Check.FILTER, Check.CONDITION):
        return check
    return replace(
        check, message=f"{check.message} (This is the sample event; send an event of your own to try it.)"
    )


def _not_evaluated(check: Check) -> CheckResult:
    return CheckResult(check, None, "Not evaluated: the event is not of the type the automation watches.")


class DryRunService:
    def __init__(self, components: Components, clock: Callable[[], float] = time.time):
        self.components = components
        self.store = components.store
        self.settings = components.settings
        self.automations = AutomationService(components.store, components.settings)
        self.clock = clock

    # ---- use cases ---------------------------------------------------------------------------------

    def saved(
        self, entity: str, automation_id: str, event: tuple[str, dict[str, Any]] | None, caller: Caller
    ) -> DryRun:
        """A saved automation (by id or name), as it is stored now."""
        automation = self.automations.get(entity, automation_id)
        return self._run(entity, automation, automation.id, event, caller)

    def draft(
        self, entity: str, spec: AutomationSpec, event: tuple[str, dict[str, Any]] | None, caller: Caller
    ) -> DryRun:
        """An unsaved automation, checked as creating it would check it (its name's uniqueness
        aside): what a create would refuse, a dry run refuses with the same error."""
        try:
            spec, _ = self.automations.validate(entity, spec)
        except MlhooksError as exc:
            raise _under("automation", exc) from None
        return self._run(entity, spec, None, event, caller)

    # ---- the run -----------------------------------------------------------------------------------

    def _run(
        self,
        entity: str,
        automation: Automation,
        automation_id: str | None,
        event: tuple[str, dict[str, Any]] | None,
        caller: Caller,
    ) -> DryRun:
        now = self.clock()
        # As if the caller published the event through the API: its execution id follows from that.
        publisher = Publisher(via="api", key_id=caller.key_id, member=caller.member, service=caller.service)
        if event is None:
            detail_type, detail = self._sample(entity, automation, caller.member, publisher, now)
        else:
            detail_type = event[0]
            detail = read_event(entity, *event, author=caller.member, publisher=publisher, now=now)
        watched = automation.event.type
        typed = _event_type(detail_type, detail, watched)
        checks = [_enabled(automation), typed, _scope(automation, detail)]
        verdict: Verdict | None = None
        if typed.passed:
            condition, verdict = self._condition(entity, automation, automation_id, detail, now)
            checks += [_filter(automation, detail), condition]
        else:
            checks += [_not_evaluated(Check.FILTER), _not_evaluated(Check.CONDITION)]
        execution = execution_id(detail.event_id, automation_id, publisher) if automation_id else None
        checks += [
            self._duplicate(entity, execution),
            self._rate_limit(entity, automation, automation_id, now),
        ]
        if event is None:
            checks = [_about_sample(check) for check in checks]
        failed = next((c for c in checks if c.passed is not True), None)

        variables = template_variables(detail, watched, automation.name)
        if verdict is not None:
            variables |= metric_variables(automation.event.metric, verdict)  # type: ignore[union-attr]
        action = self._action(entity, automation, automation_id, execution, detail, variables, now)
        would_fire = failed is None
        would_deliver = would_fire and action.state != "DISABLED" and action.type is not ActionType.NO_OP
        return DryRun(
            would_fire=would_fire,
            would_deliver=would_deliver,
            summary=_summary(failed, action, would_deliver),
            reason=REASON_OF[failed.check] if failed else None,
            reason_message=failed.message if failed else None,
            checks=checks,
            detail_type=detail_type,
            event=event_out(detail),
            sample=event is None,
            # Those a template may name (the matcher's own, such as `metric_condition`, are left out).
            variables={
                name: value
                for name, value in variables.items()
                if name in EVENT_VARIABLES or name.startswith(METADATA_PREFIX)
            },
            action=action,
        )

    def _sample(
        self, entity: str, automation: Automation, author: str, publisher: Publisher, now: float
    ) -> tuple[str, EventDetail]:
        """The first sample that passes the filter: the plain one, else one with the filter's values;
        else the plain one, which then says why not."""
        wanted = _filter_values(automation.event.filter)
        made = []
        for values in [{}, wanted] if wanted else [{}]:
            detail_type, detail = sample_event(automation, entity, author, values)
            try:
                sample = read_event(entity, detail_type, detail, author=author, publisher=publisher, now=now)
            except InvalidInput:
                if not values:
                    raise  # the plain sample is made to fit its schema: should it not, say so
                continue  # a filter's value the event's schema refuses (a collection name, say)
            made.append((detail_type, sample))
        for detail_type, sample in made:
            if _filter(automation, sample).passed:
                return detail_type, sample
        return made[0]

    def _condition(
        self, entity: str, automation: Automation, automation_id: str | None, detail: EventDetail, now: float
    ) -> tuple[CheckResult, Verdict | None]:
        event = automation.event
        if isinstance(event, RunStateEvent):
            return _run_state(event, detail.run.state), None  # type: ignore[attr-defined]
        if event.type not in METRIC_EVENT_TYPES:
            return CheckResult(Check.CONDITION, True, "Artifact events have no run condition."), None
        return self._metric_condition(entity, event.metric, automation_id, detail, now)  # type: ignore[union-attr, arg-type]

    def _history(
        self, entity: str, automation_id: str | None, detail: RunMetricsLogged
    ) -> tuple[RunConditionState, str]:
        """The run's stored state for this automation, as the matcher would read it, and in words."""
        run = detail.run
        if automation_id is None:
            return (
                RunConditionState(),
                "An unsaved automation has no history: only this event's values count.",
            )
        stored = self.store.get_run_states(
            entity, keys.run(detail.project, run.user, run.id), [automation_id]
        )
        if automation_id not in stored:
            days = QUIET_RUN_SECONDS // (24 * 60 * 60)
            return RunConditionState(), (
                f"No history is stored for run {run.id} and this automation, so only this event's values "
                "count: a run's history starts with its first event after the automation is saved, and "
                f"is forgotten {days} days after its last."
            )
        state = RunConditionState.model_validate_json(stored[automation_id][0])
        held = ", ".join(
            f"{len(points)} of {name} (to step {points[-1][0]})"
            for name, points in state.points.items()
            if points
        )
        return state, (
            f"Evaluated on run {run.id}'s stored history ({held or 'no values'}) and this event's values; "
            "the history is read, not changed."
        )

    def _metric_condition(
        self,
        entity: str,
        condition: Condition,
        automation_id: str | None,
        detail: RunMetricsLogged,
        now: float,
    ) -> tuple[CheckResult, Verdict | None]:
        run, words = detail.run, describe(condition)
        if run.state is RunState.KILLED:
            return CheckResult(
                Check.CONDITION, False, "The run was killed: killed runs never trigger automations."
            ), None
        names = metric_names(condition)
        if not set(names) & set(run.metrics):
            return CheckResult(
                Check.CONDITION,
                False,
                f"The event logs none of the metrics the condition watches ({', '.join(names)}).",
            ), None
        state, history = self._history(entity, automation_id, detail)
        step = advance(
            state,
            condition,
            run.step or 0,
            run.metrics,
            now=now,
            refire_after=self.settings.run_refire_seconds,
            event_id=detail.event_id,
        )
        verdict = evaluate(
            condition, {name: [v for _, v in points] for name, points in step.state.points.items()}
        )
        if step.fired is not None:
            return CheckResult(
                Check.CONDITION, True, f"{words} becomes true with this step. {history}"
            ), step.fired
        if not step.changed and state.fired_event_id == detail.event_id:
            # runs.RunConditions fires again for the event that fired it (an interrupted match).
            return CheckResult(
                Check.CONDITION, True, f"This event already made {words} true. {history}"
            ), Verdict(True, state.fired_windows)
        ignored = self._ignored(state, condition, detail)
        return CheckResult(
            Check.CONDITION,
            False,
            " ".join([self._why_not(words, verdict, state, step.state, condition), *ignored, history]),
        ), verdict

    @staticmethod
    def _ignored(state: RunConditionState, condition: Condition, detail: RunMetricsLogged) -> list[str]:
        """What of this event the condition ignores, as conditions.advance does."""
        notes = []
        for name in values_needed(condition):
            if name not in detail.run.metrics:
                continue
            seen = state.points.get(name)
            if not math.isfinite(detail.run.metrics[name]):
                notes.append(f"This event's {name} is not a finite number: ignored.")
            elif seen and (detail.run.step or 0) <= seen[-1][0]:
                notes.append(
                    f"Step {detail.run.step} is not after the last step seen for {name} ({seen[-1][0]}): "
                    "its value is ignored."
                )
        return notes

    def _why_not(
        self,
        words: str,
        verdict: Verdict,
        before: RunConditionState,
        after: RunConditionState,
        condition: Condition,
    ) -> str:
        if verdict.holds is None:
            need = values_needed(condition)
            short = [
                f"{count} values of {name} (it has {len(after.points.get(name, []))})"
                for name, count in need.items()
                if len(after.points.get(name, [])) < count
            ]
            if short:
                return f"{words} cannot be evaluated yet: it needs {', '.join(short)}."
            return (
                f"{words} is undefined for these values (a relative change from 0, or a z-score over values "
                "without variance)."
            )
        if verdict.holds is False:
            return f"{words} does not hold for {json.dumps(verdict.windows)}."
        if before.held:
            return (
                f"{words} holds, but held already before this step: a condition fires when it becomes "
                "true, not while it stays true."
            )
        hours = self.settings.run_refire_seconds / 3600
        return (
            f"{words} holds, but it fired for this run on {iso_from_epoch(before.fired_at)}: it fires at "
            f"most once per run within {hours:g} hours."
        )

    def _duplicate(self, entity: str, execution: str | None) -> CheckResult:
        if execution is None:
            return CheckResult(Check.DUPLICATE, True, "An unsaved automation has handled no events.")
        existing = self.store.execution_item(entity, execution)
        if existing is not None:
            return CheckResult(
                Check.DUPLICATE,
                False,
                f"This event was already handled for this automation (execution {execution}, "
                f"{existing.get('state')}): an event is handled once.",
            )
        return CheckResult(
            Check.DUPLICATE,
            True,
            "This event was not handled yet for this automation (published with your key).",
        )

    def _rate_limit(
        self, entity: str, automation: Automation, automation_id: str | None, now: float
    ) -> CheckResult:
        limit = self.settings.rate_limit_per_minute
        if automation.action.type is ActionType.NO_OP:
            return CheckResult(
                Check.RATE_LIMIT, True, "A NO_OP execution finishes at once: it is not rate-limited."
            )
        if automation_id is None:
            return CheckResult(
                Check.RATE_LIMIT,
                True,
                f"An unsaved automation has used none of its {limit} executions a minute.",
            )
        used = self.store.rate_window_count(entity, automation_id, rate_window(now))
        if used >= limit:
            return CheckResult(
                Check.RATE_LIMIT,
                False,
                f"The automation executed {used} times this minute, its limit ({limit} a minute): the "
                "execution would be recorded as SKIPPED.",
            )
        return CheckResult(Check.RATE_LIMIT, True, f"{used} of its {limit} executions a minute used.")

    # ---- the action --------------------------------------------------------------------------------

    def _action(
        self,
        entity: str,
        automation: Automation,
        automation_id: str | None,
        execution: str | None,
        detail: EventDetail,
        variables: dict[str, str],
        now: float,
    ) -> ActionPreview:
        action = automation.action
        if isinstance(action, WebhookAction):
            return self._webhook(entity, action, variables, execution or UNSAVED_EXECUTION, now)
        if isinstance(action, NotificationAction):
            return self._slack(entity, action, variables)
        if isinstance(action, QueueJobAction):
            body = launch_request(
                action,
                variables,
                automation_id=automation_id,
                automation_name=automation.name,
                execution_id=execution,
                event_type=automation.event.type,
                project=detail.project,
            )
            return self._queue_job(entity, action, body, automation, automation_id, execution, detail.project)
        return ActionPreview(
            ActionType.NO_OP, "READY", "NO_OP: nothing to deliver; the execution finishes at once.", None
        )

    def _webhook(
        self, entity: str, action: WebhookAction, variables: dict[str, str], message_id: str, now: float
    ) -> ActionPreview:
        webhook = self.store.get_webhook(entity, action.webhook)
        if webhook is None:
            # What can be rendered without it: the body, every secret's place marked.
            secrets = {
                name: REDACTED
                for name in discover_variables(action.payload)
                if name not in EVENT_VARIABLES and not name.startswith(METADATA_PREFIX)
            }
            body = render_payload(action.payload, {**variables, **secrets}).decode("utf-8")
            request = {"method": "POST", "url": None, "headers": {}, "signatures": [], "body": body}
            return ActionPreview(
                ActionType.GENERIC_WEBHOOK,
                "DISABLED",
                f"Webhook {action.webhook} no longer exists: the execution would fail, nothing sent.",
                request,
            )
        shown = preview_webhook_request(
            webhook, action.payload, variables, message_id=message_id, timestamp=int(now)
        ).shown()
        signatures = sorted(name for name, value in shown["headers"].items() if value == PRESENT)
        request = {"method": "POST", **shown, "signatures": signatures}
        state, reason = webhook_state(webhook)
        missing = sorted(
            name for name in webhook.secret_names() if self.store.get_secret(entity, name) is None
        )
        if state == "DISABLED":
            reason = f"Webhook {webhook.name} is disabled ({reason}): the execution would fail, nothing sent."
        elif missing:
            state = "DISABLED"
            reason = (
                f"Secret {', '.join(missing)} of webhook {webhook.name} no longer exists: the delivery would "
                "fail until it is created again."
            )
        return ActionPreview(
            ActionType.GENERIC_WEBHOOK, "READY" if state == "HEALTHY" else state, reason, request
        )

    def _slack(self, entity: str, action: NotificationAction, variables: dict[str, str]) -> ActionPreview:
        integration = self.store.get_slack(entity, action.slack)
        request = {
            "method": "POST",
            "url": SlackClient(self.settings).url,
            "headers": {
                "Authorization": REDACTED,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            "body": build_message(action, integration.channel_id if integration else "", variables),
        }
        state: ActionState = "READY"
        reason = None
        if integration is None:
            state, reason = (
                "DISABLED",
                f"Slack integration {action.slack} no longer exists: the execution would fail.",
            )
        elif self.store.get_secret(entity, integration.bot_token_secret) is None:
            state = "DISABLED"
            reason = (
                f"The bot token secret {integration.bot_token_secret} of Slack integration {action.slack} no "
                "longer exists: the message would not be posted."
            )
        return ActionPreview(ActionType.NOTIFICATION, state, reason, request)

    def _queue_job(
        self,
        entity: str,
        action: QueueJobAction,
        body: dict[str, Any],
        automation: Automation,
        automation_id: str | None,
        execution: str | None,
        project: str,
    ) -> ActionPreview:
        queues = RunQueueService(self.store, self.components.sqs, self.settings)
        run_queue, problem = queues.destination(entity, action.queue)
        if run_queue is None:
            request = {
                "queue": action.queue,
                "queue_url": None,
                "message_body": body,
                "message_attributes": {},
            }
            return ActionPreview(
                ActionType.QUEUE_JOB,
                "DISABLED",
                f"{problem}: the execution would fail, nothing queued.",
                request,
            )
        message = queue_message(
            run_queue,
            body,
            entity=entity,
            automation_id=automation_id,
            automation_name=automation.name,
            execution_id=execution,
            project=project,
        )
        request = {
            "queue": run_queue.name,
            "queue_url": message["QueueUrl"],
            "message_body": json.loads(message["MessageBody"]),
            "message_attributes": message["MessageAttributes"],
            **{
                field: message[name]
                for field, name in (
                    ("message_group_id", "MessageGroupId"),
                    ("message_deduplication_id", "MessageDeduplicationId"),
                )
                if name in message
            },
        }
        return ActionPreview(ActionType.QUEUE_JOB, "READY", None, request)


def _summary(failed: CheckResult | None, action: ActionPreview, would_deliver: bool) -> str:
    if failed is not None:
        return f"Would not fire ({REASON_OF[failed.check].value}): {failed.message}"
    if action.type is ActionType.NO_OP:
        return "Would fire; NO_OP: nothing to deliver."
    if not would_deliver:
        return f"Would fire, but would not deliver: {action.reason}"
    request = action.request or {}
    if action.type is ActionType.GENERIC_WEBHOOK:
        target = f"POST to {request['url']}"
    elif action.type is ActionType.NOTIFICATION:
        target = f"a Slack message to channel {request['body']['channel']}"
    else:
        target = f"a job on run queue {request['queue']}"
    failing = f" (its webhook is failing: {action.reason})" if action.state == "FAILING" else ""
    return f"Would fire and send {target}{failing}."
