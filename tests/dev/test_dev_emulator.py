"""dev.emulator: a function run as Lambda runs it, in AWS's Runtime Interface Emulator with awslambdaric."""

import io
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import dev.emulator
import dev.local_functions
from dev.emulator import Emulator, runtime_dir
from dev.invocation import FunctionError, InvocationTimedOut
from dev.redis_server import free_port
from dev.template import Function
from tests.dev.stubs import HANDLER, MakeFunction


class Log(io.StringIO):
    """The emulator's log, written from its relay threads."""

    def lines(self) -> list[str]:
        return self.getvalue().splitlines()

    def wait_for(self, condition: Callable[[list[str]], bool], timeout: float = 2) -> list[str]:
        """The lines once `condition` holds: a line is relayed just after the emulator has noted it."""
        deadline = time.monotonic() + timeout
        while not condition(lines := self.lines()) and time.monotonic() < deadline:
            time.sleep(0.01)
        return lines


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def start(rie: Path, log: Log) -> Iterator[Callable[..., Emulator]]:
    """Emulators for functions of the test's own, closed after it."""
    started: list[Emulator] = []

    def start_emulator(function: Function, environment: dict[str, str] | None = None, **options: bool) -> Emulator:
        emulator = Emulator(function, environment or {}, [function.code_dir, *function.layer_dirs], log=log, **options)
        started.append(emulator)
        return emulator

    yield start_emulator
    for emulator in started:
        emulator.close()


def touch_later(path: Path) -> None:
    """A later mtime than any the file had, however coarse the file system's clock."""
    later = time.time_ns() + 10**9
    os.utime(path, ns=(later, later))


def test_a_function_stays_warm_between_invocations(make_function: MakeFunction, start: Callable[..., Emulator]) -> None:
    # Given a function in an emulator
    emulator = start(make_function(HANDLER))

    # When it is invoked twice, the first call taking 0.3 s of its own
    first = emulator.invoke({"sleep": 0.3})
    second = emulator.invoke({})

    # Then the second invocation ran in the same runtime: the module's counter went on
    assert (first.result["invocations"], second.result["invocations"]) == (1, 2)
    assert first.result["pid"] == second.result["pid"]
    assert first.result["requestId"] != second.result["requestId"]
    # And only the first one paid for the init phase, while both have Lambda's REPORT duration
    assert first.init_ms is not None
    assert first.init_ms > 0
    assert second.init_ms is None
    assert first.duration_ms is not None
    assert second.duration_ms is not None
    # On a cold start the REPORT duration includes the init phase. The RIE clocks the two apart, and its INIT REPORT
    # may end a little into the invocation: the call's own 0.3 s keeps that from deciding the comparison.
    assert first.duration_ms >= first.init_ms + 250
    assert second.duration_ms > 0


def test_the_handler_runs_in_its_code_directory_with_its_layers_and_lambdas_context(
    make_function: MakeFunction, start: Callable[..., Emulator], tmp_path: Path
) -> None:
    # Given a function with a layer and a variable of its own
    function = make_function(HANDLER, timeout=3)
    emulator = start(function, {"GREETING": "hello"})

    # When it reports what it sees
    names = ["GREETING", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_TIMEOUT", "LAMBDA_TASK_ROOT", "TZ"]
    result = emulator.invoke({"variables": names}).result

    # Then its code comes first on the import path, then its layer, and the repository is not importable
    path = list(dict.fromkeys(result["path"]))
    assert path[:2] == [str(tmp_path / "function"), str(tmp_path / "layer")]
    assert result["cwd"] == str(tmp_path / "function")
    assert result["importable"]["dev"] is False
    # And it has Lambda's variables around its own, and awslambdaric's context with the function's timeout
    assert result["environment"] == {
        "GREETING": "hello",
        "AWS_LAMBDA_FUNCTION_NAME": "TestFunction",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "3",
        "LAMBDA_TASK_ROOT": str(tmp_path / "function"),
        "TZ": ":UTC",
    }
    assert result["functionName"] == "TestFunction"
    assert 0 < result["remainingMs"] <= 3000


def test_an_isolated_function_imports_nothing_but_its_paths(
    make_function: MakeFunction, rie: Path, log: Log, tmp_path: Path
) -> None:
    # Given a function run without this virtualenv's site-packages, the runtime on its path as in /var/runtime
    function = make_function(HANDLER)
    emulator = Emulator(function, {}, [function.code_dir, runtime_dir()], isolated=True, log=log)

    # When it looks for a package this virtualenv has
    try:
        result = emulator.invoke({}).result
    finally:
        emulator.close()

    # Then it does not find it, while awslambdaric ran it
    assert result["importable"] == {"dev": False, "redis": False}
    assert result["invocations"] == 1


def test_the_log_has_the_functions_output_and_lambdas_own_lines(
    make_function: MakeFunction, start: Callable[..., Emulator], log: Log
) -> None:
    # Given a function that prints
    emulator = start(make_function(HANDLER))

    # When it is invoked twice
    emulator.invoke({})
    emulator.invoke({})

    # Then the log has its output and Lambda's START, END and REPORT lines, one init report, and no RIE chatter
    lines = log.wait_for(lambda lines: sum(line.startswith("REPORT RequestId: ") for line in lines) == 2)
    assert lines.count("a stray print goes to the log, not into the result") == 2
    assert sum(line.startswith("START RequestId: ") for line in lines) == 2
    assert sum(line.startswith("END RequestId: ") for line in lines) == 2
    init_reports = [line for line in lines if line.startswith("INIT_REPORT")]
    assert len(init_reports) == 1
    assert re.fullmatch(r"INIT_REPORT Init Duration: [\d.]+ ms\tFunction: TestFunction", init_reports[0])
    assert not [line for line in lines if "(rapid)" in line]
    # And the REPORT lines leave out what the RIE does not measure: Lambda's Init Duration and Max Memory Used
    reports = [line for line in lines if line.startswith("REPORT RequestId: ")]
    assert not [line for line in reports if "Init Duration" in line or "Max Memory Used" in line]
    assert all(
        re.search(r"\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB", line) for line in reports
    )


def test_an_exception_is_a_function_error_and_the_runtime_stays_warm(
    make_function: MakeFunction, start: Callable[..., Emulator]
) -> None:
    # Given a warm function
    emulator = start(make_function(HANDLER))
    emulator.invoke({})

    # When the handler raises
    with pytest.raises(FunctionError) as raised:
        emulator.invoke({"raise": "boom"})

    # Then the error is Lambda's payload, and the runtime goes on
    assert raised.value.payload["errorType"] == "ValueError"
    assert raised.value.payload["errorMessage"] == "boom"
    assert raised.value.payload["stackTrace"]
    after = emulator.invoke({})
    assert after.result["invocations"] == 3
    assert after.init_ms is None


def test_a_handler_that_cannot_be_imported_is_a_runtime_import_module_error(
    make_function: MakeFunction, start: Callable[..., Emulator]
) -> None:
    emulator = start(make_function("import module_that_does_not_exist\n"))

    with pytest.raises(FunctionError) as raised:
        emulator.invoke({})

    assert raised.value.payload["errorType"] == "Runtime.ImportModuleError"
    assert "module_that_does_not_exist" in raised.value.payload["errorMessage"]


def test_a_result_that_is_not_json_is_a_marshal_error(
    make_function: MakeFunction, start: Callable[..., Emulator]
) -> None:
    emulator = start(make_function("def lambda_handler(event, context):\n    return {1, 2}\n"))

    with pytest.raises(FunctionError) as raised:
        emulator.invoke({})

    assert raised.value.payload["errorType"] == "Runtime.MarshalError"


def test_a_function_past_its_timeout_is_stopped_and_the_next_call_starts_fresh(
    make_function: MakeFunction, start: Callable[..., Emulator]
) -> None:
    # Given a warm function with a 1 s timeout
    emulator = start(make_function(HANDLER, timeout=1))
    before = emulator.invoke({})

    # When an invocation sleeps past it
    started = time.monotonic()
    with pytest.raises(InvocationTimedOut, match="timed out"):
        emulator.invoke({"sleep": 30})
    waited = time.monotonic() - started

    # Then it was stopped at the timeout, and the next invocation is a cold start in a new runtime
    assert 1 <= waited < 5
    after = emulator.invoke({})
    assert after.result["invocations"] == 1
    assert after.result["pid"] != before.result["pid"]
    assert after.init_ms is not None


def test_a_runtime_that_exits_fails_its_invocation_and_the_next_one_starts_afresh(
    make_function: MakeFunction, start: Callable[..., Emulator]
) -> None:
    emulator = start(make_function(HANDLER))
    before = emulator.invoke({})

    with pytest.raises(FunctionError) as raised:
        emulator.invoke({"exit": True})
    after = emulator.invoke({})

    assert raised.value.payload["errorType"] == "Runtime.ExitError"
    assert after.result["invocations"] == 1
    assert after.result["pid"] != before.result["pid"]


def test_edited_code_restarts_the_function_on_the_next_call(
    make_function: MakeFunction, start: Callable[..., Emulator], tmp_path: Path
) -> None:
    # Given a warm function
    emulator = start(make_function(HANDLER))
    emulator.invoke({})
    emulator.invoke({})

    # When its handler is edited
    app = tmp_path / "function" / "app.py"
    app.write_text("def lambda_handler(event, context):\n    return 'edited'\n")
    touch_later(app)
    after = emulator.invoke({})

    # Then the next call runs the new code, from a cold start
    assert after.result == "edited"
    assert after.init_ms is not None
    assert emulator.invoke({}).init_ms is None


def test_a_module_added_to_a_layer_restarts_the_function(
    make_function: MakeFunction, start: Callable[..., Emulator], tmp_path: Path
) -> None:
    # Given a warm function whose handler reports whether a layer module exists
    source = """
        import importlib.util

        def lambda_handler(event, context):
            return importlib.util.find_spec("shared") is not None
    """
    emulator = start(make_function(source))
    assert emulator.invoke({}).result is False

    # When a module appears in its layer
    (tmp_path / "layer" / "shared.py").write_text("VALUE = 1\n")
    touch_later(tmp_path / "layer" / "shared.py")

    # Then the next call sees it
    assert emulator.invoke({}).result is True


def test_a_closed_emulator_starts_again_on_the_next_call(
    make_function: MakeFunction, start: Callable[..., Emulator]
) -> None:
    emulator = start(make_function(HANDLER))
    before = emulator.invoke({})

    emulator.close()
    after = emulator.invoke({})

    assert after.result["invocations"] == 1
    assert after.result["pid"] != before.result["pid"]


def test_an_emulator_whose_port_was_taken_meanwhile_starts_on_other_ports(
    make_function: MakeFunction, start: Callable[..., Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a port found free, then bound by another process (a client's, say) before the emulator could listen on it
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        ports = iter([taken.getsockname()[1]])
        monkeypatch.setattr(dev.emulator, "free_port", lambda: next(ports, None) or free_port())
        emulator = start(make_function(HANDLER))

        # When the function is invoked
        invocation = emulator.invoke({})

    # Then it answered from an emulator on free ports, on the first call
    assert invocation.result["invocations"] == 1
    assert invocation.init_ms is not None
