"""`python -m bench [--quick] [--output PATH]`: run every measurement, print the results, write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import build, cold, memory, profiling, roundtrips, scale, warm
from bench.floors import client
from bench.machine import machine_facts
from bench.operations import ROOT
from bench.report import Results, render
from bench.server import RedisServer, RedisServerMissing

RESULTS = ROOT / "bench" / "RESULTS.md"


@dataclass(frozen=True)
class Plan:
    """How much of each measurement: the full run fits in about five minutes on two cores."""

    name: str
    warm_rounds: int
    warm_block_seconds: float
    warm_up_calls: int
    cold_rounds: int
    import_runs: int
    memory_calls: int
    scale_clients: tuple[int, ...]
    scale_seconds: float
    benchmark_requests: int
    profile_calls: int
    sam_build: bool  # sizes, and cold starts from the built artifacts rather than the source tree


FULL = Plan(
    name="full",
    warm_rounds=41,
    warm_block_seconds=0.02,
    warm_up_calls=100,
    cold_rounds=12,  # each round spawns 2 processes per function: a cold start is noisy, so the median needs many
    import_runs=3,
    memory_calls=5000,
    scale_clients=(1, 2, 4, 8),
    scale_seconds=3.0,
    benchmark_requests=50_000,
    profile_calls=1000,
    sam_build=True,
)
QUICK = Plan(
    name="quick",
    warm_rounds=5,
    warm_block_seconds=0.01,
    warm_up_calls=20,
    cold_rounds=1,
    import_runs=1,
    memory_calls=300,
    scale_clients=(1, 2),
    scale_seconds=1.0,
    benchmark_requests=5_000,
    profile_calls=100,
    sam_build=False,
)


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def timed[T](what: str, measure: Callable[[], T]) -> T:
    progress(f"{what} ...")
    started = time.monotonic()
    result = measure()
    progress(f"{what}: {time.monotonic() - started:.0f} s")
    return result


def artifacts(plan: Plan, workdir: Path) -> tuple[build.Sizes | str, cold.Layout]:
    """The deployed build's sizes and the layout to cold-start, or why the build could not be used."""
    if not plan.sam_build:
        return "skipped by --quick", cold.source_layout(workdir / "pycache")
    try:
        deployed = timed("sam build (deployed template)", lambda: build.sam_build(workdir / "deployed"))
        local = timed("sam build (this machine's architecture)", lambda: build.local_build(workdir / "local"))
    except build.BuildUnavailable as error:
        progress(f"{error}; cold starts use the source tree")
        return str(error).splitlines()[0], cold.source_layout(workdir / "pycache")
    return build.sizes(deployed), cold.deployed_layout(local, build.layer_id(), build.function_ids())


def measure_all(plan: Plan, server: RedisServer, workdir: Path) -> Results:
    started = time.monotonic()
    facts = machine_facts()
    sizes, layout = artifacts(plan, workdir)
    url = server.url

    def step[T](what: str, measure: Callable[[], T]) -> T:
        with client(url) as redis:
            redis.flushall()  # each measurement starts from an empty Redis
        return timed(what, measure)

    warm_report = step(
        "warm invocations",
        lambda: warm.measure(
            url, rounds=plan.warm_rounds, block_seconds=plan.warm_block_seconds, warm_up_calls=plan.warm_up_calls
        ),
    )
    trips = step("round trips", lambda: roundtrips.count(url))
    cold_report = step(
        "cold starts", lambda: cold.run(layout, url, workdir, rounds=plan.cold_rounds, import_runs=plan.import_runs)
    )
    memory_result = step("memory", lambda: memory.measure(url, calls=plan.memory_calls))
    scale_results = step(
        "scale",
        lambda: scale.measure(
            url, server.port, clients=plan.scale_clients, seconds=plan.scale_seconds, requests=plan.benchmark_requests
        ),
    )
    profiles = step("profile", lambda: profiling.profile(url, calls=plan.profile_calls))
    return Results(
        run=plan.name,
        elapsed_seconds=time.monotonic() - started,
        facts=facts,
        warm=warm_report,
        round_trips=trips,
        cold=cold_report,
        memory=memory_result,
        sizes=sizes,
        scale=scale_results,
        profiles=profiles,
        warm_rounds=plan.warm_rounds,
        scale_seconds=plan.scale_seconds,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: every measurement, briefly; writes nothing")
    parser.add_argument(
        "--output", type=Path, help=f"where to write the Markdown (default: {RESULTS.relative_to(ROOT)})"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    output = args.output or (None if args.quick else RESULTS)
    try:
        with tempfile.TemporaryDirectory(prefix="actionlog-bench-") as workdir, RedisServer() as server:
            results = measure_all(plan, server, Path(workdir))
    except RedisServerMissing as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    markdown = render(results)
    print(markdown)
    if output is not None:
        output.write_text(markdown)
        progress(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
