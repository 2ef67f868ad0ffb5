"""Remove a value from a user's own cache."""

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.keys import user_cache_key
from actionlog.models import CacheDeleteResponse, UserCacheKeyPath
from actionlog.redis_client import get_redis


@operation(access=Access.OWNER, response=CacheDeleteResponse)
def user_cache_delete(request: Request[UserCacheKeyPath]) -> CacheDeleteResponse:
    deleted = cache.delete(user_cache_key(request.path.userId, request.path.key), redis=get_redis())
    return CacheDeleteResponse(key=request.path.key, deleted=deleted)


lambda_handler = user_cache_delete
