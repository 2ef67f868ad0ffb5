"""API Gateway's part of a request, for the local server: the route, the authorizer, the event, the response.

- Route selection: the most specific route wins (a literal segment beats `{param}`, which beats `{greedy+}`); each
  `{param}` is one non-empty path segment, URL-decoded.
- The JWT authorizer's context, from the bearer token decoded WITHOUT verification (see `dev.token`), and the scopes
  the route requires (`AuthorizationScopes`), refused with 403 before the function runs, as API Gateway does.
- CORS, when the template configures it: API Gateway answers preflights itself, before routes and the authorizer,
  and puts its own CORS headers on every response to an allowed origin.
- The payload format 2.0 event. As deployed, `rawPath` arrives URL-decoded and `rawQueryString` as sent.
- The HTTP response API Gateway makes of the function's return value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

from dev.template import Cors, Route
from dev.token import InvalidToken, read_claims

ACCOUNT_ID = "123456789012"  # the placeholder account SAM's local tools use
_HOP_BY_HOP_HEADERS = {"connection", "content-length", "keep-alive", "transfer-encoding"}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    target: str  # path and query string as sent, still percent-encoded
    headers: Sequence[tuple[str, str]]  # as sent: any case, repeats included
    body: bytes
    source_ip: str

    @property
    def raw_path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def raw_query(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        """A header's value, repeats joined with commas as API Gateway joins them; None when absent."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes


class MalformedResponse(Exception):
    """The function returned something API Gateway cannot turn into a response (it answers 500)."""


def json_response(status: int, document: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json"), *headers], json.dumps(document).encode())


@dataclass(frozen=True, slots=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    """Finds the route for a request among the template's routes."""

    def __init__(self, routes: Iterable[Route]) -> None:
        # API Gateway's priority among matching routes: literal segments (0) before {param} (1) before {greedy+} (2).
        self._routes = sorted(routes, key=lambda route: [_kind(segment) for segment in route.path.split("/")[1:]])

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = raw_path.split("/")[1:]
        for route in self._routes:
            parameters = _match(route.path, segments)
            if route.method in (method, "ANY") and parameters is not None:
                return RouteMatch(route, parameters)
        return None

    def allowed_methods(self, raw_path: str) -> list[str]:
        """The methods of the routes whose path matches; empty when no route has this path."""
        segments = raw_path.split("/")[1:]
        return sorted({route.method for route in self._routes if _match(route.path, segments) is not None})


def _kind(segment: str) -> int:
    return 0 if not segment.startswith("{") else 2 if segment.endswith("+}") else 1


def _match(path: str, segments: Sequence[str]) -> dict[str, str] | None:
    """The path parameters when `segments` (still percent-encoded) match the route's `path`, else None."""
    parameters: dict[str, str] = {}
    pattern = path.split("/")[1:]
    for index, part in enumerate(pattern):
        if _kind(part) == 2:
            rest = segments[index:]
            if not any(rest):
                return None
            parameters[part[1:-2]] = "/".join(unquote(each) for each in rest)
            return parameters
        if index >= len(segments):
            return None
        value = unquote(segments[index])  # one segment at a time, so that an encoded slash (%2F) stays inside it
        if _kind(part) == 0 and value != part:
            return None
        if _kind(part) == 1:
            if not value:
                return None
            parameters[part[1:-1]] = value
    return parameters if len(segments) == len(pattern) else None


class Refused(Exception):
    """API Gateway turned the request away: a body it does not take (400, 413), a bad token (401), no scope (403)."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def jwt_authorizer(route: Route, authorization: str | None, *, now: float | None = None) -> dict[str, Any] | None:
    """`requestContext.authorizer` as the JWT authorizer fills it, or None when no token was sent. Raises Refused.

    The "Bearer " prefix is optional, as it is for API Gateway. A route with `AuthorizationScopes` needs a token
    holding one of them (in its space-separated `scope` claim). Without a token the request goes on, unlike API
    Gateway: locally the handler decides (AUTH_REQUIRED, false by default, lets it in).
    """
    if authorization is None:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else authorization.strip()
    try:
        claims = read_claims(token, now=now)
    except InvalidToken as error:
        raise Refused(HTTPStatus.UNAUTHORIZED, str(error)) from None
    scope = claims.get("scope")
    # Separated by spaces and nothing else (RFC 6749, 3.3), as actionlog.auth reads the claim.
    scopes = [token for token in scope.split(" ") if token] or None if isinstance(scope, str) else None
    if route.scopes and not set(route.scopes) & set(scopes or ()):
        raise Refused(HTTPStatus.FORBIDDEN, f"the route needs one of the scopes {' '.join(route.scopes)}")
    return {"jwt": {"claims": claims, "scopes": scopes}}


def cors_preflight(cors: Cors | None, request: HttpRequest) -> HttpResponse | None:
    """API Gateway's answer to a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method), or None.

    It answers 204 whatever the origin; the CORS headers, which let the browser go on, only for an allowed one.
    """
    origin = request.header("origin")
    if cors is None or request.method != "OPTIONS" or not origin or not request.header("access-control-request-method"):
        return None
    headers = []
    if allowed := _allowed_origin(cors, origin):
        headers = [
            ("Access-Control-Allow-Origin", allowed),
            ("Access-Control-Allow-Methods", ",".join(cors.allow_methods)),
            ("Access-Control-Allow-Headers", ",".join(name.lower() for name in cors.allow_headers)),
            *([("Access-Control-Max-Age", str(cors.max_age))] if cors.max_age is not None else []),
        ]
    return HttpResponse(HTTPStatus.NO_CONTENT, headers, b"")


def with_cors(cors: Cors | None, request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """`response` with API Gateway's CORS headers for the request's origin in place of any the function sent."""
    origin = request.header("origin")
    if cors is None or not origin:
        return response
    kept = [(name, value) for name, value in response.headers if not name.lower().startswith("access-control-")]
    if allowed := _allowed_origin(cors, origin):
        kept.append(("Access-Control-Allow-Origin", allowed))
        if cors.expose_headers:
            kept.append(("Access-Control-Expose-Headers", ",".join(name.lower() for name in cors.expose_headers)))
    return HttpResponse(response.status, kept, response.body)


def _allowed_origin(cors: Cors, origin: str) -> str | None:
    if "*" in cors.allow_origins:
        return "*"
    return origin if origin.lower() in {allowed.lower() for allowed in cors.allow_origins} else None


def build_event(
    match: RouteMatch, request: HttpRequest, *, request_id: str, authorizer: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends the route's function. `now` must be timezone-aware."""
    headers: dict[str, str] = {}
    for name, value in request.headers:
        headers[name.lower()] = f"{headers[name.lower()]},{value}" if name.lower() in headers else value
    cookies = [cookie.strip() for cookie in headers.pop("cookie", "").split(";") if cookie.strip()]  # a list apart
    host, path = headers.get("host", "localhost"), unquote(request.raw_path)
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "http": {
            "method": request.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S %z"),
        "timeEpoch": int(now.timestamp() * 1000),
        **({"authorizer": authorizer} if authorizer is not None else {}),
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.key,
        "rawPath": path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": context,
    }
    if cookies:
        event["cookies"] = cookies
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value  # repeats joined, as format 2.0 does
    if query:
        event["queryStringParameters"] = query
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    try:
        event |= (
            {"body": request.body.decode(), "isBase64Encoded": False} if request.body else {"isBase64Encoded": False}
        )
    except UnicodeDecodeError:
        event |= {"body": base64.b64encode(request.body).decode("ascii"), "isBase64Encoded": True}
    return event


def http_response_from_lambda(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a function's return value (payload format 2.0). Raises MalformedResponse.

    Format 2.0 lets a function return just the body: API Gateway then sends it as JSON with status 200.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        return json_response(HTTPStatus.OK, result)
    status, headers, body = result["statusCode"], result.get("headers") or {}, result.get("body") or ""
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode must be an HTTP status, got {status!r}")
    if not isinstance(headers, dict) or not isinstance(body, str):
        raise MalformedResponse("headers must be an object and body a string")
    try:
        data = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode()
    except ValueError as error:
        raise MalformedResponse(f"isBase64Encoded is true but the body is not base64: {error}") from None
    kept = [(str(name), str(value)) for name, value in headers.items() if str(name).lower() not in _HOP_BY_HOP_HEADERS]
    return HttpResponse(status, [*kept, *(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ())], data)
