"""What template.yaml must keep for tenant isolation, which moto does not enforce locally."""

from __future__ import annotations

import pytest

from mlhooks.models.events import API_SOURCE

pytestmark = pytest.mark.suite("events")


def test_only_the_api_role_may_publish_with_the_api_source(template):
    """The matcher believes an event's `publisher` only for the API's source; the bus policy makes
    that source the API's alone."""
    policy = template["Resources"]["EventBusApiSourcePolicy"]["Properties"]
    statement = policy["Statement"]
    assert policy["EventBusName"] == {"Ref": "EventBus"}
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"]["StringEquals"] == {"events:source": API_SOURCE}
    assert statement["Condition"]["ArnNotEquals"] == {
        "aws:PrincipalArn": {"Fn::GetAtt": ["ApiFunctionRole", "Arn"]}
    }


def test_the_matcher_rule_takes_both_sources(template):
    rule = template["Resources"]["MatcherFunction"]["Properties"]["Events"]["PlatformEvents"]["Properties"]
    assert set(rule["Pattern"]["source"]) == {"mlhooks.platform", API_SOURCE}


def test_the_job_sender_reaches_only_run_queues_by_default(template):
    default = template["Parameters"]["RunQueueNames"]["Default"]
    assert default == "mlhooks-runs-*"
    statements = template["Resources"]["JobSenderFunction"]["Properties"]["Policies"][0]["Statement"]
    sends = [s for s in statements if s["Action"] == "sqs:SendMessage"]
    assert [s["Resource"]["Fn::Sub"].endswith(":${RunQueueNames}") for s in sends] == [True]
