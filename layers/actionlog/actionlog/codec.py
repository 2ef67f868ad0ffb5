"""The storage codec: how values and entries are written to Redis, and how what Redis holds is read back.

One JSON encoding is stored everywhere: compact, UTF-8 kept as is, pydantic-core's encoder. What is stored is
stored as the bytes a reader can hand back unchanged: a read writes its answer around the stored text rather than
decoding and encoding it again.
"""

import functools
import json
import re
from collections.abc import Sequence
from datetime import datetime
from itertools import repeat
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
    refuse_unstorable([encoded])
    return encoded


def refuse_unstorable(encoded: Sequence[bytes], values: Sequence[Any] = ()) -> None:
    """Raise BadRequest (400) unless every JSON reader can take back each of `encoded` (pydantic-core's encodings).

    pydantic-core's parser takes into an `Any` what not every reader takes back: NaN, Infinity and numbers that
    overflow a double (as infinity), which would be stored as text no JSON parser reads; integers beyond
    ±MAX_SAFE_INTEGER, which JavaScript and Dart on the web would read as another number; and any nesting up to 200
    levels, where Actionlog stores at most MAX_JSON_DEPTH. All are refused like the parser's own refusals.

    Only the encodings are read (`values` is not needed): each test is a search of the bytes in C, and the text
    outside strings is made only when a test could fail, so a request costs about what parsing it cost, however its
    containers are shaped. Never a walk of the decoded containers.
    """
    joined = b"\n".join(encoded)
    # A level of nesting takes two bytes: only a long encoding can be too deep, and most are not even counted.
    deep = max(map(len, encoded), default=0) > 2 * MAX_JSON_DEPTH and any(
        len(text) > 2 * MAX_JSON_DEPTH and text.count(b"[") + text.count(b"{") > MAX_JSON_DEPTH for text in encoded
    )
    odd_numbers = b"NaN" in joined or b"Infinity" in joined
    long_numbers = _LONG_DIGITS in joined.translate(_DIGITS_AS_ZERO)
    if not (deep or odd_numbers or long_numbers):
        return
    structure = _outside_strings(joined)
    if odd_numbers and (b"NaN" in structure or b"Infinity" in structure):
        raise BadRequest("request body is not valid JSON: NaN, Infinity or a number beyond a double's range")
    if long_numbers and _unsafe_integer().search(structure):
        raise BadRequest(
            f"request body holds an integer beyond ±{MAX_SAFE_INTEGER} (2^53 - 1), which JSON readers such as"
            " JavaScript's take back as another number: send it as a string"
        )
    if deep and _within_depth().fullmatch(structure.translate(_BRACKETS, _NOT_BRACKETS)) is None:
        raise BadRequest(f"request body is not JSON to store: nested deeper than {MAX_JSON_DEPTH} levels")


def _outside_strings(encoded: bytes) -> bytes:
    """The encoding without its strings (keys and values): only structure and numbers remain.

    In JSON text a backslash only appears in a string, escaping the next character: dropping `\\\\` pairs (left to
    right, as a parser pairs them) and then `\\"` leaves exactly the quotes that open and close strings, so every
    other piece between quotes is outside them. All in C: a replace, a split and a join.
    """
    if b"\\" in encoded:
        encoded = encoded.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(encoded.split(b'"')[::2])


def _greater_than(bound: int) -> bytes:
    """A regex of the decimal numerals, without leading zeros, of the integers above `bound` (a positive integer)."""
    digits = str(bound)
    longer = rb"[1-9]\d{%d,}" % len(digits)
    same_length = [
        re.escape(digits[:place].encode()) + b"[%d-9]" % (int(digit) + 1) + rb"\d" * (len(digits) - place - 1)
        for place, digit in enumerate(digits)
        if digit != "9"
    ]
    return b"|".join([longer, *same_length])


def _nested_at_most(levels: int) -> bytes:
    """A regex of the bracket sequences (`[` and `]` only) nested at most `levels` deep; possessive, so one pass."""
    pattern = b""
    for _ in range(levels):
        pattern = rb"(?:\[" + pattern + rb"\])*+"
    return pattern


# JavaScript's Number.MAX_SAFE_INTEGER: the largest n such that n and n + 1 are both doubles. An integer beyond it is
# read by JavaScript or Dart on the web as another integer (and by a Dart VM beyond 2^63 as a double): refused. A
# number written with a fraction or an exponent is a double already, and every reader takes it back as one.
MAX_SAFE_INTEGER = 2**53 - 1
# A run of digits that could be an unsafe number: the cheap test before the text outside strings is made (a search
# for a run of zeros once every digit is one: a substring search, ten times as fast as a regex's `\d{16}`).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * len(str(MAX_SAFE_INTEGER))
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


# The two regexes are compiled by the first body that needs them (few do), not at import: about 1 ms of a cold start.
@functools.cache
def _unsafe_integer() -> re.Pattern[bytes]:
    """An integer token above MAX_SAFE_INTEGER, with or without its sign: digits neither of a fraction nor of an
    exponent."""
    return re.compile(rb"(?<![\d.eE+\-])-?(?:%b)(?![\d.eE])" % _greater_than(MAX_SAFE_INTEGER))


@functools.cache
def _within_depth() -> re.Pattern[bytes]:
    """A structure's brackets (all made `[`, `]`) nested at most MAX_JSON_DEPTH deep."""
    return re.compile(_nested_at_most(MAX_JSON_DEPTH))


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

    An entry in the layout Actionlog writes (`written_here`) is taken as it was written: its parts are pydantic-core's
    encodings, checked when it was logged. The others (the seed's older shapes, another writer's text) are parsed,
    once for all, and only when one is not a well-formed entry is each looked at and the odd ones rebuilt. Parsing
    50 entries of our own again was a sixth of a read.
    """
    text = "[" + ",".join(stored) + "]"
    if all_written_here(stored):
        return text
    others = [entry for entry in stored if not written_here(entry)]
    try:
        parsed = pydantic_core.from_json("[" + ",".join(others) + "]", allow_inf_nan=False)
    except ValueError:
        parsed = None
    if isinstance(parsed, list) and len(parsed) == len(others) and all(map(_well_formed, parsed)):
        return text
    return "[" + ",".join(entry if written_here(entry) else _entry_json(entry) for entry in stored) + "]"


def written_here(entry: str) -> bool:
    """Whether `entry` has the layout of actions.new_entries: `{"action":…,"id":"<32 hex digits>"}`."""
    return entry.startswith('{"action":"') and _ENDING.match(entry, len(entry) - _ENDING_LENGTH) is not None


_ENDING = re.compile(r',"id":"[0-9a-f]{32}"\}\Z')
_ENDING_LENGTH = len(',"id":"') + 32 + len('"}')
_HEAD = '{"action":"'
# An ending with each lower-case hex digit read as "x" (bytes.translate): its fixed parts stay, but for the "d" of
# "id" (a hex digit too, checked apart), and any other character in the id would show.
_AS_X = bytes.maketrans(b"0123456789abcdef", b"x" * 16)
_MASKED = (',"ix":"' + "x" * 32 + '"}').encode()


def all_written_here(stored: Sequence[str]) -> bool:
    """Whether every entry is `written_here`, tested on all at once by C-level loops (entry by entry, the test was a
    fifth of a read of 50): every head; then the endings joined, their hex digits masked, against the layout."""
    if not all(map(str.startswith, stored, repeat(_HEAD))):
        return False
    endings = "".join([entry[-_ENDING_LENGTH:] for entry in stored])
    count = len(stored)
    return (
        len(endings) == count * _ENDING_LENGTH
        and endings[3::_ENDING_LENGTH] == "d" * count
        and endings.isascii()
        and endings.encode().translate(_AS_X) == _MASKED * count
    )


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
