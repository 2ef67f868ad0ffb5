"""Log up to 100 actions for a user, oldest first, in one transaction."""

from http import HTTPStatus

from actionlog import actions
from actionlog.actions import Logged
from actionlog.auth import Access
from actionlog.http import Request, operation
from actionlog.models import BatchIn, LogBatchResponse, UserPath
from actionlog.redis_client import get_redis


@operation(
    access=Access.OWNER,
    status=HTTPStatus.CREATED,
    response=LogBatchResponse,
    idempotency_key=True,
)
def log_batch_actions(request: Request[UserPath, None, BatchIn]) -> Logged:
    user_id = request.path.userId
    entries = actions.new_entries(request.body.actions)
    response = LogBatchResponse(userId=user_id, count=len(entries)).encoded()
    key, rate = request.idempotency, request.rate
    return actions.log_actions(user_id, entries, response=response, key=key, rate=rate, redis=get_redis())


lambda_handler = log_batch_actions
