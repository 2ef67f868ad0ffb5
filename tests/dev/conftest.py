"""What the tests of the local tools share: their environment, AWS's Runtime Interface Emulator, tiny functions."""

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dev.running_api import DIRECTORY_VARIABLE
from dev.template import Function

REDIS_AND_AUTH = ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "AUTH_REQUIRED")


@pytest.fixture(scope="session")
def local_environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """This process's environment without any Redis or auth setting, so that the local tools use their defaults:
    a Redis of their own and AUTH_REQUIRED=false; and a directory of the tests' own where a local API says where its
    Redis is (never that of a `make run` in this checkout). Shared: copy it before changing it."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("REDIS_") and name != "AUTH_REQUIRED"
    }
    return {**environment, DIRECTORY_VARIABLE: str(tmp_path_factory.mktemp("local-api"))}


@pytest.fixture
def silent_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process's environment, for the in-process LocalFunctions, without any Redis or auth setting."""
    for name in REDIS_AND_AUTH:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def make_function(tmp_path: Path) -> Callable[..., Function]:
    """A function of the test's own: `source` as function/app.py, an empty layer beside it."""

    def make(
        source: str,
        *,
        timeout: int = 3,
        environment: dict[str, str | None] | None = None,
        handler: str = "app.lambda_handler",
    ) -> Function:
        code_dir, layer_dir = tmp_path / "function", tmp_path / "layer"
        code_dir.mkdir(exist_ok=True)
        layer_dir.mkdir(exist_ok=True)
        (code_dir / "app.py").write_text(textwrap.dedent(source))
        return Function(
            logical_id="TestFunction",
            code_dir=code_dir,
            handler=handler,
            layer_dirs=(layer_dir,),
            timeout_seconds=timeout,
            memory_mb=128,
            environment=environment or {},
            description="a test's own function",
            event_types=frozenset({"HttpApi"}),
            log_format="Text",
            log_level=None,
        )

    return make
