"""The functions and HTTP routes of `template.yaml`: the only route table the local tools use.

CONTRACT section 1: routes come from the template alone. The local API server, `dev.invoke` and the tests
read them here, so a route added, moved or made public in the template is served locally as deployed.

Only what a local run needs is read: each `AWS::Serverless::Function` (merged with `Globals.Function` the way
SAM merges them), its local layers, and its `HttpApi` events with the authorizer API Gateway would run first.
Intrinsic functions are kept as data, never evaluated: an environment variable set with `!Ref` has no local
value here, and the local runner decides what it should be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

# What SAM assumes when a template leaves these out.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128

FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"


class TemplateError(Exception):
    """The template asks for something the local tools cannot run."""


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation's short tags (`!Ref X`, `!Sub ...`) as their long forms, as data."""


def _construct_intrinsic(loader: CloudFormationLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TemplateError(f"unexpected YAML node for !{tag_suffix}")
    if tag_suffix in {"Ref", "Condition"}:
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


@dataclass(frozen=True, slots=True)
class Function:
    logical_id: str
    code_dir: Path  # the CodeUri, absolute
    handler: str  # "module.function", e.g. "app.lambda_handler"
    layer_dirs: tuple[Path, ...]  # ContentUri of each local layer, in the template's order
    timeout_seconds: int
    memory_mb: int
    # Every variable the template declares for this function. None where the value is an intrinsic (`!Ref ...`),
    # which only CloudFormation can resolve.
    environment: Mapping[str, str | None]
    description: str = ""
    event_types: frozenset[str] = frozenset()  # the Type of each of its Events: HttpApi, SQS, Schedule, ...


@dataclass(frozen=True, slots=True)
class Route:
    function: Function
    event_id: str  # the key of its event under the function's Events
    method: str  # upper case; "ANY" matches every method
    path: str  # e.g. "/users/{userId}/actions"
    # The authorizer API Gateway runs before the function; None for `Auth: Authorizer: NONE` (or an API without one).
    authorizer: str | None

    @property
    def key(self) -> str:
        """API Gateway's routeKey, e.g. "GET /health"."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class Template:
    path: Path
    functions: Mapping[str, Function]  # by logical id, every Serverless function whatever its events
    routes: tuple[Route, ...]  # every HttpApi event, in template order
    global_environment: Mapping[str, str | None]  # Globals.Function.Environment.Variables, as in Function


def read_document(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, intrinsics in their long form (`{"Ref": "X"}`)."""
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=CloudFormationLoader)  # a SafeLoader: no arbitrary objects
    if not isinstance(document, dict):
        raise TemplateError(f"{path} is not a CloudFormation template")
    return document


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    document = read_document(path)
    base_dir = path.resolve().parent
    resources: dict[str, Any] = document.get("Resources") or {}
    globals_section: dict[str, Any] = document.get("Globals") or {}
    function_globals: dict[str, Any] = globals_section.get("Function") or {}

    functions: dict[str, Function] = {}
    routes: list[Route] = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != FUNCTION_TYPE:
            continue
        properties = resource.get("Properties") or {}
        function = _function(logical_id, properties, function_globals, resources, base_dir)
        functions[logical_id] = function
        for event_id, event in (properties.get("Events") or {}).items():
            if event.get("Type") == "HttpApi":
                routes.append(_route(function, event_id, event.get("Properties") or {}, resources, globals_section))
    return Template(
        path=path,
        functions=functions,
        routes=tuple(routes),
        global_environment=_variables(function_globals),
    )


def _function(
    logical_id: str,
    properties: Mapping[str, Any],
    function_globals: Mapping[str, Any],
    resources: Mapping[str, Any],
    base_dir: Path,
) -> Function:
    def setting(name: str, default: Any = None) -> Any:
        return properties.get(name, function_globals.get(name, default))

    code_uri = setting("CodeUri")
    handler = setting("Handler")
    if not isinstance(code_uri, str):
        raise TemplateError(f"{logical_id}: CodeUri must be a local directory to run the function locally")
    if not isinstance(handler, str):
        raise TemplateError(f"{logical_id}: no Handler (neither its own nor Globals.Function.Handler)")
    # SAM appends a function's own layers to the global ones, and merges environment variables by name.
    layers = [*(function_globals.get("Layers") or ()), *(properties.get("Layers") or ())]
    return Function(
        logical_id=logical_id,
        code_dir=(base_dir / code_uri).resolve(),
        handler=handler,
        layer_dirs=tuple(_layer_dirs(layers, resources, base_dir)),
        timeout_seconds=int(setting("Timeout", DEFAULT_TIMEOUT_SECONDS)),
        memory_mb=int(setting("MemorySize", DEFAULT_MEMORY_MB)),
        environment={**_variables(function_globals), **_variables(properties)},
        description=str(properties.get("Description", "")),
        event_types=frozenset(str(event.get("Type")) for event in (properties.get("Events") or {}).values()),
    )


def _layer_dirs(layers: list[Any], resources: Mapping[str, Any], base_dir: Path) -> list[Path]:
    # A layer built with `BuildMethod: python3.x` puts its ContentUri on the function's import path (/opt/python).
    # Layers given as ARNs live in AWS; whatever they provide must come from the local site-packages instead.
    dirs = []
    for layer in layers:
        reference = layer.get("Ref") if isinstance(layer, dict) else None
        resource = resources.get(reference) if isinstance(reference, str) else None
        if resource is None or resource.get("Type") != LAYER_TYPE:
            continue
        content_uri = (resource.get("Properties") or {}).get("ContentUri")
        if isinstance(content_uri, str):
            dirs.append((base_dir / content_uri).resolve())
    return dirs


def _variables(properties: Mapping[str, Any]) -> dict[str, str | None]:
    variables = ((properties.get("Environment") or {}).get("Variables")) or {}
    return {name: _literal(value) for name, value in variables.items()}


def _literal(value: Any) -> str | None:
    """A variable's value as Lambda would receive it, or None for an intrinsic function."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _route(
    function: Function,
    event_id: str,
    properties: Mapping[str, Any],
    resources: Mapping[str, Any],
    globals_section: Mapping[str, Any],
) -> Route:
    method, path = properties.get("Method"), properties.get("Path")
    if not isinstance(method, str) or not isinstance(path, str):
        raise TemplateError(
            f"{function.logical_id}.{event_id}: an HttpApi event without Method and Path (the $default route)"
            " is not served locally"
        )
    authorizer = (properties.get("Auth") or {}).get("Authorizer")
    if authorizer is None:
        authorizer = _default_authorizer(properties.get("ApiId"), resources, globals_section)
    return Route(
        function=function,
        event_id=event_id,
        method=method.upper(),
        path=path,
        authorizer=None if authorizer in (None, "NONE") else str(authorizer),
    )


def _default_authorizer(api_id: Any, resources: Mapping[str, Any], globals_section: Mapping[str, Any]) -> Any:
    if isinstance(api_id, dict) and "Ref" in api_id:
        api_properties = (resources.get(api_id["Ref"]) or {}).get("Properties") or {}
    else:  # no ApiId: the implicit API SAM creates, configured by Globals.HttpApi
        api_properties = globals_section.get("HttpApi") or {}
    return (api_properties.get("Auth") or {}).get("DefaultAuthorizer")
