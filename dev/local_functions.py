"""The template's functions for a local run (`dev.local_api`, `dev.invoke`): each in a warm runner, with the
run's Redis and the environment `sam local` would give it, and the options of `sam local` they share.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from dev.cloudformation import cfn_text
from dev.emulator import Emulator
from dev.in_process import InProcess
from dev.invocation import Invocation
from dev.redis_server import LocalRedis, local_redis
from dev.sam_cli import emulator_binary
from dev.template import TEMPLATE_PATH, Function, Template, load_template, parameter_overrides


def runner(
    function: Function, environment: Mapping[str, str], paths: Sequence[Path], *, log: TextIO | None = sys.stderr
) -> Emulator | InProcess:
    """An emulator where the RIE runs, else the in-process fallback; `log` gets the function's log (None: dropped)."""
    if emulator_binary() is not None:
        return Emulator(function, environment, paths, log=log)
    return InProcess(function, environment, paths, log=log)


LOCAL_DEFAULTS = {"AUTH_REQUIRED": "false"}  # local runs let requests without a token through, unless told otherwise
_NOT_PASSED_ON = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
type EnvVars = Mapping[str, Mapping[str, str]]


def load_env_vars(path: Path) -> dict[str, dict[str, str]]:
    """SAM's env-vars file: `{"Parameters": {NAME: value}}` for every function, `{"<LogicalId>": {...}}` for one."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not all(isinstance(section, dict) for section in document.values()):
        raise ValueError(f"{path}: expected an object of objects, like {{'Parameters': {{'NAME': 'value'}}}}")
    return {scope: {name: cfn_text(value) for name, value in section.items()} for scope, section in document.items()}


def parse_sam_local_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, Template, EnvVars | None]:
    """`argv` parsed with the options of `sam local` added (-t, -n, --parameter-overrides), and the template and
    env-vars file they name, loaded. Raises OSError or ValueError when either cannot be read."""
    parser.add_argument("-t", "--template", type=Path, default=TEMPLATE_PATH, help="the SAM template")
    parser.add_argument("-n", "--env-vars", type=Path, help="SAM env-vars JSON file (events/env.json is for Docker)")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE", help="as for sam")
    args = parser.parse_args(argv)
    template = load_template(args.template, parameter_overrides(args.parameter_overrides))
    return args, template, load_env_vars(args.env_vars) if args.env_vars else None


def redis_configured(env_vars: EnvVars | None = None) -> bool:
    """Whether this process's environment or the env-vars file names a Redis (REDIS_URL or REDIS_HOST)."""
    given = [os.environ, *(env_vars or {}).values()]
    return any(values.get(name, "").strip() for values in given for name in ("REDIS_URL", "REDIS_HOST"))


class LocalFunctions:
    """The template's functions for a local run: a warm runner each, the run's Redis in their environment.

    A function's environment, lowest priority first: the template's values (parameters at their defaults), the
    local defaults (AUTH_REQUIRED=false), this process's environment, the run's own Redis (unless REDIS_URL or
    REDIS_HOST names one), and an env-vars file, which sets only variables the template declares, as in `sam local`.
    The run's own Redis is `redis` when given (another run's, which this one does not stop), else one started here.
    `log` gets the functions' logs (None: dropped).
    """

    def __init__(
        self,
        functions: Mapping[str, Function],
        *,
        env_vars: EnvVars | None = None,
        redis: LocalRedis | None = None,
        log: TextIO | None = sys.stderr,
    ) -> None:
        self.redis = None if redis_configured(env_vars) else redis or local_redis()
        shared = LOCAL_DEFAULTS | {name: value for name, value in os.environ.items() if name not in _NOT_PASSED_ON}
        if self.redis is not None:
            shared |= {"REDIS_URL": self.redis.url, "REDIS_HOST": "", "REDIS_PORT": ""}
        self._environments = {
            name: {
                **{variable: value for variable, value in function.environment.items() if value is not None},
                **shared,
                **{
                    variable: value
                    for scope in ("Parameters", name)
                    for variable, value in (env_vars or {}).get(scope, {}).items()
                    if variable in function.environment
                },
            }
            for name, function in functions.items()
        }
        self._runners = {
            name: runner(function, self._environments[name], [function.code_dir, *function.layer_dirs], log=log)
            for name, function in functions.items()
        }

    @property
    def redis_description(self) -> str:
        if self.redis is not None:
            return self.redis.description
        if url := os.environ.get("REDIS_URL", "").strip():
            return "REDIS_URL " + re.sub(r"//[^/@]*@", "//***@", url)  # never the password
        return f"REDIS_HOST {os.environ.get('REDIS_HOST', '(from the env-vars file)')}"

    @property
    def emulated(self) -> bool:
        return all(isinstance(each, Emulator) for each in self._runners.values())

    def environment(self, name: str) -> dict[str, str]:
        return dict(self._environments[name])

    def invoke(self, name: str, event: Any) -> Invocation:
        return self._runners[name].invoke(event)

    def close(self) -> None:
        """Stop every function, invocations in progress included, and the run's Redis; nothing starts again."""
        try:
            for each in self._runners.values():
                each.close(final=True)
        finally:
            if self.redis is not None:
                self.redis.close()
