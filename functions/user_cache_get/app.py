"""Read a value of a user's own cache and its remaining TTL; 404 when nothing is cached under the key."""

from http import HTTPStatus

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import CacheGetResponse, UserCacheKeyPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.OWNER,
    response=CacheGetResponse,
    errors={HTTPStatus.NOT_FOUND: "nothing is cached under the key"},
)
def user_cache_get(request: Request[UserCacheKeyPath]) -> CacheGetResponse:
    name = request.path.key
    cached = cache.lookup_own(request.path.userId, name, rate=request.rate, redis=get_redis())
    return CacheGetResponse(key=name, value=cached.value(), ttlSeconds=cached.ttl_seconds)


lambda_handler = user_cache_get
