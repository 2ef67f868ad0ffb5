"""Fixtures for running the handlers against a real Redis Cluster (ElastiCache cluster mode and Serverless)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from tests.cluster.local_cluster import LocalCluster


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A 3-primary cluster shared by the tests that leave its topology alone.

    A test module that reshards or kills nodes overrides this fixture with a cluster of its own.
    """
    cluster = LocalCluster(masters=3)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def cluster_handlers(redis_cluster: LocalCluster, configure: Callable[..., None]) -> Iterator[redis.RedisCluster]:
    """Handlers in cluster mode, pointed at one node as at a configuration endpoint; yields an inspecting client.

    The cluster is emptied first. The handlers' own client is created on their first call and then kept,
    like a warm container's, until the test ends.
    """
    configure(REDIS_CLUSTER="true", REDIS_HOST="127.0.0.1", REDIS_PORT=str(redis_cluster.ports[0]))
    inspector = redis.RedisCluster(host="127.0.0.1", port=redis_cluster.ports[0], decode_responses=True)
    inspector.flushall()  # on every primary
    yield inspector
    inspector.close()
