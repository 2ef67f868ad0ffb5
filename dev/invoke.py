"""`python -m dev.invoke <LogicalId> -e <event.json> [--env-vars FILE]`: run one function once, like `sam local invoke`.

    python -m dev.invoke HealthCheckFunction -e events/health_check.json
    echo '{}' | python -m dev.invoke HealthCheckFunction -e -

The function runs as under `dev.local_api`. Its Redis: the one REDIS_URL or REDIS_HOST (or the env-vars file)
names; else the running local API's (`make run`, see `dev.running_api`), so that both see the same data; else a
throwaway one for this call. The first line on stderr says which. Its answer goes to stdout as JSON, its logs
(Lambda's START, END and REPORT lines among them) to stderr. Exit status: 0 with the answer; 1 when the function failed
(Lambda's error JSON on stdout) or timed out; 2 for bad arguments or an unknown function.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from dev.invocation import FunctionError, InvocationFailed
from dev.local_functions import LocalFunctions, parse_sam_local_args, redis_configured
from dev.running_api import running_redis


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
    running = None if redis_configured(env_vars) else running_redis()
    functions = LocalFunctions({function.logical_id: function}, env_vars=env_vars, redis=running)
    if running is None and functions.redis is not None:
        redis = f"a throwaway {functions.redis_description}, for this call only (no `make run` running)"
    else:
        redis = functions.redis_description
    try:
        print(f"Invoking {function.logical_id} (Redis: {redis})", file=sys.stderr, flush=True)
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
