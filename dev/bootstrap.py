"""The stand-in for Lambda's Python runtime that runs inside every local worker process.

`dev.worker` starts it as `python -I dev/bootstrap.py HANDLER CODE_DIR [LAYER_DIR ...]`. `-I` keeps the repository,
PYTHONPATH and the user's site-packages off the import path, so the function sees what it would see in Lambda:
its code directory, its layers, then the interpreter's site-packages standing in for the runtime's. For the same
reason this file imports nothing but the standard library.

The conversation with the parent is one JSON object per line. Once, at start: `{"initMs": ...}` after the handler
module imported, or `{"initError": {...}}` (then the process exits, as Lambda discards a container whose init
failed). Then, for every request line `{"requestId", "deadlineMs", "invokedFunctionArn", "event"}`, one reply:
`{"result": ...}` or `{"error": {...}}` in Lambda's error shape.
"""

import importlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

type Handler = Callable[[Any, "LambdaContext"], Any]


class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read, filled as the real runtime does."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["requestId"]
        self.invoked_function_arn: str = request["invokedFunctionArn"]
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # A string, as in Lambda's own runtime (it copies the environment variable).
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = request["deadlineMs"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def main() -> None:
    handler_name, code_dir, *layer_dirs = sys.argv[1:]
    # Ctrl-C in the terminal reaches the whole process group; the parent decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Keep the original stdout for replies, and send everything the function prints or logs to stderr,
    # where the parent's own logs go: a stray print() must not corrupt the conversation.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.path[:0] = [code_dir, *layer_dirs]

    started = time.perf_counter()
    try:
        handler = _load_handler(handler_name)
    except Exception as error:
        traceback.print_exc()
        _send(replies, json.dumps({"initError": _error(error, _init_error_type(error))}))
        return
    _send(replies, json.dumps({"initMs": round((time.perf_counter() - started) * 1000, 1)}))

    for line in sys.stdin:
        _send(replies, _invoke(handler, json.loads(line)))


def _load_handler(name: str) -> Handler:
    module_name, _, function_name = name.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    handler: Handler = getattr(module, function_name)
    return handler


def _invoke(handler: Handler, request: dict[str, Any]) -> str:
    """Run one invocation; the reply line for the parent."""
    try:
        result = handler(request["event"], LambdaContext(request))
    except Exception as error:
        traceback.print_exc()
        return json.dumps({"error": _error(error, type(error).__name__)})
    try:
        return json.dumps({"result": result})
    except (TypeError, ValueError) as error:
        return json.dumps({"error": _error(error, "Runtime.MarshalError", f"Unable to marshal response: {error}")})


def _init_error_type(error: Exception) -> str:
    # The errorType Lambda reports for a container that could not load its handler.
    if isinstance(error, SyntaxError):
        return "Runtime.UserCodeSyntaxError"
    if isinstance(error, ImportError):
        return "Runtime.ImportModuleError"
    if isinstance(error, AttributeError):
        return "Runtime.HandlerNotFound"
    return type(error).__name__


def _error(error: BaseException, error_type: str, message: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": message or str(error),
        "errorType": error_type,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def _send(replies: TextIO, line: str) -> None:
    replies.write(line + "\n")
    replies.flush()


if __name__ == "__main__":
    main()
