"""DELETE /users/{userId}/actions: clear the user's action log."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from actionlog import actions
from actionlog.auth import Access
from actionlog.http import ActionlogApi, json_response
from actionlog.keys import USER_ID_PATTERN
from actionlog.models import ClearActionsResponse
from actionlog.redis_client import get_redis

app = ActionlogApi(Access.OWNER)


@app.delete("/users/<userId>/actions")
def clear_user_actions(
    userId: Annotated[str, Path(pattern=USER_ID_PATTERN)],
) -> Response[ClearActionsResponse]:
    cleared = actions.clear_actions(userId, redis=get_redis())
    return json_response(HTTPStatus.OK, ClearActionsResponse(userId=userId, cleared=cleared))


lambda_handler = app.lambda_handler
