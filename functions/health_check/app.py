"""The public health check: connection, write test, read test, latency; 503 while Redis is unavailable."""

from http import HTTPStatus
from typing import Any

from actionlog import health
from actionlog.auth import Access
from actionlog.errors import StoreUnavailable
from actionlog.http import Answer, Fallback, Request, operation
from actionlog.models import Healthy, Unhealthy
from actionlog.redis_client import get_redis


def unhealthy(request: Request[Any, Any, Any], error: StoreUnavailable) -> Unhealthy:
    return health.unavailable_report(error)


@operation(
    access=Access.PUBLIC,
    response=Healthy,
    unavailable=Fallback(
        HTTPStatus.SERVICE_UNAVAILABLE, Unhealthy, unhealthy, "Redis is unavailable, or failed the write/read test"
    ),
)
def health_check(request: Request) -> Healthy | Answer:
    report = health.check(redis=get_redis())
    # Redis answered but failed the write or read test: still a 503 (with Retry-After, as every 503 has).
    return report if isinstance(report, Healthy) else Answer(HTTPStatus.SERVICE_UNAVAILABLE, report)


lambda_handler = health_check
