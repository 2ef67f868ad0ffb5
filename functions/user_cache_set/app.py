"""Store a JSON value in a user's own cache, with an optional TTL, within the user's quotas."""

from http import HTTPStatus

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import MAX_CACHE_VALUE_BYTES, CachePut, CachePutResponse, UserCacheKeyPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.OWNER,
    response=CachePutResponse,
    errors={
        HTTPStatus.FORBIDDEN: "the write would pass a quota of the user's cache (USER_CACHE_MAX_KEYS or _BYTES)",
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE: f"a value over {MAX_CACHE_VALUE_BYTES // 1024} KiB of JSON",
    },
)
def user_cache_set(request: Request[UserCacheKeyPath, None, CachePut]) -> CachePutResponse:
    user_id, name, body = request.path.userId, request.path.key, request.body
    ttl = cache.put_own(user_id, name, body.value, body.ttlSeconds, rate=request.rate, redis=get_redis())
    return CachePutResponse(key=name, ttlSeconds=ttl)


lambda_handler = user_cache_set
