"""The key-value cache: JSON values with an optional TTL, one round trip each.

Two namespaces share these operations: the shared cache of backend clients (keys under CACHE_KEY_PREFIXES, e.g.
`session:abc`) and each user's own (`user:<id>:cache:<key>`); keys.py names both.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from actionlog.codec import encode_json
from actionlog.errors import NotFound, PayloadTooLarge, translate_store_errors
from actionlog.models import MAX_CACHE_VALUE_BYTES
from actionlog.observability import count
from actionlog.redis_client import RedisClient


class CachedValue(NamedTuple):
    encoded: str
    ttl_seconds: int | None

    def value(self) -> Any:
        """The stored JSON value; a value another client stored that is not JSON is returned as its text."""
        try:
            return json.loads(self.encoded)
        except ValueError:
            return self.encoded


def put(key: str, value: Any, ttl_seconds: int | None, *, redis: RedisClient) -> None:
    """Store `value` as JSON under `key`: at most MAX_CACHE_VALUE_BYTES (else 413), expiring after `ttl_seconds`."""
    encoded = encode_json(value)
    if len(encoded.encode()) > MAX_CACHE_VALUE_BYTES:
        raise PayloadTooLarge(f"value must be at most {MAX_CACHE_VALUE_BYTES} bytes of JSON")
    _set(key, encoded, ttl_seconds, redis=redis)


@translate_store_errors
def _set(key: str, encoded: str, ttl_seconds: int | None, *, redis: RedisClient) -> None:
    redis.set(key, encoded, ex=ttl_seconds)


def lookup(key: str, *, redis: RedisClient, name: str | None = None) -> CachedValue:
    """The value under `key` and its remaining TTL, counted as a CacheHit or a CacheMiss; a 404 when absent, which
    names the key as the caller did (`name`; `key` by default), never the stored one."""
    cached = get(key, redis=redis)
    count("CacheMiss" if cached is None else "CacheHit")
    if cached is None:
        raise NotFound(f"no cached value for {name or key}")
    return cached


@translate_store_errors
def get(key: str, *, redis: RedisClient) -> CachedValue | None:
    """The value and its remaining TTL, read together in one MULTI so the two agree."""
    with redis.pipeline(transaction=True) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        encoded, ttl = pipe.execute()
    if encoded is None:
        return None
    return CachedValue(encoded=encoded, ttl_seconds=ttl if ttl >= 0 else None)


@translate_store_errors
def delete(key: str, *, redis: RedisClient) -> bool:
    deleted: int = redis.delete(key)
    return deleted > 0
