"""dev.lambda_environment: what Lambda gives a function besides its event."""

from dev.lambda_environment import lambda_context, lambda_environment
from dev.template import load_template


def test_lambda_context_is_awslambdarics_with_the_functions_arn_and_deadline() -> None:
    first = lambda_context("SomeFunction", timeout_seconds=2)
    second = lambda_context("SomeFunction", timeout_seconds=2)

    assert type(first).__module__ == "awslambdaric.lambda_context"
    assert first.invoked_function_arn.endswith(":function:SomeFunction")
    assert 1000 < first.get_remaining_time_in_millis() <= 2000
    assert first.aws_request_id != second.aws_request_id


def test_lambdas_variables_for_a_template_function() -> None:
    function = load_template().functions["LogActionFunction"]

    environment = lambda_environment(function, {"POWERTOOLS_SERVICE_NAME": "actionlog"}, [function.code_dir])

    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "LogActionFunction"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environment["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "15"
    assert (environment["AWS_LAMBDA_LOG_FORMAT"], environment["AWS_LAMBDA_LOG_LEVEL"]) == ("JSON", "INFO")
    assert environment["LAMBDA_TASK_ROOT"] == str(function.code_dir)
    assert environment["PYTHONPATH"] == str(function.code_dir)
    assert environment["POWERTOOLS_SERVICE_NAME"] == "actionlog"
