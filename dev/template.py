"""The application as API Gateway and Lambda see it: `template.yaml`, translated by SAM's own translator.

Everything local that serves, invokes, documents or tests the functions reads them here (CONTRACT section 1: the
routes come from the template alone). aws-sam-translator, which `sam build`, `sam deploy` and cfn-lint run too,
expands Globals and events into CloudFormation: each function's Lambda settings, and the HTTP API's routes with the
authorizer and scopes API Gateway applies. The translator wants S3 locations for code, so the local paths are kept
aside and given back. Environment values that are plain `Ref`s to parameters take the parameters' defaults; other
intrinsics have no local value (None), and the local runner decides what they are.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
_LOCAL = "s3://local-code/"
_LOCATIONS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
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
class Template:
    path: Path
    document: dict[str, Any]  # the template as written, intrinsics in their long form
    functions: dict[str, Function]  # by logical id
    routes: tuple[Route, ...]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: resource for name, resource in self.document["Resources"].items() if resource["Type"] == kind}


def read_document(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as written, with CloudFormation's short tags (`!Ref X`) in their long form."""
    from samtranslator.yaml_helper import yaml_parse

    document: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return document


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    return _load(path.resolve(), path.stat().st_mtime_ns)


@cache
def _load(path: Path, modified: int) -> Template:
    document = read_document(path)
    local = copy.deepcopy(document)
    for resource in local["Resources"].values():
        key = _LOCATIONS.get(resource["Type"])
        if key and isinstance(resource.get("Properties", {}).get(key), str):
            resource["Properties"][key] = _LOCAL + resource["Properties"][key]
    resources = _translate(local)["Resources"]
    defaults = {name: parameter.get("Default") for name, parameter in (document.get("Parameters") or {}).items()}
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
        name: _function(name, resource["Properties"], path.parent, layers, defaults, frozenset(invoked.get(name, ())))
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
    )


def _translate(document: dict[str, Any]) -> dict[str, Any]:
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # A region is needed for ARNs only; nothing is asked of AWS (no credentials, no managed policies looked up).
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    translated: dict[str, Any] = translator.translate(document, parameter_values={}, get_managed_policy_map=dict)
    return translated


def _function(
    name: str,
    properties: dict[str, Any],
    base_dir: Path,
    layers: dict[str, Path],
    defaults: dict[str, Any],
    event_types: frozenset[str],
) -> Function:
    def value(variable: Any) -> str | None:
        if isinstance(variable, dict) and set(variable) == {"Ref"}:
            variable = defaults.get(variable["Ref"])
        if isinstance(variable, bool):
            return str(variable).lower()
        return None if variable is None or isinstance(variable, dict | list) else str(variable)

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
