"""dev.gateway and dev.token: what API Gateway does around a function, as the local server does it."""

import base64
import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime
from http import HTTPStatus

import pytest

from dev.gateway import (
    HttpRequest,
    HttpResponse,
    MalformedResponse,
    Refused,
    RouteTable,
    build_event,
    cors_preflight,
    http_response_from_lambda,
    jwt_authorizer,
    with_cors,
)
from dev.template import REPO_ROOT, Cors, load_template
from dev.token import mint, read_claims
from tests.dev.stubs import stub_route as route

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


PROTECTED = route("GET", "/users/{userId}/actions")
ADMIN_ONLY = route("GET", "/health/info", scopes=("actionlog/admin", "actionlog/ops"))


def request(method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> HttpRequest:
    return HttpRequest(method=method, target=target, headers=headers or [], body=body, source_ip="127.0.0.1")


def event_for(http_request: HttpRequest, authorizer: dict[str, object] | None = None) -> dict[str, object]:
    match = RouteTable(load_template().routes).match(http_request.method, http_request.raw_path)
    assert match is not None
    return build_event(match, http_request, request_id="req-1", authorizer=authorizer, now=NOW)


def test_the_template_routes_resolve_to_their_functions() -> None:
    table = RouteTable(load_template().routes)

    def function_for(method: str, path: str) -> str | None:
        match = table.match(method, path)
        return match.route.function.logical_id if match else None

    assert function_for("POST", "/users/123/actions") == "LogActionFunction"
    assert function_for("POST", "/users/123/actions/batch") == "LogBatchActionsFunction"
    assert function_for("DELETE", "/users/123/actions") == "ClearUserActionsFunction"
    assert function_for("GET", "/health/info") == "HealthInfoFunction"
    assert function_for("GET", "/health/") is None
    assert function_for("GET", "/users//actions") is None  # a parameter is never empty


def test_a_literal_segment_beats_a_parameter_which_beats_a_greedy_one() -> None:
    table = RouteTable([route("ANY", "/files/{proxy+}"), route("GET", "/files/{name}"), route("GET", "/files/stats")])

    def path_of(path: str) -> str:
        match = table.match("GET", path)
        assert match is not None
        return match.route.path

    assert path_of("/files/stats") == "/files/stats"
    assert path_of("/files/report") == "/files/{name}"
    assert path_of("/files/a/b") == "/files/{proxy+}"
    # Only the ANY route takes a POST
    post = table.match("POST", "/files/report")
    assert post is not None
    assert (post.route.path, post.path_parameters) == ("/files/{proxy+}", {"proxy": "report"})


def test_the_methods_of_a_known_path_are_listed_for_a_405() -> None:
    table = RouteTable(load_template().routes)

    assert table.allowed_methods("/users/123/actions") == ["DELETE", "GET", "POST"]
    assert table.allowed_methods("/nowhere") == []


def test_path_parameters_are_decoded_one_segment_at_a_time() -> None:
    table = RouteTable(load_template().routes)

    match = table.match("GET", "/cache/session%3Aabc%2Fdef")

    assert match is not None
    assert match.path_parameters == {"key": "session:abc/def"}


def test_the_event_is_payload_format_2() -> None:
    # Given a request with repeated query parameters, mixed-case and repeated headers and cookies
    http_request = request(
        "GET",
        "/users/u%2D1/actions?limit=5&tag=a&tag=b%20c",
        headers=[("Accept", "application/json"), ("X-Tag", "one"), ("x-tag", "two"), ("Cookie", "a=1; b=2")],
    )

    event = event_for(http_request)

    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /users/{userId}/actions"
    assert event["rawPath"] == "/users/u-1/actions"  # API Gateway decodes the path...
    assert event["rawQueryString"] == "limit=5&tag=a&tag=b%20c"  # ...but not the query string
    assert event["queryStringParameters"] == {"limit": "5", "tag": "a,b c"}
    assert event["pathParameters"] == {"userId": "u-1"}
    assert event["headers"] == {"accept": "application/json", "x-tag": "one,two"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["http"] == {
        "method": "GET",
        "path": "/users/u-1/actions",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert (context["requestId"], context["stage"], context["routeKey"]) == ("req-1", "$default", event["routeKey"])
    assert context["time"] == "25/Nov/2026:12:00:00 +0000"
    assert context["timeEpoch"] == 1795608000000
    assert "authorizer" not in context


def test_a_text_body_is_passed_as_is_and_a_binary_one_in_base64() -> None:
    text = event_for(request("POST", "/users/1/actions", body='{"action": "é"}'.encode()))
    binary = event_for(request("POST", "/users/1/actions", body=b"\xff\xfe"))

    assert (text["body"], text["isBase64Encoded"]) == ('{"action": "é"}', False)
    assert (binary["body"], binary["isBase64Encoded"]) == (base64.b64encode(b"\xff\xfe").decode(), True)


def test_the_authorizer_context_carries_the_tokens_claims_and_scopes() -> None:
    token = mint({"sub": "123", "scope": "actionlog/cache actionlog/admin", "admin": True})

    with_prefix = jwt_authorizer(PROTECTED, f"Bearer {token}")
    without_prefix = jwt_authorizer(PROTECTED, token)
    lower_case_prefix = jwt_authorizer(PROTECTED, f"bearer  {token} ")

    assert with_prefix == {
        "jwt": {
            "claims": {"sub": "123", "scope": "actionlog/cache actionlog/admin", "admin": True},
            "scopes": ["actionlog/cache", "actionlog/admin"],
        }
    }
    assert without_prefix == with_prefix
    assert lower_case_prefix == with_prefix
    assert jwt_authorizer(PROTECTED, f"Bearer {mint({'sub': '1'})}") == {
        "jwt": {"claims": {"sub": "1"}, "scopes": None}
    }


def test_without_a_token_the_request_goes_on_to_the_handler() -> None:
    # Locally the handler decides (AUTH_REQUIRED); even a scoped route lets it through to be refused there
    assert jwt_authorizer(PROTECTED, None) is None
    assert jwt_authorizer(ADMIN_ONLY, None) is None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer   ",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b.c",
        f"Bearer {mint({'sub': '1', 'exp': 1_000})}",
        "Bearer " + base64.urlsafe_b64encode(b'{"alg":"none"}').decode() + "." + "W10" + ".",  # payload: []
    ],
)
def test_a_token_api_gateway_would_refuse_is_401(header: str) -> None:
    with pytest.raises(Refused) as refused:
        jwt_authorizer(PROTECTED, header)

    assert refused.value.status == HTTPStatus.UNAUTHORIZED
    assert str(refused.value)


def test_a_tokens_validity_period_is_checked_at_the_given_time() -> None:
    token = mint({"sub": "1", "nbf": 2_000, "exp": 3_000})

    assert jwt_authorizer(PROTECTED, token, now=2_500) is not None
    for now in (1_999, 3_000):
        with pytest.raises(Refused) as refused:
            jwt_authorizer(PROTECTED, token, now=now)
        assert refused.value.status == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("scope", ["actionlog/admin", "openid actionlog/ops", "actionlog/ops actionlog/admin"])
def test_a_token_with_one_of_the_routes_scopes_is_let_through(scope: str) -> None:
    authorizer = jwt_authorizer(ADMIN_ONLY, f"Bearer {mint({'sub': 'ops-1', 'scope': scope})}")

    assert authorizer is not None
    assert authorizer["jwt"]["scopes"] == scope.split()


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "123", "scope": "openid actionlog/cache"},
        {"sub": "123", "scope": "actionlog/administrator"},  # a scope is a whole word, not a prefix
        {"sub": "123", "scope": ""},
        {"sub": "123"},
    ],
)
def test_a_token_without_the_routes_scopes_is_403(claims: dict[str, str]) -> None:
    with pytest.raises(Refused) as refused:
        jwt_authorizer(ADMIN_ONLY, f"Bearer {mint(claims)}")

    assert refused.value.status == HTTPStatus.FORBIDDEN
    assert "actionlog/admin" in str(refused.value)


@pytest.mark.parametrize("separator", ["\u00a0", "\t", "\u2028"])
def test_the_scope_claim_is_split_on_spaces_only(separator: str) -> None:
    with pytest.raises(Refused) as refused:
        jwt_authorizer(ADMIN_ONLY, f"Bearer {mint({'sub': '1', 'scope': f'openid{separator}actionlog/admin'})}")

    assert refused.value.status == HTTPStatus.FORBIDDEN


def test_a_bad_token_on_a_scoped_route_is_401_not_403() -> None:
    with pytest.raises(Refused) as refused:
        jwt_authorizer(ADMIN_ONLY, "Bearer not-a-jwt")

    assert refused.value.status == HTTPStatus.UNAUTHORIZED


def test_minted_tokens_are_unsigned_jwts() -> None:
    token = mint({"sub": "123"})

    header, payload, signature = token.split(".")

    assert signature == ""
    assert "=" not in header + payload
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "none", "typ": "JWT"}
    assert read_claims(token) == {"sub": "123"}


def test_the_token_command_prints_a_token_with_the_claims_asked_for() -> None:
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "dev.token"),
            *("--sub", "123", "--scope", "actionlog/cache actionlog/admin"),
            *("--claim", "tenant=acme", "--claim", "level=3"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    claims = read_claims(completed.stdout.strip())
    assert claims == {"sub": "123", "scope": "actionlog/cache actionlog/admin", "tenant": "acme", "level": 3}


def test_a_handler_response_becomes_the_http_response() -> None:
    response = http_response_from_lambda(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "Content-Length": "999"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": '{"ok":true}',
            "isBase64Encoded": False,
        }
    )

    assert response.status == 201
    assert response.headers == [
        ("Content-Type", "application/json"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2"),
    ]
    assert response.body == b'{"ok":true}'


def test_a_base64_body_is_decoded_and_a_bare_value_is_sent_as_json() -> None:
    binary = http_response_from_lambda(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    bare = http_response_from_lambda({"status": "ok"})

    assert binary.body == b"\x00\x01"
    assert (bare.status, json.loads(bare.body)) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    ],
)
def test_a_malformed_handler_response_is_refused(result: dict[str, object]) -> None:
    with pytest.raises(MalformedResponse):
        http_response_from_lambda(result)


def test_the_authorizer_context_goes_into_the_request_context() -> None:
    authorizer = jwt_authorizer(PROTECTED, f"Bearer {mint({'sub': '123'})}")

    event = event_for(request("GET", "/users/123/actions"), authorizer)

    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["authorizer"] == {"jwt": {"claims": {"sub": "123"}, "scopes": None}}


CORS = Cors(("https://app.example.com",), ("GET", "PUT"), ("Authorization",), ("Retry-After",), 600)


def test_an_options_request_without_a_requested_method_is_no_preflight_and_goes_to_its_route() -> None:
    # Given an OPTIONS request with an allowed Origin but no Access-Control-Request-Method (no browser preflight)
    options = request("OPTIONS", "/users/123/actions", [("Origin", "https://app.example.com")])

    # Then the gateway does not answer it itself
    assert cors_preflight(CORS, options) is None


def test_with_any_origin_allowed_every_origin_gets_the_wildcard() -> None:
    # Given CORS configured for every origin ("*")
    anyone = dataclasses.replace(CORS, allow_origins=("*",))
    preflight = request(
        "OPTIONS",
        "/users/123/actions",
        [("Origin", "https://elsewhere.test"), ("Access-Control-Request-Method", "GET")],
    )
    answered = HttpResponse(HTTPStatus.OK, [], b"{}")

    # Then the preflight and the answer both allow "*", not the caller's origin echoed
    response = cors_preflight(anyone, preflight)
    assert response is not None
    assert (response.status, dict(response.headers)["Access-Control-Allow-Origin"]) == (HTTPStatus.NO_CONTENT, "*")
    assert dict(with_cors(anyone, preflight, answered).headers)["Access-Control-Allow-Origin"] == "*"
