"""GET /health/info (scope actionlog/admin): the Redis server's version, mode, uptime, clients, memory."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from actionlog import health
from actionlog.auth import Access
from actionlog.http import ActionlogApi, json_response
from actionlog.models import ServerInfo
from actionlog.redis_client import get_redis

app = ActionlogApi(Access.ADMIN)


@app.get("/health/info")
def health_info() -> Response[ServerInfo]:
    return json_response(HTTPStatus.OK, health.server_info(redis=get_redis()))


lambda_handler = app.lambda_handler
