"""Log one action for a user."""

from http import HTTPStatus

from actionlog import actions
from actionlog.auth import Access
from actionlog.http import Answer, Json, Request, operation
from actionlog.models import ActionIn, LogActionResponse, UserPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.OWNER,
    path=UserPath,
    body=ActionIn,
    status=HTTPStatus.CREATED,
    response=LogActionResponse,
    idempotency_key=True,
)
def log_action(request: Request[UserPath, None, ActionIn]) -> Answer:
    user_id = request.path.userId
    [entry] = actions.new_entries([request.body])
    response = Json(f'{{"userId":"{user_id}","entry":{entry.decode()}}}')  # a LogActionResponse around the entry
    return request.log_actions(user_id, [entry], response, redis=get_redis())


lambda_handler = log_action
