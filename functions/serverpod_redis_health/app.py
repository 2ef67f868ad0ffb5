"""The seed's Serverpod endpoint `redisHealth`: check() (public) and info() (admin)."""

from actionlog import health
from actionlog.auth import Access
from actionlog.errors import StoreUnavailable
from actionlog.http import Fallback
from actionlog.models import Healthy, ServerInfo, Unhealthy
from actionlog.ratelimit import RateLimit
from actionlog.redis_client import get_redis
from actionlog.serverpod import Method, NoArguments, ServerpodEndpoint


def check(_: NoArguments, rate: RateLimit | None) -> Healthy | Unhealthy:
    """The health report, healthy or not: the seed's check() returns it rather than failing."""
    return health.check(redis=get_redis())


def unhealthy(_: NoArguments, error: StoreUnavailable) -> Unhealthy:
    return health.unavailable_report(error)


def info(_: NoArguments, rate: RateLimit | None) -> ServerInfo:
    return health.server_info(redis=get_redis())


lambda_handler = ServerpodEndpoint(
    "redisHealth",
    {
        "check": Method(
            NoArguments,
            Access.PUBLIC,
            check,
            unavailable=Fallback(200, Unhealthy, unhealthy, "while Redis is unavailable: the unhealthy report"),
        ),
        "info": Method(NoArguments, Access.ADMIN, info),
    },
    access=Access.PUBLIC,
)
