"""What invoking a function gives: its result and Lambda's durations, or why there is none.

Both runners (`dev.emulator.Emulator`, `dev.in_process.InProcess`) answer with these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


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
