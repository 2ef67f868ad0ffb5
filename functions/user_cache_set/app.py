"""Store a JSON value in a user's own cache, with an optional TTL."""

from http import HTTPStatus

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.keys import user_cache_key
from actionlog.models import MAX_CACHE_VALUE_BYTES, CachePut, CachePutResponse, UserCacheKeyPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.OWNER,
    response=CachePutResponse,
    errors={HTTPStatus.REQUEST_ENTITY_TOO_LARGE: f"a value over {MAX_CACHE_VALUE_BYTES // 1024} KiB of JSON"},
)
def user_cache_set(request: Request[UserCacheKeyPath, None, CachePut]) -> CachePutResponse:
    key = user_cache_key(request.path.userId, request.path.key)
    cache.put(key, request.body.value, request.body.ttlSeconds, redis=get_redis())
    return CachePutResponse(key=request.path.key, ttlSeconds=request.body.ttlSeconds)


lambda_handler = user_cache_set
