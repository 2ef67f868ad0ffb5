import pytest

from actionlog.errors import ConfigurationError
from actionlog.settings import Settings


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
        ("REDIS_RETRIES", "50"),
        ("CACHE_KEY_PREFIXES", " , "),
        ("CACHE_KEY_PREFIXES", "session:,user:"),
        ("CACHE_KEY_PREFIXES", "us"),
        ("CACHE_KEY_PREFIXES", "actionlog:written:"),
        ("CACHE_KEY_PREFIXES", "bad prefix*"),
    ],
)
def test_invalid_configuration_is_refused_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})
