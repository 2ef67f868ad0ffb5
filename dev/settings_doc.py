"""`python -m dev.settings_doc [--check]`: the tables of docs/configuration.md, made from the layer's table.

Each variable's meaning, default and bounds come from `actionlog/settings.py` (its `VARIABLES`), the template
parameter that sets it from `template.yaml` (every function's environment), and what a local run changes from
`dev.local_functions.LOCAL_DEFAULTS`. Only the text between the two markers is made here; the rest of the document is
written by hand. `--check` exits 1 when the document differs from what this makes now.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dev.local_functions import LOCAL_DEFAULTS
from dev.template import REPO_ROOT, Template, load_template

if TYPE_CHECKING:
    from actionlog.settings import Variable

DOC_PATH = REPO_ROOT / "docs" / "configuration.md"
BEGIN = "<!-- made by `python -m dev.settings_doc` from actionlog/settings.py and template.yaml: edit those -->"
END = "<!-- end of what dev.settings_doc makes -->"


def layer_variables(template: Template) -> tuple[Variable[Any], ...]:
    """The layer's table, imported as the functions import it: from the template's layer."""
    for function in template.functions.values():
        for layer_dir in reversed(function.layer_dirs):
            if str(layer_dir) not in sys.path:
                sys.path.insert(0, str(layer_dir))
    variables: tuple[Variable[Any], ...] = importlib.import_module("actionlog.settings").VARIABLES
    return variables


def environment_sources(template: Template) -> dict[str, list[Any]]:
    """Each variable the functions get, and what sets it: the values as written, one per distinct value."""
    sources: dict[str, list[Any]] = {}
    for resource in template.cloudformation.values():
        if resource["Type"] == "AWS::Lambda::Function":
            variables = (resource["Properties"].get("Environment") or {}).get("Variables") or {}
            for name, value in variables.items():
                if value not in sources.setdefault(name, []):
                    sources[name].append(value)
    return sources


def describe_source(value: Any, parameters: Iterable[str]) -> str:
    """What sets a variable, for the docs: "`RedisTls` (`true` with `CreateCache`)", "set to `actionlog`"."""
    parameters = set(parameters)
    if isinstance(value, dict) and value.get("Ref") in parameters:
        return f"`{value['Ref']}`"
    if isinstance(value, dict) and "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        return f"{describe_source(when_false, parameters)} ({_describe_value(when_true)} with `{condition}`)"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"`{'.'.join(value['Fn::GetAtt'])}`"
    return f"none (set to {_describe_value(value)})"


def _describe_value(value: Any) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"`{'.'.join(value['Fn::GetAtt'])}`"
    return f"`{value}`" if value not in ("", None) else "unset"


def _default(variable: Variable[Any]) -> str:
    shown = variable.kind.show(variable.default)
    return f"`{shown}`" if shown else "unset"


def _bounds(variable: Variable[Any]) -> str:
    if variable.low is not None or variable.high is not None:
        return f"{variable.low} to {variable.high}"
    return ", ".join(f"`{value}`" for value in variable.allowed_values)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def tables(template: Template) -> str:
    """The generated part of docs/configuration.md."""
    variables = layer_variables(template)
    sources = environment_sources(template)
    parameters = template.document["Parameters"]

    def row(variable: Variable[Any]) -> str:
        source = "; ".join(describe_source(value, parameters) for value in sources.get(variable.name, ())) or "none"
        cells = (f"`{variable.name}`", variable.meaning, _default(variable), _bounds(variable), source)
        return "| " + " | ".join(_cell(cell) for cell in cells) + " |"

    header = ["| variable | meaning | default | bounds | template parameter |", "| --- | --- | --- | --- | --- |"]
    actionlog = [row(variable) for variable in variables if variable.field is not None]
    powertools = [row(variable) for variable in variables if variable.field is None]
    local = ", ".join(f"`{name}={value}`" for name, value in sorted(LOCAL_DEFAULTS.items()))
    return "\n".join(
        [
            BEGIN,
            "",
            "Actionlog's own, read once per container by `actionlog.settings`:",
            "",
            *header,
            *actionlog,
            "",
            "Powertools' own, read by Powertools (and by `actionlog.observability`, for its logger and metrics):",
            "",
            *header,
            *powertools,
            "",
            f"A local run (`make run`, `make invoke`) gives the functions the template's values with {local}.",
            "",
            END,
        ]
    )


def render(document: str, template: Template) -> str:
    """`document` with the text between the markers made anew."""
    before, begin, rest = document.partition(BEGIN)
    _, end, after = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the document lacks the markers {BEGIN!r} and {END!r}")
    return before + tables(template) + after


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.settings_doc", description="Make configuration.md's tables.")
    parser.add_argument("--check", action="store_true", help="exit 1 when the document is not up to date")
    parser.add_argument("-o", "--output", type=Path, default=DOC_PATH, help="the document to update")
    args = parser.parse_args(argv)
    current = args.output.read_text(encoding="utf-8")
    text = render(current, load_template())
    if args.check:
        if current != text:
            print(f"{args.output} is stale: run `python -m dev.settings_doc`", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
