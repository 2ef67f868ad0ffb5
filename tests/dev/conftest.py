import os

import pytest


@pytest.fixture(scope="session")
def local_environment() -> dict[str, str]:
    """This process's environment without any Redis or auth setting, so that the local tools use their defaults:
    the embedded fakeredis and AUTH_REQUIRED=false. Shared: copy it before changing it."""
    return {
        name: value for name, value in os.environ.items() if not name.startswith("REDIS_") and name != "AUTH_REQUIRED"
    }
