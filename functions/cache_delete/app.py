"""Remove a value from the shared cache."""

from http import HTTPStatus

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import CacheDeleteResponse, CacheKeyPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.CACHE,
    response=CacheDeleteResponse,
    errors={HTTPStatus.FORBIDDEN: "the key does not start with an allowed prefix"},
)
def cache_delete(request: Request[CacheKeyPath]) -> CacheDeleteResponse:
    key = request.path.key  # within the key policy: CacheKeyPath.check
    deleted = cache.delete(key, rate=request.rate, redis=get_redis())
    return CacheDeleteResponse(key=key, deleted=deleted)


lambda_handler = cache_delete
