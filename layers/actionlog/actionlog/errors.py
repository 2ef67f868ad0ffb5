"""One error hierarchy for Actionlog, and the body every error answers. Each error knows its HTTP status; http.py
maps them to answers in one place."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ClassVar

from redis import exceptions as redis_errors

from actionlog.schema import Doc, Shape, field

MAX_EXCERPT = 64  # characters of anything a client or producer sent that a message or log line repeats


def excerpt(text: object, limit: int = MAX_EXCERPT) -> str:
    """`text` as an answer or a log line may quote it: at most `limit` characters, marked when cut short."""
    shown = str(text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


class ValidationProblem(Shape):
    """One problem with the request; never echoes the rejected input."""

    location: Annotated[list[str], Doc('e.g. ["body", "action"]')]
    type: Annotated[str, Doc("pydantic-core's error type, e.g. string_too_long")]
    message: str


class ErrorBody(Shape):
    """Every error Actionlog answers."""

    message: Annotated[str, Doc("What went wrong, for a human")]
    errors: list[ValidationProblem] | None = field(default=None, omit_if_none=True)


class ActionlogError(Exception):
    """Base of every error Actionlog raises on purpose."""

    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ActionlogError):
    http_status = 400


class Unauthorized(ActionlogError):
    http_status = 401


class Forbidden(ActionlogError):
    http_status = 403


class NotFound(ActionlogError):
    http_status = 404


class Unprocessable(ActionlogError):
    http_status = 422


class PayloadTooLarge(ActionlogError):
    http_status = 413


class QuotaExceeded(Forbidden):
    """A write that would take a user's data past one of its quotas (USER_CACHE_MAX_KEYS, USER_CACHE_MAX_BYTES)."""


class RateLimited(ActionlogError):
    """Over the rate limit: nothing was written or read; retry once the window ends."""

    http_status = 429

    def __init__(self, limit: int, retry_after_seconds: int) -> None:
        super().__init__(f"rate limit of {limit} requests a window reached; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class InvalidRequest(ActionlogError):
    """A request that breaks its schema (400 or 422): pydantic's problems, by location, without the rejected input."""

    def __init__(self, status: int, where: str, problems: Sequence[Any]) -> None:
        self.problems = [
            ValidationProblem(
                # A location may name a field the caller made up (an unexpected key): only an excerpt of it.
                location=[where, *map(excerpt, problem["loc"])],
                type=problem["type"],
                message=excerpt(problem["msg"], 4 * MAX_EXCERPT),
            )
            for problem in problems
        ]
        super().__init__("; ".join(f"{'.'.join(problem.location)}: {problem.message}" for problem in self.problems))
        self.http_status = status  # type: ignore[misc]


class ConfigurationError(ActionlogError):
    """The deployment's configuration is invalid; nothing a caller can fix."""

    http_status = 500


class StoreError(ActionlogError):
    """Redis answered with an error that retrying will not fix (e.g. WRONGTYPE)."""

    http_status = 500


class StoreUnavailable(ActionlogError):
    """Redis cannot be reached, timed out, refused our credentials or is failing over."""

    http_status = 503
    retry_after_seconds: ClassVar[int] = 1

    @property
    def cause(self) -> str:
        """The underlying failure's class name: safe to log, never carries a secret."""
        return type(self.__cause__).__name__ if self.__cause__ else "unknown"

    @property
    def root_cause(self) -> str:
        """The innermost failure's class name, e.g. SSLCertVerificationError under redis-py's ConnectionError.

        redis-py raises its ConnectionError while handling the socket's own error, so what an operator needs
        (a certificate, a reset, a refused port) is only in the exception chain. A class name: never a secret.
        """
        error = self.__cause__
        while error is not None and (error.__cause__ or error.__context__) is not None:
            error = error.__cause__ or error.__context__
        return type(error).__name__ if error is not None else "unknown"

    @property
    def is_authentication_failure(self) -> bool:
        return isinstance(self.__cause__, redis_errors.AuthenticationError)

    @property
    def is_out_of_memory(self) -> bool:
        """OOM: Redis holds as much as it may and refuses writes; reads still work."""
        return isinstance(self.__cause__, redis_errors.OutOfMemoryError)

    @property
    def is_permission_failure(self) -> bool:
        """NOPERM: our user may not run a command or touch a key. Its ACL must change; a new login won't help."""
        return isinstance(self.__cause__, redis_errors.NoPermissionError)


# Failures that mean "Redis is not usable right now". AuthenticationError and BusyLoadingError are
# ConnectionErrors; NOPERM, READONLY (a replica after failover), CLUSTERDOWN, TRYAGAIN and MOVED/ASK
# (AskError is MovedError's base) come back as replies once redis-py's own redirects are spent; OOM is Redis
# refusing a write for lack of memory (maxmemory reached, or an ElastiCache Serverless cache at its data cap).
_UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.AuthenticationError,
    redis_errors.NoPermissionError,
    redis_errors.ReadOnlyError,
    redis_errors.ClusterError,
    redis_errors.RedisClusterException,
    redis_errors.TryAgainError,
    redis_errors.AskError,
    redis_errors.OutOfMemoryError,
)


def translate_store_errors[**P, R](operation: Callable[P, R]) -> Callable[P, R]:
    """Turn redis-py exceptions raised by `operation` into StoreUnavailable or StoreError."""

    @functools.wraps(operation)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"Redis is unavailable ({type(exc).__name__})") from exc
        except redis_errors.RedisError as exc:
            raise StoreError(f"Redis refused the {operation.__name__} operation ({type(exc).__name__})") from exc

    return wrapper
