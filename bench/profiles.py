"""Where the time goes: cProfile of warm calls, and the import-time breakdown of a cold start.

The warm profiles run in the bench's warm worker (`python -m bench.operations profiles ...`): log one and the batch
of 100, each warmed up, then Plan.profile_calls calls of log one (a fifth as many batches) under cProfile; the
functions with the most time of their own (tottime), per call. cProfile's own hooks slow every Python call, so the
figures are for the shares, not the absolute times.

The import-time breakdown runs `python -X importtime -c "import app"` in log_action's code directory with the layer
on the path and the function's environment, as the cold starts import it (bench.cold.Layout: the built artifacts
without site-packages, or the source tree), Plan.import_runs times after one untimed run; per module, the medians.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import re
import statistics
import subprocess
import sys
import sysconfig
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

from redis import Redis

from bench.operations import Plan, Subjects, calls_per_subject, handler_environment, operation, ready, run
from dev.lambda_environment import lambda_environment
from dev.template import REPO_ROOT, Function

TOP = 15
PROFILED = {"log one": 1, "log batch of 100": 5}  # profile calls per call of the operation: a fifth as many batches


class ProfileRow(NamedTuple):
    function: str  # path:line(name), the path shortened (short_path)
    calls: float  # per call of the operation
    own_us: float  # tottime per call of the operation
    cumulative_us: float


class Profile(NamedTuple):
    name: str
    calls: int
    per_call_us: float  # under the profiler
    rows: list[ProfileRow]


def short_path(path: str) -> str:
    """A path as the report shows it: from the repository, or from site-packages, a layer's python/ directory or
    the standard library's directory; a built-in's name as it is."""
    if path.startswith("~") or path.startswith("<"):
        return path
    for marker in ("/site-packages/", "/python/"):  # the venv's, then a built layer's
        if marker in path:
            return path.rsplit(marker, 1)[1]
    stdlib = sysconfig.get_paths()["stdlib"]
    if path.startswith(stdlib + os.sep):
        return "<stdlib>/" + os.path.relpath(path, stdlib)
    if path.startswith(str(REPO_ROOT) + os.sep):
        return os.path.relpath(path, REPO_ROOT)
    return path


def label(key: tuple[str, int, str]) -> str:
    path, line, name = key
    return f"{short_path(path)}:{line}({name})" if line else name  # a built-in: ~:0(<method ...>)


def profile(name: str, plan: Plan, redis: Redis, per_subject: int) -> Profile:
    calls = max(1, plan.profile_calls // PROFILED[name])
    op = operation(name)
    subjects = Subjects(f"profile-{op.function}", 1 + plan.warm_up_calls + calls, per_subject)
    call, prepare = ready(op, redis, subjects)
    run(call, plan.warm_up_calls, prepare)
    profiler = cProfile.Profile()
    for _ in range(calls):
        if prepare is not None:
            prepare()
        profiler.enable()
        call()
        profiler.disable()
    measured = pstats.Stats(profiler).stats.items()  # type: ignore[attr-defined]  # typeshed leaves it out
    stats = {key: figures for key, figures in measured if "_lsprof" not in key[2]}  # not the profiler's own
    total = sum(own for _, _, own, _, _ in stats.values())
    top = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
    rows = [
        ProfileRow(label(key), called / calls, own / calls * 1e6, cumulative / calls * 1e6)
        for key, (_, called, own, cumulative, _) in top
    ]
    return Profile(name, calls, total / calls * 1e6, rows)


def measure(plan: Plan, redis: Redis, plain: Redis) -> list[Profile]:
    per_subject = calls_per_subject()
    return [profile(name, plan, redis, per_subject) for name in PROFILED]


class ImportRow(NamedTuple):
    module: str
    depth: int  # 0: imported by `import app` itself (or by the interpreter's start-up)
    own_ms: float
    cumulative_ms: float


class ImportTimes(NamedTuple):
    function: str
    runs: int
    total_ms: float  # `import app`, cumulative
    rows: list[ImportRow]  # the TOP modules by cumulative time
    layout: str
    packages: tuple[tuple[str, float], ...] = ()  # the TOP top-level packages by their modules' own time, ms


def by_package(rows: list[ImportRow]) -> tuple[tuple[str, float], ...]:
    """Each top-level package's modules' own import time, summed, the costliest first."""
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row.module.split(".", 1)[0]] += row.own_ms
    return tuple(sorted(totals.items(), key=lambda item: item[1], reverse=True)[:TOP])


IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$")


def parse_importtime(stderr: str) -> dict[str, tuple[int, float, float]]:
    """Python's -X importtime lines: module -> (depth, own ms, cumulative ms)."""
    found = {}
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            own, cumulative, indent, module = match.groups()
            found[module] = (len(indent) // 2, int(own) / 1000, int(cumulative) / 1000)
    return found


def import_times(
    name: str, function: Function, paths: list[Path], isolated: bool, redis_url: str, runs: int
) -> ImportTimes:
    """`import app` of `function` (functions/`name`/, or its build) under -X importtime, on the import path
    `paths`, without site-packages when `isolated`: the modules with the most cumulative time (medians)."""
    env = lambda_environment(function, handler_environment(function, redis_url), paths)
    command = [sys.executable, *(["-S"] if isolated else []), "-X", "importtime", "-c", "import app"]
    samples: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for run_number in range(runs + 1):
        done = subprocess.run(command, cwd=function.code_dir, env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"importing {function.logical_id}'s app failed:\n{done.stderr[-2000:]}")
        if run_number > 0:  # the first fills the page cache
            for module, figures in parse_importtime(done.stderr).items():
                samples[module].append(figures)
    rows = [
        ImportRow(module, figures[0][0], statistics.median(own for _, own, _ in figures),
                  statistics.median(cumulative for _, _, cumulative in figures))
        for module, figures in samples.items()
    ]  # fmt: skip
    rows.sort(key=lambda row: row.cumulative_ms, reverse=True)
    total = next((row.cumulative_ms for row in rows if row.module == "app"), 0.0)
    layout = "the built layer, without site-packages" if isolated else "the layer's source, with site-packages"
    return ImportTimes(name, runs, total, rows[:TOP], layout, by_package(rows))
