import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here rather than in pyproject.toml so that the suite that uses it owns it (--strict-markers).
    config.addinivalue_line(
        "markers", "schemathesis: runs Schemathesis against the local server (about a minute; select with -m)"
    )
