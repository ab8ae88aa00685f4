"""W&B's automations ("triggers") on the wire, to and from the automation language.

In: `CreateFilterTriggerInput` / `UpdateFilterTriggerInput` as the SDK sends them become the
language's fields (`spec_fields`); the event's W&B form (JSON text, nesting, key names) is read by
the language itself (models/wandb_wire.py). Out: a stored automation becomes the `Trigger` the SDK
parses (`wandb_event`, `wandb_action`), with its filter in the form the SDK reads back: wrapped in
`{"filter": ...}` for artifact events, the run filter as JSON text beside the condition for run
events.

Some automations say what W&B's form cannot (a QUEUE_JOB action, which the SDK never reads; `$and`
or `$or` over thresholds; watching crashed runs without failed ones). They are `None` here, and
W&B's API does not list them: a reply the SDK cannot parse would fail the whole page it is on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mlhooks.api.wandb.ids import Kind, decode
from mlhooks.errors import InvalidInput
from mlhooks.models.automation import (
    ArtifactEvent,
    MetricChange,
    MetricThreshold,
    MetricZScore,
    NoOpAction,
    NotificationAction,
    RunMetricChangeEvent,
    RunMetricThresholdEvent,
    RunMetricZScoreEvent,
    RunStateEvent,
    WebhookAction,
)
from mlhooks.models.vocabulary import Aggregation, EventType, RunState

# W&B's names for two of the language's event types (models/vocabulary.LEGACY_EVENT_TYPES).
WIRE_EVENT_TYPES = {EventType.LINK_ARTIFACT: "LINK_MODEL", EventType.RUN_METRIC_THRESHOLD: "RUN_METRIC"}

# What a webhook without a payload sends (W&B's `SendWebhook.from_integration(hook)`): what
# happened, where, and which automation sent it.
DEFAULT_PAYLOAD = {
    "event_type": "${event_type}",
    "event_author": "${event_author}",
    "entity_name": "${entity_name}",
    "project_name": "${project_name}",
    "automation_name": "${automation_name}",
}

_SCOPE_KINDS = {"ENTITY": Kind.ENTITY, "PROJECT": Kind.PROJECT, "ARTIFACT_COLLECTION": Kind.COLLECTION}
_ACTION_INPUTS = {
    "GENERIC_WEBHOOK": "genericWebhookActionInput",
    "NOTIFICATION": "notificationActionInput",
    "NO_OP": "noOpActionInput",
}
_NOT_RUN = {
    "QUEUE_JOB": "QUEUE_JOB actions name a run queue mlhooks registers over REST (…/run-queues); "
    "create them with the REST API",
    "ARIA": "mlhooks has no ARIA assistant to send prompts to",
    "PUSH_NOTIFICATION": "mlhooks sends no push notifications; use a Slack NOTIFICATION",
}
# The language's field names, in the terms of W&B's input, for error messages.
_WIRE_FIELDS = (
    ("scope", "scopeID"),
    ("event.type", "triggeringEventType"),
    ("event", "eventFilter"),
    ("action.type", "triggeredActionType"),
    ("action", "triggeredActionConfig"),
)


def wire_field(field: str | None) -> str | None:
    """`event.metric.window` -> `eventFilter (event.metric.window)`: where in W&B's input it was."""
    if not field:
        return field
    for ours, theirs in _WIRE_FIELDS:
        if field == ours or field.startswith((f"{ours}.", f"{ours}[")):
            return theirs if field == ours else f"{theirs} ({field})"
    return field


# ---- in -------------------------------------------------------------------------------------------


def spec_fields(wire: Mapping[str, Any], entity: str) -> dict[str, Any]:
    """The language's fields for what a create or update input gives (an update may give only some;
    a scope, an event or an action comes whole or not at all)."""
    fields: dict[str, Any] = {}
    for name in ("name", "enabled"):
        if wire.get(name) is not None:
            fields[name] = wire[name]
    if "description" in wire:
        fields["description"] = wire["description"] or ""
    if _given(wire, "scopeType", "scopeID"):
        fields["scope"] = _scope(wire["scopeType"], wire["scopeID"], entity)
    if _given(wire, "triggeringEventType", "eventFilter"):
        fields["event"] = {"type": wire["triggeringEventType"], "filter": wire["eventFilter"]}
    if _given(wire, "triggeredActionType", "triggeredActionConfig"):
        fields["action"] = _action(wire["triggeredActionType"], wire["triggeredActionConfig"], entity)
    return fields


def _given(wire: Mapping[str, Any], first: str, second: str) -> bool:
    has_first, has_second = wire.get(first) is not None, wire.get(second) is not None
    if has_first != has_second:
        missing = second if has_first else first
        raise InvalidInput(f"{first} and {second} go together; {missing} is missing.", field=missing)
    return has_first


def _scope(scope_type: str, scope_id: str, entity: str) -> dict[str, Any]:
    _, names = decode(scope_id, entity, (_SCOPE_KINDS[scope_type],), "scopeID")
    if scope_type == "ENTITY":
        return {"type": "ENTITY"}
    if scope_type == "PROJECT":
        return {"type": "PROJECT", "project": names[0]}
    return {"type": "ARTIFACT_COLLECTION", "project": names[0], "collection": names[1]}


def _action(action_type: str, config: Mapping[str, Any], entity: str) -> dict[str, Any]:
    if action_type in _NOT_RUN:
        raise InvalidInput(f"{_NOT_RUN[action_type]}.", field="triggeredActionType")
    key = _ACTION_INPUTS[action_type]
    given = config.get(key)
    others = sorted(k for k, v in config.items() if v is not None and k != key)
    if given is None or others:
        raise InvalidInput(
            f"A {action_type} action is configured by triggeredActionConfig.{key} alone.",
            field=f"triggeredActionConfig.{key}",
        )
    if action_type == "NO_OP":
        return {"type": "NO_OP"}
    field = f"triggeredActionConfig.{key}.integrationID"
    if action_type == "GENERIC_WEBHOOK":
        _, [webhook] = decode(given["integrationID"], entity, (Kind.WEBHOOK,), field)
        payload = given.get("requestPayload")
        return {
            "type": "GENERIC_WEBHOOK",
            "webhook": webhook,
            "payload": DEFAULT_PAYLOAD if payload is None else payload,
        }
    _, [slack] = decode(given["integrationID"], entity, (Kind.SLACK,), field)
    return {
        "type": "NOTIFICATION",
        "slack": slack,
        "title": given.get("title") or "",
        "message": given.get("message") or "",
        "severity": given.get("severity") or "INFO",
    }


# ---- out ------------------------------------------------------------------------------------------


def _artifact_filter(filter_: dict[str, Any] | None) -> dict[str, Any]:
    """W&B's own shape, `{"$or": [{"$and": [...]}]}`, which the SDK reads back best."""
    if filter_ is None:
        return {"$or": [{"$and": []}]}
    clauses = filter_.get("$or") if set(filter_) == {"$or"} else None
    if isinstance(clauses, list) and clauses and all(_is_and(c) for c in clauses):
        return filter_
    return {"$or": [{"$and": [filter_]}]}


def _is_and(clause: Any) -> bool:
    return isinstance(clause, dict) and set(clause) == {"$and"} and isinstance(clause["$and"], list)


def _run_filter(filter_: dict[str, Any] | None) -> str:
    if filter_ is None:
        return json.dumps({"$and": []})
    return json.dumps(filter_ if _is_and(filter_) else {"$and": [filter_]})


def _agg(agg: Aggregation) -> str | None:
    return None if agg is Aggregation.NONE else agg.value


def _threshold(metric: Any) -> dict[str, Any] | None:
    if not isinstance(metric, MetricThreshold):
        return None  # `$and` / `$or` over thresholds: mlhooks' own
    return {
        "name": metric.name,
        "agg_op": _agg(metric.agg),
        "window_size": metric.window,
        "cmp_op": metric.cmp.value,
        "threshold": metric.threshold,
    }


def _change(metric: MetricChange) -> dict[str, Any]:
    return {
        "name": metric.name,
        "agg_op": _agg(metric.agg),
        "current_window_size": metric.window,
        "change_amount": metric.threshold,
        "prior_window_size": metric.prior_window or metric.window,
        "change_type": metric.change_type.value,
        "change_dir": metric.change_dir.value,
    }


def _zscore(metric: MetricZScore) -> dict[str, Any]:
    return {
        "name": metric.name,
        "window_size": metric.window,
        "threshold": metric.threshold,
        "change_dir": metric.change_dir.value,
    }


def _states(event: RunStateEvent) -> list[str] | None:
    """W&B's states: a crashed run is a failed one there, so CRASHED beside FAILED says nothing
    more; CRASHED alone (or a stored KILLED) is narrower than anything W&B can say."""
    states = set(event.states)
    if RunState.FAILED in states:
        states.discard(RunState.CRASHED)
    if states - {RunState.RUNNING, RunState.FINISHED, RunState.FAILED}:
        return None
    return sorted(state.value for state in states)


def _metric_condition(event: Any) -> dict[str, Any] | None:
    if isinstance(event, RunMetricThresholdEvent):
        threshold = _threshold(event.metric)
        return None if threshold is None else {"threshold_filter": threshold}
    if isinstance(event, RunMetricChangeEvent):
        return {"change_filter": _change(event.metric)}
    if isinstance(event, RunMetricZScoreEvent):
        return {"zscore_filter": _zscore(event.metric)}
    return None


def wandb_event(event: Any) -> dict[str, Any] | None:
    """`FilterEventTriggeringCondition` for an event of the language, or None if W&B cannot say it."""
    wire_type = WIRE_EVENT_TYPES.get(event.type, event.type.value)
    if isinstance(event, ArtifactEvent):
        filter_: dict[str, Any] | None = {"filter": _artifact_filter(event.filter)}
    elif isinstance(event, RunStateEvent):
        states = _states(event)
        filter_ = None if states is None else {"run_state_filter": {"states": states}}
    else:
        condition = _metric_condition(event)
        filter_ = None if condition is None else {"run_metric_filter": condition}
    if filter_ is None:
        return None
    if not isinstance(event, ArtifactEvent):
        filter_ = {"run_filter": _run_filter(event.filter), **filter_}
    return {
        "__typename": "FilterEventTriggeringCondition",
        "eventType": wire_type,
        "filter": json.dumps(filter_),
    }


def wandb_action(action: Any, integration: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `TriggeredAction` for an action of the language, given its integration's node."""
    if isinstance(action, WebhookAction) and integration is not None:
        if not isinstance(action.payload, dict):
            return None  # the SDK reads JSON objects only, and would send it back as no payload
        return {
            "__typename": "GenericWebhookTriggeredAction",
            "integration": integration,
            "requestPayload": json.dumps(action.payload),
        }
    if isinstance(action, NotificationAction) and integration is not None:
        return {
            "__typename": "NotificationTriggeredAction",
            "integration": integration,
            "title": action.title,
            "message": action.message,
            "severity": action.severity.value,
        }
    if isinstance(action, NoOpAction):
        return {"__typename": "NoOpTriggeredAction", "noOp": True}
    return None
