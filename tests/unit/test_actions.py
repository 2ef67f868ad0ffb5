import json
from datetime import UTC, datetime

import fakeredis
import pytest

from actionlog import actions, codec
from actionlog.models import ActionIn
from actionlog.settings import Settings


def entries(*names: str) -> list[bytes]:
    return actions.new_entries([ActionIn(action=name) for name in names])


def stored_actions(redis: fakeredis.FakeRedis, user_id: str = "123") -> list[str]:
    return [json.loads(item)["action"] for item in redis.lrange(f"user:{user_id}:actions", 0, -1)]


def test_logged_actions_are_read_newest_first(fake_redis: fakeredis.FakeRedis) -> None:
    actions.log_actions("123", entries("login"), redis=fake_redis)
    actions.log_actions("123", entries("view_profile"), redis=fake_redis)

    assert stored_actions(fake_redis) == ["view_profile", "login"]


def test_a_batch_is_given_oldest_first_and_stored_newest_first(fake_redis: fakeredis.FakeRedis) -> None:
    logged = actions.log_actions("123", entries("a", "b", "c"), redis=fake_redis)

    assert logged.count == 3
    assert stored_actions(fake_redis) == ["c", "b", "a"]


def test_each_entry_of_a_batch_has_an_id_of_its_own() -> None:
    ids = [json.loads(entry)["id"] for entry in entries(*["same"] * 100)]

    assert len(set(ids)) == 100
    assert all(len(entry_id) == 32 and int(entry_id, 16) >= 0 for entry_id in ids)


def test_the_list_is_capped_keeping_the_newest(fake_redis: fakeredis.FakeRedis) -> None:
    for number in range(7):
        actions.log_actions("123", entries(f"a{number}"), settings=Settings(actions_max_entries=5), redis=fake_redis)
    actions.log_actions("123", entries("b0", "b1", "b2"), settings=Settings(actions_max_entries=5), redis=fake_redis)

    assert stored_actions(fake_redis) == ["b2", "b1", "b0", "a6", "a5"]


def test_a_batch_larger_than_the_cap_keeps_its_newest(fake_redis: fakeredis.FakeRedis) -> None:
    actions.log_actions(
        "123", entries(*(f"n{i}" for i in range(10))), settings=Settings(actions_max_entries=3), redis=fake_redis
    )

    assert stored_actions(fake_redis) == ["n9", "n8", "n7"]


def test_recent_actions_returns_at_most_limit_stored_strings(fake_redis: fakeredis.FakeRedis) -> None:
    actions.log_actions("123", entries("a", "b", "c"), redis=fake_redis)

    recent = actions.recent_actions("123", 2, redis=fake_redis)

    assert [json.loads(item)["action"] for item in recent] == ["c", "b"]


def test_users_do_not_share_a_log(fake_redis: fakeredis.FakeRedis) -> None:
    actions.log_actions("1", entries("mine"), redis=fake_redis)

    assert actions.recent_actions("2", 10, redis=fake_redis) == []


def test_clear_says_whether_there_was_a_log(fake_redis: fakeredis.FakeRedis) -> None:
    actions.log_actions("123", entries("a"), redis=fake_redis)

    assert actions.clear_actions("123", redis=fake_redis) is True
    assert actions.clear_actions("123", redis=fake_redis) is False
    assert fake_redis.exists("user:123:actions") == 0


def test_entries_written_by_the_seed_read_back_unchanged() -> None:
    seed_entry = '{"action":"login","timestamp":"2025-10-15T14:20:00Z","metadata":{"device":"android"}}'

    entry = codec.decode_entry(seed_entry)

    assert entry.to_python() == json.loads(seed_entry)


def test_an_entry_that_is_not_json_is_returned_raw_rather_than_failing_the_read() -> None:
    entry = codec.decode_entry("{action: 'login', timestamp: '2025-10-15'}")

    assert entry.to_python()["raw"] == "{action: 'login', timestamp: '2025-10-15'}"


def test_entries_json_reuses_well_formed_entries_as_stored() -> None:
    stored = [entry.decode() for entry in entries("b", "a")]

    assert codec.entries_json(stored) == "[" + ",".join(stored) + "]"


def test_entries_json_rebuilds_entries_of_other_shapes_into_the_contracts_shape() -> None:
    seed_without_metadata = '{"action":"login","timestamp":"2025-10-15T14:20:00Z"}'
    not_json = "{action: 'login', timestamp: '2025-10-15'}"

    decoded = json.loads(codec.entries_json([seed_without_metadata, not_json, "[1, 2]"]))

    assert decoded[0] == {"action": "login", "timestamp": "2025-10-15T14:20:00Z", "metadata": {}}
    assert decoded[1] == {"action": "", "timestamp": "", "metadata": {}, "raw": not_json}
    assert decoded[2] == {"action": "", "timestamp": "", "metadata": {}, "raw": "[1, 2]"}


def test_entries_json_of_nothing_is_an_empty_array() -> None:
    assert codec.entries_json([]) == "[]"


@pytest.mark.parametrize(
    "names",
    [
        ['a","b', "c"],
        ["ends with a backslash \\", "next"],
        ['\\",\\"', '"', ","],
        ["caf\u00e9", "\U0001f600 emoji", "plain"],
        ["only one"],
    ],
)
def test_each_entry_keeps_its_own_name_however_the_names_are_spelt(names: list[str]) -> None:
    stored = actions.new_entries([ActionIn(action=name) for name in names])

    assert [json.loads(entry)["action"] for entry in stored] == names


def test_entries_of_a_batch_sharing_a_timestamp_each_carry_it() -> None:
    moment = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    stored = actions.new_entries([ActionIn(action=f"a{n}", timestamp=moment) for n in range(3)])

    assert {json.loads(entry)["timestamp"] for entry in stored} == {"2026-11-25T12:00:00.000Z"}


def test_an_entry_in_actionlogs_layout_is_taken_as_written_and_any_other_is_checked() -> None:
    [ours] = [entry.decode() for entry in entries("login")]
    seed = '{"action":"login","timestamp":"2025-10-15T14:30:00Z","metadata":{}}'
    mimic_without_an_id = ours[: ours.rindex(',"id"')] + ',"id":"not-hex"}'

    assert codec.written_here(ours)
    assert not codec.written_here(seed)
    assert not codec.written_here(mimic_without_an_id)
    assert not codec.written_here("not json at all")
    mixed = json.loads(codec.entries_json([ours, seed, "not json at all"]))
    assert [entry["action"] for entry in mixed] == ["login", "login", ""]
    assert mixed[2]["raw"] == "not json at all"


@pytest.mark.parametrize(
    "odd",
    [
        '{"action":"login","timestamp":"2025-10-15T14:30:00Z","metadata":{}}',  # the seed's
        "not json at all",
        "",
        '{"action":"x"}',
        ',"id":"0123456789abcdef0123456789abcdef"}',  # an ending alone
        '{"action":",' + '"id":"0123456789abcdef0123456789abcdef"}',  # head and ending overlapping
        '{"action":"x","id":"0123456789ABCDEF0123456789abcdef"}',  # upper-case hex
        '{"action":"x","id":"0123456789abcdef0123456789abcdef"} ',
        '{"action":"x","ia":"0123456789abcdef0123456789abcdef"}',  # a hex digit where the "d" of "id" is
        '{"action":"x",,id":"0123456789abcdef0123456789abcdef"}',
    ],
)
def test_all_entries_are_taken_as_written_only_when_each_would_be(odd: str) -> None:
    ours = [entry.decode() for entry in entries("login", "pay", "logout")]

    for stored in ([*ours], [odd, *ours], [*ours, odd], [ours[0], odd, ours[1]], [odd]):
        assert codec.all_written_here(stored) == all(map(codec.written_here, stored)), stored
    assert codec.all_written_here(ours)
    assert codec.all_written_here([])


@pytest.mark.parametrize("odd_id", ["0123456789abcdef0123456789abcde:", "0123456789abcdef0123456789abcd}i", 'a"' * 16])
def test_an_id_with_a_character_of_the_endings_parts_is_not_taken_as_written(odd_id: str) -> None:
    ours = [entry.decode() for entry in entries("login", "pay")]
    odd = ours[0][: -len(odd_id) - 2] + odd_id + '"}'

    assert not codec.written_here(odd)
    assert not codec.all_written_here([ours[1], odd])
