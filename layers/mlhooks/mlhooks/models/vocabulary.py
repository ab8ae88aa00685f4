"""The W&B Automations vocabulary, kept name for name so that W&B users and receivers feel at home."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"  # manages members, keys, secrets, integrations and every automation
    MEMBER = "MEMBER"  # manages automations and projects
    VIEWER = "VIEWER"  # reads


class ScopeType(StrEnum):
    ENTITY = "ENTITY"
    PROJECT = "PROJECT"
    ARTIFACT_COLLECTION = "ARTIFACT_COLLECTION"


class EventType(StrEnum):
    CREATE_ARTIFACT = "CREATE_ARTIFACT"
    LINK_ARTIFACT = "LINK_ARTIFACT"
    UNLINK_ARTIFACT = "UNLINK_ARTIFACT"
    ADD_ARTIFACT_ALIAS = "ADD_ARTIFACT_ALIAS"
    ADD_ARTIFACT_TAG = "ADD_ARTIFACT_TAG"
    REMOVE_ARTIFACT_TAG = "REMOVE_ARTIFACT_TAG"
    ADD_COLLECTION_TAG = "ADD_COLLECTION_TAG"
    REMOVE_COLLECTION_TAG = "REMOVE_COLLECTION_TAG"
    RUN_METRIC_THRESHOLD = "RUN_METRIC_THRESHOLD"
    RUN_METRIC_CHANGE = "RUN_METRIC_CHANGE"
    RUN_METRIC_ZSCORE = "RUN_METRIC_ZSCORE"
    RUN_STATE = "RUN_STATE"


# Older W&B clients still send these names; they mean the same events.
LEGACY_EVENT_TYPES: dict[str, EventType] = {
    "LINK_MODEL": EventType.LINK_ARTIFACT,
    "RUN_METRIC": EventType.RUN_METRIC_THRESHOLD,
}

RUN_EVENT_TYPES: frozenset[EventType] = frozenset(
    {
        EventType.RUN_METRIC_THRESHOLD,
        EventType.RUN_METRIC_CHANGE,
        EventType.RUN_METRIC_ZSCORE,
        EventType.RUN_STATE,
    }
)
ARTIFACT_EVENT_TYPES: frozenset[EventType] = frozenset(set(EventType) - RUN_EVENT_TYPES)


class ActionType(StrEnum):
    GENERIC_WEBHOOK = "GENERIC_WEBHOOK"
    NOTIFICATION = "NOTIFICATION"
    QUEUE_JOB = "QUEUE_JOB"
    NO_OP = "NO_OP"


class Severity(StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class RunState(StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    CRASHED = "CRASHED"
    # Reported by platforms, never watched: a killed run triggers no automation (W&B's rule).
    KILLED = "KILLED"


class SignatureEncoding(StrEnum):
    HEX = "hex"  # what the current W&B guide's verification script computes
    BASE64 = "base64"  # what an older W&B guide shows


class Aggregation(StrEnum):
    NONE = "NONE"
    MIN = "MIN"
    MAX = "MAX"
    AVERAGE = "AVERAGE"


class Comparison(StrEnum):
    GT = "$gt"
    GTE = "$gte"
    LT = "$lt"
    LTE = "$lte"


class ChangeType(StrEnum):
    ABSOLUTE = "ABSOLUTE"
    RELATIVE = "RELATIVE"


class ChangeDirection(StrEnum):
    INCREASE = "INCREASE"
    DECREASE = "DECREASE"
    ANY = "ANY"


class ExecutionState(StrEnum):
    PENDING = "PENDING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    # mlhooks' own (W&B cannot stop an execution): a member stopped it before its next attempt.
    CANCELED = "CANCELED"


# The states an execution ends in that a member may send again (a redelivery).
REDELIVERABLE_STATES: frozenset[ExecutionState] = frozenset({ExecutionState.FAILED, ExecutionState.CANCELED})
