"""What a running local API (`make run`) tells the other local tools: where its Redis is, so that `make invoke`
works on the same data.

Each API that starts with a Redis of its own writes a small file, `.aws-sam/local-api/<pid>.json`, and removes it
when it stops (ACTIONLOG_LOCAL_API_DIR names another directory, as the tests do). A reader takes the newest whose
API and Redis still run, and removes those of APIs that are gone (killed). A Redis the environment names
(REDIS_URL, REDIS_HOST) is never written down: it may hold a password, and a tool run with the same environment
finds it anyway.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dev.redis_server import LocalRedis
from dev.template import REPO_ROOT

DIRECTORY_VARIABLE = "ACTIONLOG_LOCAL_API_DIR"
DEFAULT_DIRECTORY = REPO_ROOT / ".aws-sam" / "local-api"


def directory() -> Path:
    return Path(os.environ.get(DIRECTORY_VARIABLE) or DEFAULT_DIRECTORY)


@dataclass(frozen=True)
class RunningRedis:
    """The Redis of a running local API, borrowed: the API stops it, not its borrower."""

    url: str
    description: str

    def close(self) -> None:
        """Left running: it is the API's."""


def announce(api_url: str, redis: LocalRedis) -> Path:
    """Write down this process's API and its Redis, for `running_redis` in other processes."""
    path = directory() / f"{os.getpid()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": os.getpid(), "api": api_url, "redisUrl": redis.url, "redis": redis.description}
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
    partial.replace(path)  # whole or not at all, for a reader that comes meanwhile
    return path


def withdraw() -> None:
    """Remove this process's file, if it wrote one."""
    (directory() / f"{os.getpid()}.json").unlink(missing_ok=True)


def running_redis() -> RunningRedis | None:
    """The Redis of the newest local API that runs now, or None."""
    files = sorted(directory().glob("*.json"), key=_modified, reverse=True)
    for path in files:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            pid, url, description, api = int(record["pid"]), record["redisUrl"], record["redis"], record["api"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not _alive(pid):
            path.unlink(missing_ok=True)  # its API was killed before it could remove it
        elif _answers(url):
            return RunningRedis(url, f"the running local API's ({api}): {description}")
    return None


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _answers(url: str) -> bool:
    address = urlsplit(url)
    try:
        with socket.create_connection((address.hostname or "127.0.0.1", address.port or 6379), timeout=0.5):
            return True
    except OSError:
        return False
