"""CloudWatch metrics in embedded metric format: the scheduled probe and the HTTP handlers."""

import pytest
import redis

from tests.catalogue import EVENT_FILES, seed, target
from tests.support import emitted_metrics, free_port, handler_module, invoke, lambda_context, load_event

pytestmark = pytest.mark.redis_server


def probe() -> dict:  # type: ignore[type-arg]
    return handler_module("health_probe").lambda_handler(load_event("health_probe.json"), lambda_context())  # type: ignore[no-any-return]


def test_the_probe_reports_healthy_and_its_latency(real_redis: redis.Redis, capsys: pytest.CaptureFixture[str]) -> None:
    report = probe()

    metrics = emitted_metrics(capsys.readouterr().out)
    assert report["status"] == "ok"
    assert metrics["RedisHealthy"] == [1.0]
    assert len(metrics["RedisLatencyMs"]) == 1
    assert 0 < metrics["RedisLatencyMs"][0] < 1000


def test_the_probe_reports_unhealthy_when_redis_is_down(configure, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    report = probe()

    metrics = emitted_metrics(capsys.readouterr().out)
    assert report["status"] == "unavailable"
    assert metrics["RedisHealthy"] == [0.0]
    assert "RedisLatencyMs" not in metrics


def test_handlers_count_actions_cache_hits_misses_and_redis_errors(
    real_redis: redis.Redis,
    configure,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    invoke("log_batch_actions", load_event("log_batch_actions.json"))
    invoke("cache_get", load_event("cache_get.json"))
    invoke("cache_set", load_event("cache_set.json"))
    invoke("cache_get", load_event("cache_get.json"))
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    invoke("log_action", load_event("log_action.json"))

    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["ActionsLogged"] == [3.0]
    assert metrics["CacheMiss"] == [1.0]
    assert metrics["CacheHit"] == [1.0]
    assert metrics["RedisErrors"] == [1.0]


def test_a_read_emits_no_metric_line(real_redis: redis.Redis, capsys: pytest.CaptureFixture[str]) -> None:
    invoke("get_user_actions", load_event("get_user_actions.json"))

    assert emitted_metrics(capsys.readouterr().out) == {}


def handle(event_file: str) -> dict:  # type: ignore[type-arg]
    """The event answered by the function it reaches, as Lambda would call it."""
    event = load_event(event_file)
    response: dict = handler_module(target(event).name).lambda_handler(event, lambda_context())  # type: ignore[type-arg]
    return response


def logged_entries(redis_client: redis.Redis) -> int:
    return sum(redis_client.llen(key) for key in redis_client.scan_iter("user:*:actions"))


@pytest.mark.parametrize("event_file", EVENT_FILES)
def test_every_entry_point_counts_exactly_the_actions_it_logged(
    real_redis: redis.Redis, capsys: pytest.CaptureFixture[str], event_file: str
) -> None:
    # Given an empty log (no list reaches its cap) and a cached session for the cache events
    seed(real_redis)

    # When the event arrives (REST, Serverpod, SQS or the schedule)
    handle(event_file)

    # Then ActionsLogged says how many entries it added
    metrics = emitted_metrics(capsys.readouterr().out)
    assert sum(metrics.get("ActionsLogged", [])) == logged_entries(real_redis)


@pytest.mark.parametrize("event_file", EVENT_FILES)
def test_every_entry_point_records_one_redis_error_per_invocation_that_met_one(
    configure,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
    event_file: str,
) -> None:
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    response = handle(event_file)

    metrics = emitted_metrics(capsys.readouterr().out)
    refused_before_redis = 400 <= response.get("statusCode", 0) < 500
    assert metrics.get("RedisErrors", []) == ([] if refused_before_redis else [1.0])
