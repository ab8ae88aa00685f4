"""Provisioning: the template's tables, event buses, queues, event rules and secrets created in moto,
the way CloudFormation would create them on deploy (a resource with a `Condition` only when it holds).

Provisioning is idempotent: a CLI command attaching to a running `mlhooks dev` provisions again and
finds what is already there, so it learns the same names and ARNs without creating anything twice.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import boto3

from mlhooks.local import apigw
from mlhooks.local.stack import REGION, STACK, Stack
from mlhooks.local.template import (
    bus_rules,
    dynamodb_tables,
    environment,
    event_buses,
    parameter_defaults,
    queues,
    secrets,
    unknown_resource_types,
)


def provision(
    template: dict[str, Any], endpoint_url: str | None, parameters: dict[str, str] | None = None
) -> Stack:
    """Create what the template declares: tables (indexes, TTL), buses, queues (redrive policies),
    and the event rules, each delivering to a queue the runtime polls into its function. What needs
    nothing locally (policies, alarms, the dashboard, SNS) is skipped: template.NOT_LOCAL_TYPES."""
    unknown = unknown_resource_types(template)
    if unknown:
        raise ValueError(
            "template.yaml declares resources the local runtime does not know: "
            f"{', '.join(sorted(unknown))}. Provision them (mlhooks/local/provision.py), or list them "
            "in NOT_LOCAL_TYPES (mlhooks/local/template.py) if nothing local needs them."
        )
    stack = Stack(
        parameters={**parameter_defaults(template), **(parameters or {})},
        environment=environment(template),
        conditions=template.get("Conditions") or {},
    )
    client = functools.partial(boto3.client, endpoint_url=endpoint_url, region_name=REGION)
    dynamodb, events, sqs = client("dynamodb"), client("events"), client("sqs")
    _create_secrets(template, stack, client("secretsmanager"))

    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id, spec in dynamodb_tables(template).items():
        name = f"{STACK}-{logical_id}"
        stack.refs[logical_id] = name
        stack.arns[logical_id] = f"arn:aws:dynamodb:{REGION}:{apigw.ACCOUNT_ID}:table/{name}"
        if name in existing:
            continue
        ttl = spec.pop("_ttl", None)
        dynamodb.create_table(TableName=name, **spec)
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)

    known = {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}
    for logical_id in event_buses(template):
        name = stack.resolve(template["Resources"][logical_id]["Properties"]["Name"])
        stack.refs[logical_id] = name
        stack.arns[logical_id] = f"arn:aws:events:{REGION}:{apigw.ACCOUNT_ID}:event-bus/{name}"
        if name not in known:
            events.create_event_bus(Name=name)

    # Dead-letter queues first: the others' redrive policies point at them.
    ordered = sorted(queues(template).items(), key=lambda item: "RedrivePolicy" in item[1])
    for logical_id, props in ordered:
        attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": stack.resolve(policy["deadLetterTargetArn"]),
                    "maxReceiveCount": str(stack.resolve(policy["maxReceiveCount"])),
                }
            )
        _create_queue(sqs, stack, logical_id, f"{STACK}-{logical_id}", attributes)

    for rule in bus_rules(template):
        if stack.resolve(rule.state) == "DISABLED":
            continue  # as deployed: the rule delivers nothing (SageMakerEvents=DISABLED)
        tap_attributes = {"VisibilityTimeout": "5"}
        if rule.dead_letter is not None:
            # EventBridge retries a failing target, then sends the event to the rule's DLQ.
            tap_attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": stack.resolve(rule.dead_letter),
                    "maxReceiveCount": str(min(rule.max_retries + 1, 10)),
                }
            )
        tap = _create_queue(sqs, stack, f"{rule.name}Tap", f"{STACK}-{rule.name}-tap", tap_attributes)
        stack.rule_taps[rule.function] = tap
        bus = stack.resolve(rule.bus) if rule.bus else "default"
        events.put_rule(Name=rule.name, EventBusName=bus, EventPattern=json.dumps(rule.pattern))
        events.put_targets(
            Rule=rule.name,
            EventBusName=bus,
            Targets=[{"Id": "function", "Arn": stack.arns[f"{rule.name}Tap"]}],
        )
    return stack


def _create_secrets(template: dict[str, Any], stack: Stack, secretsmanager: Any) -> None:
    """The stack's own secrets (`!Ref` gives the ARN, as CloudFormation's). One that exists already
    (an earlier provisioning on this moto) takes this provisioning's value."""
    for logical_id, resource in secrets(template).items():
        condition = resource.get("Condition")
        if condition and not stack.holds(condition):
            continue  # as deployed: not made, and every `!If` on the condition takes its other branch
        props = resource.get("Properties") or {}
        name = str(stack.resolve(props["Name"]))
        value = str(stack.resolve(props.get("SecretString", "")))
        try:
            arn = secretsmanager.create_secret(Name=name, SecretString=value)["ARN"]
        except secretsmanager.exceptions.ResourceExistsException:
            arn = secretsmanager.put_secret_value(SecretId=name, SecretString=value)["ARN"]
        stack.refs[logical_id] = arn
        stack.secrets[logical_id] = name


def _create_queue(sqs: Any, stack: Stack, logical_id: str, name: str, attributes: dict[str, str]) -> str:
    try:
        # Already there (a CLI command attaching to a running `make dev`): use it as it is.
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    stack.refs[logical_id] = url
    stack.arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return url
