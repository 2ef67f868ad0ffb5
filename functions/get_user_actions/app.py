"""GET /users/{userId}/actions?limit=N: the newest entries. Degrades to an empty list when Redis is down."""

import json
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from actionlog import actions
from actionlog.auth import Access
from actionlog.errors import BadRequest, StoreUnavailable
from actionlog.http import ActionlogApi, json_response
from actionlog.keys import USER_ID_PATTERN
from actionlog.models import UserActionsResponse
from actionlog.redis_client import get_redis
from actionlog.settings import get_settings

DEFAULT_LIMIT = 50


def degraded_read(error: StoreUnavailable) -> Response[Any]:
    """The seed's graceful degradation: an empty list, flagged, instead of an error."""
    user_id = app.current_event.path_parameters["userId"]
    return json_response(HTTPStatus.OK, UserActionsResponse(userId=user_id, actions=[], count=0, degraded=True))


app = ActionlogApi(Access.OWNER, on_unavailable=degraded_read)


@app.get(
    "/users/<userId>/actions",
    responses={200: {"description": "Newest first", "content": {"application/json": {"model": UserActionsResponse}}}},
)
def get_user_actions(
    userId: Annotated[str, Path(pattern=USER_ID_PATTERN)],
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response[str]:
    max_entries = get_settings().actions_max_entries
    if limit is None:
        limit = min(DEFAULT_LIMIT, max_entries)
    if limit > max_entries:
        raise BadRequest(f"limit must be between 1 and {max_entries}")
    stored = actions.recent_actions(userId, limit, redis=get_redis())
    # A UserActionsResponse, written around the stored entries rather than decoded and encoded again
    # (bench/RESULTS.md: that was most of a read).
    body = f'{{"userId":{json.dumps(userId)},"actions":{actions.entries_json(stored)},"count":{len(stored)}}}'
    return json_response(HTTPStatus.OK, body)


lambda_handler = app.lambda_handler
