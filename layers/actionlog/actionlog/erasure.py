"""Erasing a user: every key that holds the user's data, found from the user id alone (keys.py), in one script.

The cost is bounded by the user's own data (their keys, and their own cache's entries, at most USER_CACHE_MAX_KEYS),
never by the keyspace: no SCAN, no KEYS. Everything is in the user's hash slot, so it works the same on a cluster.
It takes two round trips: the index of the user's cache is read, then one script deletes every key, the entries the
index names included. A script runs whole or not at all, and it declares every key it deletes: when the index
names an entry the caller did not read (a write came in between), it deletes nothing and the index is read again.
A call that dies between the two steps has deleted nothing, and the next call does it all.
"""

from actionlog import keys, scripts
from actionlog.errors import StoreUnavailable, translate_store_errors
from actionlog.redis_client import RedisClient

# KEYS: the user's own keys (keys.user_keys), then the entries of their cache. ARGV: the entries' key prefix.
# Returns how many keys it deleted, or -1 when the index names an entry that is not among KEYS.
_ERASE = scripts.script("""
local declared = {}
for index = 8, #KEYS do
  declared[KEYS[index]] = true
end
for _, name in ipairs(call('ZRANGE', KEYS[4], 0, -1)) do
  if not declared[ARGV[1] .. name] then
    return -1
  end
end
local deleted = 0
for first = 1, #KEYS, 500 do
  deleted = deleted + call('DEL', unpack(KEYS, first, math.min(first + 499, #KEYS)))
end
return deleted
""")

_ATTEMPTS = 3  # a user writing their cache while being erased makes the index change at most this often


@translate_store_errors
def erase_user(user_id: str, *, redis: RedisClient) -> bool:
    """Delete everything Actionlog holds of the user; True when there was anything."""
    prefix = keys.user_cache_prefix(user_id)
    for _ in range(_ATTEMPTS):
        names: list[str] = redis.zrange(keys.user_cache_index_key(user_id), 0, -1)  # type: ignore[assignment]
        entries = [prefix + name for name in names]
        deleted = int(_ERASE(keys=[*keys.user_keys(user_id), *entries], args=[prefix], client=redis))
        if deleted >= 0:
            return deleted > 0
    raise StoreUnavailable("the user's cache kept changing while it was erased; retry")
