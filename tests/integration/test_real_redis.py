"""Behaviour that belongs to Redis itself, checked against a real redis-server."""

import json
import time

import pytest
import redis

from actionlog import actions
from tests.support import invoke, load_event, with_body

pytestmark = pytest.mark.redis_server


def test_entries_round_trip_through_a_real_server(real_redis: redis.Redis) -> None:
    logged = invoke("log_action", load_event("log_action.json"))

    read = invoke("get_user_actions", load_event("get_user_actions.json"))

    assert read["json"]["actions"] == [logged["json"]["entry"]]


def test_the_seeds_existing_entries_are_read_alongside_new_ones(real_redis: redis.Redis) -> None:
    seed_entry = {"action": "login", "timestamp": "2025-10-15T14:20:00Z", "metadata": {"device": "android"}}
    real_redis.lpush("user:123:actions", json.dumps(seed_entry))
    invoke("log_action", load_event("log_action.json"))

    actions = invoke("get_user_actions", load_event("get_user_actions.json"))["json"]["actions"]

    assert [entry["action"] for entry in actions] == ["login", "login"]
    assert actions[1] == seed_entry


def test_a_write_is_one_script_that_pushes_and_trims(real_redis: redis.Redis) -> None:
    real_redis.script_load(actions.LOG_SCRIPT)
    with real_redis.monitor() as monitor:
        invoke("log_action", load_event("log_action.json"))
        commands = []
        while not commands or commands[-1] != "LTRIM":
            command = monitor.next_command()["command"].split()[0].upper()
            if command != "MONITOR":
                commands.append(command)

    # What the client sent (EVALSHA), then what the script ran inside it, atomically: no MULTI, no second request.
    sent = commands[commands.index("EVALSHA") :]
    assert "MULTI" not in sent
    assert sent[-2:] == ["LPUSH", "LTRIM"]


def test_a_cached_value_expires_after_its_ttl(real_redis: redis.Redis) -> None:
    invoke("cache_set", with_body(load_event("cache_set.json"), {"value": "short", "ttlSeconds": 1}))
    assert invoke("cache_get", load_event("cache_get.json"))["statusCode"] == 200

    time.sleep(1.1)

    assert invoke("cache_get", load_event("cache_get.json"))["statusCode"] == 404


def test_server_info_reports_the_real_server(real_redis: redis.Redis) -> None:
    response = invoke("health_info", load_event("health_info.json"))

    assert response["statusCode"] == 200
    info = response["json"]
    assert info["redisVersion"] == real_redis.info("server")["redis_version"]
    assert info["mode"] == "standalone"
    assert info["uptimeSeconds"] >= 0
    assert info["connectedClients"] >= 1
    assert info["usedMemory"] > 0


def test_health_writes_and_reads_a_short_lived_key(real_redis: redis.Redis) -> None:
    response = invoke("health_check", load_event("health_check.json"))

    assert response["statusCode"] == 200
    assert response["json"]["status"] == "ok"
    assert 0 < real_redis.ttl("actionlog:health") <= 10


def test_an_entry_holding_the_reads_separator_is_read_back_whole(real_redis: redis.Redis) -> None:
    # Entries come back from the read's script joined by a control character no JSON text holds unescaped; another
    # writer's bytes may hold it all the same, and then the read falls back to the entries one by one.
    real_redis.rpush("user:123:actions", "not json \x1e at all")
    invoke("log_action", load_event("log_action.json"))

    read = invoke("get_user_actions", load_event("get_user_actions.json"))

    assert read["statusCode"] == 200
    assert [entry.get("raw") for entry in read["json"]["actions"]] == [None, "not json \x1e at all"]
