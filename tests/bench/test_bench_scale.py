"""The bench's scale measurement (bench/scale.py): warm containers and raw processes writing at once, measured
briefly on a real server, and how it tells which connections are whose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import floors, scale
from bench.__main__ import worker_environment
from dev.template import REPO_ROOT
from tests.support import RedisServer


@pytest.mark.redis_server
def test_a_process_connections_are_found_by_their_ports(bench_server: RedisServer) -> None:
    redis = floors.plain_client(bench_server.url)
    redis.ping()
    port = int(redis.connection_pool.connection_kwargs["port"])

    ports = scale.redis_ports(os.getpid(), port)

    assert len(ports) >= 1
    assert scale.connections(redis, [os.getpid()], port) == (len(ports),)


@pytest.mark.redis_server
def test_two_containers_beside_two_raw_processes_answer_and_keep_every_call_on_one_connection_each(
    bench_server: RedisServer, tmp_path: Path
) -> None:
    # Given the template's defaults: a write limit of 120 a minute per user
    with open(tmp_path / "log", "w") as log:
        measured = scale.measure_n(2, worker_environment(bench_server.url), 0.2, 2, tmp_path, log)

    assert (measured.n, measured.rounds) == (2, 2)
    assert measured.calls("handler") > 0
    assert measured.every_call_answered()
    assert measured.nothing_lost()
    assert measured.found("raw") == measured.answered("raw") == measured.calls("raw") > 0
    assert measured.connections() == (1, 1)
    assert all(len(each.connections) == 2 for each in measured.handler)
    assert measured.ratio > 0
    assert measured.handler_p50_us <= measured.handler_p99_us


@pytest.mark.redis_server
def test_a_container_that_cannot_start_stops_the_measurement_with_its_output(
    bench_server: RedisServer, tmp_path: Path
) -> None:
    # Given a container without the layer on its path
    env = worker_environment(bench_server.url) | {"PYTHONPATH": str(REPO_ROOT)}

    with open(tmp_path / "log", "w") as log, pytest.raises(RuntimeError, match="No module named 'actionlog'"):
        scale.measure_n(1, env, 0.1, 1, tmp_path, log)
