"""`sam build` of template.yaml: the deployed artifacts' sizes, and a build for this machine to cold-start from."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.operations import ROOT

TEMPLATE = ROOT / "template.yaml"
MIB = 1024 * 1024
LAYER_PACKAGES_SHOWN = 6


class BuildUnavailable(RuntimeError):
    """`sam build` could not run; the report says why instead of a size."""


@dataclass(frozen=True)
class Sizes:
    layer_id: str
    layer_mib: float
    packages: list[tuple[str, float]]  # the layer's largest top-level entries
    functions: dict[str, float]  # logical id -> MiB


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads !Ref, !Sub, !If and friends as nothing: only the resources' types and CodeUri matter here."""


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def resources() -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(TEMPLATE.read_text(), _CloudFormationLoader)
    found: dict[str, Any] = template["Resources"]
    return found


def layer_id() -> str:
    return next(name for name, res in resources().items() if res["Type"] == "AWS::Serverless::LayerVersion")


def function_ids() -> dict[str, str]:
    """functions/<name>/ -> the logical id of the function built from it."""
    ids = {}
    for logical_id, resource in resources().items():
        if resource["Type"] == "AWS::Serverless::Function":
            ids[Path(resource["Properties"]["CodeUri"]).name] = logical_id
    return ids


def sam_cli() -> Path:
    configured = os.environ.get("SAM_CLI")
    sam = Path(configured) if configured else ROOT / ".venv-sam" / "bin" / "sam"
    if not sam.is_file():
        raise BuildUnavailable(f"no SAM CLI at {sam} (set SAM_CLI, or `make bench` installs it)")
    return sam


def sam_build(build_dir: Path, template: Path = TEMPLATE) -> Path:
    # `sam build` runs `python3.13 -m pip`: this interpreter's directory provides exactly that.
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
    }
    command = [str(sam_cli()), "build", "--build-dir", str(build_dir), "--template-file", str(template)]
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if completed.returncode != 0:
        raise BuildUnavailable(f"sam build failed:\n{(completed.stdout + completed.stderr)[-2000:]}")
    # What `make build` ships: the artifacts with unchecked-hash .pyc compiled in.
    subprocess.run(["make", "-s", "precompile", f"BUILD_DIR={build_dir}"], cwd=ROOT, check=True, timeout=600)
    return build_dir


def local_template(workdir: Path) -> Path:
    """template.yaml for this machine's architecture, so this machine can import the native modules it builds."""
    source = TEMPLATE.read_text()
    for directory in ("functions", "layers"):
        source = source.replace(f"{directory}/", f"{ROOT / directory}/")
    local = "x86_64" if platform.machine() == "x86_64" else "arm64"
    path = workdir / "template.yaml"
    path.write_text(source.replace("arm64", local))
    return path


def local_build(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    return sam_build(workdir / "build", local_template(workdir))


def directory_mib(path: Path) -> float:
    """Unzipped size: the bytes of every file, as Lambda's 250 MB limit counts them."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file() and not file.is_symlink()) / MIB


def entry_mib(path: Path) -> float:
    return directory_mib(path) if path.is_dir() else path.stat().st_size / MIB


def sizes(build_dir: Path) -> Sizes:
    layer = layer_id()
    layer_dir = build_dir / layer
    packages = [(entry.name, entry_mib(entry)) for entry in (layer_dir / "python").iterdir()]
    largest = sorted(packages, key=lambda item: -item[1])[:LAYER_PACKAGES_SHOWN]
    functions = {
        entry.name: directory_mib(entry)
        for entry in sorted(build_dir.iterdir())
        if entry.is_dir() and entry != layer_dir
    }
    return Sizes(layer_id=layer, layer_mib=directory_mib(layer_dir), packages=largest, functions=functions)
