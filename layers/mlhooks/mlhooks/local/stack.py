"""The local stack: what provisioning created, by logical id, and the template's intrinsics resolved
against it.

CloudFormation resolves `!Ref`, `!Sub`, `!GetAtt`, `!Join` and `!If` when it deploys; locally
nothing does, so the values the template gives functions (environment, redrive targets, bus names)
are resolved here, from the names and ARNs provisioning recorded, the template's parameters and its
conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlhooks.local import apigw

REGION = "us-east-1"
STACK = "mlhooks-local"
# CloudFormation's pseudo parameters, as they are locally.
PSEUDO = {
    "AWS::StackName": STACK,
    "AWS::Region": REGION,
    "AWS::AccountId": apigw.ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


@dataclass
class Stack:
    """What provisioning created: the value `!Ref` and `!GetAtt X.Arn` give for each logical id."""

    refs: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    # Local stand-ins for EventBridge -> Lambda: a queue per rule, polled into its function.
    rule_taps: dict[str, str] = field(default_factory=dict)  # function -> tap queue URL
    environment: dict[str, Any] = field(default_factory=dict)  # as written in the template
    conditions: dict[str, Any] = field(default_factory=dict)  # as written in the template
    # The stack's own secrets that provisioning made (logical id -> name): the runtime's, made anew
    # each start, never an entity's.
    secrets: dict[str, str] = field(default_factory=dict)

    def holds(self, condition: str) -> bool:
        """Whether one of the template's conditions holds for these parameters."""
        return self._evaluate(self.conditions[condition])

    def _evaluate(self, value: Any) -> bool:
        if isinstance(value, dict):
            if "Fn::Equals" in value:
                left, right = value["Fn::Equals"]
                return str(self.resolve(left)) == str(self.resolve(right))
            if "Fn::Not" in value:
                return not self._evaluate(value["Fn::Not"][0])
            if "Fn::And" in value:
                return all(self._evaluate(part) for part in value["Fn::And"])
            if "Fn::Or" in value:
                return any(self._evaluate(part) for part in value["Fn::Or"])
            for key in ("Condition", "Fn::Condition"):
                if key in value:
                    return self.holds(value[key])
        raise ValueError(f"the local runtime cannot evaluate the condition {value!r}")

    def resolve(self, value: Any) -> Any:
        """Resolve the intrinsics the template uses in values: Ref, Fn::Sub, Fn::GetAtt, Fn::Join,
        Fn::If (`AWS::NoValue` is None)."""
        if isinstance(value, dict) and "Fn::If" in value:
            condition, chosen, otherwise = value["Fn::If"]
            return self.resolve(chosen if self.holds(condition) else otherwise)
        if isinstance(value, dict) and "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        if isinstance(value, dict) and "Ref" in value:
            name = value["Ref"]
            if name == "AWS::NoValue":
                return None
            if name in PSEUDO:
                return PSEUDO[name]
            return self.refs.get(name) if name in self.refs else self.parameters.get(name, "")
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return self.arns[value["Fn::GetAtt"][0]]
        if isinstance(value, dict) and "Fn::Sub" in value:
            return re.sub(
                r"\$\{([^}]+)\}", lambda m: str(self.resolve({"Ref": m.group(1)})), value["Fn::Sub"]
            )
        return value
