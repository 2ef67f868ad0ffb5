"""Every operation through its handler, on a 3-primary Redis Cluster, for users whose lists live on different nodes."""

import json
from collections.abc import Callable

import pytest
import redis
from redis.crc import key_slot

from actionlog import keys
from tests.cluster.helpers import USER_IDS, stored_actions, user_event, with_idempotency_key
from tests.cluster.local_cluster import LocalCluster
from tests.support import invoke, load_event, with_body, with_query

pytestmark = pytest.mark.redis_server

each_user = pytest.mark.parametrize("user_id", USER_IDS)


def test_the_users_lists_live_on_three_different_primaries(
    cluster_handlers: redis.RedisCluster, redis_cluster: LocalCluster
) -> None:
    for user_id in USER_IDS:
        invoke("log_action", user_event("log_action.json", user_id))

    owners: set[int] = set()
    for user_id in USER_IDS:
        key = keys.actions_key(user_id)
        owner = redis_cluster.owner_of(key_slot(key.encode()))
        # The server's slot map, the client's and where the key physically is all agree.
        assert cluster_handlers.get_node_from_key(key).port == owner  # type: ignore[no-untyped-call]
        assert redis_cluster.node(owner).exists(key) == 1
        owners.add(owner)
    assert len(owners) == 3


@each_user
def test_logged_actions_are_read_newest_first(cluster_handlers: redis.RedisCluster, user_id: str) -> None:
    for action in ("login", "logout"):
        event = with_body(user_event("log_action.json", user_id), {"action": action})
        assert invoke("log_action", event)["statusCode"] == 201

    read = invoke("get_user_actions", user_event("get_user_actions.json", user_id))

    assert read["statusCode"] == 200
    assert [entry["action"] for entry in read["json"]["actions"]] == ["logout", "login"]
    assert read["json"]["count"] == 2


@each_user
def test_a_batch_is_logged_oldest_first(cluster_handlers: redis.RedisCluster, user_id: str) -> None:
    response = invoke("log_batch_actions", user_event("log_batch_actions.json", user_id))

    assert response["statusCode"] == 201
    assert response["json"] == {"userId": user_id, "count": 3}
    assert stored_actions(cluster_handlers, user_id) == ["logout", "view_profile", "open_app"]


def test_a_read_returns_at_most_limit_entries(cluster_handlers: redis.RedisCluster) -> None:
    invoke("log_batch_actions", user_event("log_batch_actions.json", "456"))

    read = invoke("get_user_actions", with_query(user_event("get_user_actions.json", "456"), limit="2"))

    assert [entry["action"] for entry in read["json"]["actions"]] == ["logout", "view_profile"]
    assert read["json"]["count"] == 2


@each_user
def test_clearing_deletes_the_users_list(cluster_handlers: redis.RedisCluster, user_id: str) -> None:
    invoke("log_action", user_event("log_action.json", user_id))

    first = invoke("clear_user_actions", user_event("clear_user_actions.json", user_id))
    again = invoke("clear_user_actions", user_event("clear_user_actions.json", user_id))

    assert (first["json"]["cleared"], again["json"]["cleared"]) == (True, False)
    assert cluster_handlers.exists(keys.actions_key(user_id)) == 0


def test_a_cached_value_is_read_back_with_its_ttl(cluster_handlers: redis.RedisCluster) -> None:
    stored = load_event("cache_set.json")
    assert invoke("cache_set", stored)["statusCode"] == 200

    read = invoke("cache_get", load_event("cache_get.json"))

    assert read["statusCode"] == 200
    assert read["json"]["value"] == json.loads(stored["body"])["value"]
    assert 0 < read["json"]["ttlSeconds"] <= json.loads(stored["body"])["ttlSeconds"]


def test_a_deleted_cache_value_is_gone(cluster_handlers: redis.RedisCluster) -> None:
    invoke("cache_set", load_event("cache_set.json"))

    deleted = invoke("cache_delete", load_event("cache_delete.json"))

    assert deleted["json"] == {"key": "session:abc123", "deleted": True}
    assert invoke("cache_get", load_event("cache_get.json"))["statusCode"] == 404


def test_the_health_check_passes_in_cluster_mode(cluster_handlers: redis.RedisCluster) -> None:
    response = invoke("health_check", load_event("health_check.json"))
    info = invoke("health_info", load_event("health_info.json"))

    # The public check says only ok; the mode is for operators (GET /health/info)
    assert (response["statusCode"], response["json"]) == (200, {"status": "ok"})
    assert info["json"]["mode"] == "cluster"


def test_server_info_describes_the_cluster(cluster_handlers: redis.RedisCluster, redis_cluster: LocalCluster) -> None:
    response = invoke("health_info", load_event("health_info.json"))

    assert response["statusCode"] == 200
    info = response["json"]
    assert info["mode"] == "cluster"
    assert info["nodes"] == 3
    assert info["redisVersion"] == redis_cluster.node(redis_cluster.ports[0]).info("server")["redis_version"]


@each_user
def test_a_repeated_idempotency_key_logs_once(cluster_handlers: redis.RedisCluster, user_id: str) -> None:
    event = with_idempotency_key(user_event("log_action.json", user_id), f"retry-{user_id}")

    first, again = invoke("log_action", event), invoke("log_action", event)

    assert (first["statusCode"], again["statusCode"]) == (201, 201)
    assert again["json"] == first["json"]
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert stored_actions(cluster_handlers, user_id) == ["login"]


def test_sqs_ingestion_fails_only_the_bad_record_and_redelivery_logs_nothing_more(
    cluster_handlers: redis.RedisCluster,
) -> None:
    event = load_event("ingest_actions.json")
    bad_message = event["Records"][2]["messageId"]  # its action is empty

    first = invoke("ingest_actions", event)
    again = invoke("ingest_actions", event)  # SQS delivers at least once

    for response in (first, again):
        assert [failure["itemIdentifier"] for failure in response["batchItemFailures"]] == [bad_message]
    assert stored_actions(cluster_handlers, "123") == ["view_profile", "open_app", "login"]


def test_a_redis_url_names_the_cluster_as_well(
    cluster_handlers: redis.RedisCluster, redis_cluster: LocalCluster, configure: Callable[..., None]
) -> None:
    configure(REDIS_URL=f"redis://127.0.0.1:{redis_cluster.ports[1]}")

    logged = invoke("log_action", user_event("log_action.json", "789"))
    health = invoke("health_check", load_event("health_check.json"))
    info = invoke("health_info", load_event("health_info.json"))

    assert logged["statusCode"] == 201
    assert (health["statusCode"], info["json"]["mode"]) == (200, "cluster")
    assert stored_actions(cluster_handlers, "789") == ["login"]


def test_a_warm_handler_reconnects_after_every_node_dropped_its_connections(
    cluster_handlers: redis.RedisCluster, redis_cluster: LocalCluster
) -> None:
    for user_id in USER_IDS:
        invoke("log_action", user_event("log_action.json", user_id))

    # What a thawed Lambda container meets when the server closed its idle sockets (ElastiCache `timeout`).
    for port in redis_cluster.ports:
        redis_cluster.node(port).client_kill_filter(_type="normal", skipme=True)

    statuses = [invoke("log_action", user_event("log_action.json", user_id))["statusCode"] for user_id in USER_IDS]
    assert statuses == [201, 201, 201]
    assert all(stored_actions(cluster_handlers, user_id) == ["login", "login"] for user_id in USER_IDS)
