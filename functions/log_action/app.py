"""Log one action for a user."""

from http import HTTPStatus

from actionlog import actions
from actionlog.actions import Logged
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import ActionIn, LogActionResponse, UserPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.OWNER,
    status=HTTPStatus.CREATED,
    response=LogActionResponse,
    idempotency_key=True,
)
def log_action(request: Request[UserPath, None, ActionIn]) -> Logged:
    user_id = request.path.userId
    [entry] = actions.new_entries([request.body])
    response = LogActionResponse.around(user_id, entry)
    key, rate = request.idempotency, request.rate
    return actions.log_actions(user_id, [entry], response=response, key=key, rate=rate, redis=get_redis())


lambda_handler = log_action
