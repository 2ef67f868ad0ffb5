"""Remove a value from a user's own cache, freeing its room in the user's quotas."""

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import CacheDeleteResponse, UserCacheKeyPath
from actionlog.redis_client import get_redis


@operation(access=Access.OWNER, response=CacheDeleteResponse)
def user_cache_delete(request: Request[UserCacheKeyPath]) -> CacheDeleteResponse:
    name = request.path.key
    deleted = cache.delete_own(request.path.userId, name, rate=request.rate, redis=get_redis())
    return CacheDeleteResponse(key=name, deleted=deleted)


lambda_handler = user_cache_delete
