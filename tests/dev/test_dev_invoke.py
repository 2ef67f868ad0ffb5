"""`python -m dev.invoke`: one function, one event, like `sam local invoke`."""

import json
import subprocess
import sys

from dev.template import REPO_ROOT


def invoke(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dev.invoke", *arguments],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_health_check_event_gets_a_200_on_stdout(local_environment: dict[str, str]) -> None:
    completed = invoke("HealthCheckFunction", "-e", "events/health_check.json", environment=local_environment)

    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout)  # stdout holds the response alone; the logs went to stderr
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"


def test_an_unknown_function_exits_2_and_lists_the_known_ones(local_environment: dict[str, str]) -> None:
    completed = invoke("NoSuchFunction", "-e", "events/health_check.json", environment=local_environment)

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "NoSuchFunction" in completed.stderr
    assert "HealthCheckFunction" in completed.stderr
    assert "LogActionFunction" in completed.stderr
