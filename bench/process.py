"""Fresh processes that run handlers, each with the import path and environment of a Lambda container."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.operations import ROOT

PYTHON = sys.executable
SOURCE_LAYER = ROOT / "layers" / "actionlog"
READY = "bench:ready"
WORKER_TIMEOUT_SECONDS = 300


def handler_environment(redis_url: str, pythonpath: Sequence[Path], **extra: str) -> dict[str, str]:
    """The variables a deployed function sees (template.yaml's defaults), and nothing of this shell's.

    POWERTOOLS_LOG_LEVEL is INFO, the template's default: on the happy path the handlers log nothing at INFO but
    the connection's first use, and the metrics line of a write, so the warm figures include what production pays.
    """
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", tempfile.gettempdir()),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(str(path) for path in pythonpath),
        "REDIS_URL": redis_url,
        "AUTH_REQUIRED": "true",
        "POWERTOOLS_SERVICE_NAME": "actionlog",
        "POWERTOOLS_METRICS_NAMESPACE": "Actionlog",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        **extra,
    }


def worker_environment(redis_url: str) -> dict[str, str]:
    """For `python -m bench.worker`: the repository (for `functions.<op>.app`) and the layer's source."""
    return handler_environment(redis_url, [ROOT, SOURCE_LAYER])


def worker_command(phase: str, config: Mapping[str, Any], result: Path) -> list[str]:
    return [PYTHON, "-m", "bench.worker", phase, json.dumps(config), str(result)]


def run_worker(phase: str, config: Mapping[str, Any], redis_url: str) -> Any:
    """Run one phase of `bench.worker` in a fresh process and return what it measured.

    The handlers' log lines (stdout) go to a file, as Lambda sends them to its log pipe rather than a terminal.
    """
    with tempfile.TemporaryDirectory(prefix="actionlog-bench-") as workdir:
        result = Path(workdir) / "result.json"
        with open(Path(workdir) / "handler.log", "wb") as log:
            completed = subprocess.run(
                worker_command(phase, config, result),
                cwd=ROOT,
                env=worker_environment(redis_url),
                stdout=log,
                stderr=subprocess.PIPE,
                text=True,
                timeout=WORKER_TIMEOUT_SECONDS,
                check=False,
            )
        if completed.returncode != 0:
            raise WorkerFailed(phase, completed.stderr)
        return json.loads(result.read_text())


class WorkerFailed(RuntimeError):
    def __init__(self, phase: str, stderr: str) -> None:
        super().__init__(f"bench worker {phase!r} failed:\n{stderr.strip()}")
