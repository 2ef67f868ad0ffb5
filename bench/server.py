"""The redis-server every measurement runs against: the bench's own, on a free loopback port, with no persistence."""

from __future__ import annotations

import subprocess

from dev.redis_server import LOOPBACK, RedisServer, RedisServerMissing, free_port, redis_server_binary

__all__ = ["LOOPBACK", "RedisServer", "RedisServerMissing", "free_port", "redis_server_binary", "redis_server_version"]


def redis_server_version() -> str:
    completed = subprocess.run([redis_server_binary(), "--version"], capture_output=True, text=True, check=True)
    # "Redis server v=7.0.15 sha=... malloc=jemalloc-5.3.0 bits=64 build=..."
    fields = dict(part.split("=", 1) for part in completed.stdout.split() if "=" in part)
    return fields.get("v", completed.stdout.strip())
