"""`python -m dev.invoke <LogicalId> -e <event.json> [--env-vars FILE]`: run one function once, like `sam local invoke`.

    python -m dev.invoke HealthCheckFunction -e events/health_check.json
    python -m dev.invoke LogActionFunction -e events/log_action.json | jq .
    echo '{}' | python -m dev.invoke HealthCheckFunction -e -

The handler runs in a fresh worker process, as under `dev.local_api`, with the Redis of REDIS_URL or REDIS_HOST,
or else an embedded fakeredis that lives for this one call. The handler's response goes to stdout as JSON; its
logs go to stderr.

`--env-vars` reads SAM's format. `events/env.json` is written for `sam local invoke` in Docker (it sets
REDIS_HOST=host.docker.internal), so without Docker leave `--env-vars` out, or pass a file of your own.

Exit status: 0 with the handler's response; 1 when the function failed (Lambda's error JSON on stdout), timed out
or crashed; 2 for bad arguments or an unknown function.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dev.runtime import EnvVarsError, LocalLambda, load_env_vars
from dev.template import TEMPLATE_PATH, TemplateError, load_template
from dev.worker import FunctionError, InvocationFailed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.invoke", description="Invoke one function of the template once, without Docker."
    )
    parser.add_argument("function_id", metavar="LogicalId", help="the function's logical id in the template")
    parser.add_argument("-e", "--event", help="JSON event file, or - for stdin (default: an empty event {})")
    parser.add_argument("-n", "--env-vars", type=Path, help="SAM env-vars JSON file (events/env.json is for Docker)")
    parser.add_argument("-t", "--template", type=Path, default=TEMPLATE_PATH, help="the SAM template")
    args = parser.parse_args(argv)

    try:
        template = load_template(args.template)
        env_vars = load_env_vars(args.env_vars) if args.env_vars else None
        event = _read_event(args.event)
    except (OSError, ValueError, TemplateError, EnvVarsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    function = template.functions.get(args.function_id)
    if function is None:
        known = ", ".join(sorted(template.functions))
        print(f"error: {template.path.name} has no function {args.function_id!r}; known: {known}", file=sys.stderr)
        return 2

    with LocalLambda(template, environ=os.environ, env_vars=env_vars) as functions:
        print(f"Invoking {function.logical_id} (Redis: {functions.redis_description})", file=sys.stderr, flush=True)
        try:
            invocation = functions.invoke(function, event)
        except FunctionError as error:
            print(json.dumps(error.payload))
            return 1
        except InvocationFailed as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(json.dumps(invocation.result))
    return 0


def _read_event(source: str | None) -> Any:
    if source is None:
        return {}
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValueError(f"the event {source} is not JSON: {error}") from None


if __name__ == "__main__":
    raise SystemExit(main())
