"""The per-user action log: `user:<id>:actions`, a list of JSON entries, newest first, capped.

Every write is one MULTI/EXEC round trip (LPUSH + LTRIM), so no reader sees the list over its cap and
no concurrent writer loses an entry that should stay.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from actionlog import keys
from actionlog.errors import translate_store_errors
from actionlog.models import ActionEntry
from actionlog.redis_client import RedisClient


@translate_store_errors
def log_actions(user_id: str, entries: Sequence[ActionEntry], *, max_entries: int, redis: RedisClient) -> int:
    """Push `entries` (oldest first) onto the user's list and trim it to `max_entries`."""
    key = keys.actions_key(user_id)
    with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(key, *(entry.encode() for entry in entries))
        pipe.ltrim(key, 0, max_entries - 1)
        pipe.execute()
    return len(entries)


@translate_store_errors
def recent_actions(user_id: str, limit: int, *, redis: RedisClient) -> list[str]:
    """The newest `limit` entries as stored (JSON strings), newest first."""
    stored: list[str] = redis.lrange(keys.actions_key(user_id), 0, limit - 1)  # type: ignore[assignment]
    return stored


@translate_store_errors
def clear_actions(user_id: str, *, redis: RedisClient) -> bool:
    """Delete the user's list; True when there was one."""
    deleted: int = redis.delete(keys.actions_key(user_id))
    return deleted > 0


def decode_entry(stored: str) -> ActionEntry:
    """An entry as stored, read back. An entry that is not an Actionlog/seed JSON object is kept as `raw`."""
    try:
        return ActionEntry.model_validate_json(stored)
    except ValueError:
        pass
    try:
        legacy = json.loads(stored)
    except ValueError:
        legacy = None
    action = legacy.get("action") if isinstance(legacy, dict) else None
    return ActionEntry.model_validate(
        {"action": action if isinstance(action, str) else "", "timestamp": "", "raw": stored}
    )
