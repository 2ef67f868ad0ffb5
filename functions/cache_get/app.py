"""Read a value of the shared cache and its remaining TTL; 404 when nothing is cached under the key."""

from http import HTTPStatus

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import CacheGetResponse, CacheKeyPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.CACHE,
    response=CacheGetResponse,
    errors={
        HTTPStatus.FORBIDDEN: "the key does not start with an allowed prefix",
        HTTPStatus.NOT_FOUND: "nothing is cached under the key",
    },
)
def cache_get(request: Request[CacheKeyPath]) -> CacheGetResponse:
    key = request.path.key  # within the key policy: CacheKeyPath.check
    cached = cache.lookup(key, rate=request.rate, redis=get_redis())
    return CacheGetResponse(key=key, value=cached.value(), ttlSeconds=cached.ttl_seconds)


lambda_handler = cache_get
