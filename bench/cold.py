"""Cold starts as Lambda has them, and the `sam build` they start from.

Each sample is a fresh Runtime Interface Emulator with awslambdaric (dev.emulator), invoked once. Beside each
function runs its floor: an app.py importing redis (via a copy of bench/floors.py) whose handler does the same Redis
work in plain redis-py, with the same settings and import path.
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

from bench import floors, profiles
from bench.operations import OPERATIONS, Operation, Plan, handler_environment, quartiles, succeeded, template_function
from dev.emulator import Emulator, runtime_dir
from dev.sam_cli import SAM_PYTHON
from dev.template import REPO_ROOT, TEMPLATE_PATH, Function, load_template

FLOOR_APP = '''"""The floor of a cold start: import redis, then do one operation's Redis work with plain redis-py."""
import os
import floors  # a copy of bench/floors.py: redis, nothing heavier

def lambda_handler(event, context):
    floors.FLOORS[event["floor"]](floors.plain_client(os.environ["REDIS_URL"]))
    return {"statusCode": 200}
'''


class BuildUnavailable(RuntimeError):
    """`sam build` could not run; the report says why instead of the layer's size."""


def layer_id() -> str:
    return next(iter(load_template().resources("AWS::Serverless::LayerVersion")))


def sam_build(build_dir: Path, architecture: str | None = None) -> Path:
    """What `sam build` ships (the layer with its .pyc, layers/actionlog/Makefile); the layer's native wheels for
    `architecture`, or for the template's (arm64) when None."""
    sam = Path(os.environ.get("SAM_CLI") or SAM_PYTHON.with_name("sam"))
    if not sam.is_file():
        raise BuildUnavailable(f"no SAM CLI at {sam} (set SAM_CLI, or `make bench` installs it)")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the Makefile runs python3.13
    env = {**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0"}
    env |= {"LAYER_ARCHITECTURE": architecture} if architecture else {}
    command: list[str | Path] = [sam, "build", "--build-dir", build_dir, "--template-file", TEMPLATE_PATH]
    command.append("--no-cached")  # samconfig.toml caches by source only: the architecture is the layer's to choose
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        raise BuildUnavailable(f"sam build failed:\n{(completed.stdout + completed.stderr)[-2000:]}")
    return build_dir


def local_build(build_dir: Path) -> Path:
    """The template built with the layer's native wheels for this machine, so that cold starts can import them."""
    return sam_build(build_dir, "x86_64" if platform.machine() == "x86_64" else "arm64")


def layer_mib(build_dir: Path) -> float:
    """The built layer unzipped: the bytes of every file, 1 MB = 2^20 bytes, as Lambda's quotas count them."""
    files = (build_dir / layer_id()).rglob("*")
    return sum(file.stat().st_size for file in files if file.is_file() and not file.is_symlink()) / 2**20


class Layout(NamedTuple):
    """Where the functions' code and the layer are: the built artifacts, run isolated from site-packages as in
    Lambda, or (without a build) the source tree with the virtualenv's site-packages, which Lambda never runs."""

    build: Path | None = None

    def function(self, name: str) -> Function:
        function = template_function(name)
        return function if self.build is None else replace(function, code_dir=self.build / function.logical_id)

    def layers(self, function: Function) -> list[Path]:
        """The function's layers on the import path: built, or their source."""
        return list(function.layer_dirs) if self.build is None else [self.build / layer_id() / "python"]

    def emulator(self, function: Function, redis_url: str, log: TextIO) -> Emulator:
        paths = [function.code_dir, *self.layers(function), *([runtime_dir()] if self.build else [])]
        return Emulator(function, handler_environment(function, redis_url), paths, isolated=bool(self.build), log=log)

    def import_times(self, name: str, redis_url: str, runs: int) -> profiles.ImportTimes:
        """The import-time breakdown of functions/`name`'s cold start (bench.profiles)."""
        function = self.function(name)
        paths = [function.code_dir, *self.layers(function)]
        return profiles.import_times(name, function, paths, bool(self.build), redis_url, runs)

    def warm_description(self) -> str:
        """Where the warm processes import the layer from (site-packages after it: the bench's own imports)."""
        if self.build is None:
            return "the layer's source (no `sam build`)"
        return "the `sam build` layer for this machine's architecture"

    def description(self) -> str:
        if self.build is None:
            return "the source tree with the virtualenv's site-packages (no `sam build`: not what Lambda runs)"
        return "`sam build` artifacts (layer with .pyc) for this machine's architecture, without site-packages"


class ColdResult(NamedTuple):
    name: str
    function: str
    handler_ms: tuple[float, float]  # medians of the first REPORT Duration (init plus first invocation), and init
    floor_ms: tuple[float, float]
    ratio: float  # median of the rounds' handler / floor
    ratio_quartiles: tuple[float, float]
    samples: int


def measure(layout: Layout, redis_url: str, workdir: Path, plan: Plan) -> list[ColdResult]:
    """Every operation's function next to its floor, alternating which goes first."""
    floor_dir = workdir / "floor"
    floor_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(floors.__file__, floor_dir / "floors.py")
    (floor_dir / "app.py").write_text(FLOOR_APP)
    redis = floors.client(redis_url)
    samples: dict[tuple[str, bool], list[tuple[float, float]]] = defaultdict(list)
    with open(workdir / "cold.log", "w") as log:

        def sample(op: Operation, floor: bool) -> tuple[float, float]:
            op.fixtures(redis)
            function = layout.function(op.function)
            emulator = layout.emulator(replace(function, code_dir=floor_dir) if floor else function, redis_url, log)
            try:
                invocation = emulator.invoke({"floor": op.floor.name} if floor else op.event())
            finally:
                emulator.close()
            if not succeeded(invocation.result) or invocation.duration_ms is None or invocation.init_ms is None:
                raise RuntimeError(f"{function.logical_id} cold start failed: {invocation}")
            return invocation.duration_ms, invocation.init_ms

        sample(OPERATIONS[0], False)  # untimed: fills the page cache with the layer every function shares
        sample(OPERATIONS[0], True)
        for round_number in range(plan.cold_rounds):
            for op in OPERATIONS:
                for floor in (False, True) if round_number % 2 == 0 else (True, False):
                    samples[op.name, floor].append(sample(op, floor))
    results = []
    for op in OPERATIONS:
        handler, baseline = samples[op.name, False], samples[op.name, True]
        ratios = [h / f for (h, _), (f, _) in zip(handler, baseline, strict=True)]
        spread = (statistics.median(ratios), quartiles(ratios), len(ratios))
        results.append(ColdResult(op.name, op.function, medians(handler), medians(baseline), *spread))
    return results


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(cold for cold, _ in samples), statistics.median(init for _, init in samples)
