"""POST /users/{userId}/actions/batch: log up to 100 actions, oldest first, in one transaction."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from actionlog import actions
from actionlog.auth import Access
from actionlog.http import ActionlogApi, json_response
from actionlog.keys import USER_ID_PATTERN
from actionlog.models import ActionEntry, BatchIn, LogBatchResponse
from actionlog.redis_client import get_redis
from actionlog.settings import get_settings

app = ActionlogApi(Access.OWNER)


@app.post("/users/<userId>/actions/batch", responses={201: {"description": "Logged"}})
def log_batch_actions(
    userId: Annotated[str, Path(pattern=USER_ID_PATTERN)], batch: Annotated[BatchIn, Body(embed=False)]
) -> Response[LogBatchResponse]:
    entries = [ActionEntry.record(action) for action in batch.actions]
    count = actions.log_actions(userId, entries, max_entries=get_settings().actions_max_entries, redis=get_redis())
    return json_response(HTTPStatus.CREATED, LogBatchResponse(userId=userId, count=count))


lambda_handler = app.lambda_handler
