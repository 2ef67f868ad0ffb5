"""Every Redis key Actionlog touches, and the cache-key policy. No other module builds a key.

Cluster layout: each operation touches one key, or keys that share a hash slot. The action list keeps
the seed's name `user:<id>:actions` (no hash tag, so existing data stays where it is); any key that
must join it in a transaction wraps that whole name in a hash tag, `{user:<id>:actions}`, which hashes
to the same slot as the bare name.
"""

from __future__ import annotations

import re

from actionlog.errors import BadRequest, Forbidden

USER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
CACHE_KEY_PATTERN = r"^[A-Za-z0-9:_.-]{1,256}$"
USER_CACHE_KEY_PATTERN = r"^[A-Za-z0-9:_.-]{1,200}$"
HEALTH_KEY = "actionlog:health"

_USER_ID = re.compile(USER_ID_PATTERN)
_CACHE_KEY = re.compile(CACHE_KEY_PATTERN)
_USER_CACHE_KEY = re.compile(USER_CACHE_KEY_PATTERN)


def actions_key(user_id: str) -> str:
    """The seed's action list of one user."""
    return f"user:{_user(user_id)}:actions"


def receipts_key(user_id: str) -> str:
    """HASH: the receipts of the user's keyed writes (SQS message id, Idempotency-Key), by write id; the list's slot."""
    return "actionlog:receipts:{" + actions_key(user_id) + "}"


def receipt_expiries_key(user_id: str) -> str:
    """ZSET: when each of the user's receipts expires (epoch milliseconds), by write id; the list's slot."""
    return "actionlog:receipt-expiries:{" + actions_key(user_id) + "}"


def user_cache_key(user_id: str, key: str) -> str:
    """A user's own cache entry: any key of theirs, inside their namespace (never another's, never their list)."""
    if not _USER_CACHE_KEY.fullmatch(key):
        raise BadRequest("cache key must be 1 to 200 characters of A-Z, a-z, 0-9, ':', '_', '.' or '-'")
    return f"user:{_user(user_id)}:cache:{key}"


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
