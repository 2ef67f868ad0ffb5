"""The public health check: `{"status": "ok"}`, or 503 `{"status": "unavailable"}`; never why (see the logs)."""

from http import HTTPStatus
from typing import Any

from actionlog.auth import Access
from actionlog.errors import StoreUnavailable
from actionlog.health import PublicOk, PublicUnavailable, RecentHealth
from actionlog.http import Answer, Fallback, Request, operation
from actionlog.redis_client import get_redis

# A healthy result is reused for a few seconds: a flood of anonymous calls writes little to Redis.
recent = RecentHealth()


def unavailable(request: Request[Any, Any, Any], error: StoreUnavailable) -> PublicUnavailable:
    return PublicUnavailable()


@operation(
    access=Access.PUBLIC,
    response=PublicOk,
    unavailable=Fallback(
        HTTPStatus.SERVICE_UNAVAILABLE,
        PublicUnavailable,
        unavailable,
        "Redis is unavailable, or failed the write/read test (the cause is in the logs)",
    ),
)
def health_check(request: Request) -> PublicOk | Answer:
    status = recent.status(redis=get_redis())
    # Unavailable: a 503 (with Retry-After, as every 503 has).
    return status if isinstance(status, PublicOk) else Answer(HTTPStatus.SERVICE_UNAVAILABLE, status)


lambda_handler = health_check
