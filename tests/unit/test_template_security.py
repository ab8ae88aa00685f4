"""What template.yaml must keep for tenant isolation, which moto does not enforce locally."""

from __future__ import annotations

import pytest

from mlhooks.matcher import TRUSTED_PUBLISHERS
from mlhooks.models.events import API_SOURCE, SOURCES_SOURCE

pytestmark = pytest.mark.suite("events")


@pytest.mark.parametrize(
    ("policy_id", "source", "role"),
    [
        ("EventBusApiSourcePolicy", API_SOURCE, "ApiFunctionRole"),
        ("EventBusSourcesPolicy", SOURCES_SOURCE, "InboundFunctionRole"),
    ],
)
def test_only_one_role_may_publish_with_a_source_whose_publisher_is_believed(
    template, policy_id, source, role
):
    """The matcher believes an event's `publisher` only for the API's and the sources' bus sources;
    the bus policies make each one function's alone."""
    policy = template["Resources"][policy_id]["Properties"]
    statement = policy["Statement"]
    assert policy["EventBusName"] == {"Ref": "EventBus"}
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"]["StringEquals"] == {"events:source": source}
    assert statement["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": {"Fn::GetAtt": [role, "Arn"]}}


def test_every_believed_source_has_its_policy(template):
    guarded = {
        r["Properties"]["Statement"]["Condition"]["StringEquals"]["events:source"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::EventBusPolicy"
    }
    assert set(TRUSTED_PUBLISHERS) <= guarded


def test_the_matcher_rule_takes_every_source(template):
    rule = template["Resources"]["MatcherFunction"]["Properties"]["Events"]["PlatformEvents"]["Properties"]
    assert set(rule["Pattern"]["source"]) == {"mlhooks.platform", API_SOURCE, SOURCES_SOURCE}


def test_the_sagemaker_rule_is_off_unless_the_parameter_turns_it_on(template):
    parameter = template["Parameters"]["SageMakerEvents"]
    assert parameter["Default"] == "DISABLED"
    rule = template["Resources"]["InboundFunction"]["Properties"]["Events"]["SageMaker"]["Properties"]
    assert rule["State"] == {"Ref": "SageMakerEvents"} and "EventBusName" not in rule


def test_the_job_sender_reaches_only_run_queues_by_default(template):
    default = template["Parameters"]["RunQueueNames"]["Default"]
    assert default == "mlhooks-runs-*"
    statements = template["Resources"]["JobSenderFunction"]["Properties"]["Policies"][0]["Statement"]
    sends = [s for s in statements if s["Action"] == "sqs:SendMessage"]
    assert [s["Resource"]["Fn::Sub"].endswith(":${RunQueueNames}") for s in sends] == [True]
