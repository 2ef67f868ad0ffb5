"""The key-value cache: JSON values under allowed prefixes, with an optional TTL. One round trip each."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from actionlog.errors import translate_store_errors
from actionlog.redis_client import RedisClient


class CachedValue(NamedTuple):
    encoded: str
    ttl_seconds: int | None


def decode(cached: CachedValue) -> Any:
    """The stored JSON value; a value another client stored that is not JSON is returned as its text."""
    try:
        return json.loads(cached.encoded)
    except ValueError:
        return cached.encoded


@translate_store_errors
def put(key: str, encoded_value: str, ttl_seconds: int | None, *, redis: RedisClient) -> None:
    redis.set(key, encoded_value, ex=ttl_seconds)


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
