"""Per-user and per-client rate limits: fixed windows aligned to the epoch, exact, and never a reason to lose data."""

import multiprocessing
import time
from typing import Any

import pytest
import redis

from actionlog import keys
from tests.catalogue import HTTP_OPERATIONS, Operation, seed
from tests.limits.helpers import ADMIN, ingest, log_one, read, sqs_batch
from tests.support import RedisServer, free_port, handler_module, invoke, lambda_context, load_event, with_caller

pytestmark = pytest.mark.redis_server


def test_over_the_write_limit_a_user_gets_429_with_retry_after_and_nothing_is_written(
    real_redis: redis.Redis, configure: Any
) -> None:
    configure(RATE_LIMIT_WRITES="3", RATE_LIMIT_WINDOW_SECONDS="3600")

    answers = [log_one(action=f"a{n}") for n in range(4)]

    assert [answer["statusCode"] for answer in answers] == [201, 201, 201, 429]
    assert [answer["headers"]["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert {answer["headers"]["RateLimit-Limit"] for answer in answers} == {"3"}
    refused = answers[3]
    assert 1 <= int(refused["headers"]["Retry-After"]) <= 3600
    assert refused["headers"]["Retry-After"] == refused["headers"]["RateLimit-Reset"]
    assert "rate limit" in refused["json"]["message"]
    assert real_redis.llen("user:123:actions") == 3


def test_reads_and_writes_have_limits_of_their_own_and_users_do_not_share_them(
    real_redis: redis.Redis, configure: Any
) -> None:
    configure(RATE_LIMIT_WRITES="1", RATE_LIMIT_READS="2")

    assert [read()["statusCode"] for _ in range(3)] == [200, 200, 429]
    assert log_one()["statusCode"] == 201
    assert log_one()["statusCode"] == 429
    assert log_one("456")["statusCode"] == 201
    assert read("456")["statusCode"] == 200


def test_a_batch_is_one_request(real_redis: redis.Redis, configure: Any) -> None:
    configure(RATE_LIMIT_WRITES="1")

    first = invoke("log_batch_actions", load_event("log_batch_actions.json"))
    second = invoke("log_batch_actions", load_event("log_batch_actions.json"))

    assert (first["statusCode"], second["statusCode"]) == (201, 429)
    assert real_redis.llen("user:123:actions") == 3


def test_an_admin_is_not_limited(real_redis: redis.Redis, configure: Any) -> None:
    configure(RATE_LIMIT_WRITES="1")
    claims, scopes = ADMIN
    event = with_caller(load_event("log_action.json"), claims, scopes)

    answers = [invoke("log_action", event) for _ in range(3)]

    assert [answer["statusCode"] for answer in answers] == [201, 201, 201]
    assert "RateLimit-Limit" not in answers[0]["headers"]


def test_the_shared_cache_counts_each_backend_client_apart(real_redis: redis.Redis, configure: Any) -> None:
    configure(RATE_LIMIT_WRITES="2")
    scopes = ["actionlog/cache"]

    def put(client: str) -> int:
        event = with_caller(load_event("cache_set.json"), {"sub": client, "client_id": client}, scopes)
        return int(invoke("cache_set", event)["statusCode"])

    assert [put("backend-a") for _ in range(3)] == [200, 200, 429]
    assert put("backend-b") == 200
    assert real_redis.exists(keys.client_rate_key("backend-a", "writes"))


def test_sqs_ingestion_is_not_counted(real_redis: redis.Redis, configure: Any) -> None:
    configure(RATE_LIMIT_WRITES="1")

    failed = ingest(sqs_batch(*({"userId": "123", "action": f"a{n}"} for n in range(5))))

    assert failed == set()
    assert real_redis.llen("user:123:actions") == 5
    assert not real_redis.exists(keys.user_rate_key("123", "writes"))


def test_a_window_is_aligned_to_the_epoch_and_the_next_one_starts_afresh(
    real_redis: redis.Redis, configure: Any
) -> None:
    configure(RATE_LIMIT_WRITES="1", RATE_LIMIT_WINDOW_SECONDS="2")
    time.sleep(2 - time.time() % 2 + 0.05)  # the start of a window

    first, second = log_one(), log_one()
    time.sleep(2 - time.time() % 2 + 0.05)  # the next window
    third = log_one()

    assert [answer["statusCode"] for answer in (first, second, third)] == [201, 429, 201]
    assert second["headers"]["Retry-After"] == "2"  # the rest of the window, rounded up


def limited_operations() -> list[Operation]:
    """Every REST operation that counts its caller's requests: the users' routes and the shared cache."""
    return [op for op in HTTP_OPERATIONS if op.declaration.access.value in ("owner", "cache")]


SECOND_CALL_REFUSED = limited_operations()


def test_an_erasure_is_counted_and_cannot_reset_the_limit(real_redis: redis.Redis, configure: Any) -> None:
    configure(RATE_LIMIT_WRITES="3")
    assert [log_one()["statusCode"] for _ in range(2)] == [201, 201]

    erased = invoke("erase_user", load_event("erase_user.json"))
    after = log_one()

    assert (erased["statusCode"], erased["headers"]["RateLimit-Remaining"]) == (200, "0")
    assert after["statusCode"] == 429  # the erasure was the third write of the window
    assert real_redis.llen("user:123:actions") == 0


@pytest.mark.parametrize("operation", SECOND_CALL_REFUSED, ids=lambda op: op.name)
def test_every_limited_route_answers_429_over_the_limit_and_says_where_the_caller_stands(
    operation: Operation, real_redis: redis.Redis, configure: Any
) -> None:
    configure(RATE_LIMIT_WRITES="1", RATE_LIMIT_READS="1")
    event = load_event(f"{operation.name}.json")
    seed(real_redis)

    first = invoke(operation.name, event)
    seed(real_redis)  # a delete's second call still finds its value, an erase its user
    second = invoke(operation.name, event)

    assert first["statusCode"] < 400, first["body"]
    assert first["headers"]["RateLimit-Remaining"] == "0", operation.name
    assert second["statusCode"] == 429, second["body"]
    assert int(second["headers"]["Retry-After"]) >= 1


def test_every_user_route_and_the_shared_cache_are_limited() -> None:
    # The derivation finds what it should: every /users route and every /cache route, and nothing public or admin.
    names = {op.name for op in limited_operations()}
    assert {"log_action", "log_batch_actions", "get_user_actions", "erase_user", "cache_get"} <= names
    assert names.isdisjoint({"health_check", "health_info"})


@pytest.mark.parametrize(("method", "reads"), [("logAction", False), ("getUserActions", True)])
def test_the_serverpod_methods_count_against_the_users_limits(
    real_redis: redis.Redis, configure: Any, method: str, reads: bool
) -> None:
    configure(RATE_LIMIT_WRITES="1", RATE_LIMIT_READS="1")
    event = load_event("serverpod_user_actions.json")
    event = {**event, "pathParameters": {"method": method}, "routeKey": "POST /userActions/{method}"}
    event = {**event, "body": '{"userId": 123, "action": "tap"}' if not reads else '{"userId": 123}'}

    answers = [invoke("serverpod_user_actions", event) for _ in range(2)]

    assert [answer["statusCode"] for answer in answers] == [200, 429]
    assert answers[1]["json"]["message"]


def test_with_redis_down_a_limited_route_answers_as_without_limits(configure: Any) -> None:
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", RATE_LIMIT_WRITES="1", RATE_LIMIT_READS="1")

    written, got = log_one(), read()

    assert written["statusCode"] == 503
    assert "RateLimit-Limit" not in written["headers"]
    assert (got["statusCode"], got["json"]["degraded"]) == (200, True)


def log_many_as_a_warm_container(redis_url: str, cluster: bool, count: int) -> list[int]:
    """A warm container of its own (a process) logging `count` actions for user 42 at a limit of 50 a window."""
    import os

    os.environ.update(
        {
            "AUTH_REQUIRED": "false",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "RATE_LIMIT_WRITES": "50",
            "RATE_LIMIT_WINDOW_SECONDS": "3600",
            **({"REDIS_CLUSTER": "true", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": redis_url} if cluster else {}),
            **({} if cluster else {"REDIS_URL": redis_url}),
        }
    )
    event = with_caller({**load_event("log_action.json"), "pathParameters": {"userId": "42"}}, None)
    function = handler_module("log_action").lambda_handler
    return [function(event, lambda_context())["statusCode"] for _ in range(count)]


def race(target: str, cluster: bool) -> list[int]:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(log_many_as_a_warm_container, [(target, cluster, 40) for _ in range(4)])
    return [status for statuses in results for status in statuses]


def test_four_containers_racing_get_exactly_the_limit_through(
    session_redis_server: RedisServer, real_redis: redis.Redis
) -> None:
    statuses = race(session_redis_server.url, cluster=False)

    assert statuses.count(201) == 50
    assert statuses.count(429) == 160 - 50
    assert real_redis.llen("user:42:actions") == 50
