"""Fixtures of the security tests."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator

import pytest

from actionlog.observability import logger
from tests.security.helpers import Output


class _CurrentStdout:
    """Writes to whatever sys.stdout is when a line is logged, as the Lambda runtime's stdout would receive it."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], Output]]:
    """Reads what the handlers wrote to stdout and stderr since the last read.

    Powertools' Logger keeps the stdout it saw at import, not the one capsys installs around each test, so
    for the test's duration its handler writes to the current stdout instead.
    """
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(_CurrentStdout())  # type: ignore[arg-type]

    def read() -> Output:
        captured = capsys.readouterr()
        return Output(out=captured.out, err=captured.err)

    yield read
    handler.setStream(previous)
