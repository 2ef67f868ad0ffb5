import json
from datetime import UTC, datetime

import pytest
from pydantic_core import ValidationError

from actionlog.actions import new_entries
from actionlog.errors import BadRequest, Unprocessable
from actionlog.models import ActionIn, BatchIn, CachePut


def test_an_entry_has_the_seeds_fields_and_an_id() -> None:
    [entry] = new_entries([ActionIn(action="login")], now=datetime(2025, 10, 15, 14, 30, tzinfo=UTC))

    stored = json.loads(entry)

    assert stored["action"] == "login"
    assert stored["timestamp"] == "2025-10-15T14:30:00.000Z"
    assert stored["metadata"] == {}
    assert len(stored["id"]) == 32


def test_a_client_timestamp_is_kept_and_normalised_to_utc() -> None:
    action = ActionIn.validate_json('{"action": "logout", "timestamp": "2025-10-15T16:30:00.250+02:00"}')

    assert json.loads(new_entries([action])[0])["timestamp"] == "2025-10-15T14:30:00.250Z"


def test_a_timestamp_without_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        ActionIn.validate_json('{"action": "logout", "timestamp": "2025-10-15T16:30:00"}')


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"action": ""},
        {"action": "x" * 101},
        {"action": "log\nin"},
        {"action": "bell\x07"},
        {"action": "del\x7f"},
        {"action": 42},
        {"action": "login", "metadata": "not an object"},
        {"action": "login", "timestamp": "yesterday"},
    ],
)
def test_invalid_actions_are_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ActionIn.validate_json(json.dumps(payload))


def test_action_names_may_be_unicode_up_to_100_characters() -> None:
    assert ActionIn.validate_json(json.dumps({"action": "ä" * 100})).action == "ä" * 100


def test_metadata_of_exactly_4_kib_is_accepted_and_one_byte_more_refused() -> None:
    blob = "x" * (4096 - len('{"b":""}'))

    [entry] = new_entries([ActionIn(action="a", metadata={"b": blob})])
    assert json.loads(entry)["metadata"] == {"b": blob}
    with pytest.raises(Unprocessable, match="4096 bytes"):
        new_entries([ActionIn(action="a", metadata={"b": blob + "x"})])


def nest(depth: int) -> object:
    value: object = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("metadata", [{"n": float("nan")}, {"n": [float("inf")]}, {"d": nest(70)}])
def test_metadata_no_json_reader_could_read_back_is_refused(metadata: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        new_entries([ActionIn(action="a", metadata=metadata)])


def test_an_entry_nested_64_levels_is_stored() -> None:
    assert json.loads(new_entries([ActionIn(action="a", metadata={"d": nest(62)})])[0])["metadata"] == {"d": nest(62)}


@pytest.mark.parametrize("count", [0, 101])
def test_a_batch_holds_1_to_100_actions(count: int) -> None:
    with pytest.raises(ValidationError):
        BatchIn.validate_json(json.dumps({"actions": [{"action": "a"}] * count}))


@pytest.mark.parametrize("ttl", [0, -5, 2**31, "soon", 1.5])
def test_cache_ttl_must_be_a_positive_integer(ttl: object) -> None:
    with pytest.raises(ValidationError):
        CachePut.validate_json(json.dumps({"value": 1, "ttlSeconds": ttl}))


def test_any_json_value_may_be_cached() -> None:
    for value in (None, 0, "text", [1, {"a": None}], {"nested": {"deep": True}}):
        assert CachePut.validate_json(json.dumps({"value": value})).value == value


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-11-25T12:00:00Z", "2026-11-25T12:00:00.000Z"),
        ("2026-11-25T12:00:00.5Z", "2026-11-25T12:00:00.500Z"),
        ("2026-11-25T12:00:00.123456Z", "2026-11-25T12:00:00.123Z"),
        ("2026-11-25T12:00:00.123+02:00", "2026-11-25T10:00:00.123Z"),
        ("2026-11-25T00:30:00.999-05:30", "2026-11-25T06:00:00.999Z"),
        ("0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999Z"),
    ],
)
def test_timestamps_are_stored_in_utc_to_the_millisecond(sent: str, stored: str) -> None:
    action = ActionIn.validate_json(json.dumps({"action": "a", "timestamp": sent}))

    assert json.loads(new_entries([action])[0])["timestamp"] == stored
