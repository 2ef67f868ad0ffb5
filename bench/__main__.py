"""`python -m bench [--record] [--quick] [--output PATH]`: run every measurement and print the results as Markdown.

The tracked bench/RESULTS.md is written only with --record (`make bench RECORD=1`); --output writes a copy elsewhere.

Each target gets a verdict. A count or a size (round trips, peak memory, the layer, calls answered, entries lost,
connections) passes or fails as measured. A ratio (a handler's time over its floor's, measured side by side in
rounds) is judged on the interval a box plot's notches give its median: the median of the per-round ratios plus or
minus 1.57 x the width of their middle half / √rounds. It passes when the whole interval is within the limit, FAILs
when none of it is, and is undecided when the limit falls inside it, or when there were fewer than 5 rounds: the
machine's noise, not the code, would decide it. More rounds narrow the interval; a quieter machine narrows the
middle half. The ratios judged:
  warm      each handler's mean time per call over the faster of its two floors (plain redis-py; redis-py with the
            layer's settings: the one with the lower median), per round (bench.operations.side_by_side)
  tail      log one's and read 50's p99 and mean over the faster floor's, per round of blocks of calls each timed
            on its own (bench.tail)
  scale     raw redis-py's throughput over the warm containers' at each N, per round (bench.scale)
  cold      a cold start over its floor function's, per pair of samples (bench.cold)
A target over several ratios (every other operation, the cold start) is decided by its worst. A target the run could
not measure (the layer without `sam build`) counts as undecided.

With `sam build` (a full run), the warm processes import the built layer (this machine's architecture) rather than
its source; the cold starts run on the built artifacts without site-packages.

Exit status:
  0  every target passed
  1  a target was missed (FAIL), whatever else is undecided
  2  the bench could not run (no redis-server, a measurement crashed, or a wrong argument)
  3  no target was missed, but one or more is undecided or was not measured: run it again (a --quick run
     measures no layer, so it ends in 3 at best)
`make bench` ends in make's own status 2 for any of 1, 2 or 3 and names the bench's in its "Error N" line.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import cold, floors, scale
from bench.operations import Plan, handler_environment, template_function
from bench.report import CANNOT_RUN, MISSED, PASSED, UNDECIDED, Results
from dev.lambda_environment import lambda_environment
from dev.redis_server import LOOPBACK, RedisServerMissing, ThrowawayRedisServer
from dev.template import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "RESULTS.md"
FULL = Plan()
QUICK = Plan(  # a little of each
    "quick", 5, 0.01, 20, 1, 300, sam_build=False, tail_rounds=5, tail_block_calls=100, profile_calls=200,
    import_runs=1, scale_rounds=2, scale_seconds=0.3,
)  # fmt: skip


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def machine_facts(redis_url: str) -> dict[str, str]:
    """What a result depends on, recorded with it; the load average too, as the machine is shared."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpus = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    version = floors.plain_client(redis_url).info("server")["redis_version"]
    packages = ("redis", "hiredis", "aws-lambda-powertools", "pydantic-core", "awslambdaric")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPUs": f"{os.cpu_count()} x {cpus[0] if cpus else platform.processor() or 'unknown'} (shared; load average "
        f"at start {' / '.join(f'{load:.2f}' for load in os.getloadavg())})",
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "Python": sys.version.split()[0],
        "redis-server": f"{version}, the bench's own on {LOOPBACK}, no persistence",
        "packages": ", ".join(f"{name} {metadata.version(name)}" for name in packages),
    }


def worker_environment(redis_url: str, layout: cold.Layout | None = None) -> dict[str, str]:
    """The environment of a warm process: Lambda's for log_action (as the cold starts get it), on this Redis, with
    the layer `layout` has (built, or by default its source) on the path after the repository (bench, functions)."""
    function = template_function("log_action")
    layers = (layout or cold.Layout()).layers(function)
    return lambda_environment(function, handler_environment(function, redis_url), [REPO_ROOT, *layers])


def run_worker(phase: str, plan: Plan, redis_url: str, layout: cold.Layout | None = None) -> Any:
    """What a `bench.operations` process measured in `phase`, in a warm process's environment (worker_environment),
    the handlers' log lines to a file."""
    env = worker_environment(redis_url, layout)
    with tempfile.TemporaryDirectory(prefix="actionlog-bench-") as workdir, open(Path(workdir) / "log", "w") as log:
        result = Path(workdir) / "result"
        command = [sys.executable, "-m", "bench.operations", phase, json.dumps(plan._asdict()), str(result)]
        worker = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.PIPE, text=True)
        if worker.returncode != 0:
            raise RuntimeError(f"bench worker {phase!r} failed:\n{worker.stderr}")
        return pickle.loads(result.read_bytes())


def builds(plan: Plan, workdir: Path) -> tuple[float | str, cold.Layout]:
    """The deployed layer's size and the layout to cold-start, or why the build could not be used."""
    if not plan.sam_build:
        return "skipped by --quick", cold.Layout()
    try:
        deployed = timed("sam build (as deployed)", lambda: cold.sam_build(workdir / "deployed"))
        local = timed("sam build (this machine's architecture)", lambda: cold.local_build(workdir / "local"))
    except cold.BuildUnavailable as error:
        progress(f"{error}; cold starts use the source tree")
        return str(error).splitlines()[0], cold.Layout()
    return cold.layer_mib(deployed), cold.Layout(local)


def timed[T](what: str, measure: Callable[[], T]) -> T:
    progress(f"{what} ...")
    started = time.monotonic()
    result = measure()
    progress(f"{what}: {time.monotonic() - started:.0f} s")
    return result


def measure_all(plan: Plan, server: ThrowawayRedisServer, workdir: Path) -> Results:
    started, facts = time.monotonic(), machine_facts(server.url)
    layer, layout = builds(plan, workdir)

    loads: list[str] = []  # the machine is shared: how busy it was through each measurement

    def step[T](what: str, measure: Callable[[], T]) -> T:
        floors.plain_client(server.url).flushall()  # each measurement starts from an empty Redis
        measured = timed(what, measure)
        loads.append(f"{what} {os.getloadavg()[0]:.1f}")
        return measured

    def worker(phase: str) -> Any:
        return run_worker(phase, plan, server.url, layout)

    warm = step("warm", lambda: worker("warm"))
    tails = step("warm tails", lambda: worker("tail"))
    scales = step("scale", lambda: scale.measure(worker_environment(server.url, layout), plan, workdir))
    cold_starts = step("cold starts", lambda: cold.measure(layout, server.url, workdir, plan))
    memory = step("memory", lambda: worker("memory"))
    worst = step("worst bodies", lambda: worker("bodies"))
    reads = step("long reads", lambda: worker("reads"))
    profiled = step("profiles", lambda: worker("profiles"))
    imports = step("import times", lambda: layout.import_times("log_action", server.url, plan.import_runs))
    facts["load average after each measurement"] = ", ".join(loads)
    return Results(
        plan, time.monotonic() - started, facts, warm, cold_starts, layout.description(), memory, layer, worst, reads,
        tails, scales, profiled, imports, layout.warm_description(),
    )  # fmt: skip


def run(plan: Plan) -> Results:
    """Every measurement, against a redis-server of the bench's own."""
    with tempfile.TemporaryDirectory(prefix="actionlog-bench-") as workdir, ThrowawayRedisServer() as server:
        return measure_all(plan, server, Path(workdir))


def main(
    argv: Sequence[str] | None = None, *, measure: Callable[[Plan], Results] = run, recorded: Path = RESULTS
) -> int:
    """The bench's exit status; `measure` and `recorded` are for tests, which judge made-up results."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--record", action="store_true", help="write the results to bench/RESULTS.md")
    parser.add_argument("--quick", action="store_true", help="a smoke run: every measurement, briefly")
    parser.add_argument("--output", type=Path, metavar="PATH", help="write the results to this file as well")
    args = parser.parse_args(argv)
    if args.record and args.quick:
        parser.error("--record keeps full runs only; --quick with --output PATH writes a smoke run's results")
    try:
        results = measure(QUICK if args.quick else FULL)
    except RedisServerMissing as error:
        progress(str(error))
        return CANNOT_RUN
    except Exception:  # a crash must not read as a missed target, which Python's own status for it (1) would
        traceback.print_exc()
        progress(f"the bench could not run (exit status {CANNOT_RUN})")
        return CANNOT_RUN
    markdown = results.render()
    print(markdown)
    for path in ([recorded] if args.record else []) + ([args.output] if args.output else []):
        path.write_text(markdown)
        progress(f"wrote {os.path.relpath(path)}")
    if not args.record:
        progress(f"not recorded: `make bench RECORD=1` (python -m bench --record) writes {os.path.relpath(recorded)}")
    status = results.exit_status()
    verdict = {PASSED: "every target passed", MISSED: "a target was missed", UNDECIDED: "a target is undecided"}
    progress(f"{verdict[status]} (exit status {status})")
    return status


if __name__ == "__main__":
    sys.exit(main())
