"""The Redis servers of local runs, the tests and the benchmark: a throwaway redis-server, or fakeredis embedded.

`make run` serves a real redis-server when one is installed (no persistence, a free loopback port, stopped on exit)
and fakeredis' TCP server otherwise; the tests and the benchmark start the ones they need from here too.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import redis

LOOPBACK = "127.0.0.1"


class RedisServerMissing(RuntimeError):
    """redis-server is not installed."""


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissing("redis-server is not installed (apt-get install -y redis-server)")
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class ThrowawayRedisServer:
    """A redis-server process without persistence, on a loopback port, which may be stopped and started again on
    the same port: the Redis of a local run, of the tests and of the benchmark."""

    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    workdir: str = ""  # while it runs: made by start, removed by stop

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def description(self) -> str:
        return f"redis-server on {LOOPBACK}:{self.port} (no persistence)"

    def start(self) -> ThrowawayRedisServer:
        binary = redis_server_binary()
        # A directory of its own while it runs, for whatever it writes (a cluster's nodes.conf, a SAVE asked for).
        self.workdir = tempfile.mkdtemp(prefix="actionlog-redis-")
        args = [binary, "--port", str(self.port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*args, "--dir", self.workdir, *self.extra_args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Kill the server and remove its directory: nothing is left behind. `start` starts it again, empty."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = ""

    def close(self) -> None:
        """The same as `stop`, as `EmbeddedRedis.close` and a `with` block end a local run's Redis."""
        self.stop()

    def client(self, **options: Any) -> redis.Redis:
        return redis.Redis(host=LOOPBACK, port=self.port, decode_responses=True, socket_timeout=2, **options)

    def __enter__(self) -> ThrowawayRedisServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

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


class EmbeddedRedis:
    """fakeredis' TCP server on a free loopback port, served from a daemon thread of this process.

    With Nagle's algorithm off on every connection, as redis-server has it: otherwise its reply to a MULTI/EXEC
    pipeline goes out in small writes that wait for the client's delayed ACK, about 40 ms per logged action.
    """

    def __init__(self, port: int = 0) -> None:
        from fakeredis import TcpFakeServer  # only a run without redis-server needs fakeredis

        class NoDelayFakeServer(TcpFakeServer):
            def get_request(self) -> tuple[socket.socket, Any]:
                connection, address = super().get_request()
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return connection, address

        self._server = NoDelayFakeServer((LOOPBACK, port), server_type="redis", server_version=(7, 0))
        self.port: int = self._server.server_address[1]
        # A short poll interval: shutdown() waits for the serving loop to notice, and a local run should stop at once.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="embedded-redis", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def description(self) -> str:
        return f"embedded fakeredis on {LOOPBACK}:{self.port} (no redis-server installed; data lasts for this run)"

    def close(self) -> None:
        self._server.shutdown()  # also ends the connection threads, which server_close then joins
        self._server.server_close()


class LocalRedis(Protocol):
    """A local run's Redis: where it is, what to call it, and how to end it (if it is the run's to end)."""

    @property
    def url(self) -> str: ...

    @property
    def description(self) -> str: ...

    def close(self) -> None: ...


def local_redis() -> ThrowawayRedisServer | EmbeddedRedis:
    """A Redis for a local run: a real redis-server when one is installed, else the embedded fakeredis."""
    try:
        return ThrowawayRedisServer().start()
    except RedisServerMissing:
        return EmbeddedRedis()
