"""Reads `template.yaml` so the local runtime provisions and serves what the template declares,
not a copy of it that could drift."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (!Ref, !Sub, !GetAtt, ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


# What the local runtime makes of each resource type the template declares. A type in neither set
# stops provisioning with its name, so a new kind of resource is a decision, never silently ignored.
LOCAL_TYPES = {
    # Created in moto (provision.py).
    "AWS::DynamoDB::Table",
    "AWS::Events::EventBus",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
    # Run in this process: the functions and their layer's package, the API (apigw.py).
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Api",
}
NOT_LOCAL_TYPES = {
    # Access control that moto does not enforce (the tests of the template check what it says).
    "AWS::Events::EventBusPolicy",
    "AWS::SQS::QueuePolicy",
    # Operations: nothing reads CloudWatch or SNS locally; the functions' EMF metrics go to their
    # log (`mlhooks dev`: .mlhooks/functions.log), and no alarm or dashboard reads them.
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
}


def unknown_resource_types(template: dict[str, Any]) -> set[str]:
    """Resource types the local runtime neither provisions nor knows it may skip."""
    declared = {resource["Type"] for resource in template["Resources"].values()}
    return declared - LOCAL_TYPES - NOT_LOCAL_TYPES


@dataclass(frozen=True)
class Route:
    method: str  # "ANY" or an HTTP method
    path: str  # API Gateway path, e.g. /v1/{proxy+}
    function: str  # logical id
    authorized: bool

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("ANY", method.upper()):
            return False
        # API Gateway routes `/console/` to the `/console` resource: a trailing slash is ignored.
        trimmed = path.rstrip("/") or "/"
        return re.fullmatch(self._pattern(), trimmed) is not None

    def _pattern(self) -> str:
        pattern = ""
        for piece in re.split(r"(\{[^}]+\})", self.path):
            if piece.endswith("+}"):
                pattern += r".+"
            elif piece.startswith("{"):
                pattern += r"[^/]+"
            else:
                pattern += re.escape(piece)
        return pattern

    @property
    def specificity(self) -> tuple[int, int]:
        # API Gateway prefers literal paths over {param}, and {param} over {proxy+}.
        return (0 if "+}" in self.path else 1, len(self.path))


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def api_routes(template: dict[str, Any]) -> list[Route]:
    routes = []
    for name, props in functions(template).items():
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            event_props = event["Properties"]
            auth = (event_props.get("Auth") or {}).get("Authorizer")
            routes.append(Route(event_props["Method"].upper(), event_props["Path"], name, auth != "NONE"))
    return sorted(routes, key=lambda r: r.specificity, reverse=True)


def authorizer_function(template: dict[str, Any]) -> str:
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Api":
            continue
        auth = resource["Properties"]["Auth"]
        authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
        return authorizer["FunctionArn"]["Fn::GetAtt"][0]
    raise ValueError("template.yaml declares no API with a default authorizer")


def dynamodb_tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """CreateTable arguments per logical id, from the template's AWS::DynamoDB::Table resources."""
    tables = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        spec: dict[str, Any] = {
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            spec["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("TimeToLiveSpecification"):
            spec["_ttl"] = props["TimeToLiveSpecification"]
        tables[name] = spec
    return tables


def event_buses(template: dict[str, Any]) -> list[str]:
    return [n for n, r in template["Resources"].items() if r["Type"] == "AWS::Events::EventBus"]


def secrets(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The stack's own Secrets Manager secrets (the Slack app's client secret): logical id -> the
    resource as written (its `Condition` and `Properties`)."""
    return {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"}


def handler_path(template: dict[str, Any], root: Path, function: str) -> tuple[Path, str]:
    """(file, function name) of a function's handler, e.g. functions/api/app.py, lambda_handler."""
    props = functions(template)[function]
    module, _, attribute = props["Handler"].rpartition(".")
    return root / props["CodeUri"] / f"{module.replace('.', '/')}.py", attribute


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in (template.get("Parameters") or {}).items()}


def queues(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        n: r.get("Properties") or {}
        for n, r in template["Resources"].items()
        if r["Type"] == "AWS::SQS::Queue"
    }


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: str  # logical id of the queue
    batch_size: int
    report_failures: bool


@dataclass(frozen=True)
class BusRule:
    function: str
    name: str
    bus: Any  # the EventBusName value (a Ref)
    pattern: dict[str, Any]
    dead_letter: Any  # the DeadLetterConfig Destination value, if any
    max_retries: int
    state: Any = "ENABLED"  # ENABLED or DISABLED, or a Ref to a parameter that says which


def queue_sources(template: dict[str, Any]) -> list[QueueSource]:
    sources = []
    for name, props in functions(template).items():
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "SQS":
                p = event["Properties"]
                sources.append(
                    QueueSource(
                        name,
                        p["Queue"]["Fn::GetAtt"][0],
                        int(p.get("BatchSize", 10)),
                        "ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or []),
                    )
                )
    return sources


def bus_rules(template: dict[str, Any]) -> list[BusRule]:
    rules = []
    for name, props in functions(template).items():
        for event_name, event in (props.get("Events") or {}).items():
            if event.get("Type") == "EventBridgeRule":
                p = event["Properties"]
                dead_letter = (p.get("DeadLetterConfig") or {}).get("Destination")
                retries = int((p.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185))
                rules.append(
                    BusRule(
                        name,
                        f"{name}-{event_name}",
                        p.get("EventBusName"),
                        p["Pattern"],
                        dead_letter,
                        retries,
                        p.get("State", "ENABLED"),
                    )
                )
    return rules


def environment(template: dict[str, Any]) -> dict[str, Any]:
    """The functions' environment variables as written (Globals, then the functions' own)."""
    variables = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    for props in functions(template).values():
        variables.update((props.get("Environment") or {}).get("Variables") or {})
    return variables
