"""Log up to 100 actions for a user, oldest first, in one transaction."""

from http import HTTPStatus

from actionlog import actions
from actionlog.auth import Access
from actionlog.http import Answer, Json, Request, operation
from actionlog.models import BatchIn, LogBatchResponse, UserPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.OWNER,
    path=UserPath,
    body=BatchIn,
    status=HTTPStatus.CREATED,
    response=LogBatchResponse,
    idempotency_key=True,
)
def log_batch_actions(request: Request[UserPath, None, BatchIn]) -> Answer:
    user_id = request.path.userId
    entries = actions.new_entries(request.body.actions)
    response = Json(LogBatchResponse(userId=user_id, count=len(entries)).to_json())
    return request.log_actions(user_id, entries, response, redis=get_redis())


lambda_handler = log_batch_actions
