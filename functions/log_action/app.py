"""POST /users/{userId}/actions: log one action."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from actionlog.auth import Access
from actionlog.http import ActionlogApi
from actionlog.keys import USER_ID_PATTERN
from actionlog.models import ActionEntry, ActionIn, LogActionResponse
from actionlog.redis_client import get_redis

app = ActionlogApi(Access.OWNER)


@app.post("/users/<userId>/actions", responses={201: {"description": "Logged"}})
def log_action(
    userId: Annotated[str, Path(pattern=USER_ID_PATTERN)], action: Annotated[ActionIn, Body(embed=False)]
) -> Response[LogActionResponse]:
    entry = ActionEntry.record(action)
    response = LogActionResponse(userId=userId, entry=entry)
    return app.log_actions("log_action", userId, [entry], response, redis=get_redis())


lambda_handler = app.lambda_handler
