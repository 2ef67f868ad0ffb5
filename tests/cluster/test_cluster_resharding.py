"""A warm handler keeps working when the slot of a user's list moves to another node (MOVED)."""

from collections.abc import Iterator

import pytest
import redis
from redis.crc import key_slot

from actionlog import keys
from actionlog.redis_client import get_redis
from tests.cluster.helpers import stored_actions, user_event, with_idempotency_key
from tests.cluster.local_cluster import LocalCluster
from tests.support import invoke

pytestmark = pytest.mark.redis_server

KEY = keys.actions_key("123")
SLOT = key_slot(KEY.encode())


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[LocalCluster]:
    """A cluster of this module's own: resharding changes the slot map the other modules rely on."""
    cluster = LocalCluster(masters=3)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def move_the_users_slot(cluster: LocalCluster) -> tuple[int, int]:
    """Migrate the slot of user 123's list to another primary; returns (old owner, new owner)."""
    source = cluster.owner_of(SLOT)
    target = min(port for port in cluster.primaries() if port != source)
    cluster.migrate_slot(SLOT, target)
    return source, target


def node_the_handlers_would_ask() -> int:
    """The node the handlers' warm client maps the slot to; it learns of a move only from a MOVED reply."""
    return int(get_redis().get_node_from_key(KEY).port)  # type: ignore[union-attr]


def test_a_warm_handler_follows_a_moved_slot(cluster_handlers: redis.RedisCluster, redis_cluster: LocalCluster) -> None:
    assert invoke("log_action", user_event("log_action.json", "123"))["statusCode"] == 201
    old_owner, new_owner = move_the_users_slot(redis_cluster)
    assert node_the_handlers_would_ask() == old_owner  # so the next call meets MOVED

    logged = invoke("log_action", user_event("log_action.json", "123"))
    read = invoke("get_user_actions", user_event("get_user_actions.json", "123"))

    assert logged["statusCode"] == 201
    assert (read["statusCode"], read["json"]["count"]) == (200, 2)
    assert node_the_handlers_would_ask() == new_owner
    assert redis_cluster.node(new_owner).llen(KEY) == 2


def test_an_idempotency_key_still_holds_after_its_slot_moved(
    cluster_handlers: redis.RedisCluster, redis_cluster: LocalCluster
) -> None:
    event = with_idempotency_key(user_event("log_action.json", "123"), "before-the-move")
    first = invoke("log_action", event)
    move_the_users_slot(redis_cluster)  # the marker shares the list's slot, so it moves along

    again = invoke("log_action", event)

    assert again["statusCode"] == 201
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert again["json"] == first["json"]
    assert stored_actions(cluster_handlers, "123") == ["login"]
