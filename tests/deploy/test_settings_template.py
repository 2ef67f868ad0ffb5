"""Each template parameter that sets a function's environment variable agrees with the layer's table of variables.

The table (`actionlog.settings.VARIABLES`) defines every variable's default and bounds once; the parameter that sets
the variable (in `Globals.Function.Environment.Variables` or a function's own, as SAM's translator merges them) must
carry the same `Default`, `MinValue`/`MaxValue` and `AllowedValues`, in CloudFormation's spelling: text defaults,
`true`/`false` for flags, "" for unset. Parameters that set no variable are not the table's business.
"""

from __future__ import annotations

from typing import Any

import pytest

from actionlog.settings import INTEGER, SECONDS, VARIABLES, Variable
from dev.template import cfn_text, load_template

TEMPLATE = load_template()
PARAMETERS: dict[str, dict[str, Any]] = TEMPLATE.document["Parameters"]
BY_NAME = {variable.name: variable for variable in VARIABLES}


def parameter_refs(node: Any) -> set[str]:
    """The parameters a value refers to, however deep (`!If [CreateCache, "true", !Ref RedisTls]`)."""
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in PARAMETERS:
            return {node["Ref"]}
        return set().union(*map(parameter_refs, node.values()))
    if isinstance(node, list):
        return set().union(*map(parameter_refs, node))
    return set()


def variables_set_by_parameters() -> dict[tuple[str, str], None]:
    """(parameter, variable) for every environment variable of every function that a parameter sets."""
    pairs: dict[tuple[str, str], None] = {}
    for name, resource in TEMPLATE.cloudformation.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        for variable, value in resource["Properties"].get("Environment", {}).get("Variables", {}).items():
            refs = parameter_refs(value)
            assert len(refs) <= 1, f"{name}'s {variable} is set by several parameters: {sorted(refs)}"
            pairs |= {(parameter, variable): None for parameter in refs}
    return pairs


PAIRS = list(variables_set_by_parameters())
# A parameter the Rules ask an operator to give (RedisHost, unless RedisUrl or CreateCache names the Redis) may
# default to "": a deployment never runs with it empty, and the code's default is for local runs.
REQUIRED_BY_RULES = parameter_refs(TEMPLATE.document.get("Rules", {}))


def number(value: Any) -> str:
    return f"{float(value):g}"


def as_template(variable: Variable[Any]) -> dict[str, Any]:
    """The parameter the table asks for, in CloudFormation's spelling."""
    numeric = variable.kind in (INTEGER, SECONDS)
    spelled = number if numeric else cfn_text
    declared: dict[str, Any] = {
        "Type": "Number" if numeric else "String",
        "Default": spelled(variable.kind.show(variable.default)),
    }
    if variable.low is not None:
        declared["MinValue"] = number(variable.low)
    if variable.high is not None:
        declared["MaxValue"] = number(variable.high)
    if variable.allowed_values:
        declared["AllowedValues"] = list(variable.allowed_values)
    return declared


def as_declared(parameter: str, variable: Variable[Any]) -> dict[str, Any]:
    """The parameter as template.yaml declares it, in the same spelling."""
    given = PARAMETERS[parameter]
    spelled = number if given["Type"] == "Number" else cfn_text
    declared = {"Type": given["Type"]} | {
        key: spelled(given[key]) for key in ("Default", "MinValue", "MaxValue") if key in given
    }
    if "AllowedValues" in given:
        declared["AllowedValues"] = [cfn_text(value) for value in given["AllowedValues"]]
    if declared.get("Default") == "" and parameter in REQUIRED_BY_RULES:
        declared["Default"] = as_template(variable)["Default"]
    return declared


def test_parameters_set_the_variables_the_settings_read() -> None:
    assert {variable for _, variable in PAIRS} >= {"REDIS_URL", "REDIS_RETRIES", "ACTIONS_MAX_ENTRIES", "AUTH_REQUIRED"}


@pytest.mark.parametrize(("parameter", "variable"), PAIRS, ids=[f"{p}-{v}" for p, v in PAIRS])
def test_a_parameter_has_the_default_and_bounds_of_the_variable_it_sets(parameter: str, variable: str) -> None:
    assert variable in BY_NAME, f"{parameter} sets {variable}, which actionlog.settings' table lacks"

    assert as_declared(parameter, BY_NAME[variable]) == as_template(BY_NAME[variable])
