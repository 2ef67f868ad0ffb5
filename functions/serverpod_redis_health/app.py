"""The seed's Serverpod endpoint `redisHealth`: check() (public: ok or unavailable, never why) and info() (admin)."""

from actionlog import health
from actionlog.auth import Access
from actionlog.errors import StoreUnavailable
from actionlog.health import PublicOk, PublicUnavailable, RecentHealth
from actionlog.http import Fallback
from actionlog.models import ServerInfo
from actionlog.ratelimit import RateLimit
from actionlog.redis_client import get_redis
from actionlog.serverpod import Method, NoArguments, ServerpodEndpoint

# A healthy result is reused for a few seconds: a flood of anonymous calls writes little to Redis.
recent = RecentHealth()


def check(_: NoArguments, rate: RateLimit | None) -> PublicOk | PublicUnavailable:
    """Whether the store is healthy: the seed's check() answers rather than failing."""
    return recent.status(redis=get_redis())


def unhealthy(_: NoArguments, error: StoreUnavailable) -> PublicUnavailable:
    return PublicUnavailable()


def info(_: NoArguments, rate: RateLimit | None) -> ServerInfo:
    return health.server_info(redis=get_redis())


lambda_handler = ServerpodEndpoint(
    "redisHealth",
    {
        "check": Method(
            NoArguments,
            Access.PUBLIC,
            check,
            unavailable=Fallback(200, PublicUnavailable, unhealthy, "while Redis is unavailable: unavailable"),
        ),
        "info": Method(NoArguments, Access.ADMIN, info),
    },
    access=Access.PUBLIC,
)
