"""Amazon SageMaker's state-change events, from the account's default bus, translated.

SageMaker publishes `SageMaker Model Package State Change` (its model registry) and `SageMaker
Training Job State Change`, sometimes several times for one change. The stack's rule on the
default bus (opt-in: the `SageMakerEvents` parameter) sends them to the inbound function, which
finds the source of their account and region and translates:

- a model package version that is `Completed` is a new version in the collection named by its
  group (the source's `version_event`, LINK_ARTIFACT by default); an approval status of Approved
  or Rejected is the alias `approved` or `rejected` added to it;
- a training job's status is a run state: InProgress RUNNING, Completed FINISHED, Failed FAILED,
  Stopped KILLED (which, like W&B's killed runs, fires nothing); Stopping is ignored.

Event ids are digests of what makes a change that change (the resource, its status, its last
modification), so SageMaker sending one change twice publishes it once.
"""

from __future__ import annotations

from typing import Any

from mlhooks.models.events import DETAIL_TYPE_OF
from mlhooks.models.sources import DEFAULT_PROJECT_TAG, SourceRecord
from mlhooks.models.vocabulary import RunState
from mlhooks.sources.base import (
    State,
    Translation,
    Unreadable,
    as_of,
    digest_id,
    mlhooks_name,
    text,
    version_number,
)

SOURCE = "aws.sagemaker"
MODEL_PACKAGE = "SageMaker Model Package State Change"
TRAINING_JOB = "SageMaker Training Job State Change"
DETAIL_TYPES = (MODEL_PACKAGE, TRAINING_JOB)

RUN_STATES = {
    "InProgress": RunState.RUNNING,
    "Completed": RunState.FINISHED,
    "Failed": RunState.FAILED,
    "Stopped": RunState.KILLED,
}
APPROVAL_ALIASES = {"Approved": "approved", "Rejected": "rejected"}


def origin(event: dict[str, Any]) -> tuple[str, str] | None:
    """The account and region an event is from: EventBridge's envelope says; failing that (moto's
    events omit `account`), the ARN of the resource it is about."""
    account, region = event.get("account"), event.get("region")
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    resources = event.get("resources") if isinstance(event.get("resources"), list) else []
    arns = [*resources, detail.get("ModelPackageArn"), detail.get("TrainingJobArn")]
    for arn in (str(a) for a in arns if a):
        parts = arn.split(":")
        if not isinstance(account, str) and len(parts) > 4 and parts[0] == "arn":
            account, region = parts[4], region if isinstance(region, str) else parts[3]
    if isinstance(account, str) and isinstance(region, str) and account and region:
        return account, region
    return None


def translate(event: dict[str, Any], source: SourceRecord) -> Translation:
    detail_type = event.get("detail-type")
    detail = event.get("detail")
    translation = Translation(
        platform_event=str(detail_type)[:100], platform_delivery_id=str(event.get("id"))[:100]
    )
    if not isinstance(detail, dict):
        raise Unreadable("The event's detail is not an object.", field="detail")
    time = text(event, "time", "event")
    if detail_type == MODEL_PACKAGE:
        _model_package(detail, source, time, translation)
    elif detail_type == TRAINING_JOB:
        _training_job(detail, source, time, translation)
    else:
        translation.ignored = f"{str(detail_type)[:100]} is not a SageMaker event mlhooks translates"
    return translation


def _author(detail: dict[str, Any], source: SourceRecord) -> str:
    """Who made the change, where SageMaker says (a Studio user profile), else the source's author."""
    for field in ("LastModifiedBy", "CreatedBy"):
        who = detail.get(field)
        if isinstance(who, dict) and isinstance(who.get("UserProfileName"), str) and who["UserProfileName"]:
            return who["UserProfileName"]
    return source.default_author


def _model_package(detail: dict[str, Any], source: SourceRecord, time: str | None, out: Translation) -> None:
    group = text(detail, "ModelPackageGroupName", "detail")
    arn = text(detail, "ModelPackageArn", "detail")
    assert group and arn
    version = version_number(detail, "ModelPackageVersion", "detail")
    status = detail.get("ModelPackageStatus")
    approval = detail.get("ModelApprovalStatus")
    metadata = {
        k: detail[k]
        for k in ("ModelPackageArn", "ModelPackageStatus", "ModelApprovalStatus", "ModelPackageDescription")
        if isinstance(detail.get(k), str)
    }
    common = {
        "time": time,
        "project": source.target_project,
        "author": _author(detail, source),
        "collection": group,
    }
    artifact = {"id": arn, "version_index": version, "type": "model", "metadata": metadata}
    if status == "Completed":
        # Every later event of the package says Completed too: a version is new once, ever.
        out.states.append(State(f"version {arn}", "Completed", "0", len(out.events)))
        out.events.append(
            (
                DETAIL_TYPE_OF[source.version_event_type],
                {**common, "event_id": f"sm-{digest_id(arn, 'version')}", "artifact": artifact},
            )
        )
    alias = APPROVAL_ALIASES.get(str(approval))
    changed = as_of(detail.get("LastModifiedTime"), time)
    if status == "Completed" and isinstance(approval, str):
        # SageMaker sends the status with every change of the package: the source keeps the latest
        # (by the package's own LastModifiedTime, so a late repeat cannot turn it back), and the
        # alias fires only when it becomes something else.
        out.states.append(State(f"approval {arn}", approval, changed, len(out.events) if alias else None))
    if alias and status == "Completed":
        out.events.append(
            (
                "Artifact Alias Added",
                {
                    **common,
                    "event_id": f"sm-{digest_id(arn, 'approval', alias, changed)}",
                    "artifact": {**artifact, "aliases": [alias]},
                    "alias": alias,
                },
            )
        )
    if not out.events:
        out.ignored = f"the model package is {str(status)[:50]} (mlhooks takes Completed versions)"


def _tags(detail: dict[str, Any]) -> dict[str, str]:
    """Tags as SageMaker's events carry them: a map, or a list of {Key, Value}."""
    tags = detail.get("Tags")
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    if isinstance(tags, list):
        return {
            str(t.get("Key")): str(t.get("Value", "")) for t in tags if isinstance(t, dict) and "Key" in t
        }
    return {}


def _training_job(detail: dict[str, Any], source: SourceRecord, time: str | None, out: Translation) -> None:
    name = text(detail, "TrainingJobName", "detail")
    status = text(detail, "TrainingJobStatus", "detail")
    assert name and status
    tags = _tags(detail)
    missing = [k for k, v in (source.match_tags or {}).items() if tags.get(k) != v]
    if missing:
        out.ignored = f"the training job lacks the tag {missing[0]} this source requires"
        return
    state = RUN_STATES.get(status)
    if state is None:
        out.ignored = f"training job status {status[:50]} is not a run state"
        return
    named = tags.get(source.project_tag or DEFAULT_PROJECT_TAG)
    project = mlhooks_name(named) if named else source.target_project
    arn = str(detail.get("TrainingJobArn") or name)
    # SageMaker repeats a job's status with each secondary status: a run state fires when it changes.
    out.states.append(State(f"run {arn}", status, as_of(detail.get("LastModifiedTime"), time), 0))
    out.events.append(
        (
            "Run State Changed",
            {
                "event_id": f"sm-{digest_id(arn, status)}",
                "time": time,
                "project": project,
                "author": _author(detail, source),
                "run": {
                    "id": name,
                    "display_name": name,
                    "user": _author(detail, source),
                    "state": state.value,
                },
            },
        )
    )
