"""The seed's Serverpod endpoint `userActions`: POST /userActions/{method} and POST /userActions."""

from actionlog import actions
from actionlog.auth import Access
from actionlog.models import (
    ActionEntry,
    ClearUserActionsArgs,
    GetUserActionsArgs,
    LogActionArgs,
    LogBatchActionsArgs,
)
from actionlog.redis_client import get_redis
from actionlog.serverpod import Method, ServerpodEndpoint
from actionlog.settings import get_settings


def log_action(args: LogActionArgs) -> bool:
    entry = ActionEntry.record(args.as_action())
    actions.log_actions(args.userId, [entry], max_entries=get_settings().actions_max_entries, redis=get_redis())
    return True


def get_user_actions(args: GetUserActionsArgs) -> list[str]:
    """The stored JSON strings, newest first: the seed returns `List<String>`."""
    limit = min(args.limit, get_settings().actions_max_entries)
    return actions.recent_actions(args.userId, limit, redis=get_redis())


def log_batch_actions(args: LogBatchActionsArgs) -> bool:
    entries = [ActionEntry.record(action) for action in args.as_actions()]
    actions.log_actions(args.userId, entries, max_entries=get_settings().actions_max_entries, redis=get_redis())
    return True


def clear_user_actions(args: ClearUserActionsArgs) -> bool:
    actions.clear_actions(args.userId, redis=get_redis())
    return True


endpoint = ServerpodEndpoint(
    "userActions",
    {
        "logAction": Method(LogActionArgs, Access.OWNER, log_action),
        "getUserActions": Method(GetUserActionsArgs, Access.OWNER, get_user_actions, degraded_result=[]),
        "logBatchActions": Method(LogBatchActionsArgs, Access.OWNER, log_batch_actions),
        "clearUserActions": Method(ClearUserActionsArgs, Access.OWNER, clear_user_actions),
    },
    access=Access.AUTHENTICATED,
)
lambda_handler = endpoint.api.lambda_handler
