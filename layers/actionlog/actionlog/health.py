"""Health: a write/read test on a short-lived key with its latency, and the server's own facts."""

from __future__ import annotations

import secrets
import time
from typing import Any, Literal

from redis import RedisCluster
from redis._parsers.helpers import parse_info
from redis.exceptions import ResponseError

from actionlog import keys, wire
from actionlog.errors import StoreUnavailable, translate_store_errors
from actionlog.models import Healthy, ServerInfo, Unhealthy
from actionlog.observability import logger
from actionlog.redis_client import RedisClient, report_failure
from actionlog.schema import Shape

HEALTH_KEY_TTL_SECONDS = 10
# How long a container answers the public health check from a healthy result it measured, instead of writing to
# Redis again: a flood of anonymous calls costs Redis at most one round trip per warm container per interval.
PUBLIC_HEALTH_MAX_AGE_SECONDS = 5.0
NO_INFO = "this server does not answer INFO (an embedded fakeredis?): the figures are unknown, not zero"


@translate_store_errors
def check(*, redis: RedisClient) -> Healthy | Unhealthy:
    """SET then GET a probe key in one MULTI (one round trip); latency is that round trip."""
    token = secrets.token_hex(8)
    started = time.perf_counter()
    written, read_back = wire.transaction(
        redis, [("SET", keys.HEALTH_KEY, token, "EX", HEALTH_KEY_TTL_SECONDS), ("GET", keys.HEALTH_KEY)]
    )
    latency_ms = (time.perf_counter() - started) * 1000
    healthy = bool(written) and read_back == token
    return (Healthy if healthy else Unhealthy)(
        connected=True,
        writeTest=bool(written),
        readTest=read_back == token,
        latencyMs=round(latency_ms, 3),
        mode=_mode(redis),
    )


def unavailable_report(error: StoreUnavailable) -> Unhealthy:
    return Unhealthy(
        connected=False,
        writeTest=False,
        readTest=False,
        latencyMs=None,
        mode=None,
        message=error.message,
    )


@translate_store_errors
def server_info(*, redis: RedisClient) -> ServerInfo:
    """INFO server, clients and memory in one round trip (from one node in cluster mode).

    A server without INFO (an embedded fakeredis, some proxies) gets what can be said without it, marked as such.
    """
    try:
        if isinstance(redis, RedisCluster):
            node = redis.get_random_node()  # type: ignore[no-untyped-call]
            sections: dict[str, Any] = redis.info("server", "clients", "memory", target_nodes=node)
            nodes = len(redis.get_primaries())  # type: ignore[no-untyped-call]
        else:
            sections = parse_info(wire.call(redis, "INFO", "server", "clients", "memory"))  # type: ignore[no-untyped-call]
            nodes = 1
    except ResponseError as error:
        if not str(error).lower().startswith("unknown command"):
            raise
        return ServerInfo(
            redisVersion="unknown", mode=_mode(redis), uptimeSeconds=0, connectedClients=0, usedMemory=0, note=NO_INFO
        )
    return ServerInfo(
        redisVersion=str(sections.get("redis_version", "unknown")),
        mode=_mode(redis),
        uptimeSeconds=int(sections.get("uptime_in_seconds", 0)),
        connectedClients=int(sections.get("connected_clients", 0)),
        usedMemory=int(sections.get("used_memory", 0)),
        usedMemoryHuman=sections.get("used_memory_human"),
        nodes=nodes,
    )


def _mode(redis: RedisClient) -> str:
    return "cluster" if isinstance(redis, RedisCluster) else "standalone"


# The public answer: anyone may call GET /health and POST /redisHealth/check, without a token. They learn whether the
# store is ok, never why it is not (an AuthenticationError or a NOPERM says how the deployment is configured): the
# cause is in the logs, the RedisHealthy metric and the scheduled probe's report.


class PublicHealth(Shape):
    """Whether the store answers: `ok`, or `unavailable` (the cause is in the logs, never in this answer)."""

    status: Literal["ok", "unavailable"]


class PublicOk(PublicHealth):
    """Redis is healthy: connected, written to and read back."""

    status: Literal["ok"] = "ok"


class PublicUnavailable(PublicHealth):
    """Redis is unavailable, or failed the write or read test."""

    status: Literal["unavailable"] = "unavailable"


class RecentHealth:
    """A container's public health check: a healthy result is reused for PUBLIC_HEALTH_MAX_AGE_SECONDS.

    Only a healthy result is kept, and only for the client that measured it: a store that is unavailable is checked
    again at the next call, so its recovery is seen at once (a caller of an unavailable store waits out its own
    socket timeouts, which the route's throttling bounds).
    """

    def __init__(self, max_age_seconds: float = PUBLIC_HEALTH_MAX_AGE_SECONDS) -> None:
        self._max_age = max_age_seconds
        self._healthy: tuple[RedisClient, float] | None = None

    def status(self, *, redis: RedisClient) -> PublicOk | PublicUnavailable:
        now = time.monotonic()
        if self._healthy is not None and self._healthy[0] is redis and now - self._healthy[1] < self._max_age:
            return PublicOk()
        try:
            report = check(redis=redis)
        except StoreUnavailable as error:
            report_failure(error)
            self._healthy = None
            return PublicUnavailable()
        if report.status != "ok":
            logger.warning(
                "Redis failed the health check", extra={"writeTest": report.writeTest, "readTest": report.readTest}
            )
            self._healthy = None
            return PublicUnavailable()
        self._healthy = (redis, now)
        return PublicOk()
