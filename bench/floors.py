"""The floors: each handler's Redis work done with raw redis-py, which is what the handler is compared with.

When a handler changes its Redis work (say, a Lua script for idempotent writes), change its floor to match, so the
ratio keeps measuring the handler's own overhead. This module imports redis and nothing heavier: the cold-start
floor function is a copy of it and a one-line handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# The keys and values the events in events/ lead the handlers to touch (see actionlog.keys).
ACTIONS_KEY, MAX_ENTRIES, BATCH_SIZE, READ_LIMIT = "user:123:actions", 100, 100, 50  # ACTIONS_MAX_ENTRIES' default
CACHE_KEY, CACHE_VALUE = "session:abc123", '{"userId":123,"theme":"dark"}'  # as the handler encodes cache_set.json's
# An entry the size of the one log_action stores for events/log_action.json (the same fields, a uuid4 hex id).
ENTRY = (
    '{"action":"login","timestamp":"2026-11-25T12:00:00.000Z",'
    '"metadata":{"device":"ios","appVersion":"2.4.1"},"id":"0f8e5c1b9a6d4e2f8b7c3a1d5e9f0b2c"}'
)
TRIM = ("LTRIM", ACTIONS_KEY, 0, MAX_ENTRIES - 1)


def plain_client(url: str) -> Redis:
    """redis-py with its own defaults (RESP3, bytes, its retries) apart from Lambda-sized timeouts: the targets'."""
    return Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


def client(url: str) -> Redis:
    """A client configured as actionlog.redis_client.create_client does with the default settings."""
    retry = Retry(ExponentialBackoff(cap=0.2, base=0.05), 1)
    options = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0, "socket_keepalive": True, "retry": retry}
    return Redis.from_url(url, protocol=2, health_check_interval=10, decode_responses=True, **options)


@dataclass(frozen=True)
class Floor:
    """Redis commands as redis-py sends them (what its typed methods call): several in one MULTI ... EXEC pipeline,
    unless `one_by_one`, each awaited in turn."""

    name: str
    description: str  # the report's
    commands: tuple[tuple[object, ...], ...]
    one_by_one: bool = False

    def __call__(self, redis: Redis) -> object:
        send: Callable[..., object] = redis.execute_command  # what its typed methods call, untyped
        if self.one_by_one or len(self.commands) == 1:
            return [send(*command) for command in self.commands][-1]
        with redis.pipeline(transaction=True) as pipe:
            queue: Callable[..., object] = pipe.execute_command
            for command in self.commands:
                queue(*command)
            return pipe.execute()


FLOORS = {
    floor.name: floor
    for floor in (
        Floor("log_one", "MULTI LPUSH LTRIM EXEC (actionlog.actions.log_actions with one entry)",
              (("LPUSH", ACTIONS_KEY, ENTRY), TRIM)),
        Floor("log_batch", "MULTI LPUSH (100 entries) LTRIM EXEC",
              (("LPUSH", ACTIONS_KEY, *[ENTRY] * BATCH_SIZE), TRIM)),
        Floor("read_50", "LRANGE 0 49", (("LRANGE", ACTIONS_KEY, 0, READ_LIMIT - 1),)),
        Floor("clear", "DEL of the user's list (100 entries)", (("DEL", ACTIONS_KEY),)),
        Floor("cache_set", "SET EX", (("SET", CACHE_KEY, CACHE_VALUE, "EX", 3600),)),
        Floor("cache_get", "MULTI GET TTL EXEC", (("GET", CACHE_KEY), ("TTL", CACHE_KEY))),
        Floor("cache_delete", "DEL", (("DEL", CACHE_KEY),)),
        Floor("health", "MULTI SET EX, GET EXEC",
              (("SET", "actionlog:health", "0123456789abcdef", "EX", 10), ("GET", "actionlog:health"))),
        Floor("health_info", "INFO server clients memory", (("INFO", "server", "clients", "memory"),)),
        Floor("seed_log_one", "LPUSH, then LTRIM in a second round trip (the seed's write, not atomic)",
              (("LPUSH", ACTIONS_KEY, ENTRY), TRIM), one_by_one=True),
        # A fixture: the user's list at its cap, so a read of 50 finds 50 and a clear deletes something.
        Floor("full_list", "", (("DEL", ACTIONS_KEY), ("LPUSH", ACTIONS_KEY, *[ENTRY] * MAX_ENTRIES))),
    )
}  # fmt: skip
