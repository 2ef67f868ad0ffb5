"""The fallback where the RIE cannot run (it is a Linux binary: macOS, Windows): the handler imported into this
process and called with Lambda's context."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from dev.invocation import FunctionError, Invocation
from dev.lambda_environment import lambda_context, lambda_environment
from dev.template import Function


class InProcess:
    """The fallback where the RIE cannot run: the handler imported into this process, called with Lambda's context."""

    def __init__(
        self,
        function: Function,
        environment: Mapping[str, str],
        paths: Sequence[Path],
        *,
        log: TextIO | None = sys.stderr,
    ) -> None:
        self.function = function
        self._environment = lambda_environment(function, environment, paths)
        self._paths = paths
        self._log = log or _Discard()
        self._handler: Any = None

    def invoke(self, event: Any) -> Invocation:
        started, init_ms = time.perf_counter(), None
        # What the function prints or logs goes to the log, as a runtime's output does, not to our caller.
        with contextlib.redirect_stdout(self._log):
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

    def close(self, *, final: bool = False) -> None:
        """Forget the handler: the next invocation imports it again (nothing runs apart, so nothing to stop)."""
        self._handler = None


class _Discard(io.TextIOBase):
    """A log nobody reads (a logger may keep the stream it found at import: it must stay writable)."""

    def write(self, text: str) -> int:
        return len(text)
