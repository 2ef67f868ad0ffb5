"""Fixtures of the security tests."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator

import pytest

from actionlog.observability import logger
from tests.security.helpers import Output


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], Output]]:
    """Reads what the handlers wrote since the last read.

    Powertools' Logger keeps the stdout it saw at import, not the one capsys installs for each test, so
    its handler is pointed at the test's stdout for the test's duration and given back afterwards.
    """
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(sys.stdout)

    def read() -> Output:
        captured = capsys.readouterr()
        return Output(out=captured.out, err=captured.err)

    yield read
    if previous is not None:  # None: the stream was already the test's stdout
        handler.setStream(previous)
