"""dev.in_process: the fallback where the emulator cannot run, the handler called in this process."""

import os
import sys
from collections.abc import Iterator

import pytest

from dev.in_process import InProcess
from tests.dev.stubs import HANDLER, MakeFunction


@pytest.fixture
def restored_process() -> Iterator[None]:
    """InProcess changes this process's environment and import path, as its handlers need: undone afterwards."""
    environment, path = dict(os.environ), list(sys.path)
    yield
    os.environ.clear()
    os.environ.update(environment)
    sys.path[:] = path


@pytest.mark.usefixtures("restored_process")
def test_in_process_the_handler_is_imported_once_and_called_with_a_lambda_context(
    make_function: MakeFunction,
) -> None:
    # Given the fallback runner, for a function and a variable of its own
    function = make_function(HANDLER, timeout=3)
    in_process = InProcess(function, {"GREETING": "hello"}, [function.code_dir, *function.layer_dirs])

    # When it is invoked twice
    first = in_process.invoke({"variables": ["GREETING", "AWS_LAMBDA_FUNCTION_NAME"]})
    second = in_process.invoke({})
    in_process.close()

    # Then the module was imported once, in this process, and the handler got the environment and a context
    assert (first.result["invocations"], second.result["invocations"]) == (1, 2)
    assert first.result["pid"] == second.result["pid"] == os.getpid()
    assert first.result["environment"] == {"GREETING": "hello", "AWS_LAMBDA_FUNCTION_NAME": "TestFunction"}
    assert first.result["functionName"] == "TestFunction"
    assert 0 < first.result["remainingMs"] <= 3000
    assert first.init_ms is not None
    assert second.init_ms is None
    assert second.duration_ms is not None
