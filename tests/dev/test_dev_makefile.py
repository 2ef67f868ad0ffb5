"""The Makefile's local-development rules, as `make -n` (a dry run) shows them."""

import shutil
import subprocess
from pathlib import Path

import pytest

from dev.template import REPO_ROOT


def dry_run(*arguments: str) -> list[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    completed = subprocess.run(
        ["make", "-n", "--no-print-directory", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return completed.stdout.splitlines()


def test_the_first_make_run_says_what_it_installs_before_each_virtualenv_and_lets_pip_show_its_progress(
    tmp_path: Path,
) -> None:
    # Given a fresh clone: neither virtualenv exists
    commands = dry_run("-B", "run", f"VENV={tmp_path}/venv", f"SAM_VENV={tmp_path}/venv-sam")

    # Then each virtualenv is announced before it is made, and pip installs the dependencies without --quiet
    installs = [
        index for index, line in enumerate(commands) if " -m pip install " in line and "--upgrade pip" not in line
    ]
    assert len(installs) == 2
    for step, index in enumerate(installs, start=1):
        announced = [line for line in commands[:index] if line.startswith(f'echo "==> [{step}/2] ')]
        assert announced, commands
        assert "--quiet" not in commands[index]
    assert commands[-1].startswith(f"{tmp_path}/venv/bin/python -m dev.local_api ")


def test_verbose_1_shows_the_functions_logs() -> None:
    [quiet] = [line for line in dry_run("run") if "dev.local_api" in line]
    [verbose] = [line for line in dry_run("run", "VERBOSE=1") if "dev.local_api" in line]

    assert "--verbose" not in quiet
    assert "--verbose" in verbose
