"""The bench's warm tails (bench/tail.py): its quantiles and what it tells of the slowest calls, and the tail phase
in the quick mode on a real server."""

from __future__ import annotations

import pytest

from bench.__main__ import QUICK, run_worker
from bench.tail import FLOOR_NAMES, TAIL_OPERATIONS, distribution, quantile, round_ratios
from tests.support import RedisServer


def test_a_quantile_is_the_nearest_rank() -> None:
    hundred = list(range(1, 101))

    assert (quantile(hundred, 0.5), quantile(hundred, 0.99), quantile(hundred, 1.0)) == (50, 99, 100)
    assert quantile(list(range(1, 501)), 0.99) == 495  # of a block of 500, the 6th slowest
    assert quantile([7], 0.99) == quantile([7], 0.0) == 7


def test_a_distribution_tells_how_many_of_the_slowest_calls_the_collector_ran_in() -> None:
    # Given 200 calls of 100 µs, two of which (the slowest, 900 and 800 µs) a collection ran in, and one more
    times_ns = [100_000] * 197 + [900_000, 800_000, 150_000]
    collected = [False] * 197 + [True, True, True]

    found = distribution(times_ns, collected)

    assert (found.calls, found.p50_us, found.p99_us, found.max_us) == (200, 100.0, 150.0, 900.0)  # p99: 198th
    assert found.mean_us == pytest.approx(107.75)
    assert (found.collected, found.slowest, found.collected_in_slowest) == (3, 2, 2)


def test_round_ratios_are_the_median_and_the_middle_half() -> None:
    assert round_ratios([1.0, 2.0, 3.0, 4.0, 5.0]) == (3.0, (1.5, 4.5))


@pytest.mark.redis_server
def test_the_tail_phase_times_each_call_of_log_one_and_read_50_beside_the_faster_floor(
    bench_server: RedisServer,
) -> None:
    plan = QUICK._replace(tail_rounds=2, tail_block_calls=20)

    tails = run_worker("tail", plan, bench_server.url)

    assert [tail.name for tail in tails] == list(TAIL_OPERATIONS)
    for tail in tails:
        assert (tail.rounds, tail.handler.calls, tail.floor.calls) == (2, 40, 40)
        assert tail.floor_name in FLOOR_NAMES
        assert 0 < tail.handler.p50_us <= tail.handler.p99_us <= tail.handler.max_us
        assert tail.p99.ratio > 0
        assert tail.mean.ratio > 0
        for on_cpu in (tail.handler_cpu, tail.floor_cpu):
            assert on_cpu is not None
            assert on_cpu.calls == 10 * 20
            assert 0 < on_cpu.cpu_us <= on_cpu.wall_us * 1.1  # a call is on the CPU at most as long as it lasts
            assert on_cpu.slowest_wall_us >= on_cpu.wall_us
