"""No password, token or cached value in the logs at DEBUG, the most verbose level the template's LogLevel allows.

At DEBUG, Lambda sets the root logger to DEBUG, and every library logger that has no level of its own inherits it:
botocore would log the GetSecretValue response (the Redis password) and the signed request's headers, redis-py its
commands. The same marker the whole suite looks for (tests/conftest.py) must not appear here either, with the
secret read from Secrets Manager (moto), an action logged, a value cached and read back, and a caller's token in
every event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from actionlog.observability import logger
from tests.security.helpers import Output
from tests.support import AWS_REGION, NEVER_LOGGED, RedisServer, invoke, load_event, with_body

pytestmark = pytest.mark.redis_server

PASSWORD = f"{NEVER_LOGGED}-debug-password"
VALUE = f"{NEVER_LOGGED}-cached-value"


@pytest.fixture
def at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The function at LogLevel DEBUG, as Lambda runs it: the root logger and Powertools' logger at DEBUG.

    moto, which plays AWS in this process and is no part of the function, keeps its own level.
    """
    previous = logger.log_level
    caplog.set_level(logging.DEBUG)
    logging.getLogger("moto").setLevel(logging.WARNING)
    logger.setLevel(logging.DEBUG)
    yield caplog
    logger.setLevel(previous)
    logging.getLogger("moto").setLevel(logging.NOTSET)


@pytest.fixture
def protected_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    server.client().config_set("requirepass", PASSWORD)
    yield server
    server.stop()


def test_given_log_level_debug_when_the_secret_is_read_and_data_written_then_no_secret_reaches_any_log(
    aws: None,
    protected_server: RedisServer,
    configure: Callable[..., None],
    at_debug: pytest.LogCaptureFixture,
    output: Callable[[], Output],
) -> None:
    secrets = boto3.client("secretsmanager", region_name=AWS_REGION)
    arn = secrets.create_secret(Name="redis-debug", SecretString=PASSWORD)["ARN"]
    configure(REDIS_HOST="127.0.0.1", REDIS_PORT=str(protected_server.port), REDIS_SECRET_ARN=arn)
    responses: list[dict[str, Any]] = []

    # When every kind of request runs at DEBUG: the secret read, a write, a cached value written and read
    responses.append(
        invoke("log_action", with_body(load_event("log_action.json"), {"action": "a", "metadata": {"v": VALUE}}))
    )
    responses.append(invoke("cache_set", with_body(load_event("cache_set.json"), {"value": VALUE})))
    responses.append(invoke("cache_get", load_event("cache_get.json")))

    # Then it all worked at DEBUG, and no line holds the password, the token or the value
    assert [response["statusCode"] for response in responses] == [201, 200, 200]
    # The run was at DEBUG: the root logger, its capture and the function's logger would have taken any DEBUG line.
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    assert at_debug.handler.level <= logging.DEBUG
    assert logger.log_level == logging.DEBUG
    written = output()
    assert NEVER_LOGGED not in written.everything
    assert NEVER_LOGGED not in at_debug.text


@pytest.mark.parametrize("library", ["botocore", "boto3", "urllib3", "redis"])
def test_the_libraries_that_log_requests_are_held_at_warning_whatever_the_root_level(
    at_debug: pytest.LogCaptureFixture, library: str
) -> None:
    import actionlog.observability  # noqa: F401  # what sets them, once, on import

    assert logging.getLogger(library).getEffectiveLevel() == logging.WARNING
