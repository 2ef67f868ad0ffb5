"""List a user's own cache keys, sorted, with their remaining TTLs."""

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import CachedKey, UserCacheKeysResponse, UserPath
from actionlog.redis_client import get_redis


@operation(access=Access.OWNER, response=UserCacheKeysResponse)
def list_user_cache(request: Request[UserPath]) -> UserCacheKeysResponse:
    listed = cache.list_own(request.path.userId, rate=request.rate, redis=get_redis())
    found = [CachedKey(key=name, ttlSeconds=ttl) for name, ttl in listed]
    return UserCacheKeysResponse(userId=request.path.userId, keys=found, count=len(found))


lambda_handler = list_user_cache
