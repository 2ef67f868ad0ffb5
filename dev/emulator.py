"""One function in AWS's Runtime Interface Emulator (RIE) with awslambdaric, as `sam local` runs it in a container.

The RIE of the installed aws-sam-cli (`dev.sam_cli.emulator_binary`) serves Lambda's Invoke API and starts Lambda's
Python runtime client, awslambdaric, on the function's handler, with the template's environment, timeout and memory;
Lambda's START, END, REPORT and INIT REPORT lines go to its log. It is started on first use and kept warm; edited
code starts a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import distribution
from pathlib import Path
from typing import IO, Any, TextIO

from dev.invocation import FunctionError, Invocation, InvocationFailed, InvocationTimedOut
from dev.lambda_environment import lambda_environment
from dev.redis_server import LOOPBACK, free_port
from dev.sam_cli import emulator_binary
from dev.template import REPO_ROOT, Function

RUNTIME_DISTRIBUTIONS = ("awslambdaric", "simplejson", "snapshot-restore-py")  # what Lambda's /var/runtime holds
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
INIT_TIMEOUT_SECONDS = 10  # Lambda gives a function's init phase 10 s of its own
STOP_GRACE_SECONDS = 2  # for the RIE to stop its runtime before both are killed
_REPORT = re.compile(r"REPORT RequestId: \S+\t(?:Init Duration: [\d.]+ ms\t)?Duration: ([\d.]+) ms")
_INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: ([\d.]+)\)")
# Figures of the RIE's REPORT that Lambda measures and the RIE does not: its Init Duration is its own bookkeeping
# (0.02 ms; the runtime's init is in the INIT_REPORT line) and its Max Memory Used is the memory size. Left out.
_NOT_MEASURED = re.compile(r"(?:Init Duration: [\d.]+ ms|Max Memory Used: \d+ MB)\t?")
_RIE_NOTICE = re.compile(r"\[(WARN|WARNING|ERROR|FATAL|PANIC)\](?!.*SandboxTerminated)")  # stopping is no news


def runtime_dir() -> Path:
    """awslambdaric and what it imports, alone in a directory as in Lambda's /var/runtime: links into this venv."""
    target = REPO_ROOT / ".aws-sam" / "runtime"
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_DISTRIBUTIONS:
        installed = distribution(name)
        for top in {Path(str(file)).parts[0] for file in installed.files or ()}:
            link, source = target / top, Path(str(installed.locate_file(top)))
            if not top.endswith((".dist-info", ".data", "__pycache__")) and not link.exists() and source.exists():
                link.symlink_to(source)
    return target


class Emulator:
    """One function in its own RIE, started on the first invocation and kept warm; restarted when its code changes.

    `paths` is the import path (code directory, layers, runtime); `isolated` runs Python without its site-packages,
    as Lambda does: the built artifacts must then bring everything. `log` gets what Lambda would send to CloudWatch
    Logs (the function's output, START, END, REPORT, INIT_REPORT) and the RIE's warnings; None drops them.
    """

    def __init__(
        self,
        function: Function,
        environment: Mapping[str, str],
        paths: Sequence[Path],
        *,
        isolated: bool = False,
        log: TextIO | None = sys.stderr,
    ) -> None:
        self.function = function
        self._environment = lambda_environment(function, environment, paths)
        self._paths = paths
        self._isolated = isolated
        self._log = log
        self._lock = threading.Lock()  # one invocation at a time, as in one Lambda execution environment
        self._process_lock = threading.Lock()  # held briefly, to start or take the process: close never waits long
        self._process: subprocess.Popen[str] | None = None
        self._closed_for_good = False
        self._port = 0
        self._stamp: tuple[int, int] = (0, 0)
        self._reports: queue.Queue[tuple[str, float]] = queue.Queue()

    def invoke(self, event: Any) -> Invocation:
        with self._lock:
            cold = self._process is None or self._process.poll() is not None or self._stamp != _code_stamp(self._paths)
            if cold:
                self._restart()
            reported, body = self._post(json.dumps(event).encode())
            init_ms, duration_ms = self._reported(cold) if reported else (None, None)
        if isinstance(body, dict) and {"errorType", "errorMessage"} <= body.keys():
            raise FunctionError(body)
        return Invocation(body, init_ms, duration_ms)

    def close(self, *, final: bool = False) -> None:
        """Stop the RIE and its runtime now, an invocation in progress included (it fails). The next invocation
        starts them again, unless `final`: a run that is stopping must not start what it has just stopped."""
        with self._process_lock:
            self._closed_for_good = self._closed_for_good or final
        self._stop()

    def _restart(self) -> None:
        self._stop()
        rie = emulator_binary()
        if rie is None:
            raise RuntimeError("the Runtime Interface Emulator is not installed for this machine (make installs it)")
        self._stamp = _code_stamp(self._paths)
        python = [sys.executable, *(["-S"] if self._isolated else []), "-m", "awslambdaric", self.function.handler]
        # A port probed free can be bound by another process before the RIE binds it, which then exits: try others.
        for _ in range(3):
            self._port = free_port()
            runtime_api = next(port for port in iter(free_port, None) if port != self._port)
            with self._process_lock:
                if self._closed_for_good:
                    raise InvocationFailed(f"{self.function.logical_id}'s emulator was stopped: the run is ending")
                process = self._process = subprocess.Popen(
                    [
                        str(rie),
                        *("--log-level", "info", "--runtime-interface-emulator-address", f"{LOOPBACK}:{self._port}"),
                        *("--runtime-api-address", f"{LOOPBACK}:{runtime_api}", *python),
                    ],
                    cwd=self.function.code_dir,  # Lambda runs a function in its code directory (/var/task)
                    env=self._environment,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    # Its own process group, RIE and runtime: Ctrl-C in the terminal is the local server's to handle,
                    # and stopping the group stops both, whichever exits first.
                    start_new_session=True,
                )
            assert process.stdout is not None
            assert process.stderr is not None
            for stream, runtime in ((process.stdout, True), (process.stderr, False)):
                threading.Thread(target=self._relay, args=(stream, runtime), daemon=True).start()
            if self._listening(runtime_api) and self._listening(self._port):
                return
        raise InvocationFailed(f"{self.function.logical_id}'s emulator exited at start, three times")

    def _listening(self, port: int) -> bool:
        """Whether the RIE listens on `port`; False when it exited first."""
        deadline = time.monotonic() + INIT_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.2):
                return True
            time.sleep(0.005)
        self._stop()  # the next call starts afresh
        raise InvocationFailed(f"{self.function.logical_id}'s emulator did not start")

    def _post(self, payload: bytes) -> tuple[bool, Any]:
        """The answer, and whether the RIE reported the invocation (it does not when the runtime failed or exited)."""
        request = urllib.request.Request(f"http://{LOOPBACK}:{self._port}{INVOKE_PATH}", data=payload, method="POST")
        timeout = INIT_TIMEOUT_SECONDS + self.function.timeout_seconds + 5
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # loopback only
                reported, raw = True, response.read()
        except urllib.error.HTTPError as error:  # 502: the runtime failed to start, or exited
            reported, raw = False, error.read()
        except OSError as error:  # the RIE went away mid-invocation: it was stopped, or died
            raise InvocationFailed(f"{self.function.logical_id}'s emulator stopped during the invocation") from error
        text = raw.decode(errors="replace")
        if text.startswith("Task timed out"):
            self._stop()
            raise InvocationTimedOut(f"{self.function.logical_id} {text}")
        try:
            return reported, json.loads(text)
        except ValueError:
            raise FunctionError({"errorType": "Runtime.MarshalError", "errorMessage": text}) from None

    def _reported(self, cold: bool) -> tuple[float | None, float | None]:
        """The init and invocation durations the RIE reports. Its lines precede its answer, but come on two streams
        whose relays may lag: wait for the REPORT, and on a cold start for the INIT REPORT too. The RIE also starts
        a new runtime by itself after one exited: an init reported then is a cold start as well."""
        found: dict[str, float] = {}
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and ("duration" not in found or (cold and "init" not in found)):
            with contextlib.suppress(queue.Empty):
                kind, value = self._reports.get(timeout=0.05)
                found.setdefault(kind, value)
        while not self._reports.empty():
            kind, value = self._reports.get_nowait()
            found.setdefault(kind, value)
        return found.get("init"), found.get("duration")

    def _relay(self, stream: IO[str], runtime: bool) -> None:
        """The runtime's output (the function's logs and Lambda's START/END/REPORT), and the RIE's INIT REPORT."""
        for line in stream:
            if report := _REPORT.search(line):
                self._reports.put(("duration", float(report[1])))
                line = _NOT_MEASURED.sub("", line)
            if init := _INIT_REPORT.search(line):
                self._reports.put(("init", float(init[1])))
                line = f"INIT_REPORT Init Duration: {float(init[1]):.2f} ms\tFunction: {self.function.logical_id}\n"
            elif not runtime and not _RIE_NOTICE.search(line):
                continue  # the RIE's own chatter
            if self._log is not None:
                self._log.write(line)
                self._log.flush()

    def _stop(self) -> None:
        with self._process_lock:
            process, self._process = self._process, None
        if process is not None:
            _stop_group(process)
        self._reports = queue.Queue()


def _stop_group(process: subprocess.Popen[str]) -> None:
    """Stop an RIE and its runtime, its process group: SIGTERM, then SIGKILL for whatever is left after a grace."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # the RIE stops its runtime and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # a runtime the RIE left behind, or an RIE that did not stop
    process.wait()


def _code_stamp(directories: Iterable[Path]) -> tuple[int, int]:
    """Changes whenever a .py file under `directories` is added, removed or saved."""
    count = latest = 0
    for directory in directories:
        for root, subdirs, files in os.walk(directory):
            subdirs[:] = [name for name in subdirs if not name.startswith((".", "__pycache__"))]
            for name in files:
                if name.endswith(".py"):
                    with contextlib.suppress(FileNotFoundError):
                        latest = max(latest, os.stat(os.path.join(root, name)).st_mtime_ns)
                        count += 1
    return count, latest
