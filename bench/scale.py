"""Scale: N warm containers (processes) logging actions at full speed against one Redis, next to redis-benchmark.

redis-benchmark runs LPUSH with the same number of clients: the nearest of its built-in tests to log one's
MULTI LPUSH LTRIM EXEC, and the server's ceiling for one command per round trip.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import redis

from bench import floors
from bench.operations import ROOT, operation
from bench.process import READY, WORKER_TIMEOUT_SECONDS, worker_command, worker_environment
from bench.server import LOOPBACK
from bench.timing import percentile
from bench.warm import ready, warm_up

BENCHMARK_TEST = "lpush"


@dataclass(frozen=True)
class Throughput:
    calls_per_second: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class ScaleResult:
    clients: int
    handlers: Throughput
    redis_benchmark: Throughput | None  # None when redis-benchmark is not installed


def measure(redis_url: str, port: int, *, clients: tuple[int, ...], seconds: float, requests: int) -> list[ScaleResult]:
    results = []
    for count in clients:
        handlers = run_handlers(redis_url, count, seconds)
        benchmark = redis_benchmark(port, count, requests)
        results.append(ScaleResult(count, handlers, benchmark))
    return results


def run_handlers(redis_url: str, count: int, seconds: float) -> Throughput:
    """`count` worker processes, each a warm log_action container, released together once all are warm."""
    with tempfile.TemporaryDirectory(prefix="actionlog-bench-scale-") as workdir:
        results = [Path(workdir) / f"result-{index}.json" for index in range(count)]
        with open(Path(workdir) / "handler.log", "wb") as log:
            workers = [
                subprocess.Popen(
                    worker_command("scale", {"seconds": seconds}, result),
                    cwd=ROOT,
                    env=worker_environment(redis_url),
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for result in results
            ]
            try:
                release_together(workers)
            finally:
                for worker in workers:  # after a failure, the others would wait for a go that never comes
                    if worker.poll() is None:
                        worker.kill()
                        worker.wait()
        measured = [_read_json(path) for path in results]
    latencies = [latency for item in measured for latency in item["latencies_us"]]
    return Throughput(
        calls_per_second=sum(item["calls"] / item["seconds"] for item in measured),
        p50_ms=percentile(latencies, 0.50) / 1000,
        p99_ms=percentile(latencies, 0.99) / 1000,
    )


def release_together(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        await_ready(worker)
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        _, stderr = worker.communicate(timeout=WORKER_TIMEOUT_SECONDS)
        if worker.returncode != 0:
            raise RuntimeError(f"scale worker failed:\n{stderr}")


def await_ready(worker: subprocess.Popen[str]) -> None:
    stream: IO[str] | None = worker.stderr
    assert stream is not None
    seen = []
    for line in stream:
        if line.strip() == READY:
            return
        seen.append(line)
    worker.wait(timeout=10)
    raise RuntimeError("scale worker exited before it was ready:\n" + "".join(seen))


def redis_benchmark(port: int, clients: int, requests: int) -> Throughput | None:
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return None
    command = [binary, "-h", LOOPBACK, "-p", str(port), "-c", str(clients), "-n", str(requests)]
    completed = subprocess.run(
        [*command, "-t", BENCHMARK_TEST, "--csv"], capture_output=True, text=True, timeout=300, check=True
    )
    redis.Redis(host=LOOPBACK, port=port).delete("mylist")  # where redis-benchmark's LPUSH pushes
    row = next(csv.DictReader(io.StringIO(completed.stdout)))
    return Throughput(float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"]))


def _read_json(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


# What follows runs in the worker process (bench.worker).


def run_in_worker(config: dict[str, Any]) -> dict[str, Any]:
    call, prepare = ready(operation("log one"), floors.client(os.environ["REDIS_URL"]))
    warm_up(call, prepare, 200)
    print(READY, file=sys.stderr, flush=True)
    sys.stdin.readline()  # the go signal: every worker starts at once
    latencies: list[int] = []
    started = time.perf_counter_ns()
    deadline = started + int(config["seconds"] * 1e9)
    now = started
    while now < deadline:
        call()
        finished = time.perf_counter_ns()
        latencies.append((finished - now) // 1000)
        now = finished
    return {"calls": len(latencies), "seconds": (now - started) / 1e9, "latencies_us": latencies}
