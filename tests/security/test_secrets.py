"""REDIS_SECRET_ARN: the password (or ACL user and password) from Secrets Manager (moto), against a real
password-protected redis-server.

The secret is read once per container and kept while its connections live; a rotation needs no redeploy:
the first call after the old password stops working answers 503 and drops the client, and the next call
reads the secret again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import redis

from tests.security.helpers import FAST_SECONDS, Output, log_one_action, read_actions
from tests.support import AWS_REGION as REGION
from tests.support import NEVER_LOGGED, RedisServer

pytestmark = pytest.mark.redis_server

OLD_PASSWORD = f"{NEVER_LOGGED}-old-password"
NEW_PASSWORD = f"{NEVER_LOGGED}-new-password"
ACL_USER = "actionlog"
ACL_PASSWORD = f"{NEVER_LOGGED}-acl-password"
APP_USER = "actionlog-app"  # the user whose password the rotation tests rotate


@pytest.fixture
def secrets_manager(aws: None) -> Any:
    """Secrets Manager as moto plays it; Powertools' get_secret reaches it through boto3 like in Lambda."""
    return boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def protected_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own (a rotation changes its password) with requirepass and an ACL user."""
    server = RedisServer().start()
    # Set after start: the shared readiness check PINGs without a password.
    with server.client() as setup:
        setup.acl_setuser(ACL_USER, enabled=True, passwords=[f"+{ACL_PASSWORD}"], keys=["*"], commands=["+@all"])
        setup.config_set("requirepass", OLD_PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def admin(protected_server: RedisServer) -> Iterator[redis.Redis]:
    """The test's own administrator: the ACL user, whose password no rotation here changes."""
    client = protected_server.client(username=ACL_USER, password=ACL_PASSWORD)
    client.client_setname("test-admin")
    yield client
    client.close()


def use_secret(configure: Callable[..., None], server: RedisServer, secret_arn: str) -> None:
    configure(REDIS_HOST="127.0.0.1", REDIS_PORT=str(server.port), REDIS_SECRET_ARN=secret_arn)


def kill_actionlogs_connections(admin: redis.Redis) -> None:
    """What a failover, a maintenance or an idle timeout does: the server closes every client connection."""
    admin.client_kill_filter(_type="normal", skipme=True)


def test_given_a_plain_secret_when_an_action_is_logged_then_its_value_is_the_password(
    secrets_manager: Any, protected_server: RedisServer, configure: Callable[..., None]
) -> None:
    arn = secrets_manager.create_secret(Name="redis-plain", SecretString=OLD_PASSWORD)["ARN"]
    use_secret(configure, protected_server, arn)

    logged, _ = log_one_action()

    assert logged["statusCode"] == 201
    assert read_actions()["json"]["count"] == 1


def test_given_a_secret_under_a_customer_managed_kms_key_when_an_action_is_logged_then_it_is_read_through_kms(
    secrets_manager: Any, protected_server: RedisServer, configure: Callable[..., None]
) -> None:
    # RedisSecretKmsKeyArn grants kms:Decrypt on this key (tests/deploy/test_template.py checks the grant)
    key = boto3.client("kms", region_name=REGION).create_key(Description="Redis password")["KeyMetadata"]["Arn"]
    arn = secrets_manager.create_secret(Name="redis-cmk", SecretString=OLD_PASSWORD, KmsKeyId=key)["ARN"]
    assert secrets_manager.describe_secret(SecretId=arn)["KmsKeyId"] == key
    use_secret(configure, protected_server, arn)

    logged, _ = log_one_action()

    assert logged["statusCode"] == 201


def test_given_a_json_secret_with_an_acl_user_when_an_action_is_logged_then_it_logs_in_as_that_user(
    secrets_manager: Any, protected_server: RedisServer, admin: redis.Redis, configure: Callable[..., None]
) -> None:
    secret = json.dumps({"username": ACL_USER, "password": ACL_PASSWORD})
    arn = secrets_manager.create_secret(Name="redis-acl", SecretString=secret)["ARN"]
    use_secret(configure, protected_server, arn)

    logged, _ = log_one_action()

    assert logged["statusCode"] == 201
    others = [client for client in admin.client_list() if client["name"] != "test-admin"]
    assert [client["user"] for client in others] == [ACL_USER]


def test_given_a_secret_read_once_when_it_changes_then_new_connections_still_use_the_cached_value(
    secrets_manager: Any,
    protected_server: RedisServer,
    admin: redis.Redis,
    configure: Callable[..., None],
    output: Callable[[], Output],
) -> None:
    arn = secrets_manager.create_secret(Name="redis-cached", SecretString=OLD_PASSWORD)["ARN"]
    use_secret(configure, protected_server, arn)
    assert log_one_action()[0]["statusCode"] == 201

    # Were the secret read again, for any reason, the next connection would log in with this and fail.
    secrets_manager.put_secret_value(SecretId=arn, SecretString=f"{NEVER_LOGGED}-not-the-password")
    for _ in range(3):
        kill_actionlogs_connections(admin)
        assert log_one_action()[0]["statusCode"] == 201

    messages = [record["message"] for record in output().records()]
    assert messages.count("Redis credentials read from Secrets Manager") == 1
    assert messages.count("Redis reconnected") == 3  # each a new login, with the cached password


@dataclass(frozen=True)
class Rotation:
    """How the server's password changes, and what the secret holds before and after."""

    rotate_server: Callable[[redis.Redis], object]
    before: str
    after: str


ROTATIONS = {
    # An AUTH token (requirepass) replaced at once.
    "AUTH token": Rotation(
        rotate_server=lambda admin: admin.config_set("requirepass", NEW_PASSWORD),
        before=OLD_PASSWORD,
        after=NEW_PASSWORD,
    ),
    # An ACL user's password replaced (ElastiCache RBAC): the JSON secret names the user.
    "ACL user": Rotation(
        rotate_server=lambda admin: admin.acl_setuser(
            APP_USER, enabled=True, passwords=[f"+{NEW_PASSWORD}", f"-{OLD_PASSWORD}"], keys=["*"], commands=["+@all"]
        ),
        before=json.dumps({"username": APP_USER, "password": OLD_PASSWORD}),
        after=json.dumps({"username": APP_USER, "password": NEW_PASSWORD}),
    ),
}


@pytest.mark.parametrize("rotation", ROTATIONS.values(), ids=ROTATIONS.keys())
def test_given_a_rotation_when_the_old_password_stops_working_then_one_call_fails_and_the_next_reads_the_new_secret(
    secrets_manager: Any,
    protected_server: RedisServer,
    admin: redis.Redis,
    configure: Callable[..., None],
    output: Callable[[], Output],
    rotation: Rotation,
) -> None:
    admin.acl_setuser(APP_USER, enabled=True, passwords=[f"+{OLD_PASSWORD}"], keys=["*"], commands=["+@all"])
    arn = secrets_manager.create_secret(Name="redis-rotated", SecretString=rotation.before)["ARN"]
    use_secret(configure, protected_server, arn)
    assert log_one_action()[0]["statusCode"] == 201
    before_rotation = output()

    # The rotation as Secrets Manager's rotation function would do it; then the server drops the connections.
    rotation.rotate_server(admin)
    secrets_manager.put_secret_value(SecretId=arn, SecretString=rotation.after)
    kill_actionlogs_connections(admin)

    failed, seconds = log_one_action()
    after_failure = output()
    recovered, _ = log_one_action()
    after_recovery = output()

    assert (failed["statusCode"], failed["headers"]["Retry-After"]) == (503, "1")
    assert seconds < FAST_SECONDS
    assert after_failure.record("Redis authentication failed")["cause"] == "AuthenticationError"
    assert recovered["statusCode"] == 201
    assert after_recovery.record("Redis credentials read from Secrets Manager")  # read again, no redeploy
    assert read_actions()["json"]["count"] == 2
    for written in (before_rotation, after_failure, after_recovery):
        assert NEVER_LOGGED not in written.everything  # neither password, old or new


def test_given_the_secret_cannot_be_read_when_it_becomes_readable_then_the_next_call_works(
    secrets_manager: Any, protected_server: RedisServer, configure: Callable[..., None], output: Callable[[], Output]
) -> None:
    # Secrets Manager takes a name where it takes an ARN; a created secret's ARN gets a random suffix.
    use_secret(configure, protected_server, "redis-late")

    failed, seconds = log_one_action()
    secrets_manager.create_secret(Name="redis-late", SecretString=OLD_PASSWORD)
    recovered, _ = log_one_action()
    written = output()

    assert (failed["statusCode"], failed["headers"]["Retry-After"]) == (503, "1")
    assert seconds < FAST_SECONDS
    assert written.record("Could not read the Redis secret")["cause"] == "GetParameterError"
    assert recovered["statusCode"] == 201
