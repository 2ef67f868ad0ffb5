"""`python -m dev.openapi [--check]`: `openapi.json`, one OpenAPI 3.1 document for the whole HTTP API.

The document is generated, never edited by hand. Its routes are the `HttpApi` routes of `template.yaml` (the one
route table, see `dev.template`); each route's operation starts from what the route's handler says about itself,
Powertools' `get_openapi_json_schema()` of its `ActionlogApi`: path and query parameters, the request body model,
the success status and response model. Serverpod routes take their arguments and results from the endpoint's
`Method` table instead, which Powertools cannot see.

What no handler signature shows is added here, in one place, because Schemathesis checks every response against
the document and a document that only knows the happy path would make every error look like a bug:

- the error responses the shared layer (`actionlog.http`) gives every route: `{"message", "errors"?}` for 400,
  401, 403, 404, 413, 422 and 503 (with Retry-After), each only where the route can answer it. Powertools' own
  422 `HTTPValidationError` is replaced: our handlers never send it;
- the JWT authorizer of the template's routes as a bearer security scheme;
- the few facts of single handlers listed in `_BEHAVIOURS` (404 when absent, the degraded read, the health report
  as a 503 body, the Idempotency-Key header).

`--check` rebuilds the document and exits 1 when `openapi.json` differs, so a handler change that alters the API
cannot land with a stale document.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys
import tomllib
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter

from dev.template import REPO_ROOT, Function, Route, Template, load_template, read_document

if TYPE_CHECKING:
    from actionlog.http import ActionlogApi
    from actionlog.serverpod import ServerpodEndpoint

OUTPUT_PATH = REPO_ROOT / "openapi.json"
PYPROJECT_PATH = REPO_ROOT / "pyproject.toml"
TITLE = "Actionlog"
OPENAPI_VERSION = "3.1.0"

type Json = dict[str, Any]

SCHEMAS = "#/components/schemas/"
RESPONSES = "#/components/responses/"
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What a handler does that its Powertools signature does not say."""

    not_found: bool = False  # answers 404 for something absent
    idempotency_key: bool = False  # honours an Idempotency-Key header (actionlog.http.ActionlogApi.log_actions)
    degrades: bool = False  # answers 200 with a flagged, empty result instead of 503 when Redis is unavailable
    health_report: bool = False  # answers 200 / 503 with the health report, "ok" / "unavailable"
    # Serverpod methods that never answer 503: they catch StoreUnavailable themselves (check() returns the report).
    always_answering_methods: frozenset[str] = frozenset()


# By handler, i.e. the name of its functions/<name>/ directory.
_BEHAVIOURS: Mapping[str, Behaviour] = {
    "log_action": Behaviour(idempotency_key=True),
    "log_batch_actions": Behaviour(idempotency_key=True),
    "get_user_actions": Behaviour(degrades=True),
    "cache_get": Behaviour(not_found=True),
    "health_check": Behaviour(health_report=True),
    "serverpod_redis_health": Behaviour(always_answering_methods=frozenset({"check"})),
}

# Shared by every route that has them; the ServerpodEndpoint.method path parameter gets its values from the endpoint.
_PARAMETER_DESCRIPTIONS = {
    "userId": "1 to 64 characters of A-Z, a-z, 0-9, '_' or '-' (numeric ids such as 123 included).",
    "key": (
        "1 to 256 characters of A-Z, a-z, 0-9, ':', '_', '.' or '-', starting with an allowed prefix"
        " (CACHE_KEY_PREFIXES, by default `session:` or `cache:`); any other key is refused with 403."
    ),
    "limit": "How many of the newest entries, 1 to ACTIONS_MAX_ENTRIES (100 by default; more is 400).",
    "method": "The endpoint method, as a Serverpod client names it in the path.",
}


@dataclass(frozen=True, slots=True)
class Handler:
    """One HTTP function: its handler module and the resolver (and Serverpod endpoint) it builds."""

    function: Function
    name: str  # functions/<name>/
    module: ModuleType
    api: ActionlogApi
    endpoint: ServerpodEndpoint | None

    @property
    def behaviour(self) -> Behaviour:
        return _BEHAVIOURS.get(self.name, Behaviour())

    def schema(self) -> Json:
        """What Powertools documents for this handler's routes."""
        document: Json = json.loads(self.api.get_openapi_json_schema(title=TITLE, openapi_version=OPENAPI_VERSION))
        return document


@dataclass(frozen=True, slots=True)
class EventInfo:
    """What the template says about one HttpApi event, beyond `dev.template.Route`."""

    event_id: str
    description: str


def build_document(template: Template | None = None) -> Json:
    """The OpenAPI document of every HttpApi route in the template."""
    template = template or load_template()
    events = _event_infos(template.path)
    handlers: dict[str, Handler] = {}
    components = _Components()
    paths: dict[str, dict[str, Json]] = {}
    for route in template.routes:
        logical_id = route.function.logical_id
        handler = handlers.get(logical_id) or handlers.setdefault(logical_id, load_handler(route.function))
        routes_of_function = sum(1 for other in template.routes if other.function is route.function)
        operation = _Operation(handler, route, events[(route.method, route.path)], components, routes_of_function)
        paths.setdefault(route.path, {})[route.method.lower()] = operation.build()

    security_schemes = {
        route.authorizer: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "API Gateway's JWT authorizer (issuer and audience are the stack's JwtIssuer and JwtAudience"
                " parameters). The handlers then check the claims: the `sub` claim (USER_ID_CLAIM) must name the"
                " userId, or the token must hold scope `actionlog/admin`; the cache needs scope `actionlog/cache`"
                " or `actionlog/admin`."
            ),
        }
        for route in template.routes
        if route.authorizer is not None
    }
    project = _project()
    document: Json = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": project["version"], "description": project["description"]},
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
            "schemas": components.schemas,
            "responses": _ERROR_RESPONSES,
            "headers": {"Retry-After": _RETRY_AFTER},
            "securitySchemes": security_schemes,
        },
    }
    _prune_unused_schemas(document)
    return document


def load_handler(function: Function) -> Handler:
    """Import a function's handler module as Lambda would find it: its layers on the import path."""
    for layer_dir in reversed(function.layer_dirs):
        if str(layer_dir) not in sys.path:
            sys.path.insert(0, str(layer_dir))
    # Imported only now that the layer is importable (`python -m dev.openapi` does not put it on the path).
    from actionlog.http import ActionlogApi
    from actionlog.serverpod import ServerpodEndpoint

    module_file, _, _ = function.handler.rpartition(".")
    package = ".".join(function.code_dir.relative_to(REPO_ROOT).parts)
    module = importlib.import_module(f"{package}.{module_file}")
    apis = [value for value in vars(module).values() if isinstance(value, ActionlogApi)]
    endpoints = [value for value in vars(module).values() if isinstance(value, ServerpodEndpoint)]
    apis += [endpoint.api for endpoint in endpoints]
    if len(apis) != 1 or len(endpoints) > 1:
        raise ValueError(f"{function.logical_id}: {module.__name__} should build exactly one ActionlogApi")
    return Handler(function, function.code_dir.name, module, apis[0], endpoints[0] if endpoints else None)


def render(document: Json) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class _Components:
    """The component schemas of every handler, merged: a name must mean the same schema everywhere."""

    # Powertools' validation-error models: our handlers answer 422 with the Error schema instead.
    _REPLACED = frozenset({"HTTPValidationError", "ValidationError", "ResponseValidationError"})

    def __init__(self) -> None:
        self.schemas: dict[str, Json] = {
            "Error": _ERROR_SCHEMA,
            "ValidationProblem": _VALIDATION_PROBLEM_SCHEMA,
            "DegradedUserActionsResponse": _DEGRADED_READ_SCHEMA,
        }

    def add(self, schemas: Mapping[str, Json], origin: str) -> None:
        for name, schema in schemas.items():
            if name in self._REPLACED:
                continue
            known = self.schemas.setdefault(name, schema)
            if known != schema:
                raise ValueError(f"{origin}: schema {name} differs from the one another handler documents")
        self.schemas = dict(sorted(self.schemas.items()))

    def schema_of(self, annotation: Any, origin: str) -> Json:
        """The JSON schema of a Python type (a model is added to the components and referenced)."""
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            schema = annotation.model_json_schema(ref_template=SCHEMAS + "{model}")
            definitions = {**schema.pop("$defs", {}), annotation.__name__: schema}
            self.add({name: _as_powertools_does(definition) for name, definition in definitions.items()}, origin)
            return {"$ref": SCHEMAS + annotation.__name__}
        schema = TypeAdapter(annotation).json_schema(ref_template=SCHEMAS + "{model}")
        definitions = schema.pop("$defs", {})
        self.add({name: _as_powertools_does(definition) for name, definition in definitions.items()}, origin)
        return _as_powertools_does(schema)


class _Operation:
    """One route's operation: Powertools' description of it, completed and corrected."""

    def __init__(
        self, handler: Handler, route: Route, event: EventInfo, components: _Components, routes_of_function: int
    ) -> None:
        self.handler = handler
        self.route = route
        self.event = event
        self.components = components
        self.routes_of_function = routes_of_function
        self.source, self.fixed = self._find_source()

    def build(self) -> Json:
        source = self.source
        operation: Json = {
            "operationId": self._operation_id(),
            "summary": self.event.description.rstrip("."),
            "description": inspect.getdoc(self.handler.module) or "",
            "tags": [self.route.path.split("/")[1]],
            "security": self._security(),
        }
        parameters = [self._parameter(parameter) for parameter in source.get("parameters", ())]
        parameters = [parameter for parameter in parameters if parameter["name"] not in self.fixed]
        if self.handler.behaviour.idempotency_key:
            parameters.append(_idempotency_key_parameter())
        if parameters:
            operation["parameters"] = parameters
        body = self._request_body()
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = self._responses()
        return operation

    # --- what Powertools says ---------------------------------------------------------------------------------

    def _find_source(self) -> tuple[Json, dict[str, str]]:
        """Powertools' operation for this route, and the path parameters the route fixes.

        A template route with a literal last segment (POST /redisHealth/check) is served by the handler's route
        with a parameter there (POST /redisHealth/<method>): the same operation with that parameter fixed.
        """
        schema = self.handler.schema()
        self.components.add(schema.get("components", {}).get("schemas", {}), self.handler.name)
        method = self.route.method.lower()
        served: Mapping[str, Json] = schema.get("paths", {})
        if method in served.get(self.route.path, {}):
            return served[self.route.path][method], {}
        parent, _, literal = self.route.path.rpartition("/")
        for path, item in served.items():
            found = re.fullmatch(re.escape(parent) + r"/\{(\w+)\}", path)
            if found and method in item:
                return item[method], {found.group(1): literal}
        raise ValueError(f"{self.handler.name} does not serve {self.route.key}")

    def _operation_id(self) -> str:
        stem = self.route.function.logical_id.removesuffix("Function")
        if self.routes_of_function > 1:
            stem += self.event.event_id
        return stem[0].lower() + stem[1:]

    def _parameter(self, parameter: Json) -> Json:
        described = {**parameter}
        name = parameter["name"]
        if name in _PARAMETER_DESCRIPTIONS:
            described["description"] = _PARAMETER_DESCRIPTIONS[name]
        if self.handler.endpoint is not None and name == "method":
            # Any other method is a 404, documented below.
            described["schema"] = {**parameter["schema"], "enum": list(self.handler.endpoint.methods)}
        return described

    # --- Serverpod endpoints ----------------------------------------------------------------------------------

    def _serverpod_methods(self) -> list[str]:
        """The endpoint methods this route can call."""
        endpoint = self.handler.endpoint
        assert endpoint is not None
        return [self.fixed["method"]] if "method" in self.fixed else list(endpoint.methods)

    def _method_in_body(self) -> bool:
        return not any(parameter["name"] == "method" for parameter in self.source.get("parameters", ()))

    def _request_body(self) -> Json | None:
        endpoint = self.handler.endpoint
        if endpoint is None:
            return self.source.get("requestBody")
        arguments: list[Json] = []
        for name in self._serverpod_methods():
            schema = self.components.schema_of(endpoint.methods[name].arguments, self.handler.name)
            if self._method_in_body():
                method_field = {"type": "object", "properties": {"method": {"const": name}}, "required": ["method"]}
                schema = {"allOf": [schema, method_field]}
            if schema not in arguments:
                arguments.append(schema)
        schema = arguments[0] if len(arguments) == 1 else {"anyOf": arguments}
        description = "The method's arguments as named JSON fields"
        if self._method_in_body():
            description += ', and the method\'s name in a "method" field'
        # Without a body the arguments are {} (a method without arguments needs none).
        return {
            "description": description,
            "required": self._method_in_body(),
            "content": {JSON_MEDIA_TYPE: {"schema": schema}},
        }

    def _serverpod_result(self) -> Json:
        endpoint = self.handler.endpoint
        assert endpoint is not None
        results: list[Json] = []
        for name in self._serverpod_methods():
            returns = typing.get_type_hints(endpoint.methods[name].call).get("return", Any)
            schema = self.components.schema_of(returns, self.handler.name)
            if schema not in results:
                results.append(schema)
        return results[0] if len(results) == 1 else {"anyOf": results}

    # --- who may call --------------------------------------------------------------------------------------

    def _accesses(self) -> set[str]:
        """The access rules a request on this route can meet: the route's, and those of its Serverpod methods."""
        accesses = {str(self.handler.api.access)}
        if self.handler.endpoint is not None:
            accesses |= {str(self.handler.endpoint.methods[name].access) for name in self._serverpod_methods()}
        return accesses

    def _security(self) -> list[Json]:
        if self.route.authorizer is None:
            return []
        # OpenAPI 3.1 lets a bearer scheme name the roles (here: scopes) a route needs; any one of them will do.
        roles = {"cache": ["actionlog/cache", "actionlog/admin"], "admin": ["actionlog/admin"]}
        [access, *others] = self._accesses()
        if not others and access in roles:
            return [{self.route.authorizer: [scope]} for scope in roles[access]]
        return [{self.route.authorizer: []}]

    # --- responses ------------------------------------------------------------------------------------------

    def _responses(self) -> Json:
        responses = self._successes()
        behaviour = self.handler.behaviour
        accesses = self._accesses()
        errors = [HTTPStatus.BAD_REQUEST]  # malformed path, query or JSON; bad Serverpod arguments
        if self.route.authorizer is not None or accesses != {"public"}:
            errors.append(HTTPStatus.UNAUTHORIZED)
        if accesses - {"public", "authenticated"}:
            errors.append(HTTPStatus.FORBIDDEN)
        if behaviour.not_found or (self.handler.endpoint is not None and "method" not in self.fixed):
            errors.append(HTTPStatus.NOT_FOUND)
        errors.append(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)  # every request: the layer admits at most 1 MiB
        if "requestBody" in self.source or behaviour.idempotency_key:
            errors.append(HTTPStatus.UNPROCESSABLE_ENTITY)
        if self._can_be_unavailable():
            errors.append(HTTPStatus.SERVICE_UNAVAILABLE)
        for status in errors:
            responses[str(status.value)] = {"$ref": RESPONSES + _ERROR_RESPONSE_NAMES[status]}
        if behaviour.health_report:
            responses[str(HTTPStatus.SERVICE_UNAVAILABLE.value)] = _health_response(
                "Redis is unavailable, or failed the write or read test", "unavailable", retry_after=True
            )
        return responses

    def _successes(self) -> Json:
        """Powertools' success response, or the Serverpod result."""
        if self.handler.endpoint is not None:
            description = "The method's result, as the seed's Serverpod endpoint returns it"
            if any(
                self.handler.endpoint.methods[name].degraded_result is not None for name in self._serverpod_methods()
            ):
                description += " (getUserActions: [] while Redis is unavailable)"
            return {
                "200": {"description": description, "content": {JSON_MEDIA_TYPE: {"schema": self._serverpod_result()}}}
            }
        successes = {status: response for status, response in self.source["responses"].items() if int(status) < 300}
        if len(successes) != 1:
            raise ValueError(f"{self.route.key}: expected one success response, found {sorted(successes)}")
        [(status, response)] = successes.items()
        if self.handler.behaviour.health_report:
            return {status: _health_response("Redis is healthy", "ok", retry_after=False)}
        if self.handler.behaviour.idempotency_key:
            response = {**response, "headers": {"Idempotent-Replayed": _IDEMPOTENT_REPLAYED}}
        if self.handler.behaviour.degrades:
            content = response["content"][JSON_MEDIA_TYPE]
            response = {
                **response,
                "description": (
                    "The newest entries, newest first; while Redis is unavailable, none, flagged `degraded: true`"
                ),
                "content": {JSON_MEDIA_TYPE: {"schema": {"anyOf": [content["schema"], {"$ref": _DEGRADED_READ}]}}},
            }
        return {status: response}

    def _can_be_unavailable(self) -> bool:
        behaviour = self.handler.behaviour
        if behaviour.degrades:
            return False
        endpoint = self.handler.endpoint
        if endpoint is None:
            return True
        return any(
            endpoint.methods[name].degraded_result is None and name not in behaviour.always_answering_methods
            for name in self._serverpod_methods()
        )


def _as_powertools_does(schema: Json) -> Json:
    """A pydantic JSON schema as Powertools writes it (through its Schema model: `"default": null` goes, for one)."""
    from aws_lambda_powertools.event_handler.openapi.models import Schema

    normalised: Json = json.loads(Schema.model_validate(schema).model_dump_json(by_alias=True, exclude_none=True))
    return normalised


def _health_response(description: str, status: str, *, retry_after: bool) -> Json:
    schema = {"allOf": [{"$ref": SCHEMAS + "HealthReport"}, {"properties": {"status": {"const": status}}}]}
    response: Json = {"description": description, "content": {JSON_MEDIA_TYPE: {"schema": schema}}}
    if retry_after:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    return response


_VALIDATION_PROBLEM_SCHEMA: Json = {
    "type": "object",
    "description": "One problem with the request; never echoes the rejected input.",
    "properties": {
        "location": {"type": "array", "items": {"type": "string"}, "description": 'e.g. ["body", "action"]'},
        "type": {"type": "string", "description": "pydantic's error type, e.g. string_too_long"},
        "message": {"type": "string"},
    },
    "required": ["location", "type", "message"],
}

_ERROR_SCHEMA: Json = {
    "type": "object",
    "description": "Every error Actionlog answers (actionlog.http).",
    "properties": {
        "message": {"type": "string", "description": "What went wrong, for a human"},
        "errors": {"type": "array", "items": {"$ref": SCHEMAS + "ValidationProblem"}},
    },
    "required": ["message"],
}

_RETRY_AFTER: Json = {
    "description": "Seconds to wait before retrying",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}


def _error_response(description: str, *, retry_after: bool = False) -> Json:
    response: Json = {
        "description": description,
        "content": {JSON_MEDIA_TYPE: {"schema": {"$ref": SCHEMAS + "Error"}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    return response


_ERROR_RESPONSE_NAMES = {
    HTTPStatus.BAD_REQUEST: "BadRequest",
    HTTPStatus.UNAUTHORIZED: "Unauthorized",
    HTTPStatus.FORBIDDEN: "Forbidden",
    HTTPStatus.NOT_FOUND: "NotFound",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "PayloadTooLarge",
    HTTPStatus.UNPROCESSABLE_ENTITY: "UnprocessableEntity",
    HTTPStatus.SERVICE_UNAVAILABLE: "ServiceUnavailable",
}

_ERROR_RESPONSES: Json = {
    "BadRequest": _error_response(
        "Malformed path, query or JSON body, a bad Idempotency-Key, or bad Serverpod arguments"
    ),
    "Unauthorized": _error_response("No token, or one the JWT authorizer refuses"),
    "Forbidden": _error_response("The token's user or scopes may not use this route, or the cache key is not allowed"),
    "NotFound": _error_response("Nothing stored under this key, or no such Serverpod method"),
    "PayloadTooLarge": _error_response("Request body over 1 MiB, or a cache value over 256 KiB of JSON"),
    "UnprocessableEntity": _error_response(
        "The body is JSON but breaks the schema (with `errors`), or an Idempotency-Key was reused with another body"
    ),
    "ServiceUnavailable": _error_response("Redis is unavailable; retry after Retry-After seconds", retry_after=True),
}


def _idempotency_key_parameter() -> Json:
    # The layer's own pattern (matched in full there), so that the document cannot drift from what is accepted.
    from actionlog.http import _IDEMPOTENCY_KEY

    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": (
            "Log at most once per key: a repeat within 24 hours (same user, same route) logs nothing and answers"
            " the first response again; the same key with a different body is 422."
        ),
        "schema": {"type": "string", "pattern": f"^{_IDEMPOTENCY_KEY.pattern}$"},
    }


_IDEMPOTENT_REPLAYED: Json = {
    "description": "With an Idempotency-Key: `true` when this answers an earlier request with the same key",
    "required": False,
    "schema": {"type": "string", "enum": ["true", "false"]},
}

_DEGRADED_READ = SCHEMAS + "DegradedUserActionsResponse"
_DEGRADED_READ_SCHEMA: Json = {
    "type": "object",
    "description": "Redis is unavailable: the seed's graceful degradation",
    "properties": {
        "userId": {"type": "string"},
        "actions": {"type": "array", "maxItems": 0},
        "count": {"const": 0},
        "degraded": {"const": True},
    },
    "required": ["userId", "actions", "count", "degraded"],
}


def _event_infos(template_path: Path) -> dict[tuple[str, str], EventInfo]:
    """Each HttpApi event's id and its function's Description, by (METHOD, path)."""
    infos = {}
    for resource in (read_document(template_path).get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        for event_id, event in (properties.get("Events") or {}).items():
            if event.get("Type") == "HttpApi":
                method, path = event["Properties"]["Method"].upper(), event["Properties"]["Path"]
                infos[(method, path)] = EventInfo(event_id, str(properties.get("Description", "")))
    return infos


def _project() -> Json:
    with PYPROJECT_PATH.open("rb") as stream:
        project: Json = tomllib.load(stream)["project"]
    return project


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _prune_unused_schemas(document: Json) -> None:
    """Drop the component schemas nothing refers to (Powertools documents each handler's models)."""
    schemas: Json = document["components"]["schemas"]
    used: set[str] = set()
    pending = list(_references(document["paths"]))
    pending += _references(document["components"]["responses"])
    while pending:
        name = pending.pop().removeprefix(SCHEMAS)
        if name in schemas and name not in used:
            used.add(name)
            pending += _references(schemas[name])
    document["components"]["schemas"] = {name: schema for name, schema in schemas.items() if name in used}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.openapi", description="Write openapi.json, the OpenAPI 3.1 document of the HTTP API."
    )
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
