"""The project's pins: one set of runtime dependencies, in the layer and in pyproject.toml alike."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_layer_pins_exactly_the_projects_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    layer = (ROOT / "layers" / "actionlog" / "requirements.txt").read_text().split()

    assert sorted(layer) == sorted(project["dependencies"])


def test_pydantic_is_pinned_to_the_core_the_layer_runs() -> None:
    from importlib.metadata import requires, version

    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [core] = [pin for pin in pins if pin.startswith("pydantic-core==")]
    assert f"pydantic-core=={version('pydantic-core')}" == core
    assert any(requirement.replace(" ", "") == core for requirement in requires("pydantic") or [])
