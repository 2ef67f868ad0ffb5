"""Clear a user's action log."""

from actionlog import actions
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import ClearActionsResponse, UserPath
from actionlog.redis_client import get_redis


@operation(access=Access.OWNER, response=ClearActionsResponse)
def clear_user_actions(request: Request[UserPath]) -> ClearActionsResponse:
    cleared = actions.clear_actions(request.path.userId, rate=request.rate, redis=get_redis())
    return ClearActionsResponse(userId=request.path.userId, cleared=cleared)


lambda_handler = clear_user_actions
