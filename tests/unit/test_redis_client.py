from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from redis import Redis
from redis import exceptions as redis_errors

from actionlog import redis_client
from actionlog.errors import ConfigurationError, StoreUnavailable
from actionlog.redis_client import SECRET_READ, SecretCredentials, create_client
from actionlog.settings import Settings
from bench import floors
from tests.support import free_port


def connection_options(client: Redis) -> dict[str, object]:
    return client.connection_pool.connection_kwargs


def test_timeouts_retries_and_protocol_are_set_for_lambda_not_left_at_redis_py_defaults() -> None:
    client = create_client(Settings())
    options = connection_options(client)

    assert options["socket_timeout"] == 1.0
    assert options["socket_connect_timeout"] == 1.0
    assert options["protocol"] == 2
    assert options["health_check_interval"] == 10
    assert options["retry"].get_retries() == 1  # type: ignore[attr-defined]


def test_tls_requires_a_verified_certificate() -> None:
    client = create_client(Settings(redis_tls=True, redis_tls_ca_certs="/etc/ssl/ca.pem"))
    options = connection_options(client)

    assert options["ssl_cert_reqs"] == "required"
    assert options["ssl_ca_certs"] == "/etc/ssl/ca.pem"
    assert options["ssl_check_hostname"] is True


def test_a_url_wins_over_host_and_port() -> None:
    client = create_client(Settings(redis_url="redis://cache.internal:6390/2", redis_host="ignored"))
    options = connection_options(client)

    assert (options["host"], options["port"], options["db"]) == ("cache.internal", 6390, 2)


def test_an_unreachable_cluster_is_unavailable_and_the_next_call_tries_again(configure) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_CLUSTER="true", REDIS_HOST="127.0.0.1", REDIS_PORT=str(free_port()))

    for _ in range(2):
        with pytest.raises(StoreUnavailable):
            redis_client.get_redis()


def test_static_credentials_carry_the_acl_user() -> None:
    client = create_client(Settings(redis_username="actionlog", redis_password="s3cret"))
    provider = connection_options(client)["credential_provider"]

    assert provider.get_credentials() == ("actionlog", "s3cret")  # type: ignore[attr-defined]


def test_a_username_without_a_password_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        create_client(Settings(redis_username="actionlog"))


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-1")


def test_a_plain_secret_is_the_password(secrets_manager) -> None:  # type: ignore[no-untyped-def]
    arn = secrets_manager.create_secret(Name="redis", SecretString="plain-password")["ARN"]

    assert SecretCredentials(arn).get_credentials() == ("plain-password",)


def test_a_json_secret_gives_password_and_acl_user(secrets_manager) -> None:  # type: ignore[no-untyped-def]
    arn = secrets_manager.create_secret(Name="redis", SecretString='{"username": "app", "password": "pw"}')["ARN"]

    assert SecretCredentials(arn, default_username="ignored").get_credentials() == ("app", "pw")


def test_the_secret_is_fetched_once_per_provider(secrets_manager) -> None:  # type: ignore[no-untyped-def]
    arn = secrets_manager.create_secret(Name="redis", SecretString="first")["ARN"]
    provider = SecretCredentials(arn)
    provider.get_credentials()

    secrets_manager.put_secret_value(SecretId=arn, SecretString="rotated")

    assert provider.get_credentials() == ("first",)
    assert SecretCredentials(arn).get_credentials() == ("rotated",)


def test_an_unreadable_secret_makes_the_store_unavailable(secrets_manager) -> None:  # type: ignore[no-untyped-def]
    missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-AbCdEf"

    with pytest.raises(StoreUnavailable):
        SecretCredentials(missing).get_credentials()


def test_a_json_secret_without_password_is_a_configuration_error(secrets_manager) -> None:  # type: ignore[no-untyped-def]
    arn = secrets_manager.create_secret(Name="redis", SecretString='{"user": "app"}')["ARN"]

    with pytest.raises(ConfigurationError):
        SecretCredentials(arn).get_credentials()


def test_the_client_is_created_once_and_kept(configure) -> None:  # type: ignore[no-untyped-def]
    assert redis_client.get_redis() is redis_client.get_redis()


@pytest.mark.parametrize(
    ("failure", "keeps_client"),
    [
        # The password may have been rotated: a new client reads the secret again.
        (redis_errors.AuthenticationError("invalid password"), False),
        # redis-py reconnects by itself; nothing to throw away.
        (redis_errors.ConnectionError("refused"), True),
        # A new login cannot fix an ACL, and would re-read the secret on every request.
        (redis_errors.NoPermissionError("NOPERM no permissions to run the 'lpush' command"), True),
    ],
    ids=["authentication", "connection", "permission"],
)
def test_a_failure_keeps_or_discards_the_client_by_its_cause(configure, failure: Exception, keeps_client: bool) -> None:  # type: ignore[no-untyped-def]
    first = redis_client.get_redis()
    try:
        raise StoreUnavailable("Redis is unavailable") from failure
    except StoreUnavailable as error:
        redis_client.report_failure(error)

    assert (redis_client.get_redis() is first) is keeps_client


def test_the_benchmarks_floor_client_is_configured_as_the_default_settings_configure_ours() -> None:
    # bench/floors.py runs as a function without the layer, so it keeps copies of the table's defaults: these
    ours = connection_options(create_client(Settings()))
    floor = connection_options(floors.client("redis://localhost:6379/0"))

    for option in ("socket_timeout", "socket_connect_timeout", "health_check_interval", "protocol"):
        assert floor[option] == ours[option], option
    assert floor["retry"].get_retries() == ours["retry"].get_retries()  # type: ignore[attr-defined]
    assert Settings().actions_max_entries == floors.MAX_ENTRIES


def test_the_secret_read_makes_two_attempts_in_all_and_botocore_leaves_the_setting_alone() -> None:
    import copy

    import boto3
    from botocore.config import Config

    before = copy.deepcopy(SECRET_READ)
    client = boto3.client("secretsmanager", region_name="eu-west-1", config=Config(**copy.deepcopy(SECRET_READ)))

    assert client.meta.config.retries["total_max_attempts"] == 2  # the first attempt and one retry
    assert before == SECRET_READ
