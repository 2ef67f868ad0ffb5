"""One warm local "container" per function: a worker process that runs one invocation at a time.

The worker is `dev/bootstrap.py` in a fresh interpreter with the function's own import path and environment.
It imports the handler once and keeps it, with everything module-level (the Redis client, Powertools' cold-start
flag), for the invocations that follow, as Lambda keeps a warm container. Like Lambda, a worker that crashed,
timed out or failed to load is thrown away and the next invocation starts a new one; so is a worker whose code
was edited, so a running local API always serves the code on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dev.template import Function

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
# Lambda gives a function's init phase (importing the handler) 10 s of its own, apart from the function timeout.
INIT_TIMEOUT_SECONDS = 10
STOP_GRACE_SECONDS = 1.0
ACCOUNT_ID = "123456789012"  # the placeholder account SAM's local tools use
# Directories never worth watching for code changes, should a CodeUri be the project root.
_UNWATCHED_DIRS = {"__pycache__", "node_modules"}


class InvocationFailed(Exception):
    """The invocation produced no result."""


class FunctionError(InvocationFailed):
    """The function raised, returned something that is not JSON, or could not be loaded."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = dict(payload)  # Lambda's error shape: errorMessage, errorType, stackTrace


class WorkerCrashed(InvocationFailed):
    """The worker process exited before it answered."""


class InvocationTimedOut(InvocationFailed):
    """The worker did not answer in time and was killed."""


@dataclass(frozen=True, slots=True)
class Invocation:
    result: Any  # what the handler returned
    init_ms: float | None  # the handler's import time when this invocation started the worker, else None

    @property
    def cold_start(self) -> bool:
        return self.init_ms is not None


@dataclass(slots=True)
class _Container:
    process: subprocess.Popen[str]
    replies: queue.Queue[dict[str, Any] | None]  # None: the worker closed its end
    code_stamp: tuple[int, int]


class FunctionWorker:
    """Runs one function's invocations, one at a time, in a worker process started on first use."""

    def __init__(self, function: Function, environment: Mapping[str, str]) -> None:
        self.function = function
        self._environment = dict(environment)
        self._code_dirs = (function.code_dir, *function.layer_dirs)
        region = self._environment.get("AWS_REGION") or self._environment.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function.logical_id}"
        self._lock = threading.Lock()
        self._container: _Container | None = None

    def invoke(self, event: Any) -> Invocation:
        """Run the handler on `event`. Raises FunctionError, WorkerCrashed or InvocationTimedOut."""
        timeout = self.function.timeout_seconds
        with self._lock:  # one invocation at a time per container, as in Lambda
            container, init_ms = self._warm_container()
            deadline = time.monotonic() + timeout
            self._send(
                container,
                {
                    "requestId": str(uuid.uuid4()),
                    "deadlineMs": int(time.time() * 1000) + timeout * 1000,
                    "invokedFunctionArn": self._function_arn,
                    "event": event,
                },
            )
            reply = self._receive(container, deadline, f"did not finish within its {timeout} s timeout")
        if "error" in reply:
            raise FunctionError(reply["error"])
        return Invocation(result=reply["result"], init_ms=init_ms)

    def close(self) -> None:
        """Stop the worker, if one runs. Does not wait for an invocation in progress: it is cut short."""
        container, self._container = self._container, None
        if container is not None:
            _stop(container.process)

    def _warm_container(self) -> tuple[_Container, float | None]:
        """The running container, or a new one and its init time."""
        container = self._container
        if container is not None and (
            container.process.poll() is not None or container.code_stamp != _code_stamp(self._code_dirs)
        ):
            # Gone while idle, or its code changed (as after a deployment): the next invocation starts afresh.
            self._discard()
            container = None
        if container is not None:
            return container, None
        container = self._start()
        ready = self._receive(container, time.monotonic() + INIT_TIMEOUT_SECONDS, "did not load its handler in time")
        if "initError" in ready:
            self._discard()
            raise FunctionError(ready["initError"])
        return container, float(ready["initMs"])

    def _start(self) -> _Container:
        function = self.function
        code_stamp = _code_stamp(self._code_dirs)  # taken first, so an edit made during the start is not missed
        process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                str(BOOTSTRAP),
                function.handler,
                str(function.code_dir),
                *map(str, function.layer_dirs),
            ],
            cwd=function.code_dir,  # Lambda runs a function in its code directory (/var/task)
            env=self._environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        assert process.stdout is not None
        replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(
            target=_read_replies, args=(process.stdout, replies), name=f"{function.logical_id}-replies", daemon=True
        ).start()
        self._container = _Container(process=process, replies=replies, code_stamp=code_stamp)
        return self._container

    def _send(self, container: _Container, request: dict[str, Any]) -> None:
        assert container.process.stdin is not None
        try:
            container.process.stdin.write(json.dumps(request) + "\n")
            container.process.stdin.flush()
        except OSError as error:
            raise WorkerCrashed(self._exit_message(self._discard())) from error

    def _receive(self, container: _Container, deadline: float, timeout_message: str) -> dict[str, Any]:
        try:
            reply = container.replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self._discard()
            raise InvocationTimedOut(f"{self.function.logical_id} {timeout_message}; its worker was stopped") from None
        if reply is None:
            raise WorkerCrashed(self._exit_message(self._discard()))
        return reply

    def _discard(self) -> int | None:
        """Kill the current worker; its exit code."""
        container, self._container = self._container, None
        if container is None:
            return None
        container.process.kill()
        return container.process.wait()

    def _exit_message(self, exit_code: int | None) -> str:
        return f"{self.function.logical_id}'s worker exited (code {exit_code}) before it answered"


def _read_replies(stream: IO[str], replies: queue.Queue[dict[str, Any] | None]) -> None:
    try:
        for line in stream:
            replies.put(json.loads(line))
    finally:
        replies.put(None)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()  # end of input: the bootstrap returns and the worker exits by itself
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _code_stamp(directories: Iterable[Path]) -> tuple[int, int]:
    """Changes whenever a .py file under `directories` is added, removed or saved."""
    count = latest = 0
    for directory in directories:
        for root, subdirs, files in os.walk(directory):
            subdirs[:] = [name for name in subdirs if not name.startswith(".") and name not in _UNWATCHED_DIRS]
            for name in files:
                if not name.endswith(".py"):
                    continue
                try:
                    modified = os.stat(os.path.join(root, name)).st_mtime_ns
                except FileNotFoundError:  # deleted while we looked
                    continue
                count += 1
                latest = max(latest, modified)
    return count, latest
