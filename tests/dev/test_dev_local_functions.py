"""dev.local_functions: the template's functions for a local run, and SAM's env-vars file."""

import json
from pathlib import Path

import pytest
import redis

import dev.emulator
import dev.local_functions
from dev.emulator import Emulator
from dev.in_process import InProcess
from dev.local_functions import LocalFunctions, load_env_vars, runner
from dev.template import load_template
from tests.dev.stubs import HANDLER, MakeFunction


def test_the_runner_is_an_emulator_where_the_rie_runs_and_in_process_elsewhere(
    make_function: MakeFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = make_function(HANDLER)
    paths = [function.code_dir]

    monkeypatch.setattr(dev.local_functions, "emulator_binary", lambda: Path("/usr/bin/true"))
    where_it_runs = runner(function, {}, paths)
    monkeypatch.setattr(dev.local_functions, "emulator_binary", lambda: None)
    elsewhere = runner(function, {}, paths)

    assert isinstance(where_it_runs, Emulator)
    assert isinstance(elsewhere, InProcess)


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
