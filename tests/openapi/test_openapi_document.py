"""openapi.json: generated from the handlers, up to date, valid OpenAPI 3.1, and exactly the template's routes."""

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31  # the OpenAPI Initiative's schema of 3.1 documents

from actionlog.settings import Settings
from dev import openapi
from dev.openapi import declaration, documented_routes
from dev.template import load_template

TEMPLATE = load_template()
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(openapi.OUTPUT_PATH.read_text(encoding="utf-8"))
    return loaded


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def follow(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), reference
    node: Any = document
    for part in reference[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_openapi_json_is_what_the_handlers_generate_now() -> None:
    # Regenerating gives the committed file byte for byte: a handler change needs `make openapi`
    assert openapi.render(openapi.build_document()) == openapi.OUTPUT_PATH.read_text(encoding="utf-8"), (
        "openapi.json is stale: run `make openapi`"
    )


def test_check_mode_tells_a_stale_document_from_a_fresh_one(tmp_path: Path) -> None:
    fresh, stale = tmp_path / "fresh.json", tmp_path / "stale.json"
    fresh.write_text(openapi.OUTPUT_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    stale.write_text("{}\n", encoding="utf-8")

    assert openapi.main(["--check", "--output", str(fresh)]) == 0
    assert openapi.main(["--check", "--output", str(stale)]) == 1
    assert openapi.main(["--check", "--output", str(tmp_path / "missing.json")]) == 1


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    errors = [str(error) for error in jsonschema_rs.Draft202012Validator(OPENAPI_31).iter_errors(document)]

    assert errors == []
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] == "Actionlog"


def test_every_schema_is_a_valid_json_schema_and_every_reference_resolves(document: dict[str, Any]) -> None:
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)
    text = json.dumps(document)
    for reference in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        assert follow(document, reference) is not None, reference


def test_every_path_parameter_is_declared_and_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for operation in operations(document).values()]
    assert len(ids) == len(set(ids))
    for (method, path), operation in operations(document).items():
        declared = {parameter["name"] for parameter in operation.get("parameters", ()) if parameter["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), (method, path)


def test_the_paths_and_methods_are_exactly_the_template_routes(document: dict[str, Any]) -> None:
    expected = {
        (shown.method, shown.path)
        for route in TEMPLATE.routes
        for shown in documented_routes(route, declaration(route.function), TEMPLATE.routes)
    }

    assert set(operations(document)) == expected
    # A Serverpod route taking the method in its path is shown as one path per method, each with its own body
    assert ("POST", "/userActions/{method}") not in expected
    assert {("POST", "/userActions/logAction"), ("POST", "/redisHealth/info")} <= expected


def test_only_the_public_routes_go_without_the_jwt_authorizer(document: dict[str, Any]) -> None:
    for route in TEMPLATE.routes:
        for shown in documented_routes(route, declaration(route.function), TEMPLATE.routes):
            security = operations(document)[(shown.method, shown.path)]["security"]
            if route.authorizer is None:
                assert security == [], route.key
            else:
                assert security, route.key
                assert all(set(requirement) == {route.authorizer} for requirement in security), route.key
    scheme = document["components"]["securitySchemes"]["JwtAuthorizer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


def test_the_log_routes_answer_201_and_take_an_idempotency_key(document: dict[str, Any]) -> None:
    posts = {("POST", "/users/{userId}/actions"), ("POST", "/users/{userId}/actions/batch")}
    for key, operation in operations(document).items():
        successes = [status for status in operation["responses"] if status.startswith("2")]
        headers = [parameter["name"] for parameter in operation.get("parameters", ()) if parameter["in"] == "header"]
        assert successes == (["201"] if key in posts else ["200"]), key
        assert headers == (["Idempotency-Key"] if key in posts else []), key


def test_errors_are_the_layers_json_errors_and_every_503_says_when_to_retry(document: dict[str, Any]) -> None:
    for key, operation in operations(document).items():
        responses = operation["responses"]
        assert "422" not in responses or "HTTPValidationError" not in json.dumps(responses), key
        for status, response in responses.items():
            response = follow(document, response["$ref"]) if "$ref" in response else response
            if status == "503":
                assert "Retry-After" in response["headers"], key
            elif int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["message"]


def test_the_degraded_read_and_the_health_report_are_documented(document: dict[str, Any]) -> None:
    read = operations(document)[("GET", "/users/{userId}/actions")]["responses"]
    health = operations(document)[("GET", "/health")]["responses"]

    assert "503" not in read  # Redis down is a 200 with "degraded": true
    assert {"$ref": "#/components/schemas/DegradedUserActionsResponse"} in read["200"]["content"]["application/json"][
        "schema"
    ]["anyOf"]
    unhealthy = health["503"]["content"]["application/json"]["schema"]
    assert "unavailable" in json.dumps(follow(document, unhealthy["$ref"]) if "$ref" in unhealthy else unhealthy)
    assert set(health) == {"200", "400", "413", "503"}  # public: never 401 or 403


def routes_table() -> dict[tuple[str, str], tuple[set[str], set[str]]]:
    """docs/api.md's routes table: (METHOD, path) -> (success statuses, error statuses) as its columns name them."""
    api = (openapi.REPO_ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = api[api.index("\n## Routes\n") :].split("\n## ", 2)[1]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        route = re.fullmatch(r"`([A-Z]+) (/\S*)`", cells[0]) if len(cells) == 4 else None
        if route:
            statuses = [set(re.findall(r"\b[1-5][0-9][0-9]\b", cell)) for cell in cells[2:]]
            rows[(route[1], route[2])] = (statuses[0], statuses[1])
    return rows


def test_the_api_docs_routes_table_names_every_rest_route_with_the_documents_statuses(document: dict[str, Any]) -> None:
    table = routes_table()
    rest = {
        key: operation
        for key, operation in operations(document).items()
        if key[1].split("/")[1] in {"users", "cache", "health"}
    }

    assert set(table) == set(rest)
    for key, operation in rest.items():
        documented = set(operation["responses"])
        successes, errors = table[key]
        assert successes == {status for status in documented if status < "400"}, key
        assert errors == {status for status in documented if status >= "400"}, key


def test_each_serverpod_method_path_takes_its_own_arguments_and_no_other(document: dict[str, Any]) -> None:
    from actionlog.serverpod import ServerpodEndpoint

    for route in TEMPLATE.routes:
        endpoint = declaration(route.function)
        if not isinstance(endpoint, ServerpodEndpoint) or not route.path.endswith("/{method}"):
            continue
        for shown in documented_routes(route, endpoint, TEMPLATE.routes):
            method = endpoint.methods[shown.path.rpartition("/")[2]]
            body = operations(document)[(shown.method, shown.path)]["requestBody"]
            assert body["content"]["application/json"]["schema"] == {
                "$ref": f"#/components/schemas/{method.arguments.__name__}"
            }


def test_the_read_limit_shows_the_default_cap_as_its_maximum(document: dict[str, Any]) -> None:
    [limit] = [
        p for p in operations(document)[("GET", "/users/{userId}/actions")]["parameters"] if p["name"] == "limit"
    ]

    assert limit["schema"]["maximum"] == Settings().actions_max_entries == 100
    assert "default" in limit["description"]


def test_stored_json_values_show_their_integer_bound(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    assert schemas["CachePut"]["properties"]["value"]["$ref"] == "#/components/schemas/JsonValue"
    assert schemas["ActionIn"]["properties"]["metadata"]["additionalProperties"] == {
        "$ref": "#/components/schemas/JsonValue"
    }
    [integer] = [option for option in schemas["JsonValue"]["anyOf"] if option.get("type") == "integer"]
    assert (integer["minimum"], integer["maximum"]) == (-(2**53 - 1), 2**53 - 1)
