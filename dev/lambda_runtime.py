"""Functions run as Lambda runs them, without Docker: AWS's Runtime Interface Emulator (RIE) with awslambdaric.

What `sam local` runs inside its containers, run here as it is: the RIE of the installed aws-sam-cli serves
Lambda's Invoke API and starts Lambda's Python runtime client, awslambdaric, on the function's handler. Each
function gets its own, started on first use and kept warm, with the template's environment, timeout and memory,
and Lambda's START, END, REPORT and INIT REPORT lines in its log; edited code starts a new one. Where the RIE
cannot run (a Linux binary: macOS, Windows), `InProcess` calls the handlers in this process instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import distribution
from pathlib import Path
from typing import IO, Any, NamedTuple, TextIO

from dev.redis_server import LOOPBACK, free_port, local_redis
from dev.template import REPO_ROOT, TEMPLATE_PATH, Function, Template, cfn_text, load_template, parameter_overrides

RUNTIME_DISTRIBUTIONS = ("awslambdaric", "simplejson", "snapshot-restore-py")  # what Lambda's /var/runtime holds
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
INIT_TIMEOUT_SECONDS = 10  # Lambda gives a function's init phase 10 s of its own
_REPORT = re.compile(r"REPORT RequestId: \S+\t(?:Init Duration: [\d.]+ ms\t)?Duration: ([\d.]+) ms")
_INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: ([\d.]+)\)")
_RIE_NOTICE = re.compile(r"\[(WARN|WARNING|ERROR|FATAL|PANIC)\](?!.*SandboxTerminated)")  # stopping is no news


class Invocation(NamedTuple):
    result: Any  # what the handler returned
    init_ms: float | None  # the init phase (importing the handler) when this invocation started the runtime
    duration_ms: float | None  # Lambda's REPORT Duration (the init phase included, on a cold start)


class InvocationFailed(Exception):
    """The invocation produced no result."""


class FunctionError(InvocationFailed):
    """The function raised, or could not be loaded: Lambda's error payload (errorType, errorMessage, ...)."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = dict(payload)


class InvocationTimedOut(InvocationFailed):
    """The function ran past its timeout; the runtime was stopped."""


def emulator_binary() -> Path | None:
    """The RIE of the installed aws-sam-cli for this machine, or None where it cannot run."""
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    if platform.system() != "Linux" or machine is None:
        return None
    found = sorted(REPO_ROOT.glob(f".venv-sam/lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-{machine}"))
    return found[-1] if found else None


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


def lambda_context(function: str = "actionlog-local", timeout_seconds: int = 10, memory_mb: int = 256) -> Any:
    """Lambda's own context object (awslambdaric's), for calling a handler in this process (tests, benchmark).

    awslambdaric reads the function's name and memory from the runtime's environment, which this process lacks.
    """
    from awslambdaric.lambda_context import LambdaContext

    deadline = int(time.time() * 1000) + timeout_seconds * 1000
    context = LambdaContext(
        str(uuid.uuid4()), None, None, deadline, f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
    )
    context.function_name, context.memory_limit_in_mb = function, str(memory_mb)
    return context


def lambda_environment(function: Function, environment: Mapping[str, str], paths: Sequence[Path]) -> dict[str, str]:
    """What Lambda sets for a function around `environment` (its own variables), the reserved names last."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    logging = {"AWS_LAMBDA_LOG_FORMAT": function.log_format}
    if function.log_format == "JSON" and function.log_level:
        logging["AWS_LAMBDA_LOG_LEVEL"] = function.log_level
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        **environment,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout_seconds),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        **logging,
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        "PYTHONPATH": os.pathsep.join(str(path) for path in paths),
        "PYTHONDONTWRITEBYTECODE": "1",  # as on Lambda, where the code is read-only
    }


class Emulator:
    """One function in its own RIE, started on the first invocation and kept warm; restarted when its code changes.

    `paths` is the import path (code directory, layers, runtime); `isolated` runs Python without its site-packages,
    as Lambda does: the built artifacts must then bring everything.
    """

    def __init__(
        self,
        function: Function,
        environment: Mapping[str, str],
        paths: Sequence[Path],
        *,
        isolated: bool = False,
        log: TextIO = sys.stderr,
    ) -> None:
        self.function = function
        self._environment = lambda_environment(function, environment, paths)
        self._paths = paths
        self._isolated = isolated
        self._log = log
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
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

    def close(self) -> None:
        with self._lock:
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
            self._process = subprocess.Popen(
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
                start_new_session=True,  # Ctrl-C in the terminal is the local server's to handle
            )
            assert self._process.stdout is not None
            assert self._process.stderr is not None
            for stream, runtime in ((self._process.stdout, True), (self._process.stderr, False)):
                threading.Thread(target=self._relay, args=(stream, runtime), daemon=True).start()
            if self._listening(runtime_api) and self._listening(self._port):
                return
        raise InvocationFailed(f"{self.function.logical_id}'s emulator exited at start, three times")

    def _listening(self, port: int) -> bool:
        """Whether the RIE listens on `port`; False when it exited first."""
        deadline = time.monotonic() + INIT_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
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
            if init := _INIT_REPORT.search(line):
                self._reports.put(("init", float(init[1])))
                line = f"INIT_REPORT Init Duration: {float(init[1]):.2f} ms\tFunction: {self.function.logical_id}\n"
            elif not runtime and not _RIE_NOTICE.search(line):
                continue  # the RIE's own chatter
            self._log.write(line)
            self._log.flush()

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()  # the RIE stops its runtime and exits
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._reports = queue.Queue()


class InProcess:
    """The fallback where the RIE cannot run: the handler imported into this process, called with Lambda's context."""

    def __init__(self, function: Function, environment: Mapping[str, str], paths: Sequence[Path]) -> None:
        self.function = function
        self._environment = lambda_environment(function, environment, paths)
        self._paths = paths
        self._handler: Any = None

    def invoke(self, event: Any) -> Invocation:
        started, init_ms = time.perf_counter(), None
        # What the function prints or logs goes to stderr, as a runtime's output goes to its log, not to our caller.
        with contextlib.redirect_stdout(sys.stderr):
            if self._handler is None:
                self._handler = self._load()
                init_ms = (time.perf_counter() - started) * 1000
            try:
                result = self._handler(event, lambda_context(self.function.logical_id, self.function.timeout_seconds))
                return Invocation(json.loads(json.dumps(result)), init_ms, (time.perf_counter() - started) * 1000)
            except (TypeError, ValueError) as error:
                raise FunctionError({"errorType": "Runtime.MarshalError", "errorMessage": str(error)}) from None
            except Exception as error:
                raise FunctionError({"errorType": type(error).__name__, "errorMessage": str(error)}) from None

    def _load(self) -> Any:
        import importlib.util

        os.environ.update({name: value for name, value in self._environment.items() if name != "PATH"})
        sys.path[:0] = [str(path) for path in self._paths if str(path) not in sys.path]
        module_name, _, handler_name = self.function.handler.rpartition(".")
        try:
            spec = importlib.util.spec_from_file_location(
                f"{self.function.logical_id}.{module_name}", self.function.code_dir / f"{module_name}.py"
            )
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return getattr(module, handler_name)
        except Exception as error:
            raise FunctionError({"errorType": "Runtime.ImportModuleError", "errorMessage": str(error)}) from None

    def close(self) -> None:
        self._handler = None


def runner(
    function: Function, environment: Mapping[str, str], paths: Sequence[Path], **options: Any
) -> Emulator | InProcess:
    """An emulator where the RIE runs, else the in-process fallback."""
    if emulator_binary() is not None:
        return Emulator(function, environment, paths, **options)
    return InProcess(function, environment, paths)


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


LOCAL_DEFAULTS = {"AUTH_REQUIRED": "false"}  # local runs let requests without a token through, unless told otherwise
_NOT_PASSED_ON = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
type EnvVars = Mapping[str, Mapping[str, str]]


def load_env_vars(path: Path) -> dict[str, dict[str, str]]:
    """SAM's env-vars file: `{"Parameters": {NAME: value}}` for every function, `{"<LogicalId>": {...}}` for one."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not all(isinstance(section, dict) for section in document.values()):
        raise ValueError(f"{path}: expected an object of objects, like {{'Parameters': {{'NAME': 'value'}}}}")
    return {scope: {name: cfn_text(value) for name, value in section.items()} for scope, section in document.items()}


def parse_sam_local_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, Template, EnvVars | None]:
    """`argv` parsed with the options of `sam local` added (-t, -n, --parameter-overrides), and the template and
    env-vars file they name, loaded. Raises OSError or ValueError when either cannot be read."""
    parser.add_argument("-t", "--template", type=Path, default=TEMPLATE_PATH, help="the SAM template")
    parser.add_argument("-n", "--env-vars", type=Path, help="SAM env-vars JSON file (events/env.json is for Docker)")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE", help="as for sam")
    args = parser.parse_args(argv)
    template = load_template(args.template, parameter_overrides(args.parameter_overrides))
    return args, template, load_env_vars(args.env_vars) if args.env_vars else None


class LocalFunctions:
    """The template's functions for a local run: a warm runner each, the run's Redis in their environment.

    A function's environment, lowest priority first: the template's values (parameters at their defaults), the
    local defaults (AUTH_REQUIRED=false), this process's environment, the run's own Redis (unless REDIS_URL or
    REDIS_HOST names one), and an env-vars file, which sets only variables the template declares, as in `sam local`.
    """

    def __init__(self, functions: Mapping[str, Function], *, env_vars: EnvVars | None = None) -> None:
        given = [os.environ, *(env_vars or {}).values()]
        configured = any(values.get(name, "").strip() for values in given for name in ("REDIS_URL", "REDIS_HOST"))
        self.redis = None if configured else local_redis()
        shared = LOCAL_DEFAULTS | {name: value for name, value in os.environ.items() if name not in _NOT_PASSED_ON}
        if self.redis is not None:
            shared |= {"REDIS_URL": self.redis.url, "REDIS_HOST": "", "REDIS_PORT": ""}
        self._environments = {
            name: {
                **{variable: value for variable, value in function.environment.items() if value is not None},
                **shared,
                **{
                    variable: value
                    for scope in ("Parameters", name)
                    for variable, value in (env_vars or {}).get(scope, {}).items()
                    if variable in function.environment
                },
            }
            for name, function in functions.items()
        }
        self._runners = {
            name: runner(function, self._environments[name], [function.code_dir, *function.layer_dirs])
            for name, function in functions.items()
        }

    @property
    def redis_description(self) -> str:
        if self.redis is not None:
            return self.redis.description
        if url := os.environ.get("REDIS_URL", "").strip():
            return "REDIS_URL " + re.sub(r"//[^/@]*@", "//***@", url)  # never the password
        return f"REDIS_HOST {os.environ.get('REDIS_HOST', '(from the env-vars file)')}"

    @property
    def emulated(self) -> bool:
        return all(isinstance(each, Emulator) for each in self._runners.values())

    def environment(self, name: str) -> dict[str, str]:
        return dict(self._environments[name])

    def invoke(self, name: str, event: Any) -> Invocation:
        return self._runners[name].invoke(event)

    def close(self) -> None:
        for each in self._runners.values():
            each.close()
        if self.redis is not None:
            self.redis.close()
