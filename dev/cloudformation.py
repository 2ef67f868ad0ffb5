"""What CloudFormation makes of a template's intrinsics, for one set of parameter values, where it can locally.

`Stack` evaluates `Ref`, `Fn::If`, `Fn::Sub`, `Fn::GetAtt` and the condition functions over a template in its long
form (as SAM's translator hands it over, see `dev.sam_cli`); what only a deployment knows (an attribute, a resource,
the region) raises `Unresolved`, unless a test says what it is (`known`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any


def cfn_text(value: Any) -> str:
    """A value as CloudFormation passes it on to a string property: YAML's true as "true", null as ""."""
    return str(value).lower() if isinstance(value, bool) else "" if value is None else str(value)


class Unresolved(Exception):
    """An intrinsic only a deployment can evaluate: an attribute, a resource, a pseudo parameter."""


_NO_VALUE = object()  # AWS::NoValue: the property or list item is left out


class Stack:
    """What CloudFormation makes of the template's intrinsics for one set of parameter values, where it can locally."""

    def __init__(
        self, document: dict[str, Any], overrides: Mapping[str, str] | None = None, known: Mapping[str, Any] = {}
    ) -> None:
        # What a deployment would give references to resources ("Cache", "Cache.Endpoint.Address") or pseudo
        # parameters ("AWS::Region"), where a test says.
        self.known = known
        self.conditions: dict[str, Any] = document.get("Conditions") or {}
        self.rules: dict[str, Any] = document.get("Rules") or {}
        self.parameters: dict[str, Any] = {}
        for name, parameter in (document.get("Parameters") or {}).items():
            value = (overrides or {}).get(name, parameter.get("Default"))
            if value is not None:
                value = cfn_text(value)
                list_type = parameter["Type"] == "CommaDelimitedList" or parameter["Type"].startswith("List<")
                self.parameters[name] = value.split(",") if list_type else value
        if unknown := set(overrides or ()) - set(self.parameters):
            raise ValueError(f"the template has no parameter {', '.join(sorted(unknown))}")

    def condition(self, name: str) -> bool:
        return bool(self.value(self.conditions[name]))

    def refusals(self) -> list[str]:
        """The `AssertDescription` of every Rules assertion these parameters fail: why CloudFormation would refuse."""
        return [
            assertion["AssertDescription"]
            for rule in self.rules.values()
            if self.value(rule.get("RuleCondition", True))
            for assertion in rule["Assertions"]
            if not self.value(assertion["Assert"])
        ]

    def value(self, node: Any) -> Any:
        """The value of `node`, AWS::NoValue left out. Raises Unresolved."""
        if isinstance(node, list):
            return [item for item in map(self.value, node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref", "Condition")):
            values = {key: self.value(item) for key, item in node.items()}
            return {key: item for key, item in values.items() if item is not _NO_VALUE}
        [(function, argument)] = node.items()
        match function:
            case "Ref" if argument == "AWS::NoValue":
                return _NO_VALUE
            case "Ref":
                return self.ref(argument)
            case "Condition":
                return self.condition(argument)
            case "Fn::If":
                name, when_true, when_false = argument
                return self.value(when_true if self.condition(name) else when_false)
            case "Fn::GetAtt":
                return self.ref(".".join(argument) if isinstance(argument, list) else argument)
            case "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                names = {name: self.value(value) for name, value in variables.items()}
                return re.sub(r"\$\{([\w:.]+)\}", lambda found: str(names.get(found[1]) or self.ref(found[1])), text)
        values = self.value(argument)
        match function:
            case "Fn::Equals":
                return str(values[0]) == str(values[1])
            case "Fn::Not":
                return not values[0]
            case "Fn::And":
                return all(values)
            case "Fn::Or":
                return any(values)
            case "Fn::Join":
                return str(values[0]).join(map(str, values[1]))
            case "Fn::Split":
                return str(values[1]).split(values[0])
            case "Fn::Select":
                return values[1][int(values[0])]
            case "Fn::Contains":
                return values[1] in values[0]
            case "Fn::EachMemberEquals":
                return all(item == values[1] for item in values[0])
        raise Unresolved(f"{function} {json.dumps(argument)}")

    def ref(self, name: str) -> Any:
        """A parameter's value, or what `known` says of a resource or pseudo parameter. Raises Unresolved."""
        if name in self.parameters:
            return self.parameters[name]
        if name in self.known:
            return self.known[name]
        raise Unresolved(f"Ref {name}")

    def resolved(self, node: Any) -> Any:
        """The value of `node`, or None where only a deployment knows it."""
        try:
            value = self.value(node)
        except Unresolved:
            return None
        return None if value is _NO_VALUE else value
