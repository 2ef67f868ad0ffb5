"""Erase everything a user stored: the log, their own cache, idempotency receipts (rate counters expire alone)."""

from actionlog import erasure
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import EraseUserResponse, UserPath
from actionlog.redis_client import get_redis


@operation(access=Access.OWNER, response=EraseUserResponse)
def erase_user(request: Request[UserPath]) -> EraseUserResponse:
    erased = erasure.erase_user(request.path.userId, rate=request.rate, redis=get_redis())
    return EraseUserResponse(userId=request.path.userId, erased=erased)


lambda_handler = erase_user
