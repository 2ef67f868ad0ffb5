"""The floors: each handler's Redis work done with raw redis-py, which is what the handler is compared with.

When a handler changes its Redis work (say, a Lua script for idempotent writes), change its floor to match, so the
ratio keeps measuring the handler's own overhead. A floor is about one user, as its handler's call is: the bench
spreads its calls over many users so that none passes a rate limit, and a floor writes to the same users. This
module imports redis and nothing heavier: the cold-start floor function is a copy of it and a one-line handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

type Command = tuple[object, ...]
type Commands = tuple[Command, ...]

# The user, keys and values the events in events/ lead the handlers to touch (see actionlog.keys).
USER, MAX_ENTRIES, BATCH_SIZE, READ_LIMIT = "123", 100, 100, 50  # ACTIONS_MAX_ENTRIES' default
CACHE_KEY = "session:abc123"  # the shared cache's key, and its value as the handler encodes cache_set.json's
CACHE_VALUE = '{"userId":123,"theme":"dark","sessionToken":"NEVER-LOGGED-session-secret"}'
OWN_KEY, OWN_VALUE = "prefs", '{"theme":"dark","draft":"NEVER-LOGGED-private-note"}'  # user_cache_set.json's
TTL_SECONDS = 3600  # both cache events'
# An entry the size of the one log_action stores for events/log_action.json (the same fields, a uuid4 hex id).
ENTRY = (
    '{"action":"login","timestamp":"2026-11-25T12:00:00.000Z",'
    '"metadata":{"device":"ios","appVersion":"2.4.1"},"id":"0f8e5c1b9a6d4e2f8b7c3a1d5e9f0b2c"}'
)


def actions_key(user: str) -> str:
    return f"user:{user}:actions"


def _slot(user: str) -> str:
    return "{" + actions_key(user) + "}"


def own_key(user: str) -> str:
    """The user's own cache entry under OWN_KEY."""
    return f"actionlog:user-cache:{_slot(user)}:{OWN_KEY}"


def own_index_key(user: str) -> str:
    return f"actionlog:user-cache-index:{_slot(user)}"


def own_sizes_key(user: str) -> str:
    return f"actionlog:user-cache-sizes:{_slot(user)}"


def user_keys(user: str) -> tuple[str, ...]:
    """Every key erasing the user deletes: the log, receipts, their own cache (with OWN_KEY), rate counters."""
    receipts = (f"actionlog:receipts:{_slot(user)}", f"actionlog:receipt-expiries:{_slot(user)}")
    counters = tuple(f"actionlog:rate:{_slot(user)}:{kind}" for kind in ("writes", "reads"))
    return actions_key(user), *receipts, own_index_key(user), own_sizes_key(user), *counters, own_key(user)


def trim(user: str) -> Command:
    return "LTRIM", actions_key(user), 0, MAX_ENTRIES - 1


def own_set(user: str) -> Commands:
    """A user's own cache entry with its index and sizes, as actionlog.cache.put_own keeps them."""
    return (
        ("SET", own_key(user), OWN_VALUE, "PX", TTL_SECONDS * 1000),
        ("ZADD", own_index_key(user), 1e15, OWN_KEY),
        ("HSET", own_sizes_key(user), OWN_KEY, len(OWN_VALUE)),
        ("HINCRBY", own_sizes_key(user), "#total", len(OWN_VALUE)),
    )


def full_list(user: str) -> Commands:
    return ("DEL", actions_key(user)), ("LPUSH", actions_key(user), *[ENTRY] * MAX_ENTRIES)


def plain_client(url: str) -> Redis:
    """redis-py with its own defaults (RESP3, bytes, its retries) apart from Lambda-sized timeouts: the targets'."""
    return Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


def client(url: str) -> Redis:
    """A client configured as actionlog.redis_client.create_client does with the default settings."""
    retry = Retry(ExponentialBackoff(cap=0.2, base=0.05), 1)
    options = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0, "socket_keepalive": True, "retry": retry}
    return Redis.from_url(url, protocol=2, health_check_interval=10, decode_responses=True, **options)


def send(redis: Redis, commands: Commands, one_by_one: bool = False) -> object:
    """Redis commands as redis-py sends them (what its typed methods call): several in one MULTI ... EXEC
    pipeline, unless `one_by_one`, each awaited in turn."""
    call: Callable[..., object] = redis.execute_command  # what its typed methods call, untyped
    if one_by_one or len(commands) == 1:
        return [call(*command) for command in commands][-1]
    with redis.pipeline(transaction=True) as pipe:
        queue: Callable[..., object] = pipe.execute_command
        for command in commands:
            queue(*command)
        return pipe.execute()


@dataclass(frozen=True)
class Floor:
    """An operation's Redis work about one user: its commands, sent together unless `one_by_one`."""

    name: str
    description: str  # the report's
    commands: Callable[[str], Commands]  # about the user
    one_by_one: bool = False

    def __call__(self, redis: Redis, user: str = USER) -> object:
        return send(redis, self.commands(user), self.one_by_one)

    @property
    def round_trips(self) -> int:
        return len(self.commands(USER)) if self.one_by_one else 1


FLOORS = {
    floor.name: floor
    for floor in (
        Floor("log_one", "MULTI LPUSH LTRIM EXEC (actionlog.actions.log_actions with one entry)",
              lambda user: (("LPUSH", actions_key(user), ENTRY), trim(user))),
        Floor("log_batch", "MULTI LPUSH (100 entries) LTRIM EXEC",
              lambda user: (("LPUSH", actions_key(user), *[ENTRY] * BATCH_SIZE), trim(user))),
        Floor("read_50", "LRANGE 0 49", lambda user: (("LRANGE", actions_key(user), 0, READ_LIMIT - 1),)),
        Floor("count", "LLEN", lambda user: (("LLEN", actions_key(user)),)),
        Floor("clear", "DEL of the user's list (100 entries)", lambda user: (("DEL", actions_key(user)),)),
        Floor("erase_user", "ZRANGE of the user's cache index, then DEL of their keys (a list of 100, an entry)",
              lambda user: (("ZRANGE", own_index_key(user), 0, -1), ("DEL", *user_keys(user))), one_by_one=True),
        Floor("cache_set", "SET EX", lambda user: (("SET", CACHE_KEY, CACHE_VALUE, "EX", TTL_SECONDS),)),
        Floor("cache_get", "MULTI GET TTL EXEC", lambda user: (("GET", CACHE_KEY), ("TTL", CACHE_KEY))),
        Floor("cache_delete", "DEL", lambda user: (("DEL", CACHE_KEY),)),
        Floor("user_cache_set", "MULTI SET PX, ZADD, HSET, HINCRBY EXEC (the entry, its index and sizes)", own_set),
        Floor("user_cache_get", "MULTI GET PTTL EXEC", lambda user: (("GET", own_key(user)), ("PTTL", own_key(user)))),
        Floor("user_cache_delete", "MULTI DEL, HDEL, HINCRBY, ZREM EXEC",
              lambda user: (("DEL", own_key(user)), ("HDEL", own_sizes_key(user), OWN_KEY),
                            ("HINCRBY", own_sizes_key(user), "#total", -len(OWN_VALUE)),
                            ("ZREM", own_index_key(user), OWN_KEY))),
        Floor("health", "MULTI SET EX, GET EXEC",
              lambda user: (("SET", "actionlog:health", "0123456789abcdef", "EX", 10), ("GET", "actionlog:health"))),
        Floor("health_info", "INFO server clients memory", lambda user: (("INFO", "server", "clients", "memory"),)),
        Floor("seed_log_one", "LPUSH, then LTRIM in a second round trip (the seed's write, not atomic)",
              lambda user: (("LPUSH", actions_key(user), ENTRY), trim(user)), one_by_one=True),
        # Fixtures: the user's list at its cap (a read of 50 finds 50, a clear deletes something), and with it an
        # entry of their own cache (an erasure deletes both).
        Floor("full_list", "", full_list),
        Floor("user_data", "", lambda user: (*full_list(user), *own_set(user))),
    )
}  # fmt: skip
