"""What the security tests share besides fixtures: handler output as CloudWatch would receive it, timed calls."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from tests.support import invoke, load_event

# A dead or refusing Redis must be answered within a few seconds (contract, section 3). With the
# Lambda-sized timeouts (1 s, one retry), a failure that needs no timeout takes well under a second.
FAST_SECONDS = 3.0


@dataclass(frozen=True)
class Output:
    """Everything the handlers wrote: stdout (Powertools' JSON log lines and EMF metrics) and stderr."""

    out: str
    err: str

    @property
    def everything(self) -> str:
        return self.out + self.err

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records (not the EMF metric lines)."""
        documents = [json.loads(line) for line in self.out.splitlines() if line.startswith("{")]
        return [document for document in documents if "level" in document]

    def record(self, message: str) -> dict[str, Any]:
        """The one log record with this message."""
        found = [record for record in self.records() if record["message"] == message]
        assert len(found) == 1, f"expected one {message!r} record in {self.records()}"
        return found[0]

    def failure(self) -> dict[str, Any]:
        """The one log record that names the cause of a failure (its `cause` field)."""
        found = [record for record in self.records() if "cause" in record]
        assert len(found) == 1, f"expected one record with a cause in {self.records()}"
        return found[0]


def timed_invoke(operation: str, event: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """The handler's response and how long it took to answer."""
    started = time.monotonic()
    response = invoke(operation, event)
    return response, time.monotonic() - started


def log_one_action() -> tuple[dict[str, Any], float]:
    """POST /users/123/actions as user 123 (events/log_action.json)."""
    return timed_invoke("log_action", load_event("log_action.json"))


def read_actions() -> dict[str, Any]:
    """GET /users/123/actions?limit=10 as user 123 (events/get_user_actions.json)."""
    return invoke("get_user_actions", load_event("get_user_actions.json"))
