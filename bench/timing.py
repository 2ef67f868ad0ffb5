"""Side-by-side timing: a subject and its floor measured in alternating blocks, so machine noise hits both."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

type Call = Callable[[], object]


@dataclass(frozen=True)
class SideBySide:
    subject_us: float  # median over rounds of the mean time per call
    floor_us: float
    ratio: float  # median over rounds of subject / floor, each round's pair measured back to back
    ratio_quartiles: tuple[float, float]  # the middle half of the rounds' ratios: how much the noise moved it
    rounds: int
    calls_per_round: int
    # A second floor in the same rounds (the layer's client settings beside redis-py's defaults), when one was given.
    reference_us: float | None = None
    reference_ratio: float | None = None


def per_call_seconds(call: Call, calls: int, prepare: Call | None = None) -> float:
    """The mean time of `calls` calls; `prepare` runs before each, outside the clock."""
    total = 0
    for _ in range(calls):
        if prepare is not None:
            prepare()
        started = time.perf_counter_ns()
        call()
        total += time.perf_counter_ns() - started
    return total / calls / 1e9


def calls_per_block(call: Call, block_seconds: float, prepare: Call | None = None) -> int:
    """How many calls fill about `block_seconds`: long enough to average out the clock, short enough to interleave."""
    estimate = per_call_seconds(call, 5, prepare)
    return max(1, min(500, round(block_seconds / max(estimate, 1e-6))))


def side_by_side(
    subject: Call,
    floor: Call,
    *,
    rounds: int,
    block_seconds: float,
    prepare: Call | None = None,
    reference: Call | None = None,
) -> SideBySide:
    calls = calls_per_block(subject, block_seconds, prepare)
    contenders = [subject, floor, *([reference] if reference else [])]
    times: list[list[float]] = [[] for _ in contenders]
    for round_number in range(rounds):
        # Rotate which goes first, so none always runs just after another's cache misses or GC debt.
        order = [(round_number + offset) % len(contenders) for offset in range(len(contenders))]
        for index in order:
            times[index].append(per_call_seconds(contenders[index], calls, prepare))
    subject_times, floor_times = times[0], times[1]
    ratios = [s / f for s, f in zip(subject_times, floor_times, strict=True)]
    reference_times = times[2] if reference else None
    return SideBySide(
        subject_us=statistics.median(subject_times) * 1e6,
        floor_us=statistics.median(floor_times) * 1e6,
        ratio=statistics.median(ratios),
        ratio_quartiles=quartiles(ratios),
        rounds=rounds,
        calls_per_round=calls,
        reference_us=statistics.median(reference_times) * 1e6 if reference_times else None,
        reference_ratio=(
            statistics.median([s / r for s, r in zip(subject_times, reference_times, strict=True)])
            if reference_times
            else None
        ),
    )


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    low, _, high = statistics.quantiles(values, n=4)
    return low, high


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0 < fraction <= 1) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
