"""The seed's Serverpod endpoint `userActions`, the method named in the path or in the body."""

from actionlog import actions
from actionlog.auth import Access
from actionlog.errors import StoreUnavailable
from actionlog.http import Fallback
from actionlog.ratelimit import RateLimit
from actionlog.redis_client import get_redis
from actionlog.serverpod import (
    ClearUserActionsArgs,
    GetUserActionsArgs,
    LogActionArgs,
    LogBatchActionsArgs,
    Method,
    ServerpodEndpoint,
)
from actionlog.settings import get_settings


def log_action(args: LogActionArgs, rate: RateLimit | None) -> bool:
    entries = actions.new_entries([args.as_action()])
    actions.log_actions(args.userId, entries, rate=rate, redis=get_redis())
    return True


def get_user_actions(args: GetUserActionsArgs, rate: RateLimit | None) -> list[str]:
    """The stored JSON strings, newest first: the seed returns `List<String>`."""
    limit = min(args.limit, get_settings().actions_max_entries)
    return actions.recent_actions(args.userId, limit, rate=rate, redis=get_redis())


def no_actions(args: GetUserActionsArgs, error: StoreUnavailable) -> list[str]:
    """The seed's graceful degradation: no entries while Redis is unavailable."""
    return []


def log_batch_actions(args: LogBatchActionsArgs, rate: RateLimit | None) -> bool:
    entries = actions.new_entries(args.as_actions())
    actions.log_actions(args.userId, entries, rate=rate, redis=get_redis())
    return True


def clear_user_actions(args: ClearUserActionsArgs, rate: RateLimit | None) -> bool:
    actions.clear_actions(args.userId, rate=rate, redis=get_redis())
    return True


lambda_handler = ServerpodEndpoint(
    "userActions",
    {
        "logAction": Method(LogActionArgs, Access.OWNER, log_action),
        "getUserActions": Method(
            GetUserActionsArgs,
            Access.OWNER,
            get_user_actions,
            unavailable=Fallback(200, list[str], no_actions, "while Redis is unavailable: no entries"),
            reads=True,
        ),
        "logBatchActions": Method(LogBatchActionsArgs, Access.OWNER, log_batch_actions),
        "clearUserActions": Method(ClearUserActionsArgs, Access.OWNER, clear_user_actions),
    },
    access=Access.AUTHENTICATED,
)
