"""The application as API Gateway and Lambda see it: `template.yaml`, translated by SAM's own translator.

Everything local that serves, invokes, documents or tests the functions reads them here (the routes come from the
template alone). aws-sam-translator, which `sam build`, `sam deploy` and cfn-lint run too, expands Globals and events
into each function's Lambda settings and the HTTP API's routes, authorizer, scopes and CORS (`dev.sam_cli` runs it).
This module reads the functions, routes and CORS out of its resources; `dev.cloudformation.Stack` evaluates their
intrinsics as CloudFormation would for the parameters given (their defaults otherwise). What only a deployment
knows (an attribute, the region) has no local value (None), and the local runner decides what it is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dev.cloudformation import Stack, cfn_text
from dev.sam_cli import translate

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
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
    document, resources = translate(path, dict(overrides))
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
