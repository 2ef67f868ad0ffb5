"""Where a warm handler's time goes: cProfile of warm calls, summed up by library.

cProfile slows pure-Python code more than C, so the shares are a guide to where to look, not timings.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sysconfig
from dataclasses import dataclass
from typing import Any

from bench import floors
from bench.operations import ROOT, operation
from bench.process import run_worker
from bench.warm import ready, warm_up

PROFILED = ("log one", "read 50")  # operations without a `prepare`, so only the handler runs under the profiler
CUMULATIVE_ENTRIES = 25
SELF_TIME_ENTRIES = 8
STDLIB = sysconfig.get_paths()["stdlib"]
BENCH = str(ROOT / "bench")

type Site = tuple[str, int, str]  # pstats' (filename, line, function)


@dataclass(frozen=True)
class Entry:
    group: str
    where: str
    per_call_us: float
    share: float  # of the whole handler call, 0..1


@dataclass(frozen=True)
class Profile:
    name: str
    calls: int
    per_call_us: float  # under the profiler
    by_library: list[Entry]  # the time spent in each library's own functions, summed
    cumulative: list[Entry]  # the top entries by cumulative time, each labelled with its library
    own: list[Entry]  # the top entries by time spent in the function itself


def profile(redis_url: str, *, calls: int) -> list[Profile]:
    raw = run_worker("profile", {"calls": calls}, redis_url)
    entries = ("by_library", "cumulative", "own")
    return [Profile(**{**item, **{key: [Entry(**e) for e in item[key]] for key in entries}}) for item in raw]


def group_of(site: Site) -> str | None:
    filename, _, function = site
    if "aws_lambda_powertools" in filename:
        return "Powertools"
    if "pydantic" in filename or "pydantic" in function:
        return "pydantic"
    if filename.startswith((str(ROOT / "layers"), str(ROOT / "functions"))):
        return "Actionlog"
    if "/redis/" in filename or "hiredis" in function:
        return "redis-py"
    if "_socket" in function or filename.endswith("socket.py"):
        return "socket I/O"
    if f"{STDLIB}/json/" in filename or "_json" in function:
        return "json (stdlib)"
    return None


def describe(site: Site) -> str:
    filename, line, function = site
    if filename == "~":  # a built-in: pstats names it by its repr
        return function
    for anchor in ("site-packages/", f"{ROOT}/layers/actionlog/", f"{ROOT}/", f"{STDLIB}/"):
        if anchor in filename:
            filename = filename.split(anchor, 1)[1]
            break
    return f"{filename}:{line} {function}"


def summarize(name: str, stats: pstats.Stats, calls: int, total_seconds: float) -> dict[str, Any]:
    table: dict[Site, tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]

    def entry(group: str, where: str, seconds: float) -> dict[str, Any]:
        share = seconds / total_seconds
        return {"group": group, "where": where, "per_call_us": seconds / calls * 1e6, "share": share}

    def site_entry(site: Site, seconds: float) -> dict[str, Any]:
        return entry(group_of(site) or "other", describe(site), seconds)

    own_time: dict[str, float] = {}
    for site, row in table.items():
        group = group_of(site) or "other"
        own_time[group] = own_time.get(group, 0.0) + row[2]
    by_library = [entry(group, "", seconds) for group, seconds in sorted(own_time.items(), key=lambda kv: -kv[1])]
    # The bench's own loop is not the handler's; everything else, whichever library, in one ranking.
    handler_sites = [site for site in table if not site[0].startswith(BENCH)]
    cumulative_sites = sorted(handler_sites, key=lambda site: -table[site][3])[:CUMULATIVE_ENTRIES]
    own_sites = sorted(table, key=lambda site: -table[site][2])[:SELF_TIME_ENTRIES]
    return {
        "name": name,
        "calls": calls,
        "per_call_us": total_seconds / calls * 1e6,
        "by_library": by_library,
        "cumulative": [site_entry(site, table[site][3]) for site in cumulative_sites],
        "own": [site_entry(site, table[site][2]) for site in own_sites],
    }


# What follows runs in the worker process (bench.worker).


def run_in_worker(config: dict[str, Any]) -> list[dict[str, Any]]:
    redis = floors.client(os.environ["REDIS_URL"])
    results = []
    for name in PROFILED:
        call, _ = ready(operation(name), redis)  # PROFILED operations need nothing put back between calls
        warm_up(call, None, 100)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(config["calls"]):
            call()
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
        results.append(summarize(name, stats, config["calls"], total))
    return results
