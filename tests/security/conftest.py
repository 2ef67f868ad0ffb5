"""Fixtures of the security tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.security.helpers import Output
from tests.support import logging_to_current_stdout


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], Output]]:
    """Reads what the handlers wrote to stdout and stderr since the last read.

    The handlers' log lines included (tests.support.logging_to_current_stdout).
    """

    def read() -> Output:
        captured = capsys.readouterr()
        return Output(out=captured.out, err=captured.err)

    with logging_to_current_stdout():
        yield read
