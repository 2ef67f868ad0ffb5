"""dev.lambda_runtime: functions run as Lambda runs them, in AWS's Runtime Interface Emulator with awslambdaric."""

import io
import json
import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

import dev.lambda_runtime
from dev.lambda_runtime import (
    Emulator,
    FunctionError,
    InProcess,
    InvocationTimedOut,
    LocalFunctions,
    lambda_context,
    lambda_environment,
    load_env_vars,
    runner,
    runtime_dir,
)
from dev.redis_server import EmbeddedRedis, RedisServer, free_port, local_redis
from dev.template import Function, load_template
from tests.support import redis_server_binary

type MakeFunction = Callable[..., Function]

HANDLER = """
import importlib.util
import os
import re
import socket
import sys
import time

invocations = 0  # module state lives as long as the runtime: a warm container keeps it


def lambda_handler(event, context):
    global invocations
    invocations += 1
    print("a stray print goes to the log, not into the result")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("raise"):
        raise ValueError(event["raise"])
    if event.get("exit"):
        os._exit(3)
    return {
        "invocations": invocations,
        "pid": os.getpid(),
        "path": sys.path,
        "cwd": os.getcwd(),
        "importable": {name: importlib.util.find_spec(name) is not None for name in ("dev", "redis")},
        "environment": {name: os.environ.get(name) for name in event.get("variables", [])},
        "functionName": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
        "requestId": context.aws_request_id,
    }
"""


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


# The emulator


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
        monkeypatch.setattr(dev.lambda_runtime, "free_port", lambda: next(ports, None) or free_port())
        emulator = start(make_function(HANDLER))

        # When the function is invoked
        invocation = emulator.invoke({})

    # Then it answered from an emulator on free ports, on the first call
    assert invocation.result["invocations"] == 1
    assert invocation.init_ms is not None


# The fallback where the emulator cannot run


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


def test_the_runner_is_an_emulator_where_the_rie_runs_and_in_process_elsewhere(
    make_function: MakeFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = make_function(HANDLER)
    paths = [function.code_dir]

    monkeypatch.setattr(dev.lambda_runtime, "emulator_binary", lambda: Path("/usr/bin/true"))
    where_it_runs = runner(function, {}, paths)
    monkeypatch.setattr(dev.lambda_runtime, "emulator_binary", lambda: None)
    elsewhere = runner(function, {}, paths)

    assert isinstance(where_it_runs, Emulator)
    assert isinstance(elsewhere, InProcess)


def test_lambda_context_is_awslambdarics_with_the_functions_arn_and_deadline() -> None:
    first = lambda_context("SomeFunction", timeout_seconds=2)
    second = lambda_context("SomeFunction", timeout_seconds=2)

    assert type(first).__module__ == "awslambdaric.lambda_context"
    assert first.invoked_function_arn.endswith(":function:SomeFunction")
    assert 1000 < first.get_remaining_time_in_millis() <= 2000
    assert first.aws_request_id != second.aws_request_id


def test_lambdas_variables_for_a_template_function() -> None:
    function = load_template().functions["LogActionFunction"]

    environment = lambda_environment(function, {"POWERTOOLS_SERVICE_NAME": "actionlog"}, [function.code_dir])

    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "LogActionFunction"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environment["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "15"
    assert (environment["AWS_LAMBDA_LOG_FORMAT"], environment["AWS_LAMBDA_LOG_LEVEL"]) == ("JSON", "INFO")
    assert environment["LAMBDA_TASK_ROOT"] == str(function.code_dir)
    assert environment["PYTHONPATH"] == str(function.code_dir)
    assert environment["POWERTOOLS_SERVICE_NAME"] == "actionlog"


# The functions of a local run


def test_the_environment_takes_each_variable_from_the_highest_source(
    make_function: MakeFunction, silent_environment: pytest.MonkeyPatch
) -> None:
    # Given a function whose template declares every variable, and an intrinsic without a local value
    declared: dict[str, str | None] = {
        name: "template"
        for name in ("FROM_TEMPLATE", "FROM_PROCESS", "FROM_FILE", "FILE_OVER_REDIS", "REDIS_HOST", "REDIS_PORT")
    }
    function = make_function(HANDLER, environment={**declared, "AUTH_REQUIRED": "true", "UNRESOLVED": None})
    # And this process's environment, which sets some of them (a REDIS_PORT without a REDIS_URL or REDIS_HOST)
    silent_environment.setenv("FROM_PROCESS", "process")
    silent_environment.setenv("FROM_FILE", "process")
    silent_environment.setenv("REDIS_PORT", "7000")
    silent_environment.setenv("UNDECLARED_IN_PROCESS", "process")
    # And an env-vars file, for every function and for this one
    env_vars = {
        "Parameters": {"FROM_FILE": "file", "FILE_OVER_REDIS": "file", "NOT_DECLARED": "file"},
        "TestFunction": {"FROM_FILE": "function section"},
    }

    # When the functions of a local run are set up
    functions = LocalFunctions({"TestFunction": function}, env_vars=env_vars)
    try:
        environment = functions.environment("TestFunction")
        redis_url = functions.redis.url if functions.redis else None
    finally:
        functions.close()

    # Then each variable comes from the highest source that sets it
    assert environment["FROM_TEMPLATE"] == "template"
    assert environment["AUTH_REQUIRED"] == "false"  # the local default beats the template
    assert environment["FROM_PROCESS"] == "process"  # the process beats the template
    assert environment["UNDECLARED_IN_PROCESS"] == "process"  # and passes on whole
    assert (environment["REDIS_URL"], environment["REDIS_HOST"], environment["REDIS_PORT"]) == (redis_url, "", "")
    assert environment["FILE_OVER_REDIS"] == "file"
    assert environment["FROM_FILE"] == "function section"  # the file's own section for the function wins
    # And an intrinsic without a local value is not set, nor a variable the template does not declare
    assert "UNRESOLVED" not in environment
    assert "NOT_DECLARED" not in environment
    assert redis_url is not None


def test_the_process_environment_beats_the_local_auth_default(
    make_function: MakeFunction, silent_environment: pytest.MonkeyPatch
) -> None:
    function = make_function(HANDLER, environment={"AUTH_REQUIRED": "false"})
    silent_environment.setenv("AUTH_REQUIRED", "true")
    silent_environment.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # no Redis of the run's own: nothing to close

    functions = LocalFunctions({"TestFunction": function})
    environment = functions.environment("TestFunction")
    functions.close()

    assert environment["AUTH_REQUIRED"] == "true"


def test_an_env_vars_file_sets_declared_variables_over_the_runs_redis(
    make_function: MakeFunction, silent_environment: pytest.MonkeyPatch
) -> None:
    # Given SAM's env-vars file of the Docker setup, which names a Redis on the Docker host
    function = make_function(HANDLER, environment={"REDIS_URL": "", "REDIS_HOST": "localhost", "REDIS_PORT": "6379"})
    env_vars = load_env_vars(Path(__file__).resolve().parents[2] / "events" / "env.json")

    functions = LocalFunctions({"TestFunction": function}, env_vars=env_vars)
    try:
        environment = functions.environment("TestFunction")
    finally:
        functions.close()

    assert (environment["REDIS_URL"], environment["REDIS_HOST"], environment["REDIS_PORT"]) == (
        "",
        "host.docker.internal",
        "6379",
    )
    assert "POWERTOOLS_LOG_LEVEL" not in environment  # the file sets it, the function does not declare it


def test_the_template_functions_get_their_values_and_the_local_defaults(silent_environment: pytest.MonkeyPatch) -> None:
    silent_environment.setenv("REDIS_URL", "redis://127.0.0.1:1/0")

    functions = LocalFunctions(load_template().functions)
    environment = functions.environment("LogActionFunction")

    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Actionlog"  # a literal of the template
    assert environment["ACTIONS_MAX_ENTRIES"] == "100"  # a parameter's default
    assert environment["AUTH_REQUIRED"] == "false"  # the template's "true" is for deployments
    assert set(functions.environment("HealthProbeFunction")) >= {"REDIS_URL", "POWERTOOLS_SERVICE_NAME"}


def test_without_a_configured_redis_the_run_has_its_own_and_stops_it(
    make_function: MakeFunction, silent_environment: pytest.MonkeyPatch
) -> None:
    # Given a local run in an environment that names no Redis
    functions = LocalFunctions({"TestFunction": make_function(HANDLER)})
    url = functions.environment("TestFunction")["REDIS_URL"]
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)

    # Then its functions are given a Redis that answers, for as long as the run lasts
    try:
        assert functions.redis is not None
        assert client.ping()
        assert functions.redis_description == functions.redis.description
        functions.close()
        client.connection_pool.disconnect()
        with pytest.raises(redis.exceptions.ConnectionError):
            client.ping()
    finally:
        client.close()


def test_a_configured_redis_is_used_as_is_and_its_password_never_shown(
    make_function: MakeFunction, silent_environment: pytest.MonkeyPatch
) -> None:
    silent_environment.setenv("REDIS_URL", "redis://app:s3cret@cache.internal:6380/0")

    functions = LocalFunctions({"TestFunction": make_function(HANDLER, environment={"REDIS_URL": ""})})

    assert functions.redis is None
    assert functions.environment("TestFunction")["REDIS_URL"] == "redis://app:s3cret@cache.internal:6380/0"
    assert "s3cret" not in functions.redis_description
    assert "cache.internal:6380" in functions.redis_description


@pytest.mark.parametrize(
    ("variables", "description"),
    [
        ({"REDIS_URL": "rediss://user:pa%40ss@host:6379/0"}, "REDIS_URL rediss://***@host:6379/0"),
        ({"REDIS_URL": "redis://:secret@host"}, "REDIS_URL redis://***@host"),
        ({"REDIS_URL": "redis://host:6379"}, "REDIS_URL redis://host:6379"),
        ({"REDIS_HOST": "cache.local"}, "REDIS_HOST cache.local"),
    ],
)
def test_the_redis_description_never_shows_a_password(
    make_function: MakeFunction, silent_environment: pytest.MonkeyPatch, variables: dict[str, str], description: str
) -> None:
    for name, value in variables.items():
        silent_environment.setenv(name, value)

    assert LocalFunctions({"TestFunction": make_function(HANDLER)}).redis_description == description


def test_the_functions_run_warm_in_emulators_with_the_runs_redis(
    rie: Path, silent_environment: pytest.MonkeyPatch
) -> None:
    # Given the health check of the template, in a local run
    functions = LocalFunctions({"HealthCheckFunction": load_template().functions["HealthCheckFunction"]})
    event = json.loads((Path(__file__).resolve().parents[2] / "events" / "health_check.json").read_text())
    try:
        # When it is invoked twice
        first = functions.invoke("HealthCheckFunction", event)
        second = functions.invoke("HealthCheckFunction", event)
    finally:
        functions.close()

    # Then it ran in an emulator, found the run's Redis, and stayed warm
    assert functions.emulated
    assert (first.result["statusCode"], second.result["statusCode"]) == (200, 200)
    assert json.loads(first.result["body"])["status"] == "ok"
    assert first.init_ms is not None
    assert second.init_ms is None


# The env-vars file


def test_an_env_vars_file_is_read_as_lambdas_strings(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(
        json.dumps({"Parameters": {"COUNT": 7, "ENABLED": True, "OFF": False, "EMPTY": None}, "Fn": {"NAME": "x"}})
    )

    assert load_env_vars(env_file) == {
        "Parameters": {"COUNT": "7", "ENABLED": "true", "OFF": "false", "EMPTY": ""},
        "Fn": {"NAME": "x"},
    }


@pytest.mark.parametrize("content", ['{"Parameters": ["REDIS_HOST"]}', '["Parameters"]', '{"Parameters": 1}'])
def test_an_env_vars_file_must_be_an_object_of_objects(tmp_path: Path, content: str) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(content)

    with pytest.raises(ValueError, match="object of objects"):
        load_env_vars(env_file)


# The Redis of a local run


@pytest.mark.redis_server
def test_a_local_run_serves_a_real_redis_server_where_one_is_installed() -> None:
    redis_server_binary()  # skipped, or failed under CI, where it is missing

    server = local_redis()
    try:
        assert isinstance(server, RedisServer)
        assert "redis-server" in server.description
        client = server.client()
        assert client.execute_command("INFO", "server")["redis_version"]
        client.close()
    finally:
        server.close()
    assert server.process is None


def test_without_redis_server_a_local_run_embeds_fakeredis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without redis-server
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    server = local_redis()
    try:
        assert isinstance(server, EmbeddedRedis)
        assert "fakeredis" in server.description
        client = redis.Redis.from_url(server.url, socket_timeout=2)
        assert client.ping()
        client.close()
    finally:
        server.close()
    assert list(temporary.iterdir()) == []  # the redis-server that could not start left no directory behind
