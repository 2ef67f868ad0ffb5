"""`python -m bench [--quick] [--output PATH]`: run every measurement, print the results, write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from subprocess import PIPE
from typing import IO, Any

from bench import cold, floors
from bench.operations import READY, ROOT, Plan, handler_environment, percentile, template_function
from bench.report import Results, ScaleResult, Throughput
from dev.redis_server import LOOPBACK, RedisServer, RedisServerMissing, redis_server_binary

RESULTS = ROOT / "bench" / "RESULTS.md"


FULL = Plan()
QUICK = Plan("quick", 5, 0.01, 20, 1, 1, 300, (1, 2), 1.0, 5_000, 100, sam_build=False)  # a little of each


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def machine_facts() -> dict[str, str]:
    """What a result depends on, recorded with it; the load average too, as the machine is shared."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpus = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    cpu = cpus[0] if cpus else platform.processor() or "unknown"
    version = subprocess.run([redis_server_binary(), "--version"], capture_output=True, text=True, check=True).stdout
    fields = dict(part.split("=", 1) for part in version.split() if "=" in part)  # "Redis server v=7.0.15 sha=..."
    packages = ("redis", "hiredis", "aws-lambda-powertools", "pydantic", "awslambdaric")
    load = " / ".join(f"{load:.2f}" for load in os.getloadavg())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPUs": f"{os.cpu_count()} x {cpu} (shared; load average at start {load})",
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "Python": sys.version.split()[0],
        "redis-server": f"{fields.get('v', version.strip())}, the bench's own on {LOOPBACK}, no persistence",
        "packages": ", ".join(f"{name} {metadata.version(name)}" for name in packages),
    }


def run_workers(phase: str, plan: Plan, redis_url: str, count: int = 1) -> list[Any]:
    """`count` bench.operations processes of `phase`, released together once all are warm; what each measured.

    They import functions.<name>.app from the repository and the layer from its source, with every function's
    environment (the template's Globals). The handlers' log lines go to a file, as Lambda's go to its log pipe.
    """
    function = template_function("log_action")
    pythonpath = os.pathsep.join(map(str, [ROOT, *function.layer_dirs]))
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": pythonpath, **handler_environment(function, redis_url)}
    with tempfile.TemporaryDirectory(prefix="actionlog-bench-") as workdir, open(Path(workdir) / "log", "w") as log:
        results = [Path(workdir) / str(index) for index in range(count)]
        command = [sys.executable, "-m", "bench.operations", phase, json.dumps(plan._asdict())]
        workers = [
            subprocess.Popen([*command, str(result)], cwd=ROOT, env=env, stdin=PIPE, stdout=log, stderr=PIPE, text=True)
            for result in results
        ]
        try:
            for _, stderr in map(streams, workers):
                if (line := stderr.readline()).strip() != READY:
                    raise RuntimeError(f"bench worker {phase!r} failed:\n{line}{stderr.read()}")
            for stdin, _ in map(streams, workers):
                stdin.close()  # the go, for every worker at once
            for worker in workers:
                if worker.wait(timeout=300) != 0:
                    raise RuntimeError(f"bench worker {phase!r} failed:\n{streams(worker)[1].read()}")
        finally:
            for worker in workers:  # after a failure, the others would wait for a go that never comes
                worker.kill()
                worker.wait()
        return [pickle.loads(result.read_bytes()) for result in results]


def streams(worker: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    assert worker.stdin is not None
    assert worker.stderr is not None
    return worker.stdin, worker.stderr


def scale(redis_url: str, port: int, plan: Plan) -> list[ScaleResult]:
    """N warm log_action processes released together, then redis-benchmark with N clients, for each N."""
    results = []
    for clients in plan.scale_clients:
        latencies = run_workers("scale", plan, redis_url, clients)
        every = [latency for each in latencies for latency in each]
        rate = sum(len(each) / (sum(each) / 1e6) for each in latencies)  # a worker's calls fill its time end to end
        handlers = Throughput(rate, percentile(every, 0.50) / 1000, percentile(every, 0.99) / 1000)
        results.append(ScaleResult(clients, handlers, redis_benchmark(port, clients, plan.benchmark_requests)))
    return results


def redis_benchmark(port: int, clients: int, requests: int) -> Throughput | None:
    """`redis-benchmark -t lpush`: the server's ceiling for one command per round trip."""
    if (binary := shutil.which("redis-benchmark")) is None:
        return None
    command = [binary, "-h", LOOPBACK, "-p", str(port), "-c", str(clients), "-n", str(requests), "-t", "lpush", "--csv"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    floors.plain_client(f"redis://{LOOPBACK}:{port}/0").delete("mylist")  # where redis-benchmark's LPUSH pushes
    row = next(csv.DictReader(io.StringIO(completed.stdout)))
    return Throughput(float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"]))


def builds(plan: Plan, workdir: Path) -> tuple[cold.Sizes | str, cold.Layout]:
    """The deployed build's sizes and the layout to cold-start, or why the build could not be used."""
    if not plan.sam_build:
        return "skipped by --quick", cold.Layout()
    try:
        deployed = timed("sam build (deployed template)", lambda: cold.sam_build(workdir / "deployed"))
        local = timed("sam build (this machine's architecture)", lambda: cold.local_build(workdir / "local"))
    except cold.BuildUnavailable as error:
        progress(f"{error}; cold starts use the source tree")
        return str(error).splitlines()[0], cold.Layout()
    return cold.sizes(deployed), cold.Layout(local)


def timed[T](what: str, measure: Callable[[], T]) -> T:
    progress(f"{what} ...")
    started = time.monotonic()
    result = measure()
    progress(f"{what}: {time.monotonic() - started:.0f} s")
    return result


def measure_all(plan: Plan, server: RedisServer, workdir: Path) -> Results:
    started, facts = time.monotonic(), machine_facts()
    sizes, layout = builds(plan, workdir)

    def step[T](what: str, measure: Callable[[], T]) -> T:
        floors.plain_client(server.url).flushall()  # each measurement starts from an empty Redis
        return timed(what, measure)

    def worker(phase: str) -> Any:
        return step(phase, lambda: run_workers(phase, plan, server.url)[0])

    (warm, seed), round_trips = worker("warm"), worker("round trips")
    cold_report = step("cold starts", lambda: cold.measure(layout, server.url, workdir, plan))
    memory, scaled = worker("memory"), step("scale", lambda: scale(server.url, server.port, plan))
    measured = (warm, seed, round_trips, cold_report, memory, sizes, scaled, worker("profile"))
    return Results(plan, time.monotonic() - started, facts, *measured)


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
