"""What an HTTP API in API Gateway does around a function, for the local server.

- Route selection: the most specific route wins (a literal segment beats `{param}`, which beats `{greedy+}`);
  each `{param}` is one non-empty path segment, URL-decoded.
- The payload format 2.0 event the function receives. As deployed, `rawPath` (and `requestContext.http.path`)
  arrive URL-decoded while `rawQueryString` stays as sent; Powertools routes on the decoded path.
- The JWT authorizer's context, from the bearer token decoded WITHOUT verification (see `dev.token`).
- The HTTP response API Gateway makes of the function's return value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

from dev.template import Route
from dev.token import InvalidToken, read_claims

ACCOUNT_ID = "123456789012"  # the placeholder account SAM's local tools use
API_ID = "local"
# Framing is the server's business, not the function's: it sets Content-Length itself.
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


class _Kind(IntEnum):
    """A route segment's kind; the order is API Gateway's priority among routes that match."""

    LITERAL = 0
    PARAMETER = 1
    GREEDY = 2


@dataclass(frozen=True, slots=True)
class _Segment:
    kind: _Kind
    text: str  # the literal, or the parameter's name


@dataclass(frozen=True, slots=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    """Finds the route for a request among the template's routes."""

    def __init__(self, routes: Iterable[Route]) -> None:
        patterns = [(_pattern(route.path), route) for route in routes]
        self._patterns = sorted(patterns, key=lambda item: [segment.kind for segment in item[0]])

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = raw_path.split("/")[1:]
        for pattern, route in self._patterns:
            if route.method not in (method, "ANY"):
                continue
            parameters = _match(pattern, segments)
            if parameters is not None:
                return RouteMatch(route, parameters)
        return None

    def allowed_methods(self, raw_path: str) -> list[str]:
        """The methods of the routes whose path matches; empty when no route has this path."""
        segments = raw_path.split("/")[1:]
        return sorted({route.method for pattern, route in self._patterns if _match(pattern, segments) is not None})


def _pattern(path: str) -> tuple[_Segment, ...]:
    segments = []
    for part in path.split("/")[1:]:
        if part.startswith("{") and part.endswith("+}"):
            segments.append(_Segment(_Kind.GREEDY, part[1:-2]))
        elif part.startswith("{") and part.endswith("}"):
            segments.append(_Segment(_Kind.PARAMETER, part[1:-1]))
        else:
            segments.append(_Segment(_Kind.LITERAL, part))
    return tuple(segments)


def _match(pattern: Sequence[_Segment], segments: Sequence[str]) -> dict[str, str] | None:
    """The path parameters when `segments` (still percent-encoded) match `pattern`, else None."""
    parameters: dict[str, str] = {}
    for index, segment in enumerate(pattern):
        if segment.kind is _Kind.GREEDY:
            rest = segments[index:]
            if not any(rest):
                return None
            parameters[segment.text] = "/".join(unquote(part) for part in rest)
            return parameters
        if index >= len(segments):
            return None
        # Decoded one segment at a time, so that an encoded slash (%2F) stays inside its segment.
        value = unquote(segments[index])
        if segment.kind is _Kind.LITERAL and value != segment.text:
            return None
        if segment.kind is _Kind.PARAMETER:
            if not value:
                return None
            parameters[segment.text] = value
    return parameters if len(segments) == len(pattern) else None


def jwt_authorizer(authorization: str | None, *, now: float | None = None) -> dict[str, Any] | None:
    """`requestContext.authorizer` as the JWT authorizer fills it, or None when no token was sent.

    Raises InvalidToken for a header the authorizer would refuse. The "Bearer " prefix is optional, as it is for
    API Gateway.
    """
    if authorization is None:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else authorization.strip()
    if not token:
        raise InvalidToken("the Authorization header holds no token")
    claims = read_claims(token, now=now)
    scope = claims.get("scope")
    scopes = scope.split() if isinstance(scope, str) and scope.strip() else None
    return {"jwt": {"claims": claims, "scopes": scopes}}


def build_event(
    match: RouteMatch,
    request: HttpRequest,
    *,
    request_id: str,
    authorizer: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends the route's function. `now` must be timezone-aware."""
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    # API Gateway moves cookies out of the headers into a list of their own.
    cookie_header = headers.pop("cookie", "")
    cookies = [cookie.strip() for cookie in cookie_header.split(";") if cookie.strip()]
    host = headers.get("host", "localhost")
    path = unquote(request.raw_path)

    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
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
    }
    if authorizer is not None:
        request_context["authorizer"] = authorizer

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.key,
        "rawPath": path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": request_context,
    }
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    event.update(_body(request.body))
    return event


def _query_parameters(raw_query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        # API Gateway's format 2.0 joins a repeated parameter's values with commas.
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _body(body: bytes) -> dict[str, Any]:
    if not body:
        return {"isBase64Encoded": False}
    try:
        return {"body": body.decode("utf-8"), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}


def proxy_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a function's return value (payload format 2.0).

    Raises MalformedResponse where API Gateway would answer 500 instead.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        # Format 2.0 lets a function return just the body: API Gateway sends it as JSON with status 200.
        return json_response(HTTPStatus.OK, result)
    status, headers, body = result["statusCode"], result.get("headers") or {}, result.get("body") or ""
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode must be an HTTP status, got {status!r}")
    if not isinstance(headers, dict) or not isinstance(body, str):
        raise MalformedResponse("headers must be an object and body a string")
    if result.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except ValueError as error:
            raise MalformedResponse(f"isBase64Encoded is true but the body is not base64: {error}") from None
    else:
        data = body.encode()
    response_headers = [
        (str(name), str(value)) for name, value in headers.items() if str(name).lower() not in _HOP_BY_HOP_HEADERS
    ]
    response_headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ()]
    return HttpResponse(status, response_headers, data)
