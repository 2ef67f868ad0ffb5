"""What an endpoint documents about its answers: read by `dev/openapi.py` and the tests, never on a request's path.

Both adapters (the REST operations of actionlog.http and the Serverpod endpoints of actionlog.serverpod) describe
their errors here, from what their declarations make possible, so the two cannot drift apart.
"""

from collections.abc import Collection, Mapping
from http import HTTPStatus
from typing import Any, NamedTuple

from actionlog.auth import Access
from actionlog.errors import ErrorBody
from actionlog.models import MAX_BODY_BYTES


class Documented(NamedTuple):
    """A response an endpoint can give, as the OpenAPI document describes it."""

    description: str
    models: tuple[Any, ...]  # its body is one of these: shapes, or other types (a Serverpod method's `bool`)
    headers: tuple[str, ...] = ()


RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def retry_after(status: HTTPStatus) -> tuple[str, ...]:
    """The headers a response of `status` carries: every 503 and 429 says when to retry (`http.to_lambda_response`,
    `http.error_answer`)."""
    return ("Retry-After",) if status in (HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.TOO_MANY_REQUESTS) else ()


def limited(accesses: Collection[Access]) -> bool:
    """Whether a route of these accesses counts its callers' requests (ratelimit.py): users' and clients' routes."""
    return bool(set(accesses) & {Access.OWNER, Access.CACHE})


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def error_responses(
    accesses: Collection[Access],
    *,
    malformed: str,
    forbidden: str,
    no_method: str | None = None,
    unprocessable: str | None = None,
    unavailable: bool = True,
    own: Mapping[HTTPStatus, str] | None = None,
) -> dict[HTTPStatus, Documented]:
    """The errors an endpoint answers: the adapter's, each where the declaration makes it possible, and its `own`.

    `accesses`: every access rule a request may meet; `no_method`: the 404 of a caller naming a method the endpoint
    lacks; `unprocessable`: the 422 of a body that breaks its schema; `unavailable`: whether Redis being down is a 503.
    """
    errors = {HTTPStatus.BAD_REQUEST: malformed}
    if set(accesses) != {Access.PUBLIC}:
        errors[HTTPStatus.UNAUTHORIZED] = "No token, or one the JWT authorizer refuses"
    if set(accesses) - {Access.PUBLIC, Access.AUTHENTICATED}:
        errors[HTTPStatus.FORBIDDEN] = forbidden
    if no_method is not None:
        errors[HTTPStatus.NOT_FOUND] = no_method
    errors[HTTPStatus.REQUEST_ENTITY_TOO_LARGE] = f"Request body over {MAX_BODY_BYTES // 1024 // 1024} MiB"
    if unprocessable is not None:
        errors[HTTPStatus.UNPROCESSABLE_ENTITY] = unprocessable
    if limited(accesses):
        errors[HTTPStatus.TOO_MANY_REQUESTS] = "Over the caller's rate limit; nothing was done; retry after Retry-After"
    if unavailable:
        errors[HTTPStatus.SERVICE_UNAVAILABLE] = "Redis is unavailable; retry after Retry-After seconds"
    for status, meaning in (own or {}).items():
        errors[status] = f"{errors[status]}, or {meaning}" if status in errors else sentence(meaning)
    counted = RATE_LIMIT_HEADERS if limited(accesses) else ()
    return {
        status: Documented(meaning, (ErrorBody,), (*retry_after(status), *(counted if status == 429 else ())))
        for status, meaning in errors.items()
    }
