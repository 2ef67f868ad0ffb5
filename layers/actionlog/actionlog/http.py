"""The HTTP layer every API handler shares.

A handler builds one `ActionlogApi`, registers its single route with Powertools' decorators and exports
`app.lambda_handler`. The layer supplies, for every route alike: validation of path, query and body
(Powertools + pydantic), the authorisation rules, a request-size limit, JSON errors with a `message`,
503 with `Retry-After` when Redis is unavailable, and the request id as the logs' correlation id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, NoReturn

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from actionlog import actions
from actionlog.auth import Access, Caller, authorize
from actionlog.errors import ActionlogError, BadRequest, PayloadTooLarge, StoreUnavailable, Unprocessable
from actionlog.models import ActionEntry, encode_json
from actionlog.observability import count, flushing_metrics, logger
from actionlog.redis_client import RedisClient, report_failure
from actionlog.settings import get_settings

MAX_BODY_BYTES = 1024 * 1024
# pydantic-core stops serialising at about 250 levels; no Actionlog document needs more than a few.
MAX_JSON_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
IDEMPOTENCY_KEY_HEADER = "idempotency-key"
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,128}")

type UnavailableResponse = Callable[[StoreUnavailable], Response[Any]]


class ActionlogApi(APIGatewayHttpResolver):
    """An HTTP API (payload 2.0) resolver for one Actionlog route."""

    def __init__(self, access: Access, *, on_unavailable: UnavailableResponse | None = None) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=parse_json)
        self.access = access
        self._on_unavailable = on_unavailable or _unavailable
        self.exception_handler(RequestValidationError)(_invalid_request)
        self.exception_handler(StoreUnavailable)(self._store_unavailable)
        self.exception_handler(ActionlogError)(_error_response)
        self.exception_handler(Exception)(_unexpected_error)
        # API Gateway routed the request here, so a path the resolver cannot match carries a path parameter
        # with characters no route accepts (a newline, say): the caller's mistake, not a missing route.
        self.not_found(_malformed_path)
        self.lambda_handler = logger.inject_lambda_context(
            flushing_metrics(self._handle), correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
        )

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            self._admit(event)
        except ActionlogError as error:
            return _proxy_response(_error_response(error))
        return self.resolve(_as_json_request(event), context)

    def _admit(self, event: Mapping[str, Any]) -> None:
        """What must hold before anything is parsed: a body within limits and an authorised caller."""
        if _body_size(event) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"request body must be at most {MAX_BODY_BYTES} bytes")
        if event.get("isBase64Encoded") and event.get("body"):
            try:
                base64.b64decode(event["body"], validate=True).decode()
            except ValueError:
                raise BadRequest("request body must be UTF-8 encoded JSON") from None
        path_parameters = event.get("pathParameters") or {}
        authorize(
            self.access,
            Caller.from_event(event),
            user_id=path_parameters.get("userId"),
            settings=get_settings(),
        )

    def authorize(self, access: Access, *, user_id: str | None = None) -> None:
        """Apply a rule that depends on the parsed request (e.g. a user id from the body)."""
        authorize(access, Caller.from_event(self.current_event.raw_event), user_id=user_id, settings=get_settings())

    def log_actions(
        self, operation: str, user_id: str, entries: Sequence[ActionEntry], response: BaseModel, *, redis: RedisClient
    ) -> Response[Any]:
        """Log `entries` and answer 201 `response`; with an Idempotency-Key header, at most once per key.

        A repeated key (within 24 hours, for the same user and operation) logs nothing and answers the first
        response again; the same key with a different body is refused rather than silently ignored.
        """
        max_entries = get_settings().actions_max_entries
        key = self._idempotency_key()
        if key is None:
            actions.log_actions(user_id, entries, max_entries=max_entries, redis=redis)
            count("ActionsLogged", len(entries))
            return json_response(HTTPStatus.CREATED, response)
        fingerprint = hashlib.sha256((self.current_event.decoded_body or "").encode()).hexdigest()
        receipt = encode_json({"request": fingerprint, "response": response.model_dump(mode="json")})
        write = actions.log_actions_once(
            user_id,
            entries,
            write_id=f"http:{operation}:{key}",
            receipt=receipt,
            max_entries=max_entries,
            redis=redis,
        )
        first = json.loads(write.receipt)
        if first["request"] != fingerprint:
            raise Unprocessable("this Idempotency-Key was already used with a different request body")
        if write.first:
            count("ActionsLogged", len(entries))
        return json_response(
            HTTPStatus.CREATED, first["response"], {"Idempotent-Replayed": str(not write.first).lower()}
        )

    def _idempotency_key(self) -> str | None:
        key = self.current_event.headers.get(IDEMPOTENCY_KEY_HEADER)
        if key is None:
            return None
        if not _IDEMPOTENCY_KEY.fullmatch(key):
            raise BadRequest("Idempotency-Key must be 1 to 128 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'")
        return key

    def note_unavailable(self, error: StoreUnavailable) -> None:
        """What every Redis failure costs, answered with a 503 or a degraded result: a log line, a metric."""
        report_failure(error)
        count("RedisErrors")

    def _store_unavailable(self, error: StoreUnavailable) -> Response[Any]:
        self.note_unavailable(error)
        return self._on_unavailable(error)


def parse_json(text: str) -> Any:
    """A request body as JSON (RFC 8259), or json.JSONDecodeError, which the resolver answers with 400.

    Python's json module would also take NaN, Infinity and numbers that overflow to infinity, which are stored as
    text no JSON parser reads back; and it raises RecursionError for a body nested deeper than the interpreter's
    limit and ValueError for an integer of over 4300 digits. All of those are the caller's invalid JSON, not a 500.
    So are documents nested deeper than MAX_JSON_DEPTH and strings with lone surrogates, which parse but cannot be
    stored or serialised again.
    """
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_finite_float)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        raise json.JSONDecodeError(f"not JSON: {type(error).__name__}", text, 0) from None
    # The walk is needed only when the text could hold what it looks for: deep nesting, or a \\uD800-style
    # escape that decodes to a lone surrogate (valid JSON, but no UTF-8 encoder can store it).
    might_be_deep = text.count("[") + text.count("{") > MAX_JSON_DEPTH
    if (might_be_deep or _SURROGATE_ESCAPE.search(text)) and not _storable(value):
        raise json.JSONDecodeError(
            f"not storable JSON: nested deeper than {MAX_JSON_DEPTH} levels, or a lone UTF-16 surrogate", text, 0
        )
    return value


def _storable(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return False
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("the number is too large for a double")
    return number


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=dict(headers or {}),
    )


def _unavailable(error: StoreUnavailable) -> Response[Any]:
    return json_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        {"message": "the store is unavailable, retry later"},
        retry_after(error),
    )


def retry_after(error: StoreUnavailable) -> dict[str, str]:
    """The header every 503 carries."""
    return {"Retry-After": str(error.retry_after_seconds)}


def _error_response(error: ActionlogError) -> Response[Any]:
    if error.http_status >= 500:
        logger.error("Request failed", extra={"error": type(error).__name__, "detail": error.message})
        return json_response(error.http_status, {"message": "internal error"})
    return json_response(error.http_status, {"message": error.message})


def _invalid_request(error: RequestValidationError) -> Response[Any]:
    problems = [_describe(problem) for problem in error.errors()]
    if any(problem["type"] == "json_invalid" for problem in problems):
        return json_response(HTTPStatus.BAD_REQUEST, {"message": "request body is not valid JSON"})
    # A malformed path or query parameter is a bad request; a body that parses but breaks the schema is 422.
    status = (
        HTTPStatus.UNPROCESSABLE_ENTITY
        if all(problem["location"] and problem["location"][0] == "body" for problem in problems)
        else HTTPStatus.BAD_REQUEST
    )
    message = "; ".join(f"{_where(problem['location'])}: {problem['message']}" for problem in problems)
    return json_response(status, {"message": message, "errors": problems})


def _describe(problem: Mapping[str, Any]) -> dict[str, Any]:
    # Only location, type and pydantic's message: never the rejected input, which may be a secret.
    return {
        "location": [str(part) for part in problem.get("loc", ())],
        "type": problem.get("type", "invalid"),
        "message": str(problem.get("msg", "is invalid")),
    }


def _where(location: list[str]) -> str:
    return ".".join(location) if location else "request"


def _malformed_path(error: Exception) -> Response[Any]:
    return json_response(HTTPStatus.BAD_REQUEST, {"message": "the request path is malformed"})


def _unexpected_error(error: Exception) -> Response[Any]:
    logger.error("Unexpected error", exc_info=error)
    return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "internal error"})


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode()) if len(body) * 4 > MAX_BODY_BYTES else len(body)


def _as_json_request(event: dict[str, Any]) -> dict[str, Any]:
    """Every Actionlog body is JSON, whatever Content-Type a client sent (curl -d says form data)."""
    headers = event.get("headers") or {}
    if not event.get("body") or headers.get("content-type", "").startswith(content_types.APPLICATION_JSON):
        return event
    return {**event, "headers": {**headers, "content-type": content_types.APPLICATION_JSON}}


def _proxy_response(response: Response[Any]) -> dict[str, Any]:
    """An HTTP API (payload 2.0) response for a request turned away before routing."""
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(response.body, separators=(",", ":")),
        "isBase64Encoded": False,
    }
