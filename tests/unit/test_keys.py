import pytest
from redis.crc import key_slot

from actionlog import keys
from actionlog.errors import BadRequest, Forbidden

PREFIXES = ("session:", "cache:")


def test_action_list_key_is_the_seeds() -> None:
    assert keys.actions_key("123") == "user:123:actions"


@pytest.mark.parametrize("user_id", ["", "a:b", "a*", "{x}", "a\nb", "\uff41", "x" * 65, "a b"])
def test_user_ids_that_could_escape_the_namespace_are_refused(user_id: str) -> None:
    with pytest.raises(BadRequest):
        keys.actions_key(user_id)


def test_a_users_receipts_share_the_hash_slot_of_their_list() -> None:
    slot = key_slot(keys.actions_key("123").encode())

    assert key_slot(keys.receipts_key("123").encode()) == slot
    assert key_slot(keys.receipt_expiries_key("123").encode()) == slot
    assert keys.receipts_key("123") != keys.receipts_key("1234")


@pytest.mark.parametrize("key", ["session:abc123", "cache:profile:456", "session:a.b-c_d"])
def test_keys_under_an_allowed_prefix_pass(key: str) -> None:
    assert keys.cache_key(key, PREFIXES) == key


@pytest.mark.parametrize("key", ["user:123:actions", "actionlog:health", "other:1", "sessions:x"])
def test_keys_outside_the_allowed_prefixes_are_forbidden(key: str) -> None:
    with pytest.raises(Forbidden, match="session:, cache:"):
        keys.cache_key(key, PREFIXES)


@pytest.mark.parametrize(
    "key", ["", "session:a b", "session:*", "session:{x}", "session:\n", "session:\uff58", "s" * 257]
)
def test_malformed_cache_keys_are_bad_requests(key: str) -> None:
    with pytest.raises(BadRequest):
        keys.cache_key(key, PREFIXES)


def test_a_users_own_cache_key_is_inside_their_namespace_and_their_slot() -> None:
    entry = keys.user_cache_key("123", "prefs:theme")

    assert entry == "actionlog:user-cache:{user:123:actions}:prefs:theme"
    assert entry.startswith(keys.user_cache_prefix("123"))
    assert key_slot(entry.encode()) == key_slot(keys.actions_key("123").encode())
    assert not keys.user_cache_key("123", "x").startswith(keys.user_cache_prefix("1234"))


def test_every_key_of_a_user_is_in_their_slot() -> None:
    slot = key_slot(b"user:42:actions")
    every = [*keys.user_keys("42"), keys.user_cache_key("42", "k"), keys.user_rate_key("42", "reads")]

    assert {key_slot(key.encode()) for key in every} == {slot}


def test_a_client_rate_key_never_carries_a_client_id_that_could_break_out_of_its_hash_tag() -> None:
    assert keys.client_rate_key("backend-1", "writes") == "actionlog:rate:{client:backend-1}:writes"
    odd = keys.client_rate_key("a}b{:c", "writes")
    assert "}b{" not in odd
    assert odd.startswith("actionlog:rate:{client:")


@pytest.mark.parametrize(("user_id", "key"), [("a:b", "prefs"), ("{x}", "prefs"), ("x" * 65, "prefs"), ("", "prefs")])
def test_a_user_cache_key_refuses_a_user_id_that_could_escape_the_namespace(user_id: str, key: str) -> None:
    with pytest.raises(BadRequest, match="userId"):
        keys.user_cache_key(user_id, key)


@pytest.mark.parametrize("key", ["", "a*", "{x}", "a b", "a\nb", "\u0430", "k" * 201])
def test_a_malformed_user_cache_key_is_a_bad_request(key: str) -> None:
    with pytest.raises(BadRequest, match="cache key"):
        keys.user_cache_key("123", key)
