"""The facts about the machine and software a result depends on, recorded with it."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.server import redis_server_version


@dataclass(frozen=True)
class MachineFacts:
    date: str
    cpu_count: int
    cpu_model: str
    load_average: str  # at the start: the machine is shared, so say how busy it was
    system: str
    python: str
    redis_server: str
    packages: str


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or "unknown"


def package_versions(*names: str) -> str:
    return ", ".join(f"{name} {metadata.version(name)}" for name in names)


def machine_facts() -> MachineFacts:
    return MachineFacts(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpu_count=os.cpu_count() or 0,
        cpu_model=cpu_model(),
        load_average=" / ".join(f"{load:.2f}" for load in os.getloadavg()),
        system=f"{platform.system()} {platform.release()} {platform.machine()}",
        python=sys.version.split()[0],
        redis_server=redis_server_version(),
        packages=package_versions("redis", "hiredis", "aws-lambda-powertools", "pydantic"),
    )
