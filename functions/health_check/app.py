"""GET /health (public): connection, write test, read test, latency. 503 when Redis is unavailable."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from actionlog import health
from actionlog.auth import Access
from actionlog.errors import StoreUnavailable
from actionlog.http import ActionlogApi, json_response, retry_after
from actionlog.models import HealthReport
from actionlog.redis_client import get_redis


def unhealthy(error: StoreUnavailable) -> Response[Any]:
    return json_response(HTTPStatus.SERVICE_UNAVAILABLE, health.unavailable_report(error), retry_after(error))


app = ActionlogApi(Access.PUBLIC, on_unavailable=unhealthy)


@app.get("/health")
def health_check() -> Response[HealthReport]:
    report = health.check(redis=get_redis())
    if report.status == "ok":
        return json_response(HTTPStatus.OK, report)
    # Redis answered but failed the write or read test: still a 503, and every 503 says when to retry.
    return json_response(
        HTTPStatus.SERVICE_UNAVAILABLE, report, {"Retry-After": str(StoreUnavailable.retry_after_seconds)}
    )


lambda_handler = app.lambda_handler
