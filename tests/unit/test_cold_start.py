"""What a container's init leaves to its first invocation (layers/actionlog/actionlog/__init__.py)."""

import os
import subprocess
import sys

from tests.support import ROOT

# A fresh interpreter, as a cold start has it: this process imported the layer long ago and has invoked handlers.
PROGRAM = """
import gc
import types

from actionlog.observability import begin_invocation

while_imported = gc.isenabled()
context = types.SimpleNamespace(
    function_name="f", memory_limit_in_mb="256", invoked_function_arn="arn", aws_request_id="request"
)
begin_invocation(context, {})
print(while_imported, gc.isenabled(), gc.get_freeze_count() > 0)
"""


def test_the_collector_is_off_while_the_layer_is_imported_and_on_once_the_first_invocation_begins() -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "actionlog")}

    completed = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=environment, capture_output=True, text=True, check=True
    )

    # Then init ran without collections, and the first invocation froze what init made and collects again
    assert completed.stdout.split() == ["False", "True", "True"]
