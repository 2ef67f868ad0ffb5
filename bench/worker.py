"""`python -m bench.worker PHASE CONFIG_JSON RESULT_PATH`: one measurement in a process of its own.

Started by bench.process with the layer on PYTHONPATH and REDIS_URL set; writes what it measured, as JSON, to
RESULT_PATH. Its stdout is the handlers' log stream.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import memory, profiling, roundtrips, scale, warm

PHASES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "warm": warm.run_in_worker,
    "roundtrips": roundtrips.run_in_worker,
    "memory": memory.run_in_worker,
    "profile": profiling.run_in_worker,
    "scale": scale.run_in_worker,
}


def main(argv: list[str]) -> int:
    phase, config, result_path = argv
    result = PHASES[phase](json.loads(config))
    Path(result_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
