"""The redis-server every measurement runs against: the bench's own, on a free loopback port, with no persistence."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

LOOPBACK = "127.0.0.1"


class RedisServerMissing(RuntimeError):
    pass


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissing("redis-server is not installed (apt-get install -y redis-server)")
    return binary


def redis_server_version() -> str:
    completed = subprocess.run([redis_server_binary(), "--version"], capture_output=True, text=True, check=True)
    # "Redis server v=7.0.15 sha=... malloc=jemalloc-5.3.0 bits=64 build=..."
    fields = dict(part.split("=", 1) for part in completed.stdout.split() if "=" in part)
    return fields.get("v", completed.stdout.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """`with RedisServer() as server:` a redis-server on loopback for the duration of the block."""

    def __init__(self) -> None:
        self.port = free_port()
        self._workdir = Path(tempfile.mkdtemp(prefix="actionlog-bench-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def __enter__(self) -> RedisServer:
        args = [redis_server_binary(), "--port", str(self.port), "--bind", LOOPBACK, "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self._workdir)]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_ready()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 10
        probe = redis.Redis(host=LOOPBACK, port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                try:
                    if probe.ping():
                        return
                except redis.exceptions.RedisError:
                    time.sleep(0.02)
        finally:
            probe.close()
        raise RuntimeError(f"redis-server did not start on port {self.port}")
