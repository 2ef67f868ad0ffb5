"""The local Lambda service: every function of the template in its own worker, with its environment and a Redis.

Environment of a worker, lowest priority first:
  1. local defaults (`AUTH_REQUIRED=false`, `POWERTOOLS_SERVICE_NAME=actionlog`) and the template's literal values
     (`POWERTOOLS_METRICS_NAMESPACE: Actionlog`), for names the environment does not set;
  2. the environment of this process, passed on whole;
  3. the embedded Redis (`REDIS_HOST`, `REDIS_PORT`), unless `REDIS_URL` or `REDIS_HOST` names a Redis;
  4. an `--env-vars` file in SAM's format: `{"Parameters": {...}}` for every function, `{"<LogicalId>": {...}}` for
     one. As in `sam local`, it only sets variables the template declares for the function;
  5. the variables Lambda itself sets (`AWS_LAMBDA_FUNCTION_NAME`, ...), plus `AWS_SAM_LOCAL=true` as SAM's
     local runtime sets it (Powertools' Tracer, for one, turns itself off on it).

The embedded Redis is fakeredis' TCP server on a free loopback port, in this process: its data lasts as long
as the process. Point REDIS_URL or REDIS_HOST (and REDIS_PORT) at a real redis-server to keep data or to see
real Redis behaviour.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit, urlunsplit

from dev.template import Function, Template
from dev.worker import FunctionWorker, Invocation

if TYPE_CHECKING:
    from fakeredis import TcpFakeServer

LOOPBACK = "127.0.0.1"
LOCAL_DEFAULTS = {"AUTH_REQUIRED": "false", "POWERTOOLS_SERVICE_NAME": "actionlog"}
ALL_FUNCTIONS = "Parameters"  # the env-vars file section that applies to every function
DOCKER_HOST = "host.docker.internal"  # what events/env.json names, for `sam local` in Docker

type EnvVars = Mapping[str, Mapping[str, str]]


class EnvVarsError(Exception):
    """An --env-vars file that is not SAM's format."""


def load_env_vars(path: Path) -> dict[str, dict[str, str]]:
    """Read an env-vars file: `{"Parameters": {NAME: value}, "<LogicalId>": {NAME: value}}`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EnvVarsError(f"cannot read {path}: {error}") from error
    if not isinstance(document, dict) or not all(isinstance(section, dict) for section in document.values()):
        raise EnvVarsError(f"{path}: expected an object of objects, like {{'Parameters': {{'NAME': 'value'}}}}")
    return {
        scope: {str(name): _env_value(value) for name, value in section.items()} for scope, section in document.items()
    }


def _env_value(value: Any) -> str:
    # Lambda's environment holds strings; SAM writes JSON booleans the way CloudFormation would.
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def redis_configured(environment: Mapping[str, str]) -> bool:
    return any(environment.get(name, "").strip() for name in ("REDIS_URL", "REDIS_HOST"))


def describe_redis(environment: Mapping[str, str]) -> str:
    """Which configured Redis the functions use, fit for a log line: credentials in a URL are masked."""
    url = environment.get("REDIS_URL", "").strip()
    if url:
        parts = urlsplit(url)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if at:
            user, colon, _ = userinfo.partition(":")
            parts = parts._replace(netloc=f"{user}:***@{hostport}" if colon else f"***@{hostport}")
        return f"REDIS_URL {urlunsplit(parts)}"
    return f"REDIS_HOST {environment.get('REDIS_HOST')}:{environment.get('REDIS_PORT') or 6379}"


class EmbeddedRedis:
    """fakeredis' TCP server on a free loopback port, served from a daemon thread of this process."""

    def __init__(self) -> None:
        self._server = _no_delay_fake_server((LOOPBACK, 0))
        self.host: str = LOOPBACK
        self.port: int = self._server.server_address[1]
        # A short poll interval: shutdown() waits for the serving loop to notice, and a local run should stop at once.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="embedded-redis", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()  # also ends the connection threads, which close_server then joins
        self._server.server_close()


def _no_delay_fake_server(address: tuple[str, int]) -> TcpFakeServer:
    """fakeredis' TCP server with Nagle's algorithm off on every connection, as redis-server has it.

    With Nagle on, its reply to a MULTI/EXEC pipeline goes out in small writes that wait for the client's delayed
    ACK: every logged action took about 40 ms longer than on a real Redis.
    """
    # Imported here: only a run without a configured Redis needs fakeredis.
    from fakeredis import TcpFakeServer

    class NoDelayFakeServer(TcpFakeServer):
        def get_request(self) -> tuple[socket.socket, Any]:
            connection, client_address = super().get_request()
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return connection, client_address

    return NoDelayFakeServer(address)


class LocalLambda:
    """Invokes the template's functions locally; a context manager that owns the workers and the embedded Redis."""

    def __init__(
        self,
        template: Template,
        *,
        environ: Mapping[str, str],
        env_vars: EnvVars | None = None,
        warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
    ) -> None:
        self.template = template
        env_vars = env_vars or {}
        _warn_ignored(env_vars, template, warn)
        # Local defaults first, so that they win over nothing but absence.
        shared = {**LOCAL_DEFAULTS, **environ}
        # The Redis settings every function shares before any embedded Redis: environment and env-vars file.
        self._configured_redis = {**shared, **env_vars.get(ALL_FUNCTIONS, {})}
        if self._configured_redis.get("REDIS_HOST") == DOCKER_HOST:
            warn(
                f"warning: REDIS_HOST={DOCKER_HOST} resolves only inside Docker. Without Docker, leave out"
                " --env-vars events/env.json to use the embedded Redis, or name a Redis this machine reaches."
            )
        self.embedded_redis: EmbeddedRedis | None = None
        if not redis_configured(self._configured_redis):
            self.embedded_redis = EmbeddedRedis()
            shared |= {"REDIS_HOST": self.embedded_redis.host, "REDIS_PORT": str(self.embedded_redis.port)}
        self.shared_environment: dict[str, str] = shared
        self._environments = {
            logical_id: _function_environment(function, shared, env_vars)
            for logical_id, function in template.functions.items()
        }
        self._workers: dict[str, FunctionWorker] = {}
        self._workers_lock = threading.Lock()

    @property
    def redis_description(self) -> str:
        if self.embedded_redis is not None:
            return f"embedded fakeredis on {self.embedded_redis.host}:{self.embedded_redis.port} (in memory)"
        return describe_redis(self._configured_redis)

    def environment(self, logical_id: str) -> dict[str, str]:
        return dict(self._environments[logical_id])

    def invoke(self, function: Function, event: Any) -> Invocation:
        """Run `function` on `event` in its warm worker, started on first use. Raises InvocationFailed."""
        return self._worker(function).invoke(event)

    def close(self) -> None:
        with self._workers_lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.close()
        if self.embedded_redis is not None:
            self.embedded_redis.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _worker(self, function: Function) -> FunctionWorker:
        with self._workers_lock:
            worker = self._workers.get(function.logical_id)
            if worker is None:
                worker = FunctionWorker(function, self._environments[function.logical_id])
                self._workers[function.logical_id] = worker
            return worker


def _warn_ignored(env_vars: EnvVars, template: Template, warn: Callable[[str], None]) -> None:
    """Say which parts of an env-vars file have no effect, which `sam local` leaves silent."""
    declared_anywhere = {name for function in template.functions.values() for name in function.environment}
    for scope, variables in env_vars.items():
        if scope == ALL_FUNCTIONS:
            declared = declared_anywhere
        elif scope in template.functions:
            declared = set(template.functions[scope].environment)
        else:
            warn(f"env-vars: ignoring {scope!r}: neither 'Parameters' nor a function of {template.path.name}")
            continue
        for name in sorted(variables.keys() - declared):
            warn(f"env-vars: ignoring {scope}.{name}: the template declares no such variable")


def _function_environment(function: Function, shared: Mapping[str, str], env_vars: EnvVars) -> dict[str, str]:
    environment = dict(shared)
    for name, value in function.environment.items():
        if value is not None:
            environment.setdefault(name, value)
    for scope in (ALL_FUNCTIONS, function.logical_id):
        for name, value in env_vars.get(scope, {}).items():
            if name in function.environment:
                environment[name] = value
    environment |= {
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout_seconds),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "_HANDLER": function.handler,
        "AWS_SAM_LOCAL": "true",
    }
    return environment
