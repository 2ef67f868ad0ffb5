"""The one-operation HTTP adapter: each API function declares its operation here, once, and API Gateway routes.

A function under `functions/` serves the routes `template.yaml` gives it, so it needs no router of its own. It
declares what its operation is:

    @operation(access=Access.OWNER, path=UserPath, body=ActionIn, status=HTTPStatus.CREATED,
               response=LogActionResponse, idempotency_key=True)
    def log_action(request: Request[UserPath, None, ActionIn]) -> Answer: ...

    lambda_handler = log_action

and the adapter does the rest, the same way for every operation:

1. admission: a body of at most 1 MiB, UTF-8, read as JSON whatever its Content-Type (curl -d says form data);
2. authorisation, before validation, as API Gateway's authorizer would (401/403 win over a bad body);
3. strict validation of path, query, Idempotency-Key and body with pydantic (400 for a malformed path, query,
   header or JSON text; 422 for JSON that breaks the body's schema; never coerced);
4. the call, and the response encoded with pydantic-core;
5. errors mapped to statuses in one place (`errors.py` gives each its status), JSON bodies with a `message`; a
   Redis failure recorded once (`redis_client.report_failure`) and answered with the operation's fallback or a
   503, and every 503 given its Retry-After here;
6. the request id as the logs' correlation id, and the invocation's metrics flushed as one EMF line.

The same declarations are read by `dev/openapi.py` (the OpenAPI document), the tests' matrices and the README.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Annotated, Any, NamedTuple

from pydantic_core import ValidationError

from actionlog import actions
from actionlog.actions import WriteOnce
from actionlog.auth import Access, Caller, authorize
from actionlog.errors import ActionlogError, BadRequest, PayloadTooLarge, StoreUnavailable, Unprocessable
from actionlog.observability import begin_invocation, flushing_metrics, logger
from actionlog.redis_client import RedisClient, report_failure
from actionlog.schema import Doc, Shape, field
from actionlog.settings import get_settings

MAX_BODY_BYTES = 1024 * 1024
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
JSON_HEADERS = {"Content-Type": "application/json"}


class Json(str):
    """Text that already is the JSON of a response body (e.g. stored entries, written around without decoding)."""


class Answer(NamedTuple):
    """A response: its status, its body (a shape, JSON text, or any JSON-able value) and extra headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = {}


class ValidationProblem(Shape):
    """One problem with the request; never echoes the rejected input."""

    location: Annotated[list[str], Doc('e.g. ["body", "action"]')]
    type: Annotated[str, Doc("pydantic-core's error type, e.g. string_too_long")]
    message: str


class ErrorBody(Shape):
    """Every error Actionlog answers."""

    message: Annotated[str, Doc("What went wrong, for a human")]
    errors: list[ValidationProblem] | None = field(default=None, omit_if_none=True)


class Fallback[R: Shape](NamedTuple):
    """What an operation answers instead of a 503 error body when Redis is unavailable."""

    status: HTTPStatus
    model: type[R]  # documents the answer
    answer: Callable[[Request[Any, Any, Any], StoreUnavailable], R]
    description: str


class Documented(NamedTuple):
    """A response an operation can give, as the OpenAPI document describes it."""

    description: str
    models: tuple[Any, ...]  # its body is one of these: shapes, or other types (a Serverpod method's `bool`)
    headers: tuple[str, ...] = ()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def retry_after(status: HTTPStatus) -> tuple[str, ...]:
    """The headers a response of `status` carries: every 503 says when to retry (see `proxy_response`)."""
    return ("Retry-After",) if status == HTTPStatus.SERVICE_UNAVAILABLE else ()


class Request[P = None, Q = None, B = None]:
    """A validated request, as the operation's handler receives it."""

    __slots__ = ("body", "idempotency_key", "operation", "path", "query", "text")

    def __init__(
        self,
        operation: HttpOperation,
        text: str,
        path: P,
        query: Q,
        body: B,
        idempotency_key: str | None,
    ) -> None:
        self.operation = operation
        self.text = text  # the body as sent, decoded
        self.path = path
        self.query = query
        self.body = body
        self.idempotency_key = idempotency_key

    def log_actions(self, user_id: str, entries: Sequence[bytes], response: Json, *, redis: RedisClient) -> Answer:
        """Log `entries` through the one write path and answer `response`, once per Idempotency-Key when one was sent.

        A key used before (within 24 hours, for the same user and operation) logs nothing and answers the first
        response again, flagged `Idempotent-Replayed: true`; the same key with another body is refused (422) rather
        than silently ignored.
        """
        max_entries = get_settings().actions_max_entries
        status = self.operation.status
        if self.idempotency_key is None:
            actions.log_actions(user_id, entries, max_entries=max_entries, redis=redis)
            return Answer(status, response)
        fingerprint = hashlib.sha256(self.text.encode()).hexdigest()
        once = WriteOnce(
            write_id=f"http:{self.operation.name}:{self.idempotency_key}",
            receipt=f'{{"request":"{fingerprint}","response":{response}}}',
        )
        logged = actions.log_actions(user_id, entries, max_entries=max_entries, redis=redis, once=once)
        first = json.loads(logged.receipt or once.receipt)
        if first["request"] != fingerprint:
            raise Unprocessable("this Idempotency-Key was already used with a different request body")
        replayed = {"Idempotent-Replayed": str(logged.replayed).lower()}
        return Answer(status, first["response"] if logged.replayed else response, replayed)


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
        except StoreUnavailable as error:
            report_failure(error)
            answer = error_answer(error)
        except ActionlogError as error:
            answer = error_answer(error)
        except Exception:
            logger.exception("Unexpected error")
            answer = Answer(HTTPStatus.INTERNAL_SERVER_ERROR, ErrorBody(message="internal error"))
        return proxy_response(answer)


type Result = Shape | Json | Answer


class HttpOperation(HttpEndpoint):
    """One operation, as its function declares it: everything the adapter, the OpenAPI document and the tests need."""

    def __init__(
        self,
        handle: Callable[[Request[Any, Any, Any]], Result],
        *,
        access: Access,
        path: type[Shape] | None,
        query: type[Shape] | None,
        body: type[Shape] | None,
        status: HTTPStatus,
        response: type[Shape],
        errors: Mapping[HTTPStatus, str],
        unavailable: Fallback[Any] | None,
        idempotency_key: bool,
    ) -> None:
        self.handle = handle
        self.name = handle.__name__
        self.access = access
        self.path = path
        self.query = query
        self.body = body
        self.status = status
        self.response = response
        self.errors = errors
        self.unavailable = unavailable
        self.idempotency_key = idempotency_key
        self.__doc__ = handle.__doc__

    def responses(self) -> dict[HTTPStatus, Documented]:
        """Every response the operation can give: its success, its fallback, the adapter's errors and its own."""
        success_headers = ("Idempotent-Replayed",) if self.idempotency_key else ()
        responses = {self.status: Documented(self.response.__doc__ or "", (self.response,), success_headers)}
        errors = {HTTPStatus.BAD_REQUEST: "Malformed path, query, header or JSON body"}
        if self.access is not Access.PUBLIC:
            errors[HTTPStatus.UNAUTHORIZED] = "No token, or one the JWT authorizer refuses"
        if self.access not in (Access.PUBLIC, Access.AUTHENTICATED):
            errors[HTTPStatus.FORBIDDEN] = "The token's user or scopes may not use this route"
        errors[HTTPStatus.REQUEST_ENTITY_TOO_LARGE] = f"Request body over {MAX_BODY_BYTES // 1024 // 1024} MiB"
        if self.body is not None:
            errors[HTTPStatus.UNPROCESSABLE_ENTITY] = "The body is JSON but breaks the schema (see `errors`)"
            if self.idempotency_key:
                errors[HTTPStatus.UNPROCESSABLE_ENTITY] += ", or the Idempotency-Key was used with another body"
        if self.unavailable is None:
            errors[HTTPStatus.SERVICE_UNAVAILABLE] = "Redis is unavailable; retry after Retry-After seconds"
        for status, meaning in self.errors.items():
            errors[status] = f"{errors[status]}, or {meaning}" if status in errors else _sentence(meaning)
        for status, meaning in errors.items():
            responses[status] = Documented(meaning, (ErrorBody,), retry_after(status))
        if self.unavailable is not None:
            fallback = self.unavailable
            known = responses.get(fallback.status)
            models = (*known.models, fallback.model) if known else (fallback.model,)
            description = f"{known.description}; {fallback.description}" if known else _sentence(fallback.description)
            responses[fallback.status] = Documented(description, models, retry_after(fallback.status))
        return dict(sorted(responses.items()))

    def answer(self, event: Mapping[str, Any]) -> Answer:
        request = self.request(event)
        try:
            result = self.handle(request)
        except StoreUnavailable as error:
            if self.unavailable is None:
                raise
            report_failure(error)
            return Answer(self.unavailable.status, self.unavailable.answer(request, error))
        return result if isinstance(result, Answer) else Answer(self.status, result)

    def request(self, event: Mapping[str, Any]) -> Request[Any, Any, Any]:
        """Admit, authorise and validate: everything that happens before the handler, and before Redis."""
        text = body_text(event)
        caller = Caller.from_event(event)
        path_parameters = event.get("pathParameters") or {}
        authorize(self.access, caller, user_id=path_parameters.get("userId"), settings=get_settings())
        key = self._idempotency_key(event) if self.idempotency_key else None
        path = None if self.path is None else _validated(self.path, path_parameters, "path")
        query_parameters = event.get("queryStringParameters") or {}
        query = None if self.query is None else _validated(self.query, query_parameters, "query")
        body = None if self.body is None else validated_body(self.body, text)
        return Request(self, text, path, query, body, key)

    @staticmethod
    def _idempotency_key(event: Mapping[str, Any]) -> str | None:
        key = (event.get("headers") or {}).get(IDEMPOTENCY_KEY_HEADER.lower())
        if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
            raise BadRequest("Idempotency-Key must be 1 to 128 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'")
        return key


def operation(
    *,
    access: Access,
    response: type[Shape],
    path: type[Shape] | None = None,
    query: type[Shape] | None = None,
    body: type[Shape] | None = None,
    status: HTTPStatus = HTTPStatus.OK,
    errors: Mapping[HTTPStatus, str] | None = None,
    unavailable: Fallback[Any] | None = None,
    idempotency_key: bool = False,
) -> Callable[[Callable[[Request[Any, Any, Any]], Result]], HttpOperation]:
    """Declare a function's operation (see the module's docstring); the result is its Lambda handler.

    `errors`: the error statuses the handler itself raises, and what they mean (the adapter adds its own: 400, 401,
    403, 413, 422 and 503, each where the declaration makes it possible). `unavailable`: the answer when Redis is
    down, instead of 503. `idempotency_key`: the handler logs through `Request.log_actions`, which honours it.
    """

    def declare(handle: Callable[[Request[Any, Any, Any]], Result]) -> HttpOperation:
        return HttpOperation(
            handle,
            access=access,
            path=path,
            query=query,
            body=body,
            status=status,
            response=response,
            errors=errors or {},
            unavailable=unavailable,
            idempotency_key=idempotency_key,
        )

    return declare


# Admission and validation.


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


class InvalidRequest(ActionlogError):
    """A request that breaks its schema: pydantic's problems, by location, without the rejected input."""

    def __init__(self, status: HTTPStatus, where: str, problems: Sequence[Any]) -> None:
        self.problems = [
            ValidationProblem(
                location=[where, *map(str, problem["loc"])], type=problem["type"], message=str(problem["msg"])
            )
            for problem in problems
        ]
        super().__init__("; ".join(f"{'.'.join(problem.location)}: {problem.message}" for problem in self.problems))
        self.status = status


# Responses.


def error_answer(error: ActionlogError) -> Answer:
    """The answer to an error, by its status; a 5xx says no more than that, and is logged."""
    if isinstance(error, InvalidRequest):
        return Answer(error.status, ErrorBody(message=error.message, errors=error.problems))
    if isinstance(error, StoreUnavailable):
        return Answer(error.http_status, ErrorBody(message="the store is unavailable, retry later"))
    if error.http_status >= 500:
        logger.error("Request failed", extra={"error": type(error).__name__, "detail": error.message})
        return Answer(error.http_status, ErrorBody(message="internal error"))
    return Answer(error.http_status, ErrorBody(message=error.message))


def proxy_response(answer: Answer) -> dict[str, Any]:
    """The HTTP API (payload format 2.0) response; every 503 says when to retry."""
    body = answer.body
    if isinstance(body, Json):
        text = str(body)
    elif isinstance(body, Shape):
        text = body.to_json()
    else:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    headers = {**JSON_HEADERS, **answer.headers}
    if answer.status == HTTPStatus.SERVICE_UNAVAILABLE:
        headers.setdefault("Retry-After", str(StoreUnavailable.retry_after_seconds))
    return {"statusCode": int(answer.status), "headers": headers, "body": text, "isBase64Encoded": False}
