"""Peak resident memory of a warm handler process after thousands of calls, to choose MemorySize."""

from __future__ import annotations

import itertools
import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import floors
from bench.operations import OPERATIONS
from bench.process import run_worker
from bench.warm import ready

MIB = 1024 * 1024


@dataclass(frozen=True)
class MemoryResult:
    calls: int
    handlers: int
    rss_after_first_call_mib: float
    peak_rss_mib: float


def measure(redis_url: str, *, calls: int) -> MemoryResult:
    return MemoryResult(**run_worker("memory", {"calls": calls}, redis_url))


# What follows runs in the worker process (bench.worker).


def current_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / MIB
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MIB  # Linux reports kilobytes


def run_in_worker(config: dict[str, Any]) -> dict[str, Any]:
    """Every handler in one process (a superset of any one function's container), called in turn."""
    redis = floors.client(os.environ["REDIS_URL"])
    prepared = [ready(op, redis) for op in OPERATIONS]
    after_first_call = current_rss_mib()
    for call, prepare in itertools.islice(itertools.cycle(prepared), config["calls"]):
        if prepare is not None:
            prepare()
        call()
    return {
        "calls": config["calls"],
        "handlers": len(prepared),
        "rss_after_first_call_mib": after_first_call,
        "peak_rss_mib": peak_rss_mib(),
    }
