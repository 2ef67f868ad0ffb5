"""POST /users/{userId}/actions: log one action."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from actionlog import actions
from actionlog.auth import Access
from actionlog.http import ActionlogApi, json_response
from actionlog.keys import USER_ID_PATTERN
from actionlog.models import ActionEntry, ActionIn, LogActionResponse
from actionlog.redis_client import get_redis
from actionlog.settings import get_settings

app = ActionlogApi(Access.OWNER)


@app.post("/users/<userId>/actions", responses={201: {"description": "Logged"}})
def log_action(
    userId: Annotated[str, Path(pattern=USER_ID_PATTERN)], action: Annotated[ActionIn, Body(embed=False)]
) -> Response[LogActionResponse]:
    entry = ActionEntry.record(action)
    actions.log_actions(userId, [entry], max_entries=get_settings().actions_max_entries, redis=get_redis())
    return json_response(HTTPStatus.CREATED, LogActionResponse(userId=userId, entry=entry))


lambda_handler = app.lambda_handler
