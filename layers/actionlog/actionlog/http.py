"""The one-operation HTTP adapter: each API function declares its operation here, once, and API Gateway routes.

A function under `functions/` serves the routes `template.yaml` gives it, so it needs no router of its own. It
declares what its operation is, and its handler's signature says what it reads:

    @operation(access=Access.OWNER, status=HTTPStatus.CREATED, response=LogActionResponse, idempotency_key=True)
    def log_action(request: Request[UserPath, None, ActionIn]) -> Logged: ...

    lambda_handler = log_action

`Request[path, query, body]` names the shapes of the path parameters, the query and the body (None: none); with
Access.OWNER the path shape names the owner's field (`OWNER`). The adapter does the rest, the same way for every
operation and, through the same functions, for the Serverpod endpoints (actionlog.serverpod):

1. admission (`admit`): a body of at most MAX_BODY_BYTES, UTF-8, read as JSON whatever its Content-Type;
2. authorisation, before validation, as API Gateway's authorizer would (401/403 win over a bad body);
3. strict validation of path, query, Idempotency-Key and body with pydantic-core (400 for a malformed path, query,
   header or JSON text; 422 for JSON that breaks the body's schema; never coerced);
4. the call (`attempt`): Redis being unavailable is answered with the operation's fallback, or a 503;
5. the answer encoded once, from the declared response shape; errors mapped to statuses in one place (`errors.py`
   gives each its status), JSON bodies with a `message`, every 503 with its Retry-After;
6. the request id as the logs' correlation id, and the invocation's metrics flushed as one EMF line.

The same declarations are read by `dev/openapi.py` (the OpenAPI document) and the tests' matrices.
"""

from __future__ import annotations

import base64
import json
import re
import typing
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic_core import ValidationError

from actionlog.actions import Logged, WriteKey
from actionlog.auth import ADMIN_SCOPE, Access, Caller, authorize
from actionlog.errors import (
    ActionlogError,
    BadRequest,
    ErrorBody,
    InvalidRequest,
    PayloadTooLarge,
    RateLimited,
    StoreUnavailable,
)
from actionlog.models import MAX_BODY_BYTES
from actionlog.observability import begin_invocation, flushing_metrics, logger
from actionlog.ratelimit import READS, WRITES, RateLimit
from actionlog.redis_client import report_failure
from actionlog.schema import Encoded, Shape
from actionlog.settings import get_settings

if TYPE_CHECKING:
    from actionlog.documented import Documented

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
JSON_HEADERS = {"Content-Type": "application/json"}


class Answer(NamedTuple):
    """A response: its status, its body (a shape, a shape's encoded JSON, or any JSON-able value), extra headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = {}


class Fallback[R](NamedTuple):
    """What an endpoint answers instead of a 503 error body when Redis is unavailable."""

    status: HTTPStatus
    model: Any  # documents the answer: a shape, or another type (a Serverpod method's list)
    answer: Callable[[Any, StoreUnavailable], R]  # from what the call was given (a Request, a method's arguments)
    description: str


class Request[P = None, Q = None, B = None]:
    """A validated request, as the operation's handler receives it."""

    __slots__ = ("body", "idempotency", "path", "query", "rate")

    def __init__(self, path: P, query: Q, body: B, idempotency: WriteKey | None, rate: RateLimit | None) -> None:
        self.path = path
        self.query = query
        self.body = body
        self.idempotency = idempotency  # the Idempotency-Key, for the operation and with the body as sent
        self.rate = rate  # the caller's rate limit for this request, None when it has none


class Admitted(NamedTuple):
    """A request's body text and its caller: what both adapters read before anything else."""

    text: str
    caller: Caller | None


def admit(event: Mapping[str, Any]) -> Admitted:
    return Admitted(body_text(event), Caller.from_event(event))


def rate_limit(access: Access, caller: Caller | None, subject: str | None, kind: str) -> RateLimit | None:
    """The rate limit a request counts against: the user it is about (Access.OWNER, `subject`), or the backend client
    on the shared cache (Access.CACHE: the token's client_id, else its sub). Public and admin routes, and callers
    with the admin scope, are not limited."""
    if caller is not None and ADMIN_SCOPE in caller.scopes:
        return None
    settings = get_settings()
    if access is Access.OWNER and subject is not None:
        return RateLimit.for_user(subject, kind, settings)
    if access is Access.CACHE and caller is not None:
        client = caller.claims.get("client_id") or caller.claims.get("sub")
        return RateLimit.for_client(str(client), kind, settings) if client is not None else None
    return None


def with_rate_headers(answer: Answer, rate: RateLimit | None) -> Answer:
    """Every answer to a counted request says where the caller stands (RateLimit-Limit, -Remaining, -Reset)."""
    if rate is None or rate.used is None:
        return answer
    return Answer(answer.status, answer.body, {**answer.headers, **rate.headers()})


def attempt[T](call: Callable[[T], Any], given: T, fallback: Fallback[Any] | None) -> Any:
    """`call(given)`; when Redis is unavailable, the fallback's answer (the failure reported), else the error."""
    try:
        return call(given)
    except StoreUnavailable as error:
        if fallback is None:
            raise
        report_failure(error)
        return Answer(fallback.status, fallback.answer(given, error))


class HttpEndpoint:
    """What every HTTP function does around its answer: log context, error mapping, metrics, the response."""

    def answer(self, event: Mapping[str, Any]) -> Answer:
        raise NotImplementedError

    @flushing_metrics
    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """The Lambda entry point (API Gateway HTTP API, payload format 2.0)."""
        begin_invocation(context, event, correlation_id=(event.get("requestContext") or {}).get("requestId"))
        try:
            answer = self.answer(event)
        except ActionlogError as error:
            answer = answer_error(error)
        except Exception:
            logger.exception("Unexpected error")
            answer = Answer(HTTPStatus.INTERNAL_SERVER_ERROR, ErrorBody(message="internal error"))
        return to_lambda_response(answer)


type Result = Shape | Encoded[Any] | Logged | Answer


class HttpOperation(HttpEndpoint):
    """One operation, as its function declares it: everything the adapter, the OpenAPI document and the tests need."""

    def __init__(
        self,
        handle: Callable[[Request[Any, Any, Any]], Result],
        *,
        access: Access,
        status: HTTPStatus,
        response: type[Shape],
        errors: Mapping[HTTPStatus, str],
        unavailable: Fallback[Any] | None,
        idempotency_key: bool,
    ) -> None:
        self.handle = handle
        self.name = handle.__name__
        self.access = access
        self.path, self.query, self.body = _request_shapes(handle)
        self.owner: str | None = getattr(self.path, "OWNER", None) if access is Access.OWNER else None
        if access is Access.OWNER and self.owner is None:
            raise TypeError(f"{self.name}: an Access.OWNER operation's path shape names its OWNER field")
        self.status = status
        self.response = response
        self.errors = errors
        self.unavailable = unavailable
        self.idempotency_key = idempotency_key
        self.__doc__ = handle.__doc__

    def responses(self) -> dict[HTTPStatus, Documented]:
        """Every response the operation can give: its success, its fallback, the adapter's errors and its own."""
        from actionlog.documented import (  # documentation only
            RATE_LIMIT_HEADERS,
            Documented,
            error_responses,
            limited,
            retry_after,
            sentence,
        )

        success_headers: tuple[str, ...] = ("Idempotent-Replayed",) if self.idempotency_key else ()
        success_headers += RATE_LIMIT_HEADERS if limited({self.access}) else ()
        responses = {self.status: Documented(self.response.__doc__ or "", (self.response,), success_headers)}
        unprocessable = None
        if self.body is not None:
            unprocessable = "The body is JSON but breaks the schema (see `errors`)"
            if self.idempotency_key:
                unprocessable += ", or the Idempotency-Key was used with another body"
        responses |= error_responses(
            {self.access},
            malformed="Malformed path, query, header or JSON body",
            forbidden="The token's user or scopes may not use this route",
            unprocessable=unprocessable,
            unavailable=self.unavailable is None,
            own=self.errors,
        )
        if self.unavailable is not None:
            fallback = self.unavailable
            known = responses.get(fallback.status)
            models = (*known.models, fallback.model) if known else (fallback.model,)
            description = f"{known.description}; {fallback.description}" if known else sentence(fallback.description)
            responses[fallback.status] = Documented(description, models, retry_after(fallback.status))
        return dict(sorted(responses.items()))

    def answer(self, event: Mapping[str, Any]) -> Answer:
        request = self.request(event)
        try:
            result = attempt(self.handle, request, self.unavailable)
        except ActionlogError as error:
            return with_rate_headers(answer_error(error), request.rate)
        if isinstance(result, Answer):
            return with_rate_headers(result, request.rate)
        if isinstance(result, Logged):
            replayed = {} if request.idempotency is None else {"Idempotent-Replayed": str(result.replayed).lower()}
            result, headers = result.response, replayed
        else:
            headers = {}
        if isinstance(result, Encoded) and result.shape is not self.response:
            raise TypeError(f"{self.name} answered {result.shape.__name__}, not its {self.response.__name__}")
        return with_rate_headers(Answer(self.status, result, headers), request.rate)

    def request(self, event: Mapping[str, Any]) -> Request[Any, Any, Any]:
        """Admit, authorise and validate: everything that happens before the handler, and before Redis."""
        text, caller = admit(event)
        path_parameters = event.get("pathParameters") or {}
        owner = path_parameters.get(self.owner) if self.owner is not None else None
        authorize(self.access, caller, user_id=owner, settings=get_settings())
        key = _idempotency_key(event) if self.idempotency_key else None
        path = None if self.path is None else _validated(self.path, path_parameters, "path")
        if path is not None:
            path.check()
        query_parameters = event.get("queryStringParameters") or {}
        query = None if self.query is None else _validated(self.query, query_parameters, "query")
        body = None if self.body is None else validated_body(self.body, text)
        method = ((event.get("requestContext") or {}).get("http") or {}).get("method")
        rate = rate_limit(self.access, caller, owner, READS if method == "GET" else WRITES)
        return Request(path, query, body, None if key is None else WriteKey(self.name, key, text), rate)


def operation(
    *,
    access: Access,
    response: type[Shape],
    status: HTTPStatus = HTTPStatus.OK,
    errors: Mapping[HTTPStatus, str] | None = None,
    unavailable: Fallback[Any] | None = None,
    idempotency_key: bool = False,
) -> Callable[[Callable[[Request[Any, Any, Any]], Result]], HttpOperation]:
    """Declare a function's operation (see the module's docstring); the result is its Lambda handler.

    `errors`: the error statuses the handler itself raises, and what they mean (the adapter adds its own: 400, 401,
    403, 413, 422 and 503, each where the declaration makes it possible). `unavailable`: the answer when Redis is
    down, instead of 503. `idempotency_key`: the handler logs with `request.idempotency` (actions.log_actions), and
    the answer says whether it was replayed. On a limited route the handler hands `request.rate` to its operation,
    which counts the request in its own round trip (and raises RateLimited over the limit).
    """

    def declare(handle: Callable[[Request[Any, Any, Any]], Result]) -> HttpOperation:
        return HttpOperation(
            handle,
            access=access,
            status=status,
            response=response,
            errors=errors or {},
            unavailable=unavailable,
            idempotency_key=idempotency_key,
        )

    return declare


def _request_shapes(handle: Callable[..., Any]) -> tuple[Any, Any, Any]:
    """The path, query and body shapes a handler's `Request[P, Q, B]` parameter names (None where it names none)."""
    hints = typing.get_type_hints(handle)
    [request] = [hint for name, hint in hints.items() if name != "return"]
    shapes: list[Any] = [None if shape is type(None) else shape for shape in typing.get_args(request)]
    shapes += [None] * (3 - len(shapes))
    return shapes[0], shapes[1], shapes[2]


# Admission and validation.


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, whatever the case of its name: API Gateway lower-cases names, `sam local` keeps a client's."""
    headers = event.get("headers") or {}
    lower = name.lower()
    value = headers.get(lower)
    if value is None and not all(map(str.islower, headers)):
        value = next((value for key, value in headers.items() if key.lower() == lower), None)
    return value if value is None else str(value)


def _idempotency_key(event: Mapping[str, Any]) -> str | None:
    key = header(event, IDEMPOTENCY_KEY_HEADER)
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise BadRequest("Idempotency-Key must be 1 to 128 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'")
    return key


def body_text(event: Mapping[str, Any]) -> str:
    """The request body as text: at most MAX_BODY_BYTES, UTF-8, base64-decoded when API Gateway encoded it."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        if len(body) * 3 // 4 > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"request body must be at most {MAX_BODY_BYTES} bytes")
        try:
            return base64.b64decode(body, validate=True).decode()
        except ValueError:
            raise BadRequest("request body must be UTF-8 encoded JSON") from None
    if len(body) > MAX_BODY_BYTES // 4 and len(body.encode()) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body must be at most {MAX_BODY_BYTES} bytes")
    return str(body)


def validated_body[M: Shape](
    model: type[M], text: str, *, where: str = "body", invalid: HTTPStatus = HTTPStatus.UNPROCESSABLE_ENTITY
) -> M:
    """The body as `model`, strictly: 400 when it is not JSON Actionlog stores, `invalid` when it breaks the schema."""
    if not text:
        raise InvalidRequest(invalid, where, [{"loc": (), "type": "missing", "msg": "a JSON object is required"}])
    try:
        return model.validate_json(text)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        unreadable = [problem for problem in problems if problem["type"] == "json_invalid"]
        if unreadable:
            # The parser's own complaint says where in the text; a validator's (NaN, nesting) says what.
            detail = next((str(problem["msg"]) for problem in unreadable if problem["loc"]), None)
            raise BadRequest("request body is not valid JSON" + (f": {detail}" if detail else "")) from None
        raise InvalidRequest(invalid, where, problems) from None


def _validated[M: Shape](model: type[M], values: Mapping[str, Any], where: str) -> M:
    try:
        return model.validate_python(values)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False, include_context=False)
        raise InvalidRequest(HTTPStatus.BAD_REQUEST, where, problems) from None


# Responses.


def answer_error(error: ActionlogError) -> Answer:
    """The answer to an error; a Redis failure is reported (log line, metric) once, here."""
    if isinstance(error, StoreUnavailable):
        report_failure(error)
    return error_answer(error)


def error_answer(error: ActionlogError) -> Answer:
    """The answer to an error, by its status; a 5xx says no more than that, and is logged."""
    if isinstance(error, RateLimited):
        return Answer(
            error.http_status, ErrorBody(message=error.message), {"Retry-After": str(error.retry_after_seconds)}
        )
    if isinstance(error, InvalidRequest):
        return Answer(error.http_status, ErrorBody(message=error.message, errors=error.problems))
    if isinstance(error, StoreUnavailable):
        return Answer(error.http_status, ErrorBody(message="the store is unavailable, retry later"))
    if error.http_status >= 500:
        logger.error("Request failed", extra={"error": type(error).__name__, "detail": error.message})
        return Answer(error.http_status, ErrorBody(message="internal error"))
    return Answer(error.http_status, ErrorBody(message=error.message))


def to_lambda_response(answer: Answer) -> dict[str, Any]:
    """The HTTP API (payload format 2.0) response the function returns; every 503 says when to retry."""
    body = answer.body
    if isinstance(body, Encoded):
        text = body.json
    elif isinstance(body, Shape):
        text = body.to_json()
    else:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    headers = {**JSON_HEADERS, **answer.headers}
    if answer.status == HTTPStatus.SERVICE_UNAVAILABLE:
        headers.setdefault("Retry-After", str(StoreUnavailable.retry_after_seconds))
    return {"statusCode": int(answer.status), "headers": headers, "body": text, "isBase64Encoded": False}
