"""`python -m dev.invoke <LogicalId> -e <event.json> [--env-vars FILE]`: run one function once, like `sam local invoke`.

    python -m dev.invoke HealthCheckFunction -e events/health_check.json
    echo '{}' | python -m dev.invoke HealthCheckFunction -e -

The function runs as under `dev.local_api`, with the Redis of REDIS_URL or REDIS_HOST, or one for this call. Its
answer goes to stdout as JSON, its logs to stderr. Exit status: 0 with the answer; 1 when the function failed
(Lambda's error JSON on stdout) or timed out; 2 for bad arguments or an unknown function.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from dev.invocation import FunctionError, InvocationFailed
from dev.local_functions import LocalFunctions, parse_sam_local_args


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.invoke", description="Invoke one function once.")
    parser.add_argument("function_id", metavar="LogicalId", help="the function's logical id in the template")
    parser.add_argument("-e", "--event", default=None, help="JSON event file, or - for stdin (default: {})")
    try:
        args, template, env_vars = parse_sam_local_args(parser, argv)
        text = "{}" if args.event is None else sys.stdin.read() if args.event == "-" else Path(args.event).read_text()
        event = json.loads(text)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    function = template.functions.get(args.function_id)
    if function is None:
        known = ", ".join(sorted(template.functions))
        print(f"error: {template.path.name} has no function {args.function_id!r}; known: {known}", file=sys.stderr)
        return 2
    functions = LocalFunctions({function.logical_id: function}, env_vars=env_vars)
    try:
        print(f"Invoking {function.logical_id} (Redis: {functions.redis_description})", file=sys.stderr, flush=True)
        invocation = functions.invoke(function.logical_id, event)
    except FunctionError as error:
        print(json.dumps(error.payload))
        return 1
    except InvocationFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        functions.close()
    print(json.dumps(invocation.result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
