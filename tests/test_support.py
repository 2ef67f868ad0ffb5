"""tests/support.py: what the tests share, where it is more than a helper."""

import os
import shutil
import tempfile

from tests.support import TempEntries


def test_the_temp_entries_a_run_makes_are_named_until_removed() -> None:
    # Given a record of what this process makes in the temp directory under the project's names
    entries = TempEntries(prefix="actionlog-support-test-")
    entries.record()

    # When it makes a directory and a file there, and another name's directory
    directory = tempfile.mkdtemp(prefix="actionlog-support-test-")
    descriptor, file = tempfile.mkstemp(prefix="actionlog-support-test-")
    os.close(descriptor)
    other = tempfile.mkdtemp(prefix="elsewhere-")
    try:
        # Then both of its own are named while they exist, and not once removed
        assert entries.left() == sorted([directory, file])
    finally:
        shutil.rmtree(directory)
        os.unlink(file)
        os.rmdir(other)
    assert entries.left() == []
