"""dev.running_api: how a running `make run` tells `make invoke` where its Redis is."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev import running_api
from dev.redis_server import LOOPBACK, EmbeddedRedis, free_port


@pytest.fixture
def directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "local-api"
    monkeypatch.setenv(running_api.DIRECTORY_VARIABLE, str(path))
    return path


@pytest.fixture
def redis() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis()
    yield server
    server.close()


def write_record(directory: Path, pid: int, redis_url: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{pid}.json"
    path.write_text(json.dumps({"pid": pid, "api": f"http://127.0.0.1:{pid}", "redisUrl": redis_url, "redis": "x"}))
    return path


def a_finished_process() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)


def test_a_running_apis_redis_is_found_while_it_runs_and_not_once_it_withdraws(
    directory: Path, redis: EmbeddedRedis
) -> None:
    running_api.announce("http://127.0.0.1:3000", redis)

    found = running_api.running_redis()
    running_api.withdraw()

    assert found is not None
    assert found.url == redis.url
    assert found.description == f"the running local API's (http://127.0.0.1:3000): {redis.description}"
    assert list(directory.iterdir()) == []
    assert running_api.running_redis() is None


def test_the_file_of_an_api_that_was_killed_is_ignored_and_removed(directory: Path, redis: EmbeddedRedis) -> None:
    left = write_record(directory, a_finished_process(), redis.url)

    assert running_api.running_redis() is None
    assert not left.exists()


def test_a_file_whose_redis_does_not_answer_is_ignored(directory: Path) -> None:
    write_record(directory, os.getpid(), f"redis://{LOOPBACK}:{free_port()}/0")  # nobody listens there

    assert running_api.running_redis() is None


def test_of_two_running_apis_the_newest_is_used_and_each_removes_only_its_own(
    directory: Path, redis: EmbeddedRedis
) -> None:
    older = write_record(directory, 1, "redis://127.0.0.1:1/0")  # pid 1 runs: a live API, whose Redis is gone
    os.utime(older, (0, 0))
    running_api.announce("http://127.0.0.1:3000", redis)

    found = running_api.running_redis()
    running_api.withdraw()

    assert found is not None
    assert found.url == redis.url
    assert [path.name for path in directory.iterdir()] == ["1.json"]
