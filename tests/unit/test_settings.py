import dataclasses
from typing import Any

import pytest
from aws_lambda_powertools.shared.functions import strtobool

from actionlog.errors import ConfigurationError
from actionlog.settings import FLAG, POWERTOOLS_LOGGER_LOG_EVENT, SETTINGS, VARIABLES, Settings, Variable, parse_flag


def test_defaults_follow_the_contract() -> None:
    settings = Settings.from_env({})

    assert (settings.redis_host, settings.redis_port) == ("localhost", 6379)
    assert settings.actions_max_entries == 100
    assert settings.cache_key_prefixes == ("session:", "cache:")
    assert settings.auth_required is True
    assert settings.user_id_claim == "sub"
    assert (settings.redis_tls, settings.redis_cluster) == (False, False)


def test_every_contract_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "REDIS_URL": "rediss://cache.example:6380/0",
            "REDIS_HOST": "redis.internal",
            "REDIS_PORT": "6390",
            "REDIS_USERNAME": "actionlog",
            "REDIS_PASSWORD": "s3cret",
            "REDIS_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis",
            "REDIS_TLS": "true",
            "REDIS_CLUSTER": "TRUE",
            "ACTIONS_MAX_ENTRIES": "250",
            "CACHE_KEY_PREFIXES": "session:, cache: ,profile:",
            "AUTH_REQUIRED": "false",
            "USER_ID_CLAIM": "custom:user_id",
        }
    )

    assert settings.redis_url == "rediss://cache.example:6380/0"
    assert (settings.redis_host, settings.redis_port) == ("redis.internal", 6390)
    assert (settings.redis_username, settings.redis_password) == ("actionlog", "s3cret")
    assert settings.redis_secret_arn is not None
    assert (settings.redis_tls, settings.redis_cluster) == (True, True)
    assert settings.actions_max_entries == 250
    assert settings.cache_key_prefixes == ("session:", "cache:", "profile:")
    assert settings.auth_required is False
    assert settings.user_id_claim == "custom:user_id"


def test_empty_variables_mean_unset_as_sam_passes_empty_parameters() -> None:
    settings = Settings.from_env({"REDIS_URL": "", "REDIS_SECRET_ARN": "", "REDIS_USERNAME": ""})

    assert settings.redis_url is None
    assert settings.redis_secret_arn is None
    assert settings.redis_username is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REDIS_PORT", "not-a-port"),
        ("REDIS_PORT", "70000"),
        ("REDIS_TLS", "maybe"),
        ("ACTIONS_MAX_ENTRIES", "0"),
        ("REDIS_SOCKET_TIMEOUT", "-1"),
        ("REDIS_SOCKET_TIMEOUT", "2.5"),
        ("REDIS_SOCKET_TIMEOUT", "nan"),
        ("REDIS_CONNECT_TIMEOUT", "30"),
        ("REDIS_CONNECT_TIMEOUT", "0.05"),
        ("REDIS_RETRIES", "2"),
        ("REDIS_RETRIES", "50"),
        ("POWERTOOLS_LOG_LEVEL", "LOUD"),
        ("CACHE_KEY_PREFIXES", " , "),
        ("CACHE_KEY_PREFIXES", "session:,user:"),
        ("CACHE_KEY_PREFIXES", "us"),
        ("CACHE_KEY_PREFIXES", "actionlog:written:"),
        ("CACHE_KEY_PREFIXES", "bad prefix*"),
    ],
)
def test_invalid_configuration_is_refused_with_the_variable_named(name: str, value: str) -> None:
    variable = next(variable for variable in VARIABLES if variable.name == name)

    with pytest.raises(ConfigurationError, match=name):
        variable.read({name: value})


def test_at_the_templates_maxima_the_timeouts_and_retries_are_accepted() -> None:
    # The template's bounds: at them a dead Redis still answers 503 inside the function timeout
    settings = Settings.from_env({"REDIS_SOCKET_TIMEOUT": "2", "REDIS_CONNECT_TIMEOUT": "0.1", "REDIS_RETRIES": "1"})

    assert (settings.redis_socket_timeout, settings.redis_connect_timeout, settings.redis_retries) == (2.0, 0.1, 1)


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("on", True), ("false", False), ("0", False),
     ("no", False), ("Off", False)],
)  # fmt: skip
def test_every_flag_reads_the_same_spellings(text: str, value: bool) -> None:
    assert Settings.from_env({"REDIS_TLS": text}).redis_tls is value
    assert POWERTOOLS_LOGGER_LOG_EVENT.read({"POWERTOOLS_LOGGER_LOG_EVENT": text}) is value


@pytest.mark.parametrize("text", ["1", "y", "yes", "t", "true", "on", "0", "n", "no", "f", "false", "off", "maybe"])
def test_a_flag_reads_as_powertools_reads_its_own_switches(text: str) -> None:
    try:
        expected: bool | None = bool(strtobool(text))
    except ValueError:
        expected = None

    try:
        assert parse_flag(text) is expected
    except ValueError:
        assert expected is None


# --- The table itself -------------------------------------------------------------------------------------------


def test_every_field_of_the_settings_is_one_row_of_the_table() -> None:
    assert [row.field for row in SETTINGS] == [field.name for field in dataclasses.fields(Settings)]
    assert len({variable.name for variable in VARIABLES}) == len(VARIABLES)
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda variable: variable.name)
def test_a_default_reads_back_as_itself_within_its_bounds(variable: Variable[Any]) -> None:
    shown = variable.kind.show(variable.default)

    assert variable.read({variable.name: shown}) == variable.default
    if variable.allowed_values:
        assert shown in variable.allowed_values
    assert (variable.kind is FLAG) == (variable.allowed_values == ("true", "false"))
