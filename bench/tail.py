"""Warm tails: log one and read 50 timed call by call beside their floors, and what their slowest calls are made of.

In the bench's warm worker (`python -m bench.operations tail ...`), on the same users and with the same Lambda
environment as the warm phase. For each operation of TAIL_OPERATIONS the handler and its two floors (plain
redis-py; redis-py with the layer's client settings) take turns in rounds, in rotating order as
bench.operations.side_by_side does: in each round each of them makes a block of Plan.tail_block_calls calls, every
call timed on its own with perf_counter_ns (a full run: 40 rounds of 1,000, 40,000 calls of each). The faster floor is
the one with the lower median of the per-round means; the targets compare the handler with it.

How a tail target is judged: each round gives the handler's p99 and mean over its block and the faster floor's over
its own block of the same round, so each round gives a p99 ratio and a mean ratio; the target's figure is the median
of those per-round ratios, with the middle half of them, judged on the notch interval as every ratio of the bench is
(bench.__main__: pass, FAIL, or undecided when the limit falls inside it). A block's p99 is a nearest-rank quantile
(of 1,000 calls, the 11th slowest): a burst of pauses in one block moves that round's ratio, not the rounds' median.
The pooled figures (p50, p99, max and mean of every call of each contender) are printed beside the verdicts.

What the tail is made of: a gc.callbacks hook counts the collector's runs, and a call during which one started is
marked; the report gives the calls so marked, among all and among the slowest 1%. Then, in a pass of its own (10
blocks' worth of calls of the handler, then of the faster floor; not judged), each call is timed by the wall clock
and by the thread's CPU clock: the median call's and the slowest 1%'s, so the report tells whether the slowest calls
worked (CPU time: our code, the collector, a log line's formatting) or waited (the scheduler of a busy machine, Redis).
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from redis import Redis

from bench.operations import (
    Call,
    Plan,
    Subjects,
    calls_per_subject,
    floor_call,
    operation,
    quartiles,
    ready,
    run,
)

TAIL_OPERATIONS = ("log one", "read 50")
FLOOR_NAMES = ("plain redis-py", "layer's settings")
SLOWEST = 0.01  # the share of the calls the report calls the slowest
CPU_BLOCKS = 10  # the calls of the CPU-clock pass (OnCpu), in blocks' worth


def quantile(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank `q` quantile of `ordered` (sorted, ascending): the smallest value with at least q of the
    values at or below it."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Distribution(NamedTuple):
    """Every call of one contender, pooled over the rounds."""

    calls: int
    p50_us: float
    p99_us: float
    max_us: float
    mean_us: float
    collected: int  # calls during which the garbage collector ran
    slowest: int  # the slowest 1% of the calls ...
    collected_in_slowest: int  # ... and how many of them the collector ran in


def distribution(times_ns: Sequence[int], collected: Sequence[bool]) -> Distribution:
    order = sorted(range(len(times_ns)), key=times_ns.__getitem__)
    ordered = [times_ns[index] / 1000 for index in order]
    slowest = order[len(order) - max(1, round(len(order) * SLOWEST)) :]
    return Distribution(
        len(ordered),
        quantile(ordered, 0.5),
        quantile(ordered, 0.99),
        ordered[-1],
        statistics.fmean(ordered),
        sum(collected),
        len(slowest),
        sum(collected[index] for index in slowest),
    )


class RoundRatios(NamedTuple):
    """The median of per-round ratios and their middle half: what bench.report judges."""

    ratio: float
    ratio_quartiles: tuple[float, float]


def round_ratios(ratios: Sequence[float]) -> RoundRatios:
    return RoundRatios(statistics.median(ratios), quartiles(ratios))


class OnCpu(NamedTuple):
    """Calls timed by the wall clock and by the thread's CPU clock: a slow call that was not on the CPU waited (for
    the scheduler on a busy machine, or for Redis), one that was did work."""

    calls: int
    wall_us: float  # the median call's
    cpu_us: float
    slowest_wall_us: float  # the slowest 1% by the wall clock, their mean
    slowest_cpu_us: float


class Tail(NamedTuple):
    name: str
    rounds: int
    handler: Distribution
    floor: Distribution  # the faster floor's
    floor_name: str  # which: one of FLOOR_NAMES
    p99: RoundRatios  # handler / floor, per round
    mean: RoundRatios
    handler_cpu: OnCpu | None = None  # a pass of its own after the rounds (the CPU clock costs a system call)
    floor_cpu: OnCpu | None = None


_collections = [0]  # the collector's runs so far, while the hook is in place


def _count_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _collections[0] += 1


def timed_calls(call: Call, calls: int, prepare: Call | None = None) -> tuple[list[int], list[bool]]:
    """Each call's nanoseconds, and whether the collector ran during it; `prepare` before each, off the clock."""
    times, collected, runs, clock = [], [], _collections, time.perf_counter_ns
    for _ in range(calls):
        if prepare is not None:
            prepare()
        before = runs[0]
        started = clock()
        call()
        times.append(clock() - started)
        collected.append(runs[0] != before)
    return times, collected


def on_cpu(call: Call, calls: int, prepare: Call | None = None) -> OnCpu:
    walls, cpus, wall_clock, cpu_clock = [], [], time.perf_counter_ns, time.thread_time_ns
    for _ in range(calls):
        if prepare is not None:
            prepare()
        cpu_started, started = cpu_clock(), wall_clock()
        call()
        walls.append(wall_clock() - started)
        cpus.append(cpu_clock() - cpu_started)
    slowest = sorted(range(calls), key=walls.__getitem__)[calls - max(1, round(calls * SLOWEST)) :]
    return OnCpu(
        calls,
        statistics.median(walls) / 1000,
        statistics.median(cpus) / 1000,
        statistics.fmean(walls[index] for index in slowest) / 1000,
        statistics.fmean(cpus[index] for index in slowest) / 1000,
    )


def block_figures(times_ns: Sequence[int]) -> tuple[float, float]:
    """A block's p99 and mean, in ns."""
    return quantile(sorted(times_ns), 0.99), statistics.fmean(times_ns)


def tail(name: str, plan: Plan, redis: Redis, plain: Redis, per_subject: int) -> Tail:
    op = operation(name)
    contenders, cpu_calls = 3, CPU_BLOCKS * plan.tail_block_calls
    timed = plan.warm_up_calls + plan.tail_rounds * plan.tail_block_calls + cpu_calls
    subjects = Subjects(f"tail-{op.function}", 2 + contenders * timed, per_subject)
    handler, prepare = ready(op, redis, subjects)
    calls = (handler, floor_call(op, plain, subjects), floor_call(op, redis, subjects))
    for call in calls:
        run(call, plan.warm_up_calls, prepare)
    times: list[list[int]] = [[] for _ in calls]
    collected: list[list[bool]] = [[] for _ in calls]
    figures: list[list[tuple[float, float]]] = [[] for _ in calls]  # per round: p99, mean
    gc.callbacks.append(_count_collection)
    try:
        for round_number in range(plan.tail_rounds):
            for offset in range(contenders):
                index = (round_number + offset) % contenders
                block, marks = timed_calls(calls[index], plan.tail_block_calls, prepare)
                times[index] += block
                collected[index] += marks
                figures[index].append(block_figures(block))
    finally:
        gc.callbacks.remove(_count_collection)
    means = [statistics.median(mean for _, mean in each) for each in figures[1:]]
    faster = 1 + (means[1] < means[0])
    pairs = list(zip(figures[0], figures[faster], strict=True))
    cpu = [on_cpu(calls[index], cpu_calls, prepare) for index in (0, faster)]
    return Tail(
        name,
        plan.tail_rounds,
        distribution(times[0], collected[0]),
        distribution(times[faster], collected[faster]),
        FLOOR_NAMES[faster - 1],
        round_ratios([h_p99 / f_p99 for (h_p99, _), (f_p99, _) in pairs]),
        round_ratios([h_mean / f_mean for (_, h_mean), (_, f_mean) in pairs]),
        *cpu,
    )


def measure(plan: Plan, redis: Redis, plain: Redis) -> list[Tail]:
    per_subject = calls_per_subject()
    return [tail(name, plan, redis, plain, per_subject) for name in TAIL_OPERATIONS]
