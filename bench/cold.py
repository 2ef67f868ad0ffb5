"""Cold start: wall time from process start to the first response, for a fresh process per sample.

Each function's process (its code directory and the layer on PYTHONPATH, importing `app` and invoking it once
with its event) is measured next to a raw process that imports redis and does the same Redis work (bench.floors),
the two alternating within each round. Then `python -X importtime` shows where the slowest handler's imports go.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import floors
from bench.operations import OPERATIONS, ROOT, Operation
from bench.process import PYTHON, SOURCE_LAYER, handler_environment
from bench.timing import quartiles

MARKER = "bench:responded"
IMPORTS_SHOWN = 15

# The child programs, kept to what a Lambda runtime does around the handler: read the event, import, invoke.
HANDLER_PROGRAM = f"""
import json, sys
with open(sys.argv[1]) as file:
    event = json.load(file)
from app import lambda_handler
class Context:
    function_name = "actionlog-bench"; function_version = "$LATEST"; memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:actionlog-bench"
    aws_request_id = "bench-cold"
response = lambda_handler(event, Context())
print("\\n{MARKER}", int(response["statusCode"]), flush=True)
"""

RAW_PROGRAM = f"""
import sys
from bench import floors
getattr(floors, sys.argv[1])(floors.plain_client(sys.argv[2]))
print("\\n{MARKER}", 200, flush=True)
"""


@dataclass(frozen=True)
class Layout:
    """Where a cold process finds the function's code and the layer, and what bytecode it may use."""

    description: str
    layer: Path  # the layer's python/ directory, or its source
    functions: dict[str, Path]  # functions/<name> -> its code directory
    isolated: bool  # `python -S`: the layer and nothing else, as in Lambda
    bytecode: dict[str, str] = field(default_factory=dict)
    as_deployed: bool = False  # the built artifacts as Lambda runs them

    def command(self, program: str, *args: str) -> list[str]:
        return [PYTHON, *(["-S"] if self.isolated else []), "-c", program, *args]

    def environment(self, redis_url: str, *paths: Path) -> dict[str, str]:
        return handler_environment(redis_url, list(paths), **self.bytecode)


def deployed_layout(build_dir: Path, layer_id: str, function_ids: dict[str, str]) -> Layout:
    """The built artifacts as Lambda mounts them: read-only, with the .pyc `make build` compiles in."""
    return Layout(
        description="`make build` artifacts (with .pyc) for this machine, run with `python -S` (as deployed)",
        layer=build_dir / layer_id / "python",
        functions={name: build_dir / logical_id for name, logical_id in function_ids.items()},
        isolated=True,
        bytecode={"PYTHONDONTWRITEBYTECODE": "1"},
        as_deployed=True,
    )


def source_layout(cache_dir: Path) -> Layout:
    """The source tree and the virtualenv's packages, with a bytecode cache (not what Lambda runs)."""
    return Layout(
        description="source tree + .venv site-packages, .pyc cached (SAM build not used)",
        layer=SOURCE_LAYER,
        functions={op.function: ROOT / "functions" / op.function for op in OPERATIONS},
        isolated=False,
        bytecode={"PYTHONPYCACHEPREFIX": str(cache_dir)},
    )


@dataclass(frozen=True)
class ColdResult:
    name: str
    function: str
    handler_ms: float  # medians over the samples
    raw_ms: float
    ratio: float  # median of the per-round ratios
    ratio_quartiles: tuple[float, float]
    samples: int


class ColdStartFailed(RuntimeError):
    pass


def time_to_response(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds from just before the process is spawned until it prints its response."""
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        elapsed, status = None, 0
        for line in process.stdout:
            if line.startswith(MARKER):
                elapsed, status = time.perf_counter() - started, int(line.split()[1])
                break
        _, stderr = process.communicate(timeout=60)
    if elapsed is None or not 200 <= status < 300:
        raise ColdStartFailed(f"{command[-2:]} answered {status}:\n{stderr[-3000:]}")
    return elapsed


class ColdRunner:
    """Runs the handler and raw processes of one layout, putting each operation's Redis state in place first."""

    def __init__(self, layout: Layout, redis_url: str, workdir: Path) -> None:
        self.layout = layout
        self.redis_url = redis_url
        self.workdir = workdir
        self.redis = floors.client(redis_url)

    def handler(self, op: Operation) -> float:
        event = self.workdir / f"{op.function}.json"
        if not event.exists():
            event.write_text(json.dumps(op.event()))
        env = self.layout.environment(self.redis_url, self.layout.functions[op.function], self.layout.layer)
        self._prepare(op)
        return time_to_response(self.layout.command(HANDLER_PROGRAM, str(event)), env, self.workdir)

    def raw(self, op: Operation) -> float:
        env = self.layout.environment(self.redis_url, ROOT, self.layout.layer)
        self._prepare(op)
        command = self.layout.command(RAW_PROGRAM, op.floor.__name__, self.redis_url)
        return time_to_response(command, env, self.workdir)

    def _prepare(self, op: Operation) -> None:
        for fixture in (op.setup, op.prepare):
            if fixture is not None:
                fixture(self.redis)


def measure(runner: ColdRunner, ops: Sequence[Operation], rounds: int) -> list[ColdResult]:
    # Untimed: fills the page cache, and where allowed the bytecode cache, with the layer every function shares.
    runner.handler(ops[0])
    runner.raw(ops[0])
    handler_times: dict[str, list[float]] = defaultdict(list)
    raw_times: dict[str, list[float]] = defaultdict(list)
    for round_number in range(rounds):
        for op in ops:
            if round_number % 2 == 0:
                handler_times[op.name].append(runner.handler(op))
                raw_times[op.name].append(runner.raw(op))
            else:
                raw_times[op.name].append(runner.raw(op))
                handler_times[op.name].append(runner.handler(op))
    return [result(op, handler_times[op.name], raw_times[op.name]) for op in ops]


def result(op: Operation, handler_times: list[float], raw_times: list[float]) -> ColdResult:
    ratios = [handler / raw for handler, raw in zip(handler_times, raw_times, strict=True)]
    return ColdResult(
        name=op.name,
        function=op.function,
        handler_ms=statistics.median(handler_times) * 1000,
        raw_ms=statistics.median(raw_times) * 1000,
        ratio=statistics.median(ratios),
        ratio_quartiles=quartiles(ratios),
        samples=len(ratios),
    )


@dataclass(frozen=True)
class ImportedModule:
    name: str
    depth: int  # nesting under the import that pulled it in
    cumulative_ms: float  # medians over the runs
    self_ms: float


def import_breakdown(layout: Layout, function: str, runs: int, workdir: Path) -> list[ImportedModule]:
    """`python -X importtime -c "import app"`, the top modules by cumulative time (median over `runs`)."""
    env = layout.environment("redis://127.0.0.1:1/0", layout.functions[function], layout.layer)
    samples: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for _ in range(runs):
        command = [PYTHON, *(["-S"] if layout.isolated else []), "-X", "importtime", "-c", "import app"]
        completed = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, check=True)
        for name, depth, own, cumulative in parse_importtime(completed.stderr):
            samples[name].append((depth, own, cumulative))
    modules = [
        ImportedModule(
            name=name,
            depth=rows[0][0],
            cumulative_ms=statistics.median(row[2] for row in rows) / 1000,
            self_ms=statistics.median(row[1] for row in rows) / 1000,
        )
        for name, rows in samples.items()
    ]
    return sorted(modules, key=lambda module: -module.cumulative_ms)[:IMPORTS_SHOWN]


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, depth, self µs, cumulative µs) from lines like `import time:   507 |   281964 |   redis`."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((name.strip(), depth, int(own), int(cumulative)))
    return rows


@dataclass(frozen=True)
class ColdReport:
    layout: str
    results: list[ColdResult]
    imports_of: str  # the slowest function, whose imports are broken down
    imports: list[ImportedModule]


def run(layout: Layout, redis_url: str, workdir: Path, *, rounds: int, import_runs: int) -> ColdReport:
    """Every operation's function, and the import breakdown of the slowest."""
    results = measure(ColdRunner(layout, redis_url, workdir), OPERATIONS, rounds)
    slowest = max(results, key=lambda result: result.handler_ms).function
    return ColdReport(
        layout=layout.description,
        results=results,
        imports_of=slowest,
        imports=import_breakdown(layout, slowest, import_runs, workdir),
    )
