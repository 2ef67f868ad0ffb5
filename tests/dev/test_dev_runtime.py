"""dev.runtime: the environment each worker gets, and the Redis it talks to."""

import json
from pathlib import Path

import pytest
from redis import Redis

from dev.runtime import EnvVarsError, LocalLambda, describe_redis, load_env_vars
from dev.template import REPO_ROOT, load_template


def test_without_a_configured_redis_the_functions_get_a_working_embedded_one(local_environment: dict[str, str]) -> None:
    with LocalLambda(load_template(), environ=local_environment) as functions:
        environment = functions.environment("LogActionFunction")
        client = Redis(host=environment["REDIS_HOST"], port=int(environment["REDIS_PORT"]), protocol=2)

        assert functions.embedded_redis is not None
        assert environment["REDIS_HOST"] == "127.0.0.1"
        assert client.ping()
        client.close()


def test_a_configured_redis_is_used_as_is(local_environment: dict[str, str]) -> None:
    environ = {**local_environment, "REDIS_URL": "redis://app:s3cret@cache.internal:6380/0"}

    with LocalLambda(load_template(), environ=environ) as functions:
        assert functions.embedded_redis is None
        assert functions.environment("HealthCheckFunction")["REDIS_URL"] == environ["REDIS_URL"]
        assert "REDIS_HOST" not in functions.environment("HealthCheckFunction")
        assert "s3cret" not in functions.redis_description


def test_local_defaults_apply_only_where_the_environment_is_silent(local_environment: dict[str, str]) -> None:
    with LocalLambda(load_template(), environ=local_environment) as functions:
        defaults = functions.environment("LogActionFunction")
    with LocalLambda(load_template(), environ={**local_environment, "AUTH_REQUIRED": "true"}) as functions:
        chosen = functions.environment("LogActionFunction")

    assert defaults["AUTH_REQUIRED"] == "false"
    assert defaults["POWERTOOLS_SERVICE_NAME"] == "actionlog"
    assert defaults["POWERTOOLS_METRICS_NAMESPACE"] == "Actionlog"  # a literal value of the template
    assert defaults["AWS_LAMBDA_FUNCTION_NAME"] == "LogActionFunction"
    assert defaults["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert chosen["AUTH_REQUIRED"] == "true"


def test_env_vars_override_declared_variables_only_and_a_function_section_wins(
    tmp_path: Path, local_environment: dict[str, str]
) -> None:
    # Given a SAM env-vars file with a section for all functions and one for a single function
    env_file = tmp_path / "env.json"
    env_file.write_text(
        json.dumps(
            {
                "Parameters": {"ACTIONS_MAX_ENTRIES": 7, "NOT_DECLARED": "x", "AUTH_REQUIRED": True},
                "LogActionFunction": {"ACTIONS_MAX_ENTRIES": "9"},
            }
        )
    )
    warnings: list[str] = []

    # When the functions are set up with it
    with LocalLambda(
        load_template(), environ=local_environment, env_vars=load_env_vars(env_file), warn=warnings.append
    ) as functions:
        log_action = functions.environment("LogActionFunction")
        get_actions = functions.environment("GetUserActionsFunction")

    # Then, as in `sam local`, only variables the template declares are set, the function's own section last
    assert (log_action["ACTIONS_MAX_ENTRIES"], get_actions["ACTIONS_MAX_ENTRIES"]) == ("9", "7")
    assert get_actions["AUTH_REQUIRED"] == "true"
    assert "NOT_DECLARED" not in get_actions
    assert any("NOT_DECLARED" in warning for warning in warnings)


def test_env_vars_naming_a_redis_replace_the_embedded_one(local_environment: dict[str, str]) -> None:
    env_vars = load_env_vars(REPO_ROOT / "events" / "env.json")

    with LocalLambda(load_template(), environ=local_environment, env_vars=env_vars) as functions:
        assert functions.embedded_redis is None
        assert functions.environment("HealthCheckFunction")["REDIS_HOST"] == "host.docker.internal"


def test_an_env_vars_file_must_be_an_object_of_objects(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text('{"Parameters": ["REDIS_HOST"]}')

    with pytest.raises(EnvVarsError):
        load_env_vars(env_file)


@pytest.mark.parametrize(
    ("environment", "description"),
    [
        ({"REDIS_URL": "rediss://user:pa%40ss@host:6379/0"}, "REDIS_URL rediss://user:***@host:6379/0"),
        ({"REDIS_URL": "redis://:secret@host"}, "REDIS_URL redis://:***@host"),
        ({"REDIS_URL": "redis://host:6379"}, "REDIS_URL redis://host:6379"),
        ({"REDIS_HOST": "cache.local"}, "REDIS_HOST cache.local:6379"),
    ],
)
def test_the_redis_description_never_shows_a_password(environment: dict[str, str], description: str) -> None:
    assert describe_redis(environment) == description
