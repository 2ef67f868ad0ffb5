"""How many entries a user's action log holds."""

from actionlog import actions
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import ActionCountResponse, UserPath
from actionlog.redis_client import get_redis


@operation(access=Access.OWNER, response=ActionCountResponse)
def count_user_actions(request: Request[UserPath]) -> ActionCountResponse:
    count = actions.count_actions(request.path.userId, rate=request.rate, redis=get_redis())
    return ActionCountResponse(userId=request.path.userId, count=count)


lambda_handler = count_user_actions
