"""What Lambda gives a function besides its event: its environment variables and its context object."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dev.template import Function


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
