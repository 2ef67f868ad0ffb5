"""The application as API Gateway and Lambda see it: `template.yaml`, translated by SAM's own translator.

Everything local that serves, invokes, documents or tests the functions reads them here (the routes come from the
template alone). aws-sam-translator, which `sam build`, `sam deploy` and cfn-lint run too, expands Globals and events
into each function's Lambda settings and the HTTP API's routes, authorizer, scopes and CORS. `Stack` then evaluates
the intrinsics as CloudFormation would for the parameters given (their defaults otherwise); what only a deployment
knows (an attribute, the region) has no local value (None), and the local runner decides what it is.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
SAM_PYTHON = REPO_ROOT / ".venv-sam" / "bin" / "python"
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "x-amazon-apigateway-any-method"}


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str  # "module.function", e.g. "app.lambda_handler"
    layer_dirs: tuple[Path, ...]  # each layer's content, as mounted under /opt/python, in the template's order
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str | None]  # None: an intrinsic only CloudFormation can resolve
    description: str
    event_types: frozenset[str]  # how it is invoked: HttpApi, SQS, Schedule
    log_format: str  # Lambda's LoggingConfig: Text or JSON
    log_level: str | None  # the application log level Lambda filters JSON logs at


@dataclass(frozen=True)
class Route:
    function: Function
    method: str  # upper case; "ANY" matches every method
    path: str  # e.g. "/users/{userId}/actions"
    authorizer: str | None  # the authorizer API Gateway runs first; None for a public route
    scopes: tuple[str, ...]  # what the authorizer requires of the token, any one of them

    @property
    def key(self) -> str:
        """API Gateway's routeKey, e.g. "GET /health"."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Cors:
    """The HTTP API's CORS configuration: API Gateway answers preflights and adds the headers itself."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None


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


@dataclass(frozen=True)
class Template:
    path: Path
    document: dict[str, Any]  # the template as written, intrinsics in their long form
    functions: dict[str, Function]  # by logical id
    routes: tuple[Route, ...]
    cloudformation: dict[str, Any]  # the resources SAM's translator makes of the template, intrinsics unresolved
    cors: Cors | None  # None: no CORS configuration, so API Gateway answers no preflight

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: resource for name, resource in self.document["Resources"].items() if resource["Type"] == kind}


def parameter_overrides(pairs: list[str]) -> dict[str, str]:
    """`Key=Value` pairs, as `sam deploy --parameter-overrides` takes them. Raises ValueError."""
    overrides = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise ValueError(f"a parameter override is Key=Value, got {pair!r}")
        overrides[key] = value
    return overrides


def read_document(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as written, with CloudFormation's short tags (`!Ref X`) in their long form."""
    return copy.deepcopy(load_template(path).document)


def load_template(path: Path = TEMPLATE_PATH, overrides: Mapping[str, str] | None = None) -> Template:
    """The template for the parameters' defaults, or with `overrides` (as `sam local --parameter-overrides`)."""
    return _load(path.resolve(), path.stat().st_mtime_ns, tuple(sorted((overrides or {}).items())))


@cache
def _load(path: Path, modified: int, overrides: tuple[tuple[str, str], ...]) -> Template:
    document, resources = _translate(path, dict(overrides))
    stack = Stack(document, dict(overrides))
    layers = {
        name: path.parent / resource["Properties"]["Content"]["S3Key"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::LayerVersion"
    }
    invoked: dict[str, set[str]] = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            invoked.setdefault(resource["Properties"]["FunctionName"]["Ref"], set()).add("SQS")
        if resource["Type"] == "AWS::Events::Rule":
            for target in resource["Properties"]["Targets"]:
                invoked.setdefault(target["Arn"]["Fn::GetAtt"][0], set()).add("Schedule")
    routes = list(_routes(resources))
    for name, _, _, _, _ in routes:
        invoked.setdefault(name, set()).add("HttpApi")
    functions = {
        name: _function(name, resource["Properties"], path.parent, layers, stack, frozenset(invoked.get(name, ())))
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    return Template(
        path=path,
        document=document,
        functions=functions,
        routes=tuple(
            sorted(
                (
                    Route(functions[name], method, path, authorizer, scopes)
                    for name, method, path, authorizer, scopes in routes
                ),
                key=lambda r: (r.path, r.method),
            )
        ),
        cloudformation=resources,
        cors=_cors(resources, stack),
    )


def _translate(path: Path, parameters: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The template as written and SAM's translation of it, from the SAM CLI's virtualenv (dev/sam_translator.py)."""
    if not SAM_PYTHON.exists():
        raise FileNotFoundError(f"no {SAM_PYTHON}: `make` installs the SAM CLI, which brings SAM's translator")
    script, request = Path(__file__).with_name("sam_translator.py"), json.dumps({"path": str(path), **parameters})
    done = subprocess.run([SAM_PYTHON, "-I", script], input=request, capture_output=True, text=True, check=False)
    if done.returncode:
        raise ValueError(f"SAM's translator refused {path}: {done.stderr.strip().splitlines()[-1]}")
    translated = json.loads(done.stdout)
    return translated["document"], translated["resources"]


def _function(
    name: str,
    properties: dict[str, Any],
    base_dir: Path,
    layers: dict[str, Path],
    stack: Stack,
    event_types: frozenset[str],
) -> Function:
    def value(variable: Any) -> str | None:
        variable = stack.resolved(variable)
        return None if variable is None or isinstance(variable, dict | list) else cfn_text(variable)

    variables = (properties.get("Environment") or {}).get("Variables") or {}
    logging = properties.get("LoggingConfig") or {}
    return Function(
        logical_id=name,
        code_dir=base_dir / properties["Code"]["S3Key"],
        handler=properties["Handler"],
        layer_dirs=tuple(layers[layer["Ref"]] for layer in properties.get("Layers", ()) if layer.get("Ref") in layers),
        timeout_seconds=int(properties.get("Timeout", 3)),
        memory_mb=int(properties.get("MemorySize", 128)),
        environment={variable: value(setting) for variable, setting in variables.items()},
        description=str(properties.get("Description", "")),
        event_types=event_types,
        log_format=value(logging.get("LogFormat")) or "Text",
        log_level=value(logging.get("ApplicationLogLevel")),
    )


def _cors(resources: dict[str, Any], stack: Stack) -> Cors | None:
    """The HTTP API's CORS configuration (SAM writes it into the OpenAPI body), for these parameters."""
    for resource in resources.values():
        if resource["Type"] == "AWS::ApiGatewayV2::Api" and "Body" in resource["Properties"]:
            cors = stack.resolved(resource["Properties"]["Body"].get("x-amazon-apigateway-cors"))
            if cors:
                return Cors(
                    allow_origins=tuple(cors.get("allowOrigins") or ()),
                    allow_methods=tuple(cors.get("allowMethods") or ()),
                    allow_headers=tuple(cors.get("allowHeaders") or ()),
                    expose_headers=tuple(cors.get("exposeHeaders") or ()),
                    max_age=cors.get("maxAge"),
                )
    return None


def _routes(resources: dict[str, Any]) -> list[tuple[str, str, str, str | None, tuple[str, ...]]]:
    """(function, METHOD, path, authorizer, scopes) of every route in the HTTP APIs' OpenAPI bodies."""
    found = []
    for resource in resources.values():
        if resource["Type"] != "AWS::ApiGatewayV2::Api" or "Body" not in resource["Properties"]:
            continue
        for path, item in resource["Properties"]["Body"].get("paths", {}).items():
            for method, operation in item.items():
                if method not in _HTTP_METHODS:
                    continue
                target = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
                [function] = re.findall(r"\$\{(\w+)\.Arn\}", target)
                security = [
                    (name, scopes)
                    for requirement in operation.get("security", [])
                    for name, scopes in requirement.items()
                ]
                authorizer, scopes = next(
                    ((name, tuple(scopes)) for name, scopes in security if name != "NONE"), (None, ())
                )
                found.append((function, "ANY" if method.startswith("x-") else method.upper(), path, authorizer, scopes))
    return found
