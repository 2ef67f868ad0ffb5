"""The seed's Serverpod endpoint `redisHealth`: check() (public) and info() (admin)."""

from pydantic import BaseModel

from actionlog import health
from actionlog.auth import Access
from actionlog.errors import StoreUnavailable
from actionlog.models import HealthReport, ServerInfo
from actionlog.redis_client import get_redis, report_failure
from actionlog.serverpod import Method, ServerpodEndpoint


class NoArguments(BaseModel):
    pass


def check(_: NoArguments) -> HealthReport:
    """The health report, healthy or not: the seed's check() returns it rather than failing."""
    try:
        report = health.check(redis=get_redis())
    except StoreUnavailable as error:
        report_failure(error)
        report = health.unavailable_report(error)
    return report


def info(_: NoArguments) -> ServerInfo:
    return health.server_info(redis=get_redis())


endpoint = ServerpodEndpoint(
    "redisHealth",
    {"check": Method(NoArguments, Access.PUBLIC, check), "info": Method(NoArguments, Access.ADMIN, info)},
    access=Access.PUBLIC,
)
lambda_handler = endpoint.api.lambda_handler
