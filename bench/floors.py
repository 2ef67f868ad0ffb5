"""The floors: each handler's Redis work done with raw redis-py, which is what the handler is compared with.

One function per operation. When a handler changes its Redis work (say, a Lua script for idempotent writes),
change its floor here to match, so the ratio keeps measuring the handler's own overhead.

This module is also what the cold-start "raw" process imports, so it imports redis and nothing heavier.
"""

from __future__ import annotations

from collections.abc import Callable

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# The keys and values the events in events/ lead the handlers to touch (see actionlog.keys).
USER_ID = "123"
ACTIONS_KEY = f"user:{USER_ID}:actions"
MAX_ENTRIES = 100  # ACTIONS_MAX_ENTRIES' default
CACHE_KEY = "session:abc123"
CACHE_VALUE = '{"userId":123,"theme":"dark"}'  # events/cache_set.json's value as the handler encodes it
CACHE_TTL_SECONDS = 3600
HEALTH_KEY = "actionlog:health"
HEALTH_KEY_TTL_SECONDS = 10
BATCH_SIZE = 100
READ_LIMIT = 50

# An entry the size of the one log_action stores for events/log_action.json (the same fields, a uuid4 hex id).
ENTRY = (
    '{"action":"login","timestamp":"2026-11-25T12:00:00.000Z",'
    '"metadata":{"device":"ios","appVersion":"2.4.1"},"id":"0f8e5c1b9a6d4e2f8b7c3a1d5e9f0b2c"}'
)

type Floor = Callable[[Redis], object]


def plain_client(url: str) -> Redis:
    """redis-py with its own defaults (RESP3, bytes, its retries) apart from Lambda-sized timeouts: the targets'."""
    return Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


def client(url: str) -> Redis:
    """A client configured as actionlog.redis_client.create_client does with the default settings."""
    return Redis.from_url(
        url,
        protocol=2,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
        socket_keepalive=True,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        health_check_interval=10,
        decode_responses=True,
    )


# The floors, in the order of the operations in bench.operations. Each docstring is its description in the report.


def log_one(redis: Redis) -> object:
    """MULTI LPUSH LTRIM EXEC (actionlog.actions.log_actions with one entry)"""
    with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(ACTIONS_KEY, ENTRY)
        pipe.ltrim(ACTIONS_KEY, 0, MAX_ENTRIES - 1)
        return pipe.execute()


def log_batch(redis: Redis) -> object:
    """MULTI LPUSH (100 entries) LTRIM EXEC"""
    with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(ACTIONS_KEY, *[ENTRY] * BATCH_SIZE)
        pipe.ltrim(ACTIONS_KEY, 0, MAX_ENTRIES - 1)
        return pipe.execute()


def read_50(redis: Redis) -> object:
    """LRANGE 0 49"""
    return redis.lrange(ACTIONS_KEY, 0, READ_LIMIT - 1)


def clear(redis: Redis) -> object:
    """DEL of the user's list (100 entries)"""
    return redis.delete(ACTIONS_KEY)


def cache_set(redis: Redis) -> object:
    """SET EX"""
    return redis.set(CACHE_KEY, CACHE_VALUE, ex=CACHE_TTL_SECONDS)


def cache_get(redis: Redis) -> object:
    """MULTI GET TTL EXEC"""
    with redis.pipeline(transaction=True) as pipe:
        pipe.get(CACHE_KEY)
        pipe.ttl(CACHE_KEY)
        return pipe.execute()


def cache_delete(redis: Redis) -> object:
    """DEL"""
    return redis.delete(CACHE_KEY)


def health(redis: Redis) -> object:
    """MULTI SET EX, GET EXEC"""
    with redis.pipeline(transaction=True) as pipe:
        pipe.set(HEALTH_KEY, "0123456789abcdef", ex=HEALTH_KEY_TTL_SECONDS)
        pipe.get(HEALTH_KEY)
        return pipe.execute()


def health_info(redis: Redis) -> object:
    """INFO server clients memory"""
    return redis.info("server", "clients", "memory")


def seed_log_one(redis: Redis) -> object:
    """LPUSH, then LTRIM in a second round trip (the seed's write, not atomic)"""
    redis.lpush(ACTIONS_KEY, ENTRY)
    return redis.ltrim(ACTIONS_KEY, 0, MAX_ENTRIES - 1)


# Fixtures: the state an operation needs, put in place outside the timed calls.


def full_list(redis: Redis) -> object:
    """The user's list at its cap, so a read of 50 finds 50 and a clear deletes something."""
    with redis.pipeline(transaction=True) as pipe:
        pipe.delete(ACTIONS_KEY)
        pipe.lpush(ACTIONS_KEY, *[ENTRY] * MAX_ENTRIES)
        return pipe.execute()


def cached_value(redis: Redis) -> object:
    return cache_set(redis)
