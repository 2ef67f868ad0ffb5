"""What the local tools take from the SAM CLI's virtualenv (.venv-sam, which `make` installs): SAM's translator, run
in that virtualenv's Python, and the Runtime Interface Emulator binary that ships with aws-sam-cli.

The SAM CLI gets a virtualenv of its own because it pins its own pydantic and boto3; nothing of it is imported here.
"""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path
from typing import Any

SAM_VENV = Path(__file__).resolve().parent.parent / ".venv-sam"
SAM_PYTHON = SAM_VENV / "bin" / "python"
TRANSLATOR_SCRIPT = Path(__file__).with_name("sam_translator.py")  # what runs in SAM_PYTHON


def translate(path: Path, parameters: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The template as written (short tags in their long form) and the CloudFormation resources SAM's translator
    makes of it for these parameter values. Raises FileNotFoundError without .venv-sam, ValueError when SAM refuses
    the template."""
    if not SAM_PYTHON.exists():
        raise FileNotFoundError(f"no {SAM_PYTHON}: `make` installs the SAM CLI, which brings SAM's translator")
    request = json.dumps({"path": str(path), **parameters})
    done = subprocess.run(
        [SAM_PYTHON, "-I", TRANSLATOR_SCRIPT], input=request, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise ValueError(f"SAM's translator refused {path}: {done.stderr.strip().splitlines()[-1]}")
    translated = json.loads(done.stdout)
    return translated["document"], translated["resources"]


def emulator_binary() -> Path | None:
    """The RIE of the installed aws-sam-cli for this machine, or None where it cannot run (not Linux, or no
    .venv-sam)."""
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    if platform.system() != "Linux" or machine is None:
        return None
    found = sorted(SAM_VENV.glob(f"lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-{machine}"))
    return found[-1] if found else None
