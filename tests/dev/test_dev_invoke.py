"""`python -m dev.invoke`: one function, one event, like `sam local invoke`."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import dev.invoke
from dev.template import REPO_ROOT

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: python3.13
    Handler: app.lambda_handler
    Timeout: 3
    Environment:
      Variables:
        GREETING: !Ref Greeting
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Role: arn:aws:iam::123456789012:role/echo
  FailFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fail/
      Role: arn:aws:iam::123456789012:role/fail
  SlowFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: slow/
      Timeout: 1
      Role: arn:aws:iam::123456789012:role/slow
"""

HANDLERS = {
    "echo": """
        import os

        def lambda_handler(event, context):
            print("a log line, for stderr")
            return {"event": event, "greeting": os.environ.get("GREETING"), "other": os.environ.get("NOT_DECLARED")}
    """,
    "fail": """
        def lambda_handler(event, context):
            raise RuntimeError("it failed")
    """,
    "slow": """
        import time

        def lambda_handler(event, context):
            time.sleep(30)
    """,
}


def invoke(*arguments: str, environment: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dev.invoke", *arguments],
        cwd=REPO_ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A template of the test's own: a function that echoes, one that raises, and one that times out."""
    for name, source in HANDLERS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(textwrap.dedent(source))
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path / "template.yaml"


def test_the_health_check_event_gets_a_200_on_stdout(local_environment: dict[str, str]) -> None:
    completed = invoke("HealthCheckFunction", "-e", "events/health_check.json", environment=local_environment)

    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout)  # stdout holds the response alone; the logs went to stderr
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"
    # No local API runs: the call had a Redis of its own, and said so
    assert "Invoking HealthCheckFunction (Redis: a throwaway " in completed.stderr
    assert "for this call only (no `make run` running)" in completed.stderr


def test_the_event_may_come_from_stdin_and_the_logs_go_to_stderr(
    template: Path, local_environment: dict[str, str], rie: Path
) -> None:
    completed = invoke(
        "EchoFunction", "-t", str(template), "-e", "-", environment=local_environment, stdin='{"answer": 42}'
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"event": {"answer": 42}, "greeting": "hello", "other": None}
    assert "a log line, for stderr" in completed.stderr
    assert "REPORT RequestId: " in completed.stderr


def test_without_an_event_the_function_gets_an_empty_one(template: Path, local_environment: dict[str, str]) -> None:
    completed = invoke("EchoFunction", "-t", str(template), environment=local_environment)

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["event"] == {}


def test_an_env_vars_file_sets_the_variables_the_template_declares(
    template: Path, tmp_path: Path, local_environment: dict[str, str]
) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"Parameters": {"GREETING": "from the file", "NOT_DECLARED": "x"}}))

    completed = invoke("EchoFunction", "-t", str(template), "--env-vars", str(env_file), environment=local_environment)

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"event": {}, "greeting": "from the file", "other": None}


def test_a_function_that_raises_exits_1_with_lambdas_error_on_stdout(
    template: Path, local_environment: dict[str, str], rie: Path
) -> None:
    completed = invoke("FailFunction", "-t", str(template), environment=local_environment)

    assert completed.returncode == 1
    error = json.loads(completed.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "it failed")


def test_a_function_that_times_out_exits_1(template: Path, local_environment: dict[str, str], rie: Path) -> None:
    completed = invoke("SlowFunction", "-t", str(template), environment=local_environment)

    assert completed.returncode == 1
    assert completed.stdout == ""
    assert "timed out" in completed.stderr


def test_an_unknown_function_exits_2_and_lists_the_known_ones(local_environment: dict[str, str]) -> None:
    completed = invoke("NoSuchFunction", "-e", "events/health_check.json", environment=local_environment)

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "NoSuchFunction" in completed.stderr
    assert "HealthCheckFunction" in completed.stderr
    assert "LogActionFunction" in completed.stderr


@pytest.mark.parametrize(
    ("option", "content"),
    [
        ("-e", "{not json"),
        ("--env-vars", '{"Parameters": ["GREETING"]}'),
        ("--env-vars", "{not json"),
    ],
)
def test_a_bad_event_or_env_vars_file_exits_2(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, content: str
) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)

    exit_code = dev.invoke.main(["EchoFunction", "-t", str(template), option, str(path)])

    captured = capsys.readouterr()
    assert exit_code == 2
    assert captured.out == ""
    assert captured.err.startswith("error: ")


@pytest.mark.parametrize("option", ["-e", "--env-vars", "-t"])
def test_a_missing_file_exits_2(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    exit_code = dev.invoke.main(["EchoFunction", "-t", str(template), option, str(tmp_path / "missing.json")])

    captured = capsys.readouterr()
    assert exit_code == 2
    assert captured.out == ""
    assert "missing.json" in captured.err
