"""A warm handler rides out a primary failover: fast 503s while the slot has no primary, then success."""

import time
from collections.abc import Iterator

import pytest
import redis
from redis.crc import key_slot

from actionlog import keys
from tests.cluster.helpers import stored_actions, user_event
from tests.cluster.local_cluster import LocalCluster
from tests.support import invoke

pytestmark = pytest.mark.redis_server

SLOT = key_slot(keys.actions_key("123").encode())
# Promotion takes the node timeout (2 s) plus the replica's election delay (0.5-1 s) and a vote.
PROMOTION_DEADLINE_SECONDS = 15.0
# A call while the slot is down must answer well inside the function timeout, not wait out retries.
FAST_ANSWER_SECONDS = 2.0
GOSSIP_SECONDS = 5.0  # how long every node may take to learn the new primary


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[LocalCluster]:
    """3 primaries with a replica each, of this module's own: the test kills a primary."""
    cluster = LocalCluster(masters=3, replicas=1)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def test_a_warm_handler_answers_503_fast_during_a_failover_and_logs_again_after_it(
    cluster_handlers: redis.RedisCluster, redis_cluster: LocalCluster
) -> None:
    assert invoke("log_action", user_event("log_action.json", "123"))["statusCode"] == 201
    primary = redis_cluster.owner_of(SLOT)
    replica = redis_cluster.replica_of(primary)
    # Replication is asynchronous: make sure the replica holds the entry before its primary dies.
    assert redis_cluster.node(primary).wait(1, 1000) == 1

    redis_cluster.kill(primary)
    statuses: list[int] = []
    deadline = time.monotonic() + PROMOTION_DEADLINE_SECONDS
    while True:
        started = time.monotonic()
        statuses.append(int(invoke("log_action", user_event("log_action.json", "123"))["statusCode"]))
        assert time.monotonic() - started < FAST_ANSWER_SECONDS
        if statuses[-1] == 201:
            break
        assert time.monotonic() < deadline, f"no successful write within {PROMOTION_DEADLINE_SECONDS} s: {statuses}"
        time.sleep(0.1)

    assert statuses[0] == 503  # the slot had no primary for at least the node timeout
    assert set(statuses[:-1]) == {503}
    # The node asked may hear of the promotion by gossip a moment after the handler was redirected to it.
    converged = time.monotonic() + GOSSIP_SECONDS
    while redis_cluster.owner_of(SLOT) != replica and time.monotonic() < converged:
        time.sleep(0.1)
    assert redis_cluster.owner_of(SLOT) == replica
    assert stored_actions(cluster_handlers, "123") == ["login", "login"]
