"""`python -m dev.openapi [--check]`: `openapi.json`, one OpenAPI 3.1 document for the whole HTTP API.

Generated, never edited by hand, from two sources and nothing else:

- the routes of `template.yaml` (method, path, function, whether the JWT authorizer runs), via `dev.template`;
- each route's function's own declaration, its `lambda_handler`: an `actionlog.http.HttpOperation` (access rule,
  path, query and body models, success, fallback and error responses, Idempotency-Key) or an
  `actionlog.serverpod.ServerpodEndpoint` (its methods: arguments, access, result, degraded answer).

pydantic supplies every schema. `--check` exits 1 when `openapi.json` differs from what this makes now.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import sys
import tomllib
import types
import typing
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from dev.template import REPO_ROOT, Function, Route, load_template

if TYPE_CHECKING:
    from actionlog.documented import Documented
    from actionlog.http import HttpOperation
    from actionlog.schema import Shape
    from actionlog.serverpod import ServerpodEndpoint

OUTPUT_PATH = REPO_ROOT / "openapi.json"
OPENAPI_VERSION = "3.1.0"
SCHEMAS = "#/components/schemas/"
JSON = "application/json"

type JsonObject = dict[str, Any]

HEADERS: JsonObject = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimit-Limit": {
        "description": "Requests the caller may make in the current window (RATE_LIMIT_WRITES or RATE_LIMIT_READS)",
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimit-Remaining": {
        "description": "Requests the caller may still make in the current window",
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the current window ends",
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "Idempotent-Replayed": {
        "description": "With an Idempotency-Key: `true` when this answers an earlier request with the same key",
        "required": False,
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
}


def function_module(function: Function) -> ModuleType:
    """A function's handler module, imported as Lambda finds it: its code directory and its layers."""
    for layer_dir in reversed(function.layer_dirs):
        if str(layer_dir) not in sys.path:
            sys.path.insert(0, str(layer_dir))
    module_name = function.handler.rpartition(".")[0]
    return importlib.import_module(".".join((*function.code_dir.relative_to(REPO_ROOT).parts, module_name)))


def declaration(function: Function) -> HttpOperation | ServerpodEndpoint:
    """A function's declaration: its `lambda_handler`."""
    handler: HttpOperation | ServerpodEndpoint = getattr(function_module(function), function.handler.rpartition(".")[2])
    return handler


class Schemas:
    """Every shape the operations name, as components (requests as validated, responses as serialised), with the
    JSON Schema pydantic makes of each shape's pydantic-core schema."""

    def __init__(self) -> None:
        # Importable once the functions' layer is on the path (see build_document).
        from actionlog.schema import Shape, core

        self._shape, self._core = Shape, core
        self._shapes: dict[tuple[type[Shape], JsonSchemaMode], None] = {}

    def ref(self, shape: type[Shape], mode: JsonSchemaMode) -> JsonObject:
        self._shapes[(shape, mode)] = None
        return {"$ref": f"{SCHEMAS}{shape.__name__}"}

    def of(self, annotation: Any) -> JsonObject:
        """A response body's schema: a shape by reference, a union of shapes as their anyOf, any other type inline."""
        if self._is_shape(annotation):
            return self.ref(annotation, "serialization")
        options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ()
        if options and all(map(self._is_shape, options)):
            return {"anyOf": [self.ref(option, "serialization") for option in options]}
        schema: JsonObject = GenerateJsonSchema().generate(self._core(annotation), mode="serialization")
        return schema

    def _is_shape(self, annotation: Any) -> bool:
        return isinstance(annotation, type) and issubclass(annotation, self._shape)

    def properties(self, shape: type[Shape]) -> tuple[JsonObject, list[str]]:
        """A shape's properties as validated (path and query parameters), and which are required."""
        schema = GenerateJsonSchema(ref_template=SCHEMAS + "{model}").generate(shape.core_schema(), mode="validation")
        return schema["properties"], schema.get("required", [])

    def components(self) -> JsonObject:
        generator = GenerateJsonSchema(ref_template=SCHEMAS + "{model}")
        inputs = [(shape.__name__, mode, shape.core_schema()) for shape, mode in self._shapes]
        references, generated = generator.generate_definitions(inputs)
        for (name, mode), reference in references.items():
            if reference != {"$ref": f"{SCHEMAS}{name}"}:
                raise ValueError(f"{name} has another schema as {mode}: {reference}")
        definitions: dict[str, JsonObject] = {str(name): schema for name, schema in generated.items()}
        requests = {shape.__name__ for shape, mode in self._shapes if mode == "validation"}
        if [name for name in sorted(requests) if _storable(definitions[name])]:
            definitions[JSON_VALUE] = json_value_schema()
        return dict(sorted(definitions.items()))


JSON_VALUE = "JsonValue"


def json_value_schema() -> JsonObject:
    """What Actionlog stores of "any JSON" (metadata, cache values), as actionlog.codec checks it: integers within
    ±(2^53 - 1), which every JSON reader takes back exactly, and any other number. Its nesting limit is said, not
    drawn: 64 nested schemas would say it less clearly.

    JSON Schema counts 1e300 as an integer (it has no fraction); Actionlog stores it, as the double it is written as.
    The document is narrower there: it shows integers within the bound, and numbers with a fraction."""
    from actionlog.codec import MAX_SAFE_INTEGER
    from actionlog.models import MAX_JSON_DEPTH

    value = {"$ref": f"{SCHEMAS}{JSON_VALUE}"}
    return {
        "description": (
            f"Any JSON value whose integers lie within ±{MAX_SAFE_INTEGER} (2^53 - 1, JavaScript's safe integers) and"
            f" whose arrays and objects are nested at most {MAX_JSON_DEPTH} deep; anything else is refused with 400."
            " A number written with a fraction or an exponent is stored as the double it is."
        ),
        "anyOf": [
            {"type": "object", "additionalProperties": value},
            {"type": "array", "items": value},
            {"type": "string"},
            {"type": "integer", "minimum": -MAX_SAFE_INTEGER, "maximum": MAX_SAFE_INTEGER},
            {"type": "number", "not": {"type": "integer"}},
            {"type": "boolean"},
            {"type": "null"},
        ],
    }


def _storable(schema: JsonObject) -> bool:
    """Point a request schema's "any JSON" (a field of `Any`, an object of `dict[str, Any]`) at JsonValue, in place;
    True when it has one."""
    found = False
    for field in schema.get("properties", {}).values():
        for option in [field, *field.get("anyOf", ())]:
            if not {"type", "$ref", "anyOf", "allOf", "oneOf", "const", "enum"} & set(option):
                option["$ref"] = f"{SCHEMAS}{JSON_VALUE}"  # pydantic's Any: no constraint at all
                found = True
            elif option.get("type") == "object" and option.get("additionalProperties") is True:
                option["additionalProperties"] = {"$ref": f"{SCHEMAS}{JSON_VALUE}"}
                found = True
    return found


def build_document() -> JsonObject:
    """The OpenAPI document of every HttpApi route in the template."""
    template = load_template()
    handlers = [(route, declaration(route.function)) for route in template.routes]
    # Importable now that the functions' layer is on the path (`python -m dev.openapi` does not put it there).
    from actionlog.errors import ErrorBody
    from actionlog.http import HttpOperation

    schemas = Schemas()
    schemas.ref(ErrorBody, "serialization")
    paths: dict[str, JsonObject] = {}
    for route, handler in handlers:
        for documented in documented_routes(route, handler, template.routes):
            if isinstance(handler, HttpOperation):
                built = _operation(handler, documented, schemas)
            else:
                built = _serverpod_operation(handler, documented, schemas, template.routes)
            operation = {**_about(documented, template.routes), **built}
            paths.setdefault(documented.path, {})[documented.method.lower()] = operation
    with (REPO_ROOT / "pyproject.toml").open("rb") as stream:
        project = tomllib.load(stream)["project"]
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Actionlog", "version": project["version"], "description": project["description"]},
        "servers": [
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
                "description": "The deployed HTTP API (the stack's ApiUrl output)",
                "variables": {"apiId": {"default": "abcdef1234"}, "region": {"default": "eu-west-1"}},
            },
            {"url": "http://127.0.0.1:3000", "description": "The local server of `make run`"},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas.components(),
            "headers": HEADERS,
            "securitySchemes": {
                authorizer: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "API Gateway's JWT authorizer: the stack's user pool, or JwtIssuer and JwtAudiences",
                }
                for authorizer in sorted({route.authorizer for route in template.routes if route.authorizer})
            },
        },
    }


def documented_routes(route: Route, handler: HttpOperation | ServerpodEndpoint, routes: Iterable[Route]) -> list[Route]:
    """The paths the document gives a template route: itself, or for a Serverpod route that takes the method as a
    path parameter (`POST /userActions/{method}`), one path per method it reaches, so that each has its own body
    schema. A `{method}` path with every method's arguments as one body would document bodies the server refuses: a
    method's path with another method's arguments."""
    from actionlog.serverpod import ServerpodEndpoint

    if not isinstance(handler, ServerpodEndpoint) or not route.path.endswith("/{method}"):
        return [route]
    routes = list(routes)
    return [
        dataclasses.replace(route, path=f"/{handler.name}/{name}") for name in reachable_methods(handler, route, routes)
    ]


def _about(route: Route, routes: Iterable[Route]) -> JsonObject:
    """What the template says of the route: its name, summary and tag."""
    stem = route.function.logical_id.removesuffix("Function")
    if sum(other.function is route.function for other in routes) > 1:
        # A function with several routes (a Serverpod endpoint): each named after what its path adds.
        for segment in route.path.split("/")[2:]:
            stem += "By" + segment[1:-1].capitalize() if segment.startswith("{") else segment[:1].upper() + segment[1:]
    module = function_module(route.function)
    return {
        "operationId": stem[0].lower() + stem[1:],
        "summary": route.function.description.rstrip("."),
        "description": inspect.getdoc(module) or "",
        "tags": [route.path.split("/")[1]],
    }


def _security(route: Route) -> list[JsonObject]:
    """What the route's authorizer asks: a token, holding one of the route's scopes when it names any."""
    if route.authorizer is None:
        return []
    return [{route.authorizer: [scope]} for scope in route.scopes] or [{route.authorizer: []}]


def _operation(operation: HttpOperation, route: Route, schemas: Schemas) -> JsonObject:
    from actionlog.http import IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_PATTERN

    parameters = [*_parameters(operation.path, "path", schemas), *_parameters(operation.query, "query", schemas)]
    if operation.idempotency_key:
        parameters.append(
            {
                "name": IDEMPOTENCY_KEY_HEADER,
                "in": "header",
                "required": False,
                "description": (
                    "Log at most once per key: a repeat within 24 hours (same user, same route) logs nothing and"
                    " answers the first response again; the same key with a different body is 422."
                ),
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            }
        )
    document: JsonObject = {"security": _security(route)}
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": schemas.ref(operation.body, "validation")}},
        }
    document["responses"] = _responses(operation.responses(), schemas)
    return document


def _parameters(shape: type[Shape] | None, where: str, schemas: Schemas) -> list[JsonObject]:
    if shape is None:
        return []
    properties, required = schemas.properties(shape)
    parameters = []
    for name, field in properties.items():
        description = field.pop("description", None)
        field.pop("default", None)
        field.pop("title", None)
        # A query parameter is absent or has a value: the shape's `None` is its absence.
        field = next((option for option in field.get("anyOf", ()) if option != {"type": "null"}), field)
        parameter = {"name": name, "in": where, "required": name in required, "schema": field}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def reachable_methods(endpoint: ServerpodEndpoint, route: Route, routes: Iterable[Route]) -> list[str]:
    """The methods a Serverpod route can call: named in its path, or any the path does not leave to another route.

    `POST /redisHealth/check` has a route of its own, so `POST /redisHealth/{method}` never reaches check().
    """
    segment = route.path.removeprefix(f"/{endpoint.name}").strip("/")
    if segment and not segment.startswith("{"):
        return [segment]
    if not segment:
        return list(endpoint.methods)
    own = {other.path for other in routes if other.method == route.method and other is not route}
    return [name for name in endpoint.methods if f"/{endpoint.name}/{name}" not in own]


def _serverpod_operation(
    endpoint: ServerpodEndpoint, route: Route, schemas: Schemas, routes: Iterable[Route]
) -> JsonObject:
    """A Serverpod route: the methods it can call, named in the path (a parameter, or fixed) or in the body."""
    segment = route.path.removeprefix(f"/{endpoint.name}").strip("/")
    names = reachable_methods(endpoint, route, routes)
    named_in_body = not segment
    arguments: list[JsonObject] = []
    for name in names:
        schema = schemas.ref(endpoint.methods[name].arguments, "validation")
        if named_in_body:
            method = {"type": "object", "properties": {"method": {"const": name}}, "required": ["method"]}
            schema = {"allOf": [schema, method]}
        if schema not in arguments:
            arguments.append(schema)
    document: JsonObject = {"security": _security(route)}
    if segment.startswith("{"):
        document["parameters"] = [
            {
                "name": "method",
                "in": "path",
                "required": True,
                "description": "The endpoint method, as a Serverpod client names it in the path.",
                "schema": {"type": "string", "enum": names},
            }
        ]
    document["requestBody"] = {
        "description": "The method's arguments as named JSON fields"
        + (', and a "method" field' if named_in_body else ""),
        # Without a body the arguments are {}: only a method whose arguments are all optional can do without one.
        "required": named_in_body or any(schemas.properties(endpoint.methods[name].arguments)[1] for name in names),
        "content": {JSON: {"schema": arguments[0] if len(arguments) == 1 else {"anyOf": arguments}}},
    }
    document["responses"] = _responses(
        endpoint.responses(names, named_by_caller=not segment or segment.startswith("{")), schemas
    )
    return document


def _responses(responses: dict[HTTPStatus, Documented], schemas: Schemas) -> JsonObject:
    documented = {}
    for status, response in sorted(responses.items()):
        bodies = [schemas.of(model) for model in response.models]
        body = bodies[0] if len(bodies) == 1 else {"anyOf": bodies}
        document: JsonObject = {"description": response.description, "content": {JSON: {"schema": body}}}
        if response.headers:
            document["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in response.headers}
        documented[str(status.value)] = document
    return documented


def render(document: JsonObject) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.openapi", description="Write openapi.json (OpenAPI 3.1).")
    parser.add_argument("--check", action="store_true", help="exit 1 when openapi.json is not up to date")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT_PATH, help="where the document goes")
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run `make openapi` (python -m dev.openapi)", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
