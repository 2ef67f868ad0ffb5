"""Store a JSON value in the shared cache under an allowed prefix, with an optional TTL."""

from http import HTTPStatus

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import MAX_CACHE_VALUE_BYTES, CacheKeyPath, CachePut, CachePutResponse
from actionlog.redis_client import get_redis


@operation(
    access=Access.CACHE,
    response=CachePutResponse,
    errors={
        HTTPStatus.FORBIDDEN: "the key does not start with an allowed prefix",
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE: f"a value over {MAX_CACHE_VALUE_BYTES // 1024} KiB of JSON",
    },
)
def cache_set(request: Request[CacheKeyPath, None, CachePut]) -> CachePutResponse:
    key = request.path.key  # within the key policy: CacheKeyPath.check
    cache.put(key, request.body.value, request.body.ttlSeconds, rate=request.rate, redis=get_redis())
    return CachePutResponse(key=key, ttlSeconds=request.body.ttlSeconds)


lambda_handler = cache_set
