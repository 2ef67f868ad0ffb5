"""The key layout that lets every multi-key operation run on Redis Cluster: a user's keys share one hash slot."""

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot
from redis.exceptions import RedisClusterException

from actionlog import actions, cache, health, keys
from actionlog.actions import WriteKey
from actionlog.models import ActionIn
from tests.cluster.helpers import USER_IDS

ENTRIES = actions.new_entries([ActionIn(action="tap")])


@given(user_id=st.from_regex(keys.USER_ID_PATTERN, fullmatch=True))
def test_a_users_receipts_share_the_slot_of_their_list(user_id: str) -> None:
    slot = key_slot(keys.actions_key(user_id).encode())

    assert key_slot(keys.receipts_key(user_id).encode()) == slot
    assert key_slot(keys.receipt_expiries_key(user_id).encode()) == slot


@pytest.mark.redis_server
def test_a_marker_outside_the_lists_slot_would_be_refused(cluster_handlers: redis.RedisCluster) -> None:
    # The control for the test below: without the hash tag the keyed write cannot run on a cluster at all.
    script = cluster_handlers.register_script("return redis.call('LPUSH', KEYS[1], ARGV[1])")
    untagged_marker = "actionlog:receipts:user:123:actions"
    assert key_slot(untagged_marker.encode()) != key_slot(b"user:123:actions")

    with pytest.raises(RedisClusterException, match="same key slot"):
        script(keys=[keys.actions_key("123"), untagged_marker], args=["x"])


@pytest.mark.redis_server
@pytest.mark.parametrize("user_id", USER_IDS)
def test_every_multi_key_operation_stays_in_one_slot(cluster_handlers: redis.RedisCluster, user_id: str) -> None:
    # Any CROSSSLOT (from the server, or redis-py's own check before sending) would raise here.
    actions.log_actions(user_id, ENTRIES, redis=cluster_handlers)
    written = actions.log_actions(user_id, ENTRIES, key=WriteKey("sqs", "m-1"), redis=cluster_handlers)
    cache.put("cache:profile:456", "dark", 60, redis=cluster_handlers)
    cached = cache.get("cache:profile:456", redis=cluster_handlers)
    report = health.check(redis=cluster_handlers)

    assert written.count == 1
    assert cached is not None
    assert cached.ttl_seconds == 60
    assert report.status == "ok"
    # The receipts and the list were written side by side on the node that owns the user's slot.
    node = cluster_handlers.get_node_from_key(keys.actions_key(user_id))  # type: ignore[no-untyped-call]
    user_keys = (keys.actions_key(user_id), keys.receipts_key(user_id), keys.receipt_expiries_key(user_id))
    assert node.redis_connection.exists(*user_keys) == 3
    assert actions.clear_actions(user_id, redis=cluster_handlers)
    assert node.redis_connection.exists(*user_keys) == 0
