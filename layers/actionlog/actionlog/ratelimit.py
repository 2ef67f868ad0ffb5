"""Rate limits: fixed windows aligned to the epoch, counted in Redis, exact however many requests arrive at once.

HTTP APIs have no per-user usage plans, so a signed-in app user is limited here. Who is counted: the user a
request is about (`/users/{userId}/...`, the Serverpod userActions methods), or the backend client on `/cache/...`.
Every limited operation counts its request in its own round trip: a write in its script (actions.py, cache.py,
erasure.py), a read of the newest entries or the count of the log pipelined beside its command (`count_beside`).
Only the shared cache on a cluster counts with `count`, a round trip before its operation (its counter is in another
hash slot than the key).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis import exceptions as redis_errors

from actionlog import keys, scripts, wire
from actionlog.errors import RateLimited, translate_store_errors
from actionlog.observability import count as count_metric
from actionlog.redis_client import RedisClient
from actionlog.settings import Settings
from actionlog.wire import Command

WRITES = "writes"
READS = "reads"


@dataclass(slots=True)
class RateLimit:
    """One request's meter: its counter, limit and window; `used` and `reset_ms` once the request is counted."""

    key: str
    kind: str  # WRITES or READS
    limit: int
    window_ms: int
    used: int | None = None  # None: not counted (no limit, Redis unavailable, or a read the store could not count)
    reset_ms: int = 0

    @classmethod
    def for_user(cls, user_id: str, kind: str, settings: Settings) -> RateLimit | None:
        return cls._of(keys.user_rate_key(user_id, kind), kind, settings)

    @classmethod
    def for_client(cls, client_id: str, kind: str, settings: Settings) -> RateLimit | None:
        return cls._of(keys.client_rate_key(client_id, kind), kind, settings)

    @classmethod
    def _of(cls, key: str, kind: str, settings: Settings) -> RateLimit | None:
        limit = settings.rate_limit_reads if kind == READS else settings.rate_limit_writes
        return cls(key, kind, limit, settings.rate_limit_window_seconds * 1000) if limit > 0 else None

    def args(self) -> list[int]:
        """What a script's `count_request` is given: the limit and the window."""
        return [self.limit, self.window_ms]

    def counted(self, used: int, reset_ms: int) -> None:
        """Record a script's count; raise RateLimited (429) when it passed the limit. `used` < 0: not counted."""
        if used < 0:
            return
        self.used, self.reset_ms = used, reset_ms
        if used > self.limit:
            count_metric("RateLimited")
            raise RateLimited(self.limit, self.reset_seconds)

    @property
    def reset_seconds(self) -> int:
        return max(1, -(-self.reset_ms // 1000))

    def headers(self) -> dict[str, str]:
        """The RateLimit-* headers of an answer once the request was counted."""
        if self.used is None:
            return {}
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "RateLimit-Reset": str(self.reset_seconds),
        }


@translate_store_errors
def _count(limit: RateLimit, redis: RedisClient) -> tuple[int, int]:
    lenient = limit.kind == READS  # a read the store cannot count for lack of memory is served all the same
    used, reset_ms = scripts.COUNT(keys=[limit.key], args=[*limit.args(), int(lenient)], client=redis)
    return int(used), int(reset_ms)


def count(limit: RateLimit, *, redis: RedisClient) -> None:
    """Count one request on its own (one round trip); RateLimited (429) over the limit."""
    limit.counted(*_count(limit, redis))


def count_beside(limit: RateLimit, commands: Sequence[Command], *, redis: RedisClient) -> list[Any]:
    """Count a read and send `commands` (reads of the same slot, or of any key on a standalone Redis) with it, in one
    round trip, no script: INCR, then PEXPIREAT NX at the window's end (by this clock: the first request of a window
    sets it; the answer's RateLimit-Reset is read from the same clock), and `commands`; their replies, or
    RateLimited (429) over the
    limit. Not a MULTI, which Redis refuses whole while out of memory: a count the store cannot write is skipped, and
    the read served."""
    now = int(time.time() * 1000)
    window_end = (now // limit.window_ms + 1) * limit.window_ms
    used, _, *replies = _pipelined(limit.key, window_end, commands, redis)
    for result in replies if isinstance(used, redis_errors.OutOfMemoryError) else (used, *replies):
        if isinstance(result, Exception):
            raise result
    if not isinstance(used, Exception):
        limit.counted(int(used), window_end - now)
    return replies


@translate_store_errors
def _pipelined(key: str, window_end: int, commands: Sequence[Command], redis: RedisClient) -> list[Any]:
    # INCR itself: redis-py's incr() sends INCRBY, a command the ACL line need not grant.
    return wire.send(redis, [("INCR", key), ("PEXPIREAT", key, window_end, "NX"), *commands])
