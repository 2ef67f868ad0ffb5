"""The HTTP layer every API handler shares.

A handler builds one `ActionlogApi`, registers its single route with Powertools' decorators and exports
`app.lambda_handler`. The layer supplies, for every route alike: validation of path, query and body
(Powertools + pydantic), the authorisation rules, a request-size limit, JSON errors with a `message`,
503 with `Retry-After` when Redis is unavailable, and the request id as the logs' correlation id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from actionlog.auth import Access, Caller, authorize
from actionlog.errors import ActionlogError, PayloadTooLarge, StoreUnavailable
from actionlog.observability import logger
from actionlog.redis_client import report_failure
from actionlog.settings import get_settings

MAX_BODY_BYTES = 1024 * 1024

type UnavailableResponse = Callable[[StoreUnavailable], Response[Any]]


class ActionlogApi(APIGatewayHttpResolver):
    """An HTTP API (payload 2.0) resolver for one Actionlog route."""

    def __init__(self, access: Access, *, on_unavailable: UnavailableResponse | None = None) -> None:
        super().__init__(enable_validation=True)
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
            self._handle, correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
        )

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            self._admit(event)
        except ActionlogError as error:
            return _proxy_response(_error_response(error))
        return self.resolve(event, context)

    def _admit(self, event: Mapping[str, Any]) -> None:
        """What must hold before anything is parsed: a body within limits and an authorised caller."""
        if _body_size(event) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"request body must be at most {MAX_BODY_BYTES} bytes")
        path_parameters = event.get("pathParameters") or {}
        authorize(
            self.access,
            Caller.from_event(event),
            user_id=path_parameters.get("userId"),
            settings=get_settings(),
        )

    def _store_unavailable(self, error: StoreUnavailable) -> Response[Any]:
        report_failure(error)
        return self._on_unavailable(error)


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


def _proxy_response(response: Response[Any]) -> dict[str, Any]:
    """An HTTP API (payload 2.0) response for a request turned away before routing."""
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(response.body, separators=(",", ":")),
        "isBase64Encoded": False,
    }
