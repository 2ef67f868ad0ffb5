import pytest
from redis import exceptions as redis_errors

from actionlog.errors import StoreError, StoreUnavailable, translate_store_errors


def failing(error: Exception):  # type: ignore[no-untyped-def]
    @translate_store_errors
    def operation() -> None:
        raise error

    return operation


@pytest.mark.parametrize(
    "error",
    [
        redis_errors.ConnectionError("Connection refused"),
        redis_errors.TimeoutError("Timeout reading from socket"),
        redis_errors.AuthenticationError("invalid username-password pair"),
        redis_errors.NoPermissionError("NOPERM this user has no permissions"),
        redis_errors.BusyLoadingError("LOADING"),
        redis_errors.ReadOnlyError("READONLY"),
        redis_errors.ClusterDownError("CLUSTERDOWN"),
        redis_errors.TryAgainError("TRYAGAIN"),
        redis_errors.MovedError("3999 127.0.0.1:6381"),
        redis_errors.RedisClusterException("no nodes"),
    ],
)
def test_unavailability_becomes_store_unavailable_with_its_cause(error: Exception) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        failing(error)()

    assert caught.value.__cause__ is error
    assert caught.value.cause == type(error).__name__
    assert caught.value.http_status == 503


def test_other_redis_errors_become_store_errors() -> None:
    with pytest.raises(StoreError):
        failing(redis_errors.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"))()


def test_authentication_failures_are_recognised_by_type_not_text() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        failing(redis_errors.AuthenticationError("anything"))()

    assert caught.value.is_authentication_failure
