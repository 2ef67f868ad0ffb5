"""Health: a write/read test on a short-lived key with its latency, and the server's own facts."""

from __future__ import annotations

import secrets
import time
from typing import Any

from redis import RedisCluster
from redis.exceptions import ResponseError

from actionlog import keys
from actionlog.errors import StoreUnavailable, translate_store_errors
from actionlog.models import Healthy, ServerInfo, Unhealthy
from actionlog.redis_client import RedisClient

HEALTH_KEY_TTL_SECONDS = 10
NO_INFO = "this server does not answer INFO (an embedded fakeredis?): the figures are unknown, not zero"


@translate_store_errors
def check(*, redis: RedisClient) -> Healthy | Unhealthy:
    """SET then GET a probe key in one MULTI (one round trip); latency is that round trip."""
    token = secrets.token_hex(8)
    started = time.perf_counter()
    with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.HEALTH_KEY, token, ex=HEALTH_KEY_TTL_SECONDS)
        pipe.get(keys.HEALTH_KEY)
        written, read_back = pipe.execute()
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
            sections = redis.info("server", "clients", "memory")
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
