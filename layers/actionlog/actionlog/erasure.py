"""Erasing a user: every key that holds the user's data, found from the user id alone (keys.py), in one script.

The rate counters stay: they hold a count, not data the user stored, and they expire at their window's end (at most
RATE_LIMIT_WINDOW_SECONDS); deleting them would let a user reset their limit by erasing themselves between writes.

The cost is bounded by the user's own data (their keys, and their own cache's entries, at most USER_CACHE_MAX_KEYS),
never by the keyspace: no SCAN, no KEYS. Everything is in the user's hash slot, so it works the same on a cluster.
It takes two round trips: the index of the user's cache is read, then one script deletes every key, the entries the
index names included. A script runs whole or not at all, and it declares every key it deletes: when the index
names an entry the caller did not read (a write came in between), it deletes nothing and the index is read again.
A call that dies between the two steps has deleted nothing, and the next call does it all.
"""

from actionlog import keys, scripts, wire
from actionlog.errors import StoreUnavailable, translate_store_errors
from actionlog.ratelimit import RateLimit
from actionlog.redis_client import RedisClient

# KEYS: the user's own keys (keys.user_keys: the write counter is the 6th), then the entries of their cache.
# ARGV: the entries' key prefix, the rate limit and window (ms).
# Returns {keys of stored data deleted, used, reset}; {-1, used, reset} when the index names an entry that is not
# among KEYS (the request is counted once all the same); {-2, used, reset} over the rate limit (nothing deleted).
_ERASE = scripts.script("""
local used, reset, over = count_request(KEYS[6], ARGV[2], ARGV[3], now_ms(), false)
if over then
  return {-2, used, reset}
end
local declared = {}
for index = 8, #KEYS do
  declared[KEYS[index]] = true
end
for _, name in ipairs(call('ZRANGE', KEYS[4], 0, -1)) do
  if not declared[ARGV[1] .. name] then
    call('DECR', KEYS[6])
    return {-1, used, reset}
  end
end
local deleted = call('DEL', unpack(KEYS, 1, 5))
for first = 8, #KEYS, 500 do
  deleted = deleted + call('DEL', unpack(KEYS, first, math.min(first + 499, #KEYS)))
end
return {deleted, used, reset}
""")

_ATTEMPTS = 3  # a user writing their cache while being erased makes the index change at most this often


def erase_user(user_id: str, *, redis: RedisClient, rate: RateLimit | None = None) -> bool:
    """Delete everything Actionlog holds of the user; True when there was anything. With `rate`, the request is
    counted against the user's write limit in the erasing script (429, nothing deleted, over it)."""
    prefix = keys.user_cache_prefix(user_id)
    for _ in range(_ATTEMPTS):
        deleted, used, reset_ms = _erase(user_id, prefix, rate, redis)
        if rate is not None:
            rate.counted(used, reset_ms)
        if deleted >= 0:
            return deleted > 0
    raise StoreUnavailable("the user's cache kept changing while it was erased; retry")


@translate_store_errors
def _erase(user_id: str, prefix: str, rate: RateLimit | None, redis: RedisClient) -> tuple[int, int, int]:
    names: list[str] = wire.call(redis, "ZRANGE", keys.user_cache_index_key(user_id), 0, -1)
    entries = [prefix + name for name in names]
    deleted, used, reset_ms = _ERASE(
        keys=[*keys.user_keys(user_id), *entries],
        args=[prefix, *(rate.args() if rate is not None else (0, 1))],
        client=redis,
    )
    return int(deleted), int(used), int(reset_ms)
