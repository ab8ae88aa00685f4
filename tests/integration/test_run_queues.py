"""Run queues: QUEUE_JOB automations send jobs only to SQS queues an admin of the entity registered,
in this stack's account and region, named as RunQueueNames allows, never one of mlhooks' own queues,
and each owned by one entity. The job sender checks the queue again before every send.

The finding these specify: any member could point a QUEUE_JOB automation at any SQS URL, another
entity's run queue or mlhooks' own queues (a job put on the webhook queue was poison and ended in the
webhook dead-letter queue)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from apiclient import Api, Team
from pipelines import Pipeline, alias_event, register_run_queue

from mlhooks.components import get_components
from mlhooks.local.apigw import LocalApiGateway

pytestmark = pytest.mark.suite("run queues")

# Every queue the template declares; `test_the_own_queues_are_every_queue_the_template_declares`
# keeps this list in step with the template.
OWN_QUEUES = ("WebhookQueue", "WebhookDLQ", "SlackQueue", "SlackDLQ", "JobQueue", "JobDLQ", "EventsDLQ")
JOB_ATTRIBUTES = (
    "mlhooks.entity",
    "mlhooks.automation_id",
    "mlhooks.automation_name",
    "mlhooks.execution_id",
)

GIVE_THE_URL = "Give the queue's URL as SQS shows it"
HOME = "must be in this stack's AWS account and region"
PATTERN = "must match the stack's RunQueueNames pattern (mlhooks-runs-*)"
MISSING = "No such queue: create it in SQS first."
OWN = "one of mlhooks' own queues; register a queue of your own"

# The queue forms refused in this run (for docs/reliability.md).
_REFUSED_FORMS: set[str] = set()


# ---- helpers ------------------------------------------------------------------------------------------


def home(pipeline: Pipeline) -> tuple[str, str]:
    """The SQS endpoint origin and account of the stack's own queues."""
    parts = urlsplit(pipeline.stack.refs["JobQueue"])
    return f"{parts.scheme}://{parts.netloc}", parts.path.split("/")[1]


def upper_host(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.upper()).geturl()


def run_queues(team: Team) -> str:
    return f"{team.base}/run-queues"


def register(api: Api, team: Team, name: str, url: str) -> Any:
    return api.post(run_queues(team), {"name": name, "url": url})


def job_automation(pipeline: Pipeline, queue: str = "gpu", name: str = "evaluate on production") -> dict:
    return pipeline.automation(
        name=name,
        action={
            "type": "QUEUE_JOB",
            "queue": queue,
            "job": "evaluate-model",
            "version": "v2",
            "overrides": {"epochs": 1},
            "destination_project": "training",
        },
    )


def job_draft(action: dict[str, Any], name: str = "queue a job") -> dict[str, Any]:
    return {
        "name": name,
        "scope": {"type": "ENTITY"},
        "event": {"type": "ADD_ARTIFACT_ALIAS"},
        "action": {"type": "QUEUE_JOB", "job": "evaluate-model", **action},
    }


def messages(pipeline: Pipeline, url: str) -> list[dict[str, Any]]:
    return pipeline.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
    ).get("Messages", [])


def reconfigure(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, **environment: str) -> None:
    """New settings, as a new deployment would have them: fresh containers for every function, and
    the team calling the API through them."""
    pipeline.configure(monkeypatch, **environment)
    gateway = LocalApiGateway(pipeline.fns, pipeline.fns.template)
    team = pipeline.team
    pipeline.team = dataclasses.replace(
        team,
        admin=Api(gateway, team.keys["ADMIN"]),
        member=Api(gateway, team.keys["MEMBER"]),
        viewer=Api(gateway, team.keys["VIEWER"]),
    )


def publish_and_send(pipeline: Pipeline, event_id: str = "evt-alias-0001") -> None:
    pipeline.match(alias_event(event_id=event_id))
    pipeline.drain("Job")


# ---- what an admin may register -------------------------------------------------------------------------


def test_the_own_queues_are_every_queue_the_template_declares(aws, template):
    declared = {name for name, spec in template["Resources"].items() if spec["Type"] == "AWS::SQS::Queue"}
    assert declared == set(OWN_QUEUES)
    own = set(get_components().settings.own_queue_urls)
    # Locally, the stand-ins for EventBridge's rule targets are the stack's own queues too.
    assert own == {aws.refs[name] for name in OWN_QUEUES} | set(aws.rule_taps.values())


@pytest.mark.parametrize("spelling", ["as provisioned", "upper-case host"])
@pytest.mark.parametrize("logical_id", OWN_QUEUES)
def test_an_own_queue_is_refused_even_when_every_name_is_allowed(
    pipeline, monkeypatch, record_figure, logical_id, spelling
):
    reconfigure(pipeline, monkeypatch, MLHOOKS_RUN_QUEUE_NAMES="*")
    url = pipeline.stack.refs[logical_id]
    url = {"as provisioned": url, "upper-case host": upper_host(url)}[spelling]
    reply = register(pipeline.team.admin, pipeline.team, "mine", url)
    assert reply.status == 422, reply.raw
    assert reply.error["field"] == "url" and OWN in reply.error["message"]
    assert pipeline.team.viewer.get(run_queues(pipeline.team)).json["items"] == []
    _REFUSED_FORMS.add(f"own {logical_id} {spelling}")
    record_figure("run queue forms refused", len(_REFUSED_FORMS))


def test_with_every_name_allowed_a_queue_of_ones_own_is_still_accepted(pipeline, monkeypatch):
    """The refusal above is about the own queues, not about the pattern "*"."""
    reconfigure(pipeline, monkeypatch, MLHOOKS_RUN_QUEUE_NAMES="*")
    url = pipeline.sqs.create_queue(QueueName="team-launch-agent")["QueueUrl"]
    assert register(pipeline.team.admin, pipeline.team, "launch", url).status == 201


NAME = "mlhooks-runs-dev-gpu"


def refused_forms() -> list[Any]:
    """(id, URL built from the stack's origin and account, what the message must say)."""

    def bad_form(form_id: str, build: Any, says: str, *marks: Any) -> Any:
        return pytest.param(build, says, id=form_id, marks=marks)

    return [
        bad_form("another account", lambda o, a: f"{o}/210987654321/{NAME}", HOME),
        bad_form("another region", lambda o, a: f"https://sqs.eu-west-1.amazonaws.com/{a}/{NAME}", HOME),
        bad_form("a look-alike host", lambda o, a: f"{o}.attacker.example/{a}/{NAME}", HOME),
        bad_form("the legacy endpoint", lambda o, a: f"https://queue.amazonaws.com/{a}/{NAME}", HOME),
        bad_form("a local endpoint", lambda o, a: f"http://127.0.0.1:4566/{a}/{NAME}", HOME),
        bad_form("http for https", lambda o, a: f"{o.replace('https:', 'http:')}/{a}/{NAME}", HOME),
        bad_form("an explicit port", lambda o, a: f"{o}:443/{a}/{NAME}", HOME),
        bad_form("user info", lambda o, a: o.replace("://", "://user@") + f"/{a}/{NAME}", GIVE_THE_URL),
        bad_form("a name outside the pattern", lambda o, a: f"{o}/{a}/team-gpu", PATTERN),
        bad_form("the name in another case", lambda o, a: f"{o}/{a}/{NAME.upper()}", PATTERN),
        bad_form("a queue that does not exist", lambda o, a: f"{o}/{a}/mlhooks-runs-missing", MISSING),
        bad_form("a query string", lambda o, a: f"{o}/{a}/{NAME}?Action=SendMessage", GIVE_THE_URL),
        bad_form("no account", lambda o, a: f"{o}/{NAME}", GIVE_THE_URL),
        bad_form("a short account", lambda o, a: f"{o}/{a[:6]}/{NAME}", GIVE_THE_URL),
        bad_form("an extra path segment", lambda o, a: f"{o}/{a}/{NAME}/x", GIVE_THE_URL),
        bad_form("a dot segment", lambda o, a: f"{o}/{a}/./{NAME}", GIVE_THE_URL),
        bad_form("a trailing slash", lambda o, a: f"{o}/{a}/{NAME}/", GIVE_THE_URL),
        bad_form("an encoded name", lambda o, a: f"{o}/{a}/{NAME.replace('-gpu', '%2Dgpu')}", GIVE_THE_URL),
        bad_form("an ARN", lambda o, a: f"arn:aws:sqs:us-east-1:{a}:{NAME}", GIVE_THE_URL),
        bad_form("a bare name", lambda o, a: NAME, GIVE_THE_URL),
        bad_form("a path without a host", lambda o, a: f"/{a}/{NAME}", GIVE_THE_URL),
        bad_form("another scheme", lambda o, a: f"ftp://{urlsplit(o).netloc}/{a}/{NAME}", GIVE_THE_URL),
        bad_form("an empty query", lambda o, a: f"{o}/{a}/{NAME}?", GIVE_THE_URL),
        bad_form("a fragment", lambda o, a: f"{o}/{a}/{NAME}#x", GIVE_THE_URL),
        bad_form("a trailing newline", lambda o, a: f"{o}/{a}/{NAME}\n", GIVE_THE_URL),
        bad_form(
            "a fragment on an own queue", lambda o, a: f"{o}/{a}/mlhooks-local-WebhookQueue#x", GIVE_THE_URL
        ),
    ]


@pytest.mark.parametrize(("build", "says"), refused_forms())
def test_a_queue_form_outside_the_rules_is_refused_with_what_to_do(
    pipeline, record_figure, request, build, says
):
    # The queues named exist, so only the form itself can be the reason for a refusal.
    pipeline.sqs.create_queue(QueueName=NAME)
    pipeline.sqs.create_queue(QueueName="team-gpu")
    boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName=NAME)
    origin, account = home(pipeline)
    reply = register(pipeline.team.admin, pipeline.team, "gpu", build(origin, account))
    assert reply.status == 422, reply.raw
    assert reply.error["field"] == "url" and says in reply.error["message"], reply.error
    assert pipeline.team.viewer.get(f"{run_queues(pipeline.team)}/gpu").status == 404
    _REFUSED_FORMS.add(request.node.callspec.id)
    record_figure("run queue forms refused", len(_REFUSED_FORMS))


def test_a_queue_in_the_stacks_account_region_and_pattern_is_registered(pipeline):
    url = pipeline.sqs.create_queue(QueueName=NAME)["QueueUrl"]
    reply = register(pipeline.team.admin, pipeline.team, "gpu", url)
    assert reply.status == 201, reply.raw
    assert (reply.json["name"], reply.json["url"]) == ("gpu", url)
    [listed] = pipeline.team.viewer.get(run_queues(pipeline.team)).json["items"]
    assert listed["url"] == url
    assert pipeline.team.viewer.get(f"{run_queues(pipeline.team)}/gpu").json["url"] == url


# ---- one entity per queue -----------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["the same URL", "an upper-case host"])
def test_another_entity_cannot_register_a_queue_this_entity_registered(pipeline, other_team, spelling):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    theirs = url if spelling == "the same URL" else upper_host(url)
    reply = register(other_team.admin, other_team, "stolen", theirs)
    assert reply.status == 409 and reply.error["field"] == "url", reply.raw
    assert "belongs to one entity" in reply.error["message"]
    assert other_team.viewer.get(run_queues(other_team)).json["items"] == []
    assert pipeline.team.viewer.get(f"{run_queues(pipeline.team)}/gpu").json["url"] == url


def test_once_this_entity_deletes_its_queue_another_entity_can_register_it(pipeline, other_team):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    assert pipeline.team.admin.delete(f"{run_queues(pipeline.team)}/gpu").status == 204
    reply = register(other_team.admin, other_team, "theirs", url)
    assert reply.status == 201, reply.raw
    # ...and now it is theirs: this entity cannot take it back.
    assert register(pipeline.team.admin, pipeline.team, "gpu", url).status == 409


def test_one_entity_cannot_register_one_queue_under_two_names(pipeline):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    reply = register(pipeline.team.admin, pipeline.team, "gpu-again", url)
    assert reply.status == 409 and reply.error["field"] == "url"


# ---- who may do what -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_register_run_queues(pipeline, role):
    url = pipeline.sqs.create_queue(QueueName=NAME)["QueueUrl"]
    reply = register(getattr(pipeline.team, role), pipeline.team, "gpu", url)
    assert reply.status == 403, reply.raw
    assert pipeline.team.viewer.get(run_queues(pipeline.team)).json["items"] == []


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_delete_run_queues(pipeline, role):
    register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    assert getattr(pipeline.team, role).delete(f"{run_queues(pipeline.team)}/gpu").status == 403
    assert pipeline.team.viewer.get(f"{run_queues(pipeline.team)}/gpu").status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("GET", "/gpu"), ("POST", ""), ("DELETE", "/gpu")],
    ids=["list", "get", "register", "delete"],
)
def test_another_entitys_key_finds_no_run_queues_here(pipeline, other_team, method, path):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    spare = pipeline.sqs.create_queue(QueueName=f"{NAME}-spare")["QueueUrl"]
    body = {"name": "spare", "url": spare} if method == "POST" else None
    reply = other_team.admin.call(method, run_queues(pipeline.team) + path, body)
    assert reply.status == 404, reply.raw
    assert [q["url"] for q in pipeline.team.viewer.get(run_queues(pipeline.team)).json["items"]] == [url]


def test_a_member_can_use_a_registered_run_queue_in_an_automation(pipeline):
    register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", job_draft({"queue": "gpu"}))
    assert reply.status == 201, reply.raw
    assert reply.json["action"]["queue"] == "gpu" and "queue_url" not in reply.json["action"]


def test_an_unregistered_run_queue_name_is_refused_on_action_queue(pipeline):
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", job_draft({"queue": "gpu"}))
    assert reply.status == 422 and reply.error["field"] == "action.queue", reply.raw
    assert "run-queues" in reply.error["message"]


def test_another_entitys_run_queue_name_is_not_one_of_this_entitys(pipeline, other_team):
    register_run_queue(other_team, pipeline.sqs, "gpu")
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", job_draft({"queue": "gpu"}))
    assert reply.status == 422 and reply.error["field"] == "action.queue", reply.raw


@pytest.mark.parametrize("with_queue", [False, True], ids=["queue_url alone", "queue_url beside queue"])
def test_queue_url_in_an_action_is_refused_pointing_at_run_queues(pipeline, with_queue):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    action = {"queue_url": url, **({"queue": "gpu"} if with_queue else {})}
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", job_draft(action))
    assert reply.status in (400, 422), reply.raw
    assert reply.error["field"].startswith("action") and "run-queues" in reply.error["message"]
    assert pipeline.team.viewer.get(f"{pipeline.base}/automations").json["items"] == []


# ---- delivery ------------------------------------------------------------------------------------------


def test_a_job_lands_on_its_run_queue_with_who_sent_it(pipeline):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    automation = job_automation(pipeline)
    publish_and_send(pipeline)
    [execution] = pipeline.executions()
    assert execution["state"] == "FINISHED", pipeline.execution(execution["id"])
    [message] = messages(pipeline, url)
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes == dict(
        zip(JOB_ATTRIBUTES, ("dev", automation["id"], automation["name"], execution["id"]), strict=True)
    )
    job = json.loads(message["Body"])
    assert (job["job"], job["version"], job["overrides"]) == ("evaluate-model", "v2", {"epochs": 1})
    assert job["destination_project"] == "training" and job["execution_id"] == execution["id"]
    assert job["automation"] == {"id": automation["id"], "name": automation["name"]}
    assert job["event"]["type"] == "ADD_ARTIFACT_ALIAS"
    assert job["event"]["artifact_version_string"] == "dev/wandb-registry-model/resnet50:production"


def test_a_jobs_overrides_are_rendered_with_the_events_variables(pipeline):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    overrides = {"model": "${artifact_version_string}", "alias": "${alias}", "epochs": 1}
    reply = pipeline.team.member.post(
        f"{pipeline.base}/automations", job_draft({"queue": "gpu", "overrides": overrides})
    )
    assert reply.status == 201, reply.raw
    publish_and_send(pipeline)
    [message] = messages(pipeline, url)
    rendered = json.loads(message["Body"])["overrides"]
    assert rendered == {
        "model": "dev/wandb-registry-model/resnet50:production",
        "alias": "production",
        "epochs": 1,
    }


def test_overrides_naming_an_unknown_variable_are_refused_when_saved(pipeline):
    register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    action = {"queue": "gpu", "overrides": {"model": "${no_such_variable}"}}
    reply = pipeline.team.member.post(f"{pipeline.base}/automations", job_draft(action))
    assert reply.status == 422 and reply.error["field"] == "action.overrides", reply.raw
    assert "no_such_variable" in reply.error["message"]
    assert pipeline.team.viewer.get(f"{pipeline.base}/automations").json["items"] == []


def test_a_fifo_run_queue_gets_the_job_grouped_by_project(pipeline):
    url = pipeline.sqs.create_queue(QueueName=f"{NAME}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    assert register(pipeline.team.admin, pipeline.team, "gpu", url).status == 201
    job_automation(pipeline)
    publish_and_send(pipeline)
    [execution] = pipeline.executions()
    assert execution["state"] == "FINISHED", pipeline.execution(execution["id"])
    [message] = pipeline.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "wandb-registry-model"
    assert message["Attributes"]["MessageDeduplicationId"] == execution["id"]


def test_a_run_queue_in_use_cannot_be_deleted_and_says_by_whom(pipeline):
    register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    job_automation(pipeline, name="nightly eval")
    reply = pipeline.team.admin.delete(f"{run_queues(pipeline.team)}/gpu")
    assert reply.status == 409 and "nightly eval" in reply.error["message"], reply.raw
    assert reply.error["details"][0]["used_by"] == ["nightly eval"]
    assert pipeline.team.viewer.get(f"{run_queues(pipeline.team)}/gpu").status == 200


def test_a_disabled_automation_still_holds_its_run_queue(pipeline):
    register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    automation = job_automation(pipeline)
    path = f"{pipeline.base}/automations/{automation['id']}"
    assert pipeline.team.member.patch(path, {"enabled": False}).status == 200
    assert pipeline.team.admin.delete(f"{run_queues(pipeline.team)}/gpu").status == 409


def test_a_run_queue_no_longer_used_can_be_deleted(pipeline):
    register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    register_run_queue(pipeline.team, pipeline.sqs, "cpu")
    automation = job_automation(pipeline)
    path = f"{pipeline.base}/automations/{automation['id']}"
    moved = pipeline.team.member.patch(path, {"action": {**automation["action"], "queue": "cpu"}})
    assert moved.status == 200, moved.raw
    assert pipeline.team.admin.delete(f"{run_queues(pipeline.team)}/gpu").status == 204
    assert pipeline.team.admin.delete(f"{run_queues(pipeline.team)}/cpu").status == 409
    assert pipeline.team.member.delete(path).status == 204
    assert pipeline.team.admin.delete(f"{run_queues(pipeline.team)}/cpu").status == 204


def test_a_queue_the_pattern_no_longer_allows_fails_the_job_at_once_and_sends_nothing(pipeline, monkeypatch):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    job_automation(pipeline)
    reconfigure(pipeline, monkeypatch, MLHOOKS_RUN_QUEUE_NAMES="mlhooks-batch-*")
    publish_and_send(pipeline)
    [summary] = pipeline.executions()
    execution = pipeline.execution(summary["id"])
    assert execution["state"] == "FAILED" and len(execution["attempts"]) == 1
    assert "run queue gpu may not be used" in execution["reason"]
    assert "RunQueueNames pattern (mlhooks-batch-*)" in execution["reason"]
    assert messages(pipeline, url) == []
    assert pipeline.queue_depth("JobQueue") + pipeline.invisible("JobQueue") == 0
    assert pipeline.queue_depth("JobDLQ") == 0


def test_a_queue_that_became_one_of_the_stacks_own_fails_the_job_and_sends_nothing(pipeline, monkeypatch):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    job_automation(pipeline)
    own = get_components().settings.own_queue_urls
    reconfigure(pipeline, monkeypatch, MLHOOKS_OWN_QUEUE_URLS=",".join((*own, url)))
    publish_and_send(pipeline)
    [summary] = pipeline.executions()
    assert summary["state"] == "FAILED" and OWN in summary["reason"]
    assert messages(pipeline, url) == []


def test_a_run_queue_deleted_in_sqs_fails_the_job_at_once(pipeline):
    url = register_run_queue(pipeline.team, pipeline.sqs, "gpu")
    job_automation(pipeline)
    pipeline.sqs.delete_queue(QueueUrl=url)
    publish_and_send(pipeline)
    [summary] = pipeline.executions()
    execution = pipeline.execution(summary["id"])
    assert execution["state"] == "FAILED" and len(execution["attempts"]) == 1
    assert execution["attempts"][0]["error_class"] == "queue_error"
    assert execution["attempts"][0]["error"].startswith(
        ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    )


# ---- the original attack ----------------------------------------------------------------------------------


def test_a_member_cannot_make_a_job_reach_the_webhook_queue_by_any_api_path(pipeline, monkeypatch):
    """Every way a member might name the webhook queue, tried; then events that match everything the
    member managed to save. The webhook queue and its dead-letter queue stay empty."""
    # The widest setting an operator may choose.
    reconfigure(pipeline, monkeypatch, MLHOOKS_RUN_QUEUE_NAMES="*")
    team, base = pipeline.team, pipeline.base
    target = pipeline.stack.refs["WebhookQueue"]
    register_run_queue(team, pipeline.sqs, "gpu")
    legit = job_automation(pipeline, name="legit")
    legit_path = f"{base}/automations/{legit['id']}"
    spellings = [target, upper_host(target), f"{target}#x", target.replace("https:", "http:")]
    attempts = {}
    for n, url in enumerate(spellings):
        attempts[f"register {n}"] = register(team.member, team, f"webhooks{n}", url)
        attempts[f"queue_url {n}"] = team.member.post(
            f"{base}/automations", job_draft({"queue_url": url}, name=f"u{n}")
        )
        attempts[f"queue is the url {n}"] = team.member.post(
            f"{base}/automations", job_draft({"queue": url}, name=f"q{n}")
        )
        attempts[f"edit to queue_url {n}"] = team.member.patch(
            legit_path, {"action": {**legit["action"], "queue_url": url}}
        )
    for name in ("mlhooks-local-WebhookQueue", "WebhookQueue", "webhooks0"):
        attempts[f"queue {name}"] = team.member.post(
            f"{base}/automations", job_draft({"queue": name}, name=f"n-{name}")
        )
        attempts[f"edit to queue {name}"] = team.member.patch(
            legit_path, {"action": {**legit["action"], "queue": name}}
        )
    accepted = {what: reply.status for what, reply in attempts.items() if reply.status < 400}
    assert accepted == {}
    assert [q["name"] for q in team.viewer.get(run_queues(team)).json["items"]] == ["gpu"]
    [automation] = team.viewer.get(f"{base}/automations").json["items"]
    assert automation["action"]["queue"] == "gpu"

    for n in range(3):
        publish_and_send(pipeline, f"attack-{n}")
        pipeline.drain()  # and the webhook sender, were anything there
    assert {e["state"] for e in pipeline.executions()} == {"FINISHED"}
    for logical_id in ("WebhookQueue", "WebhookDLQ"):
        assert pipeline.queue_depth(logical_id) + pipeline.invisible(logical_id) == 0, logical_id
