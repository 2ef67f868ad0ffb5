"""`python -m bench [--quick] [--output PATH]`: run every measurement, print the results, write bench/RESULTS.md."""

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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import cold, floors
from bench.operations import Plan, handler_environment, template_function
from bench.report import Results
from dev.lambda_environment import lambda_environment
from dev.redis_server import LOOPBACK, RedisServerMissing
from dev.redis_server import ThrowawayRedisServer as RedisServer
from dev.template import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "RESULTS.md"
FULL = Plan()
QUICK = Plan("quick", 5, 0.01, 20, 1, 300, sam_build=False)  # a little of each


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


def run_worker(phase: str, plan: Plan, redis_url: str) -> Any:
    """What a `bench.operations` process measured in `phase`: the layer from its source, in the environment Lambda
    gives a function of the template (as the cold starts get it), the handlers' log lines to a file."""
    function = template_function("log_action")
    env = lambda_environment(function, handler_environment(function, redis_url), [REPO_ROOT, *function.layer_dirs])
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


def measure_all(plan: Plan, server: RedisServer, workdir: Path) -> Results:
    started, facts = time.monotonic(), machine_facts(server.url)
    layer, layout = builds(plan, workdir)

    def step[T](what: str, measure: Callable[[], T]) -> T:
        floors.plain_client(server.url).flushall()  # each measurement starts from an empty Redis
        return timed(what, measure)

    warm = step("warm", lambda: run_worker("warm", plan, server.url))
    cold_starts = step("cold starts", lambda: cold.measure(layout, server.url, workdir, plan))
    memory = step("memory", lambda: run_worker("memory", plan, server.url))
    return Results(plan, time.monotonic() - started, facts, warm, cold_starts, layout.description(), memory, layer)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: every measurement, briefly; writes nothing")
    parser.add_argument("--output", type=Path, help="where to write the Markdown (default: bench/RESULTS.md)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    output = args.output or (None if args.quick else RESULTS)
    try:
        with tempfile.TemporaryDirectory(prefix="actionlog-bench-") as workdir, RedisServer() as server:
            results = measure_all(plan, server, Path(workdir))
    except RedisServerMissing as error:
        progress(str(error))
        return 2
    markdown = results.render()
    print(markdown)
    if output is not None:
        output.write_text(markdown)
        progress(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
