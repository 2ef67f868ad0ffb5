"""Rate limits and quotas on Redis Cluster: every counter is in its user's slot, so the counts stay exact."""

import pytest
import redis

from actionlog import keys
from tests.limits.helpers import erase, keys_naming, log_one, put_own
from tests.limits.test_quotas import race_for_the_quota
from tests.limits.test_rate_limits import race

pytestmark = pytest.mark.redis_server


def test_on_a_cluster_racing_containers_get_exactly_the_limit_through(cluster_handlers: redis.RedisCluster) -> None:
    port = cluster_handlers.get_default_node().port  # type: ignore[no-untyped-call]

    statuses = race(str(port), cluster=True)

    assert statuses.count(201) == 50
    assert cluster_handlers.llen("user:42:actions") == 50


def test_on_a_cluster_a_user_is_erased_whole(cluster_handlers: redis.RedisCluster) -> None:
    log_one()
    put_own("123", "prefs", {"theme": "dark"})
    log_one("456")

    answer = erase()

    assert (answer["statusCode"], answer["json"]["erased"]) == (200, True)
    assert keys_naming(cluster_handlers, "123") == [keys.user_rate_key("123", "writes")]  # it expires by itself
    assert cluster_handlers.llen("user:456:actions") == 1


def test_on_a_cluster_racing_containers_fill_the_quota_exactly(cluster_handlers: redis.RedisCluster) -> None:
    port = cluster_handlers.get_default_node().port  # type: ignore[no-untyped-call]

    statuses = race_for_the_quota({"REDIS_CLUSTER": "true", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port)})

    assert statuses.count(200) == 25
    assert cluster_handlers.zcard(keys.user_cache_index_key("42")) == 25
