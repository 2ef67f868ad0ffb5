"""Read a user's newest actions, filtered and paged; an empty list, flagged degraded, while Redis is down."""

from typing import Any

from actionlog import actions
from actionlog.auth import Access
from actionlog.codec import entries_json
from actionlog.errors import BadRequest, StoreUnavailable
from actionlog.http import Fallback, Request, operation
from actionlog.models import DEFAULT_READ_LIMIT, DegradedUserActionsResponse, ReadQuery, UserActionsResponse, UserPath
from actionlog.redis_client import get_redis
from actionlog.schema import Encoded
from actionlog.settings import get_settings


def degraded_read(request: Request[UserPath, Any, Any], error: StoreUnavailable) -> DegradedUserActionsResponse:
    """The seed's graceful degradation: an empty list, flagged, instead of an error."""
    return DegradedUserActionsResponse(userId=request.path.userId)


@operation(
    access=Access.OWNER,
    response=UserActionsResponse,
    unavailable=Fallback(
        200, DegradedUserActionsResponse, degraded_read, "while Redis is unavailable: no entries, `degraded: true`"
    ),
)
def get_user_actions(request: Request[UserPath, ReadQuery, None]) -> Encoded[UserActionsResponse]:
    user_id = request.path.userId
    max_entries = get_settings().actions_max_entries
    limit = request.query.limit or min(DEFAULT_READ_LIMIT, max_entries)
    if limit > max_entries:
        raise BadRequest(f"limit must be between 1 and {max_entries}")
    query = request.query
    page = actions.read_page(
        user_id,
        limit,
        names=query.names(),
        since=query.since,
        before=query.before,
        rate=request.rate,
        redis=get_redis(),
    )
    return UserActionsResponse.around(user_id, entries_json(page.entries), len(page.entries), page.next)


lambda_handler = get_user_actions
