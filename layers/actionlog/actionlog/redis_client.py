"""The container's Redis client: created on first use, reused by warm invocations.

redis-py reconnects by itself: a connection that failed is dropped and the next command opens a new
one, a connection idle for longer than `health_check_interval` is PINGed (and replaced) before reuse,
which matters because a thawed Lambda container often holds a socket the server already closed.
(redis-py's cluster client ignores `health_check_interval`; there a dead socket costs one retry instead.)
Timeouts and retries are sized for Lambda, not redis-py's defaults (5 s, 10 retries).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import TYPE_CHECKING, Any

from redis import Redis, RedisCluster
from redis.backoff import ExponentialBackoff
from redis.connection import AbstractConnection
from redis.credentials import CredentialProvider
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from actionlog.errors import ConfigurationError, StoreUnavailable, translate_store_errors
from actionlog.observability import count, logger
from actionlog.settings import Settings, get_settings

if TYPE_CHECKING:
    type RedisClient = Redis | RedisCluster
else:
    RedisClient = Redis | RedisCluster

RETRY_BACKOFF_CAP_SECONDS = 0.2  # the longest wait before a retry after a connection error
# botocore's defaults (60 s timeouts, several attempts) would outlast the function timeout when the endpoint is
# unreachable (a VPC without NAT or endpoint): two attempts of 1 s + 1 s, and standard mode's backoff (up to 1 s).
# `total_max_attempts` counts the first attempt (botocore's `max_attempts` counts only the retries).
SECRET_READ = {"connect_timeout": 1, "read_timeout": 1, "retries": {"total_max_attempts": 2, "mode": "standard"}}

_client: RedisClient | None = None
_lock = threading.Lock()


def get_redis() -> RedisClient:
    """The container's client, created on the first call.

    A standalone client connects on its first command; a cluster client reads the slot map as it is made,
    so a cluster that cannot be reached raises StoreUnavailable here and the next call tries again.
    """
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = create_client(get_settings())
    return _client


def report_failure(error: StoreUnavailable) -> None:
    """What every Redis failure costs, whatever the entry point: a log line naming its cause, the RedisErrors metric,
    and, when the password may have been rotated, a client that starts clean on the next call.

    Every entry point (the HTTP adapter, SQS ingestion, the scheduled probe) calls this once per failure it answers.
    """
    count("RedisErrors")
    where = {"cause": error.cause, "rootCause": error.root_cause}
    if error.is_out_of_memory:
        logger.error("Redis refused a write: out of memory (maxmemory, or the cache's data limit)", extra=where)
    elif error.is_permission_failure:
        # ACL changes reach live connections at once, so the client is kept: dropping it would only read the
        # secret again and log in again on every request until an operator fixes the user's ACL.
        logger.error("Redis refused a command: check the ACL of Actionlog's user", extra=where)
    elif error.is_authentication_failure:
        logger.error("Redis authentication failed", extra=where)
        # The password may have been rotated: drop the client so the secret is fetched again.
        discard_client()
    else:
        logger.warning("Redis unavailable; the next call reconnects", extra=where)


def discard_client() -> None:
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None:
        client.close()


@translate_store_errors
def create_client(settings: Settings) -> RedisClient:
    """A client configured from `settings`: timeouts, retries, TLS, ACL credentials, cluster."""
    options: dict[str, Any] = {
        "protocol": 2,  # RESP2: served by every ElastiCache engine version, and parsed by hiredis
        "socket_timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "socket_keepalive": True,
        # Retry a connection that failed (a stale socket, a refused connect), never a reply that timed out:
        # Redis may already have run that MULTI/EXEC, and sending it again would log the entries twice.
        "retry": Retry(
            ExponentialBackoff(cap=RETRY_BACKOFF_CAP_SECONDS, base=0.05),
            settings.redis_retries,
            supported_errors=(RedisConnectionError,),
        ),
        "health_check_interval": settings.redis_health_check_interval,
        "redis_connect_func": _ConnectionLog(settings),
        "decode_responses": True,
        "encoding_errors": "backslashreplace",  # a foreign non-UTF-8 value reads as text, not as a 500
    }
    credentials = _credential_provider(settings)
    if credentials is not None:
        options["credential_provider"] = credentials
    url = settings.redis_url
    if url and settings.redis_tls and url.startswith("redis://"):
        url = "rediss://" + url.removeprefix("redis://")  # from_url takes TLS from the scheme, not ssl=True
    if settings.redis_tls and not url:
        options["ssl"] = True
    if _uses_tls(settings):
        options["ssl_cert_reqs"] = "required"
        options["ssl_check_hostname"] = True
        if settings.redis_tls_ca_certs:
            options["ssl_ca_certs"] = settings.redis_tls_ca_certs
    if settings.redis_cluster:
        # Re-read the slot map on every MOVED or connection error. redis-py counts such errors per pipeline
        # and refreshes only on the 5th; each MULTI here is a new pipeline, so after a failover a warm
        # container's writes, cache reads and health checks would go to the dead primary until a cold start.
        options["reinitialize_steps"] = 1
    client_class: type[Redis] | type[RedisCluster] = RedisCluster if settings.redis_cluster else Redis
    if url:
        return client_class.from_url(url, **options)
    return client_class(host=settings.redis_host, port=settings.redis_port, **options)


def _credential_provider(settings: Settings) -> CredentialProvider | None:
    if settings.redis_secret_arn:
        return SecretCredentials(settings.redis_secret_arn, default_username=settings.redis_username)
    if settings.redis_password:
        return _StaticCredentials(settings.redis_username, settings.redis_password)
    if settings.redis_username:
        raise ConfigurationError("REDIS_USERNAME needs REDIS_PASSWORD or REDIS_SECRET_ARN")
    return None


class _StaticCredentials(CredentialProvider):
    def __init__(self, username: str | None, password: str) -> None:
        self._username = username
        self._password = password

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        return (self._username, self._password) if self._username else (self._password,)


class SecretCredentials(CredentialProvider):
    """The Redis password from Secrets Manager: fetched on the first connection and cached.

    The secret is either the password itself or JSON with `password` and an optional `username`.
    A new client (after an authentication failure) fetches it again, so a rotated secret needs no
    redeploy.
    """

    def __init__(self, secret_arn: str, *, default_username: str | None = None) -> None:
        self._secret_arn = secret_arn
        self._default_username = default_username
        self._credentials: tuple[str] | tuple[str, str] | None = None

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        if self._credentials is None:
            self._credentials = self._fetch()
        return self._credentials

    def _fetch(self) -> tuple[str] | tuple[str, str]:
        # Imported here: boto3 costs ~400 ms of cold start, paid only by deployments that use a secret.
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from botocore.config import Config  # type: ignore[import-untyped]

        secrets = SecretsProvider(boto_config=Config(**copy.deepcopy(SECRET_READ)))  # botocore edits what it is given
        try:
            secret = secrets.get(self._secret_arn, force_fetch=True)
        except Exception as exc:
            logger.error("Could not read the Redis secret", extra={"cause": type(exc).__name__})
            raise StoreUnavailable("the Redis secret cannot be read") from exc
        username, password = _parse_secret(str(secret), self._default_username)
        logger.info("Redis credentials read from Secrets Manager", extra={"aclUser": username})
        return (username, password) if username else (password,)


def _parse_secret(secret: str, default_username: str | None) -> tuple[str | None, str]:
    try:
        document = json.loads(secret)
    except ValueError:
        return default_username, secret
    if not isinstance(document, dict):
        return default_username, secret
    password = document.get("password")
    if not isinstance(password, str) or not password:
        raise ConfigurationError("the Redis secret is JSON without a 'password' string")
    username = document.get("username")
    return (username if isinstance(username, str) and username else default_username), password


class _ConnectionLog:
    """Logs each (re)connection, as the seed does, after redis-py's normal handshake (AUTH, HELLO).

    RedisCluster runs the handshake itself before calling this; a plain Redis client leaves it to us.
    """

    def __init__(self, settings: Settings) -> None:
        self._connects = 0
        self._handshake = not settings.redis_cluster
        # Without credentials nothing is sent on connect, and a server that requires them answers a first command
        # of more than ten arguments (a batch, the log's script) with a protocol error and closes the socket,
        # instead of NOAUTH. A PING makes it say NOAUTH, which redis-py raises as the AuthenticationError it is.
        self._ping = not _has_password(settings) and not settings.redis_username
        self._where = {
            "tls": _uses_tls(settings),
            "cluster": settings.redis_cluster,
            "auth": "acl" if settings.redis_username else "password" if _has_password(settings) else "none",
        }

    def __call__(self, connection: AbstractConnection) -> None:
        if self._handshake:
            # No PING health check inside the handshake of a socket that was just opened: against a
            # server that accepts but never answers, redis-py's nested health check recurses until the
            # stack is exhausted, and even when answered it only doubles the round trips.
            connection.on_connect_check_health(check_health=False)
        if self._ping:
            connection.send_command("PING", check_health=False)  # type: ignore[no-untyped-call]
            connection.read_response()
        self._connects += 1
        logger.info(
            "Redis connection initialised" if self._connects == 1 else "Redis reconnected",
            extra={
                **self._where,
                "host": getattr(connection, "host", None),
                "port": getattr(connection, "port", None),
                "connects": self._connects,
            },
        )


def _uses_tls(settings: Settings) -> bool:
    return settings.redis_tls or (settings.redis_url or "").startswith("rediss://")


def _has_password(settings: Settings) -> bool:
    return bool(settings.redis_password or settings.redis_secret_arn or "@" in (settings.redis_url or ""))
