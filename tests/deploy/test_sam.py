"""The SAM application validates, builds, and its built artifacts run on their own."""

import dataclasses
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dev.emulator import Emulator, runtime_dir
from dev.template import read_document
from tests.catalogue import OPERATIONS, Operation, seed
from tests.support import REQUIRE_SAM, ROOT, handler_module, lambda_context, load_event, unavailable

pytestmark = pytest.mark.sam

ELF_MACHINES = {183: "arm64", 62: "x86_64"}


def sam_cli() -> str:
    sam = os.environ.get("SAM_CLI") or shutil.which("sam") or str(ROOT / ".venv-sam" / "bin" / "sam")
    if not sam or not Path(sam).exists():
        unavailable("the SAM CLI is not installed (make installs it into .venv-sam)", REQUIRE_SAM)
    return sam


def run_sam(*args: str, cwd: Path = ROOT, **variables: str) -> subprocess.CompletedProcess[str]:
    # `sam build` runs `python3.13 -m pip`: the project's venv provides exactly that interpreter.
    env = {
        **os.environ,
        **variables,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "SAM_CLI_TELEMETRY": "0",
    }
    return subprocess.run([sam_cli(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def template() -> dict:  # type: ignore[type-arg]
    return read_document()


def elf_architecture(path: Path) -> str:
    header = path.read_bytes()[:20]
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), "unknown")


def test_the_template_passes_sam_validate_lint() -> None:
    result = run_sam("validate", "--lint")

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def deployed_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("sam-build")
    result = run_sam("build", "--build-dir", str(build_dir))  # plain `sam build`, as a user runs it
    assert result.returncode == 0, result.stdout + result.stderr
    return build_dir


@pytest.fixture(scope="module")
def local_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same application built for this machine's architecture, so this machine can import it."""
    workdir = tmp_path_factory.mktemp("sam-local-arch")
    source = (ROOT / "template.yaml").read_text()
    for directory in ("functions", "layers"):
        source = source.replace(f"{directory}/", f"{ROOT / directory}/")
    local_arch = "x86_64" if os.uname().machine == "x86_64" else "arm64"
    (workdir / "template.yaml").write_text(source.replace("arm64", local_arch))
    result = run_sam(
        "build",
        *("--build-dir", str(workdir / "build"), "--template-file", str(workdir / "template.yaml")),
        LAYER_ARCHITECTURE=local_arch,  # layers/actionlog/Makefile: the native wheels to fetch
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir / "build"


def test_the_deployed_builds_native_modules_match_the_templates_architecture(deployed_build: Path) -> None:
    declared = template()["Globals"]["Function"]["Architectures"]
    native = sorted((deployed_build / "ActionlogLayer" / "python").rglob("*.so"))

    assert {path.parent.name for path in native} >= {"hiredis", "pydantic_core"}
    assert {elf_architecture(path) for path in native} == set(declared)


def test_every_function_is_built_with_its_handler_and_the_layer_holds_the_package(deployed_build: Path) -> None:
    functions = [name for name, resource in template()["Resources"].items() if resource["Type"].endswith("Function")]

    for name in functions:
        assert (deployed_build / name / "app.py").is_file(), name
    layer = deployed_build / "ActionlogLayer" / "python"
    assert (layer / "actionlog" / "redis_client.py").is_file()


def test_the_deployed_layer_ships_bytecode_lambda_uses_without_checking_timestamps(deployed_build: Path) -> None:
    package = deployed_build / "ActionlogLayer" / "python" / "actionlog"

    for source in package.glob("*.py"):
        compiled = package / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert compiled.is_file(), source.name
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{compiled.name} is not an unchecked-hash pyc"
    # and nothing else: no bytecode of another Python left in this checkout's __pycache__
    expected = {f"{source.stem}.cpython-313.pyc" for source in package.glob("*.py")}
    assert {path.name for path in (package / "__pycache__").iterdir()} == expected


def invoke_raw(name: str, event: dict[str, Any]) -> Any:
    return handler_module(name).lambda_handler(event, lambda_context())


def answered(result: Any) -> Any:
    if "statusCode" in result:
        return result["statusCode"]
    if "batchItemFailures" in result:
        return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]
    return result["status"]


def fresh(redis_client: Any) -> None:
    redis_client.flushall()
    seed(redis_client)


@pytest.mark.redis_server
@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_built_function_runs_under_lambdas_own_emulator_and_runtime_cold_then_warm(
    local_build: Path, real_redis: Any, operation: Operation, rie: Path
) -> None:
    event = load_event(operation.event_file)
    # Given what the source handler answers its own event, in this process (the rest of the suite holds it to the
    # contract), on the same fresh state
    fresh(real_redis)
    expected = answered(invoke_raw(operation.name, event))
    built = dataclasses.replace(operation.function, code_dir=local_build / operation.function.logical_id)
    paths = [built.code_dir, local_build / "ActionlogLayer" / "python", runtime_dir()]
    environment = {name: value for name, value in built.environment.items() if value is not None}
    environment |= {"REDIS_URL": os.environ["REDIS_URL"], "AUTH_REQUIRED": "true"}
    emulator = Emulator(built, environment, paths, isolated=True, log=io.StringIO())
    try:
        # When the built function runs with the built layer alone on its path (python -S), as Lambda mounts them,
        # first cold, then warm
        fresh(real_redis)
        cold = emulator.invoke(event)
        fresh(real_redis)
        warm = emulator.invoke(event)
    finally:
        emulator.close()

    # Then it loaded (no init error, no error payload) and answered the same both times, the second time warm
    assert cold.init_ms is not None
    assert warm.init_ms is None
    assert answered(cold.result) == answered(warm.result) == expected, cold.result
