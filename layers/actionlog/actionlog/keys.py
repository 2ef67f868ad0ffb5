"""Every Redis key Actionlog touches, and the cache-key policy. No other module builds a key.

Cluster layout: each operation touches one key, or keys that share a hash slot. The action list keeps the seed's
name `user:<id>:actions` (no hash tag, so existing data stays where it is); every other key that holds a user's
data wraps that whole name in a hash tag, `{user:<id>:actions}`, which hashes to the same slot as the bare name.
So all of one user's data (log, receipts, own cache, its index, rate counters) lives in one slot: a write and its
counters are one script, and erasing a user is bounded by the user's own keys, never a scan of the keyspace.
"""

from __future__ import annotations

import functools
import hashlib
import re

from actionlog.errors import BadRequest, Forbidden

USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
CACHE_KEY_PATTERN = r"^[A-Za-z0-9:_.-]{1,256}$"
USER_CACHE_KEY_PATTERN = r"^[A-Za-z0-9:_.-]{1,200}$"
HEALTH_KEY = "actionlog:health"

_USER_ID = re.compile(USER_ID_PATTERN)
_CACHE_KEY = re.compile(CACHE_KEY_PATTERN)
_USER_CACHE_KEY = re.compile(USER_CACHE_KEY_PATTERN)
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@functools.lru_cache(maxsize=1024)  # a warm container's users: every key of a user derives from it, checked once
def actions_key(user_id: str) -> str:
    """The seed's action list of one user."""
    return f"user:{_user(user_id)}:actions"


def receipts_key(user_id: str) -> str:
    """HASH: the receipts of the user's keyed writes (SQS message id, Idempotency-Key), by write id; the list's slot."""
    return "actionlog:receipts:{" + actions_key(user_id) + "}"


def receipt_expiries_key(user_id: str) -> str:
    """ZSET: when each of the user's receipts expires (epoch milliseconds), by write id; the list's slot."""
    return "actionlog:receipt-expiries:{" + actions_key(user_id) + "}"


def _slot(user_id: str) -> str:
    return "{" + actions_key(user_id) + "}"


def user_cache_key(user_id: str, key: str) -> str:
    """A user's own cache entry: any key of theirs, inside their namespace (never another's, never their list)."""
    if not _USER_CACHE_KEY.fullmatch(key):
        raise BadRequest("cache key must be 1 to 200 characters of A-Z, a-z, 0-9, ':', '_', '.' or '-'")
    return user_cache_prefix(user_id) + key


def user_cache_prefix(user_id: str) -> str:
    """What every key of the user's own cache starts with (the user's key follows it)."""
    return f"actionlog:user-cache:{_slot(user_id)}:"


def user_cache_index_key(user_id: str) -> str:
    """ZSET: the user's own cache keys, scored by when each expires (epoch ms; +inf for never)."""
    return f"actionlog:user-cache-index:{_slot(user_id)}"


def user_cache_sizes_key(user_id: str) -> str:
    """HASH: the size in bytes of each of the user's cache values, and their total (USER_CACHE_TOTAL_FIELD)."""
    return f"actionlog:user-cache-sizes:{_slot(user_id)}"


USER_CACHE_TOTAL_FIELD = "#total"  # a field no cache key can name ('#' is not in USER_CACHE_KEY_PATTERN)


def user_rate_key(user_id: str, kind: str) -> str:
    """STRING: the requests of one `kind` (writes, reads) about the user in the current window; the user's slot."""
    return f"actionlog:rate:{_slot(user_id)}:{kind}"


def client_rate_key(client_id: str, kind: str) -> str:
    """STRING: a backend client's requests of one `kind` on the shared cache in the current window."""
    name = client_id if _CLIENT_ID.fullmatch(client_id) else hashlib.sha256(client_id.encode()).hexdigest()[:32]
    return f"actionlog:rate:{{client:{name}}}:{kind}"


def user_keys(user_id: str) -> tuple[str, ...]:
    """Every key of the user but the entries of their own cache (listed in its index); the rate counters last."""
    return (
        actions_key(user_id),
        receipts_key(user_id),
        receipt_expiries_key(user_id),
        user_cache_index_key(user_id),
        user_cache_sizes_key(user_id),
        user_rate_key(user_id, "writes"),
        user_rate_key(user_id, "reads"),
    )


def _user(user_id: str) -> str:
    """A user id that names one user's keys only: no ':', '*', '{' or look-alike characters."""
    if not _USER_ID.fullmatch(user_id):
        raise BadRequest("userId must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'")
    return user_id


def cache_key(key: str, allowed_prefixes: tuple[str, ...]) -> str:
    """Check a caller's cache key against the key policy and return it unchanged."""
    if not _CACHE_KEY.fullmatch(key):
        raise BadRequest("cache key must be 1 to 256 characters of A-Z, a-z, 0-9, ':', '_', '.' or '-'")
    if not key.startswith(allowed_prefixes):
        raise Forbidden(f"cache key must start with one of: {', '.join(allowed_prefixes)}")
    return key
