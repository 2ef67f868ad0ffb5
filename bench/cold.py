"""Cold starts as Lambda has them, and the `sam build` they start from.

Each sample is a fresh Runtime Interface Emulator with awslambdaric (dev.lambda_runtime), invoked once. Beside each
function runs its floor: an app.py importing redis (via a copy of bench/floors.py) whose handler does the same Redis
work in plain redis-py, with the same settings and import path. Then `python -X importtime` of the slowest function.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple, TextIO

from bench import floors
from bench.operations import OPERATIONS, Operation, Plan, handler_environment, quartiles, succeeded, template_function
from dev.lambda_runtime import Emulator, lambda_environment, runtime_dir
from dev.template import REPO_ROOT, TEMPLATE_PATH, Function, load_template

MIB = 1024 * 1024
FLOOR_APP = '''"""The floor of a cold start: import redis, then do one operation's Redis work with plain redis-py."""
import os
import floors  # a copy of bench/floors.py: redis, nothing heavier

def lambda_handler(event, context):
    floors.FLOORS[event["floor"]](floors.plain_client(os.environ["REDIS_URL"]))
    return {"statusCode": 200}
'''


class BuildUnavailable(RuntimeError):
    """`sam build` could not run; the report says why instead of the sizes."""


def layer_id() -> str:
    return next(iter(load_template().resources("AWS::Serverless::LayerVersion")))


def sam_build(build_dir: Path, template: Path = TEMPLATE_PATH) -> Path:
    """What `sam build` ships (the layer with its unchecked-hash .pyc, layers/actionlog/Makefile), for this machine."""
    sam = Path(os.environ.get("SAM_CLI") or REPO_ROOT / ".venv-sam" / "bin" / "sam")
    if not sam.is_file():
        raise BuildUnavailable(f"no SAM CLI at {sam} (set SAM_CLI, or `make bench` installs it)")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # sam runs `python3.13 -m pip`
    command: list[str | Path] = [sam, "build", "--build-dir", build_dir, "--template-file", template]
    architecture = "x86_64" if platform.machine() == "x86_64" else "arm64"
    env = {**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0", "LAYER_ARCHITECTURE": architecture}
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        raise BuildUnavailable(f"sam build failed:\n{(completed.stdout + completed.stderr)[-2000:]}")
    return build_dir


def local_build(workdir: Path) -> Path:
    """The template built for this machine's architecture, so that it can import the native modules built."""
    source = TEMPLATE_PATH.read_text()
    for directory in ("functions", "layers"):
        source = source.replace(f"{directory}/", f"{REPO_ROOT / directory}/")
    workdir.mkdir(parents=True, exist_ok=True)
    architecture = "x86_64" if platform.machine() == "x86_64" else "arm64"
    (workdir / "template.yaml").write_text(source.replace("arm64", architecture))
    return sam_build(workdir / "build", workdir / "template.yaml")


class Sizes(NamedTuple):
    layer_id: str
    layer_mib: float
    packages: list[tuple[str, float]]  # the layer's largest top-level entries
    functions: dict[str, float]  # logical id -> MiB


def mib(path: Path) -> float:
    """Unzipped size: the bytes of every file, as Lambda's 250 MB limit counts them."""
    files = path.rglob("*") if path.is_dir() else [path]
    return sum(file.stat().st_size for file in files if file.is_file() and not file.is_symlink()) / MIB


def sizes(build_dir: Path) -> Sizes:
    layer = build_dir / layer_id()
    packages = sorted(((entry.name, mib(entry)) for entry in (layer / "python").iterdir()), key=lambda kv: -kv[1])
    functions = {entry.name: mib(entry) for entry in sorted(build_dir.iterdir()) if entry.is_dir() and entry != layer}
    return Sizes(layer.name, mib(layer), packages[:6], functions)


class Layout(NamedTuple):
    """Where the functions' code and the layer are: the built artifacts, run isolated from site-packages as in
    Lambda, or (without a build) the source tree with the virtualenv's site-packages, which Lambda never runs."""

    build: Path | None = None

    def function(self, name: str) -> Function:
        function = template_function(name)
        return function if self.build is None else replace(function, code_dir=self.build / function.logical_id)

    def layer(self) -> Path:
        source = template_function("log_action").layer_dirs[0]
        return source if self.build is None else self.build / layer_id() / "python"

    def emulator(self, function: Function, redis_url: str, log: TextIO) -> Emulator:
        paths = [function.code_dir, self.layer(), *([runtime_dir()] if self.build else [])]
        return Emulator(function, handler_environment(function, redis_url), paths, isolated=bool(self.build), log=log)

    def description(self) -> str:
        if self.build is None:
            return "the source tree with the virtualenv's site-packages (no `sam build`: not what Lambda runs)"
        return "`make build` artifacts (with .pyc) for this machine's architecture, without site-packages, as deployed"


class ColdResult(NamedTuple):
    name: str
    function: str
    handler_ms: tuple[float, float]  # medians of the first REPORT Duration (init plus first invocation), and init
    floor_ms: tuple[float, float]
    ratio: float  # median of the rounds' handler / floor
    ratio_quartiles: tuple[float, float]
    samples: int


class ImportedModule(NamedTuple):
    name: str
    depth: int  # nesting under the import that pulled it in
    cumulative_ms: float  # medians over the runs
    self_ms: float


class ColdReport(NamedTuple):
    layout: str
    results: list[ColdResult]
    imports_of: str  # the slowest function, whose imports are broken down
    imports: list[ImportedModule]


def measure(layout: Layout, redis_url: str, workdir: Path, plan: Plan) -> ColdReport:
    """Every operation's function next to its floor, alternating which goes first; then the slowest one's imports."""
    floor_dir = workdir / "floor"
    floor_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(floors.__file__, floor_dir / "floors.py")
    (floor_dir / "app.py").write_text(FLOOR_APP)
    redis = floors.client(redis_url)
    samples: dict[tuple[str, bool], list[tuple[float, float]]] = defaultdict(list)
    with open(workdir / "cold.log", "w") as log:

        def sample(op: Operation, floor: bool) -> None:
            for fixture in (op.setup, op.prepare):
                if fixture is not None:
                    fixture(redis)
            function = layout.function(op.function)
            emulator = layout.emulator(replace(function, code_dir=floor_dir) if floor else function, redis_url, log)
            try:
                invocation = emulator.invoke({"floor": op.floor.name} if floor else op.event())
            finally:
                emulator.close()
            if not succeeded(invocation.result) or invocation.duration_ms is None or invocation.init_ms is None:
                raise RuntimeError(f"{function.logical_id} cold start failed: {invocation}")
            samples[op.name, floor].append((invocation.duration_ms, invocation.init_ms))

        sample(OPERATIONS[0], False)  # untimed: fills the page cache with the layer every function shares
        sample(OPERATIONS[0], True)
        samples.clear()
        for round_number in range(plan.cold_rounds):
            for op in OPERATIONS:
                for floor in (False, True) if round_number % 2 == 0 else (True, False):
                    sample(op, floor)
    results = []
    for op in OPERATIONS:
        handler, baseline = samples[op.name, False], samples[op.name, True]
        ratios = [h / f for (h, _), (f, _) in zip(handler, baseline, strict=True)]
        spread = (statistics.median(ratios), quartiles(ratios), len(ratios))
        results.append(ColdResult(op.name, op.function, medians(handler), medians(baseline), *spread))
    slowest = max(results, key=lambda each: each.handler_ms).function
    return ColdReport(layout.description(), results, slowest, import_breakdown(layout, slowest, plan.import_runs))


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(cold for cold, _ in samples), statistics.median(init for _, init in samples)


def import_breakdown(layout: Layout, name: str, runs: int) -> list[ImportedModule]:
    """`python -X importtime -c "import app"` with the function's code and the layer on the path, top 15 modules."""
    function = layout.function(name)
    paths = [function.code_dir, layout.layer()]
    env = lambda_environment(function, handler_environment(function, "redis://127.0.0.1:1/0"), paths)
    command = [sys.executable, *(["-S"] if layout.build else []), "-X", "importtime", "-c", "import app"]
    samples: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for _ in range(runs):
        completed = subprocess.run(command, env=env, cwd=function.code_dir, capture_output=True, text=True, check=True)
        for module, depth, own, cumulative in parse_importtime(completed.stderr):
            samples[module].append((depth, own, cumulative))
    modules = [
        ImportedModule(
            module, rows[0][0], *(statistics.median(row[column] for row in rows) / 1000 for column in (2, 1))
        )
        for module, rows in samples.items()
    ]
    return sorted(modules, key=lambda module: -module.cumulative_ms)[:15]


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, depth, self µs, cumulative µs) from lines like `import time:   507 |   281964 |   redis`."""
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "imported package" not in line:
            own, cumulative, name = line.removeprefix("import time:").split("|")
            rows.append((name.strip(), (len(name) - len(name.lstrip()) - 1) // 2, int(own), int(cumulative)))
    return rows
