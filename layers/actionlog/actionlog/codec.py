"""The storage codec: how values and entries are written to Redis, and how what Redis holds is read back.

One JSON encoding is stored everywhere: compact, UTF-8 kept as is, pydantic-core's encoder. What is stored is
stored as the bytes a reader can hand back unchanged: a read writes its answer around the stored text rather than
decoding and encoding it again.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pydantic_core

from actionlog.errors import BadRequest
from actionlog.models import MAX_JSON_DEPTH, ActionEntry


def encode_json(value: Any) -> str:
    """The one JSON encoding Actionlog stores, as text. See `storable`."""
    return storable(value).decode()


def storable(value: Any) -> bytes:
    """`value` encoded as stored, when every JSON reader can take it back (see `refuse_unstorable`)."""
    encoded = pydantic_core.to_json(value)
    refuse_unstorable([encoded], [value])
    return encoded


def refuse_unstorable(encoded: Sequence[bytes], values: Sequence[Any]) -> None:
    """Raise BadRequest (400) unless every JSON reader can take back each of `encoded`, the encodings of `values`.

    pydantic-core's parser takes NaN, Infinity and numbers that overflow a double (as infinity) into an `Any`, which
    would be stored as text no JSON parser reads back; and any nesting up to 200 levels, where Actionlog stores at
    most MAX_JSON_DEPTH. Both are the caller's invalid JSON, like the parser's own refusals. The check reads the
    encodings Actionlog makes anyway, all in one search: a batch's entries cost a few µs, not a walk.
    """
    joined = b"\n".join(encoded)
    if b"NaN" in joined or b"Infinity" in joined:
        for text, value in zip(encoded, values, strict=True):
            if text != pydantic_core.to_json(value, inf_nan_mode="null"):
                raise BadRequest("request body is not valid JSON: NaN, Infinity or a number beyond a double's range")
    for text, value in zip(encoded, values, strict=True):
        # A level of nesting takes two bytes, so only a long encoding can be too deep: most are not even counted.
        if (
            len(text) > 2 * MAX_JSON_DEPTH
            and text.count(b"[") + text.count(b"{") > MAX_JSON_DEPTH
            and _depth(value) > MAX_JSON_DEPTH
        ):
            raise BadRequest(f"request body is not JSON to store: nested deeper than {MAX_JSON_DEPTH} levels")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def utc_timestamp(moment: datetime) -> bytes:
    """ISO-8601 in UTC with millisecond precision and a `Z`, as the seed stores it: 2025-10-15T14:30:00.250Z.

    pydantic-core writes a moment in UTC as `"2025-10-15T14:30:00Z"` or `"2025-10-15T14:30:00.250000Z"` at half
    the cost of Python's isoformat, which a batch of client timestamps notices; other zones go through UTC first.
    """
    written = pydantic_core.to_json(moment)
    if not written.endswith(b'Z"'):
        offset = moment.utcoffset()
        written = pydantic_core.to_json(
            (moment.replace(tzinfo=None) - offset) if offset else moment.replace(tzinfo=None)
        )
        written = written[:-1] + b'Z"'
    return written[1:20] + (written[20:24] if len(written) > 22 else b".000") + b"Z"


def entries_json(stored: Sequence[str]) -> str:
    """The stored entries as one JSON array, newest first, reusing the stored text.

    Decoding 50 entries into models and encoding them again was most of a read. The array is parsed once, with
    pydantic-core's parser, to check that it holds exactly the stored entries and that each is a well-formed entry;
    only when it does not (the seed's older shapes, text that is not JSON) is each entry looked at, and the odd ones
    rebuilt.
    """
    text = "[" + ",".join(stored) + "]"
    try:
        parsed = pydantic_core.from_json(text, allow_inf_nan=False)
    except ValueError:
        parsed = None
    if isinstance(parsed, list) and len(parsed) == len(stored) and all(map(_well_formed, parsed)):
        return text
    return "[" + ",".join(_entry_json(entry) for entry in stored) + "]"


def _well_formed(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("action"), str)
        and isinstance(entry.get("timestamp"), str)
        and isinstance(entry.get("metadata"), dict)
        and isinstance(entry.get("id", ""), str)
    )


def _entry_json(stored: str) -> str:
    try:
        parsed = pydantic_core.from_json(stored, allow_inf_nan=False)
    except ValueError:
        parsed = None
    if _well_formed(parsed):
        return stored
    return decode_entry(stored).to_json()


def decode_entry(stored: str) -> ActionEntry:
    """An entry as stored, read back. An entry that is not an Actionlog/seed JSON object is kept as `raw`."""
    try:
        return ActionEntry.validate_json(stored)
    except ValueError:
        pass
    try:
        legacy = json.loads(stored)
    except ValueError:
        legacy = None
    action = legacy.get("action") if isinstance(legacy, dict) else None
    return ActionEntry.validate_python(
        {"action": action if isinstance(action, str) else "", "timestamp": "", "raw": stored}
    )
