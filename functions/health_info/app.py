"""The Redis server's version, mode, uptime, clients and memory (scope actionlog/admin)."""

from actionlog import health
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import ServerInfo
from actionlog.redis_client import get_redis


@operation(access=Access.ADMIN, response=ServerInfo)
def health_info(request: Request) -> ServerInfo:
    return health.server_info(redis=get_redis())


lambda_handler = health_info
