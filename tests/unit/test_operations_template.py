"""What template.yaml deploys for operations: an alarm on every dead-letter queue, on the functions
that deliver, on the API and on delivery lag, telling the optional topic only; a dashboard whose every
metric is one the code emits (mlhooks.metrics) or one AWS publishes for a resource the stack declares;
tracing that follows its parameter. And the local runtime, which reads the same template."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from moto import mock_aws

from mlhooks import metrics
from mlhooks.local.provision import provision
from mlhooks.local.runtime import local_environment
from mlhooks.local.template import functions, unknown_resource_types
from mlhooks.models.vocabulary import ActionType

DELIVERING = sorted(a.value for a in ActionType if a is not ActionType.NO_OP)
TOPIC_ONLY_WITH_EMAIL = {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in of_type(template, "AWS::CloudWatch::Alarm").items()}


def dead_letter_queues(template: dict[str, Any]) -> set[str]:
    """Every queue something sends what it gave up on to: a redrive target, a rule's or an
    asynchronous invocation's dead-letter destination."""
    text = json.dumps(template["Resources"])
    targets = re.findall(r'"(?:deadLetterTargetArn|Destination)": \{"Fn::GetAtt": \["(\w+)", "Arn"\]\}', text)
    return set(targets)


def dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


def test_an_event_a_function_still_fails_on_after_lambdas_retries_is_dead_lettered(template):
    """EventBridge invokes its rules' functions asynchronously: the rule's own dead-letter queue holds
    what the bus could not hand over, and only an OnFailure destination holds what the function
    failed on, which Lambda otherwise drops after its retries."""
    for name, props in functions(template).items():
        if not any(e["Type"] == "EventBridgeRule" for e in props.get("Events", {}).values()):
            continue
        on_failure = props.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure")
        assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["EventsDLQ", "Arn"]}}, name


# ---- alarms ------------------------------------------------------------------------------------------


def test_every_dead_letter_queue_alarms_on_its_first_message(template):
    queues = dead_letter_queues(template)
    assert queues == {"EventsDLQ", "WebhookDLQ", "SlackDLQ", "JobDLQ"}
    watched = {
        dimensions(a)["QueueName"]["Fn::GetAtt"][0]: a
        for a in alarms(template).values()
        if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    assert set(watched) == queues
    for alarm in watched.values():
        assert alarm["Namespace"] == "AWS/SQS" and alarm["Statistic"] == "Maximum"
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0
        assert alarm["TreatMissingData"] == "notBreaching"


def test_the_matcher_and_every_sender_alarm_on_errors(template):
    delivering = {
        name
        for name, props in functions(template).items()
        if any(e["Type"] == "SQS" for e in (props.get("Events") or {}).values())
    }
    assert delivering == {"WebhookSenderFunction", "SlackSenderFunction", "JobSenderFunction"}
    watched = {
        dimensions(a)["FunctionName"]["Ref"]
        for a in alarms(template).values()
        if a.get("Namespace") == "AWS/Lambda" and a["MetricName"] == "Errors"
    }
    assert watched == delivering | {"MatcherFunction"}


def test_the_api_alarms_on_5xx_by_its_own_name_and_stage(template):
    api = template["Resources"]["Api"]["Properties"]
    [alarm] = [a for a in alarms(template).values() if a.get("MetricName") == "5XXError"]
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert dimensions(alarm) == {"ApiName": api["Name"], "Stage": api["StageName"]}


def test_delivery_lag_alarms_on_the_worst_action_at_the_parameters_threshold(template):
    alarm = alarms(template)["DeliveryLagAlarm"]
    assert alarm["Threshold"] == {"Ref": "DeliveryLagAlarmSeconds"}
    assert template["Parameters"]["DeliveryLagAlarmSeconds"]["Type"] == "Number"
    stats = [q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q]
    assert sorted(s["Metric"]["Dimensions"][1]["Value"] for s in stats) == DELIVERING
    for stat in stats:
        assert stat["Metric"]["MetricName"] == metrics.DELIVERY_LAG.name
        assert stat["Metric"]["Namespace"] == "mlhooks"
        names = [d["Name"] for d in stat["Metric"]["Dimensions"]]
        assert names == ["service", *metrics.DELIVERY_LAG.dimensions]
        assert stat["Metric"]["Dimensions"][0]["Value"] == {"Ref": "AWS::StackName"}
    [expression] = [q for q in alarm["Metrics"] if "Expression" in q]
    assert expression["ReturnData"] is True
    assert (
        expression["Expression"]
        == f"MAX([{', '.join(q['Id'] for q in alarm['Metrics'] if 'MetricStat' in q)}])"
    )


def test_alarms_tell_the_topic_and_the_topic_exists_only_with_an_email(template):
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    for name in ("AlarmTopic", "AlarmEmailSubscription"):
        assert template["Resources"][name]["Condition"] == "HasAlarmEmail", name
    subscription = template["Resources"]["AlarmEmailSubscription"]["Properties"]
    assert subscription == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert len(alarms(template)) == 10
    for name, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == TOPIC_ONLY_WITH_EMAIL, name
        assert alarm.get("OKActions") == TOPIC_ONLY_WITH_EMAIL, name
        assert alarm["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-"), name
    # Nothing else names the topic without the condition.
    text = json.dumps({n: r for n, r in template["Resources"].items() if n != "AlarmEmailSubscription"})
    assert text.count('{"Ref": "AlarmTopic"}') == 2 * len(alarms(template))


@pytest.mark.parametrize(
    ("email", "valid"), [("", True), ("ops@example.com", True), ("not an address", False)]
)
def test_the_alarm_email_parameter_takes_an_address_or_nothing(template, email, valid):
    assert bool(re.fullmatch(template["Parameters"]["AlarmEmail"]["AllowedPattern"], email)) is valid


# ---- the dashboard -----------------------------------------------------------------------------------


def dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's body, its `${...}` substitutions kept as text (`${X}` -> `<X>`)."""
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{([^}]+)\}", r"<\1>", body))


def dashboard_metrics(template: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    found = []
    for widget in dashboard(template)["widgets"]:
        for line in widget["properties"].get("metrics", []):
            fields = [f for f in line if not isinstance(f, dict)]
            namespace, name, *pairs = fields
            found.append((namespace, name, dict(zip(pairs[::2], pairs[1::2], strict=True))))
    return found


def test_the_dashboard_shows_only_metrics_the_code_emits_with_their_dimensions(template):
    shown = [(name, dims) for namespace, name, dims in dashboard_metrics(template) if namespace == "mlhooks"]
    for name, dims in shown:
        metric = metrics.CATALOGUE[name]
        assert set(dims) == {"service", *metric.dimensions}, name
        assert dims["service"] == "<AWS::StackName>"
        assert dims.get("action", DELIVERING[0]) in DELIVERING
        assert dims.get("outcome", "finished") in metrics.OUTCOMES
    assert {name for name, _ in shown} == set(metrics.CATALOGUE)  # and every one of them
    deliveries = {(d["action"], d["outcome"]) for name, d in shown if name == "Deliveries"}
    assert deliveries == {(a, o) for a in DELIVERING for o in metrics.OUTCOMES}


def test_the_dashboards_aws_metrics_name_the_stacks_own_resources(template):
    queues = set(of_type(template, "AWS::SQS::Queue"))
    declared_functions = set(functions(template))
    api = template["Resources"]["Api"]["Properties"]
    for namespace, _, dims in dashboard_metrics(template):
        if namespace == "AWS/SQS":
            assert re.fullmatch(r"<(\w+)\.QueueName>", dims["QueueName"])[1] in queues
        elif namespace == "AWS/Lambda":
            assert re.fullmatch(r"<(\w+)>", dims["FunctionName"])[1] in declared_functions
        elif namespace == "AWS/ApiGateway":
            assert dims == {"ApiName": "<AWS::StackName>-api", "Stage": "<Stage>"}
            assert api["Name"] == {"Fn::Sub": "${AWS::StackName}-api"} and api["StageName"] == {
                "Ref": "Stage"
            }
        else:
            assert namespace == "mlhooks", namespace
    dlq_lines = [
        d["QueueName"] for n, m, d in dashboard_metrics(template) if m == "ApproximateNumberOfMessagesVisible"
    ]
    assert {q.split(".")[0].strip("<") for q in dlq_lines} == dead_letter_queues(template)


def test_the_dashboard_shows_every_alarm(template):
    [widget] = [w for w in dashboard(template)["widgets"] if w["type"] == "alarm"]
    assert {re.fullmatch(r"<(\w+)\.Arn>", a)[1] for a in widget["properties"]["alarms"]} == set(
        alarms(template)
    )


# ---- tracing -----------------------------------------------------------------------------------------


def test_tracing_is_off_unless_the_parameter_turns_it_on(template):
    assert template["Parameters"]["Tracing"]["Default"] == "DISABLED"
    assert template["Conditions"]["TracingEnabled"] == {"Fn::Equals": [{"Ref": "Tracing"}, "ENABLED"]}
    shared = template["Globals"]["Function"]
    assert shared["Tracing"] == {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}
    assert shared["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracingEnabled", "false", "true"]
    }
    assert template["Resources"]["Api"]["Properties"]["TracingEnabled"] == {
        "Fn::If": ["TracingEnabled", True, False]
    }
    for name, props in functions(template).items():
        assert "Tracing" not in props, name  # every function follows the parameter


def test_metrics_name_the_stack_as_their_service(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == {"Ref": "AWS::StackName"}
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "mlhooks"
    assert variables["MLHOOKS_METRICS_BY_ENTITY"] == {"Ref": "MetricsByEntity"}
    assert template["Parameters"]["MetricsByEntity"]["Default"] == "DISABLED"


# ---- the local runtime -------------------------------------------------------------------------------


def test_the_local_runtime_knows_every_resource_type_of_the_template(template):
    assert unknown_resource_types(template) == set()


def test_the_local_runtime_refuses_a_resource_type_it_does_not_know(template):
    changed = copy.deepcopy(template)
    changed["Resources"]["Stream"] = {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}
    with pytest.raises(ValueError, match="does not know: AWS::Kinesis::Stream"):
        provision(changed, endpoint_url=None)


def test_the_local_runtime_provisions_the_template_with_alarms_a_topic_and_tracing_on(template):
    with mock_aws():
        stack = provision(
            template, endpoint_url=None, parameters={"AlarmEmail": "ops@example.com", "Tracing": "ENABLED"}
        )
        environment = local_environment("unused", stack)
    assert stack.holds("HasAlarmEmail") and stack.holds("TracingEnabled")
    assert not {"AlarmTopic", "Dashboard", "DeliveryLagAlarm"} & set(stack.refs)  # nothing made for them
    assert environment["POWERTOOLS_TRACE_DISABLED"] == "true"  # no X-Ray daemon locally
    assert environment["POWERTOOLS_SERVICE_NAME"] == "mlhooks-local"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "mlhooks"
