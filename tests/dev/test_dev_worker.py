"""dev.worker: each function runs in a warm worker process of its own, one invocation at a time, like Lambda."""

import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev.template import Function
from dev.worker import FunctionError, FunctionWorker, InvocationTimedOut, WorkerCrashed

HANDLER = """
import os
import sys
import time

invocations = 0  # module state survives between invocations of a warm worker


def lambda_handler(event, context):
    global invocations
    invocations += 1
    print("a stray print goes to the logs, not into the reply")
    if event.get("exit"):
        os._exit(3)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("raise"):
        raise ValueError(event["raise"])
    return {
        "invocations": invocations,
        "pid": os.getpid(),
        "path": sys.path[:2],
        "functionName": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
        "requestId": context.aws_request_id,
    }
"""


def write_function(tmp_path: Path, source: str = HANDLER, *, timeout: int = 3) -> Function:
    code_dir = tmp_path / "function"
    layer_dir = tmp_path / "layer"
    code_dir.mkdir(exist_ok=True)
    layer_dir.mkdir(exist_ok=True)
    (code_dir / "app.py").write_text(textwrap.dedent(source))
    return Function(
        logical_id="TestFunction",
        code_dir=code_dir,
        handler="app.lambda_handler",
        layer_dirs=(layer_dir,),
        timeout_seconds=timeout,
        memory_mb=128,
        environment={},
    )


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[FunctionWorker]:
    worker = FunctionWorker(write_function(tmp_path), {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "TestFunction"})
    yield worker
    worker.close()


def test_a_worker_stays_warm_between_invocations(worker: FunctionWorker) -> None:
    first = worker.invoke({})
    second = worker.invoke({})

    assert first.cold_start
    assert not second.cold_start
    assert (first.result["invocations"], second.result["invocations"]) == (1, 2)
    assert first.result["pid"] == second.result["pid"]
    assert first.result["requestId"] != second.result["requestId"]


def test_the_handler_sees_its_own_code_and_layers_first_and_a_lambda_context(
    worker: FunctionWorker, tmp_path: Path
) -> None:
    result = worker.invoke({}).result

    assert result["path"] == [str(tmp_path / "function"), str(tmp_path / "layer")]
    assert result["functionName"] == "TestFunction"
    assert 0 < result["remainingMs"] <= 3000


def test_the_repository_is_not_on_the_functions_import_path(tmp_path: Path) -> None:
    # Given a handler that tries to import this package, as it could not in Lambda
    function = write_function(
        tmp_path,
        """
        import importlib.util

        def lambda_handler(event, context):
            return {"devImportable": importlib.util.find_spec("dev") is not None}
        """,
    )
    worker = FunctionWorker(function, dict(os.environ))
    try:
        assert worker.invoke({}).result == {"devImportable": False}
    finally:
        worker.close()


def test_an_exception_is_a_function_error_and_the_worker_stays_warm(worker: FunctionWorker) -> None:
    worker.invoke({})

    with pytest.raises(FunctionError) as raised:
        worker.invoke({"raise": "boom"})

    assert raised.value.payload["errorType"] == "ValueError"
    assert raised.value.payload["errorMessage"] == "boom"
    assert worker.invoke({}).result["invocations"] == 3


def test_a_crashed_worker_fails_its_invocation_and_the_next_one_starts_afresh(worker: FunctionWorker) -> None:
    pid = worker.invoke({}).result["pid"]

    with pytest.raises(WorkerCrashed, match="code 3"):
        worker.invoke({"exit": True})
    after = worker.invoke({})

    assert after.cold_start
    assert after.result["pid"] != pid


def test_a_worker_past_the_timeout_is_stopped_and_replaced(tmp_path: Path) -> None:
    worker = FunctionWorker(write_function(tmp_path, timeout=1), dict(os.environ))
    try:
        worker.invoke({})
        started = time.monotonic()

        with pytest.raises(InvocationTimedOut):
            worker.invoke({"sleep": 30})

        assert time.monotonic() - started < 5
        assert worker.invoke({}).cold_start
    finally:
        worker.close()


def test_a_handler_that_cannot_be_imported_is_reported_like_lambda(tmp_path: Path) -> None:
    worker = FunctionWorker(write_function(tmp_path, "import module_that_does_not_exist\n"), dict(os.environ))
    try:
        with pytest.raises(FunctionError) as raised:
            worker.invoke({})
    finally:
        worker.close()

    assert raised.value.payload["errorType"] == "Runtime.ImportModuleError"
    assert "module_that_does_not_exist" in raised.value.payload["errorMessage"]


def test_edited_code_is_loaded_by_the_next_invocation(worker: FunctionWorker, tmp_path: Path) -> None:
    worker.invoke({})

    app = tmp_path / "function" / "app.py"
    app.write_text("def lambda_handler(event, context):\n    return 'edited'\n")
    os.utime(app, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))  # a later mtime, however coarse the clock
    after = worker.invoke({})

    assert after.cold_start
    assert after.result == "edited"


def test_a_result_that_is_not_json_is_a_function_error(tmp_path: Path) -> None:
    function = write_function(tmp_path, "def lambda_handler(event, context):\n    return {1, 2}\n")
    worker = FunctionWorker(function, dict(os.environ))
    try:
        with pytest.raises(FunctionError) as raised:
            worker.invoke({})
    finally:
        worker.close()

    assert raised.value.payload["errorType"] == "Runtime.MarshalError"
