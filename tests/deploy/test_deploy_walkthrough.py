"""The deploy walkthrough and the operations runbook, word for word as far as this machine can check it: everything
but AWS itself.

Each command of the shell blocks of docs/deploy.md and docs/operations.md is read as a shell would split it. The
make targets exist; the parameters exist, take allowed values and pass the template's Rules; the outputs exist for
those parameters; each `aws` command is an operation of the AWS API with those parameters (botocore's own service
models, the ones the AWS CLI is built from); each call of the API is a route of the template that the token it
sends may use; the tokens come from flows and scopes the stack's clients are given; the stack name is
samconfig.toml's.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from dev.cloudformation import Stack
from dev.gateway import RouteTable
from dev.template import REPO_ROOT, load_template

TEMPLATE = load_template()
PARAMETERS = TEMPLATE.document["Parameters"]
# The runbook's commands use the walkthrough's shell function `out` and its tokens, so they are read as one script.
DOCS = ("docs/deploy.md", "docs/operations.md")
TEXT = "\n".join((REPO_ROOT / doc).read_text() for doc in DOCS)
LINES = [line for block in re.findall(r"```sh\n(.*?)```", TEXT, re.S) for line in block.splitlines() if line]
# What the shell variables hold once the commands before have run (placeholders of the right form).
SHELL = {
    "VPC": "vpc-0123456789abcdef0",
    "SUBNETS": "subnet-0a1b2c3d,subnet-4e5f6a7b",
    "SUB": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
}
CLI_OPTIONS = {"--query", "--output", "--region", "--profile"}  # the AWS CLI's own, not the API's
CLI_COMMANDS = {("logs", "tail")}  # the AWS CLI's own commands


def words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars="();|")
    lexer.whitespace_split = True
    return list(lexer)


def deployments() -> list[dict[str, str]]:
    """The parameters of each `make deploy PARAMETERS="..."`, the shell's variables filled in."""
    found = []
    for line in LINES:
        for given in re.findall(r'make deploy PARAMETERS="([^"]*)"', line):
            for name, value in SHELL.items():
                given = given.replace(f"${name}", value)
            found.append(dict(pair.split("=", 1) for pair in given.split()))
    return found


def test_each_document_shows_commands_that_are_checked_here() -> None:
    for doc in DOCS:
        assert re.search(r"```sh\n.*?\baws ", (REPO_ROOT / doc).read_text(), re.S), doc


def test_the_walkthrough_deploys_first_with_the_stacks_own_redis_and_user_pool_then_with_yours() -> None:
    first, yours = deployments()

    assert (first["CreateCache"], first["CreateUserPool"]) == ("true", "true")
    assert "CreateCache" not in yours
    assert "CreateUserPool" not in yours


def test_each_make_target_it_runs_exists() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = {word for line in LINES for word in re.findall(r"\bmake (\w+)", line)}

    assert targets
    for target in targets:
        assert re.search(rf"^{target}:", makefile, re.M), target


@pytest.mark.parametrize("deployment", deployments(), ids=["own", "yours"])
def test_each_deployment_names_real_parameters_with_allowed_values_that_the_rules_accept(
    deployment: dict[str, str],
) -> None:
    for name, value in deployment.items():
        parameter = PARAMETERS[name]
        assert value in parameter.get("AllowedValues", [value]), name
        assert re.fullmatch(parameter.get("AllowedPattern", ".*"), value), name
    assert Stack(TEMPLATE.document, deployment).refusals() == []


def test_each_output_it_reads_exists_in_the_first_deployment() -> None:
    outputs = TEMPLATE.document["Outputs"]
    first = Stack(TEMPLATE.document, deployments()[0])
    read = {name for line in LINES for name in re.findall(r"\$\(out (\w+)\)", line)}

    assert read >= {"ApiUrl", "UserPoolId", "AppClientId", "BackendClientId", "AdminClientId", "TokenUrl"}
    for name in read:
        assert name in outputs, name
        assert "Condition" not in outputs[name] or first.condition(outputs[name]["Condition"]), name


def aws_commands() -> list[tuple[str, str, list[str]]]:
    """(service, command, --options) of every `aws` command."""
    found = []
    for line in LINES:
        tokens = words(line)
        for index, token in enumerate(tokens):
            if token == "aws":
                service, command = tokens[index + 1], tokens[index + 2]
                options, depth = [], 0  # depth: inside a `$(...)` among its arguments, such as `$(out ApiUrl)`
                for word in tokens[index + 3 :]:
                    if word in {"|", ";"} or (word == ")" and depth == 0):
                        break
                    depth += {"(": 1, ")": -1}.get(word, 0)
                    if word.startswith("--") and depth == 0:
                        options.append(word)
                found.append((service, command, options))
    return found


def test_each_aws_command_is_an_api_operation_with_those_parameters() -> None:
    session = botocore.session.get_session()
    commands = aws_commands()

    assert {service for service, _, _ in commands} >= {"ec2", "cloudformation", "cognito-idp", "sqs"}
    for service, command, options in commands:
        if (service, command) in CLI_COMMANDS:
            continue
        model = session.get_service_model(service)
        [operation] = [name for name in model.operation_names if xform_name(name, "-") == command]
        members = {xform_name(member, "-") for member in model.operation_model(operation).input_shape.members}
        for option in set(options) - CLI_OPTIONS:
            assert option.removeprefix("--") in members, f"aws {service} {command} {option}"


def test_the_stack_name_is_samconfigs() -> None:
    with (REPO_ROOT / "samconfig.toml").open("rb") as stream:
        stack_name = tomllib.load(stream)["default"]["global"]["parameters"]["stack_name"]

    assert {name for line in LINES for name in re.findall(r"--stack-name (\S+)", line)} == {stack_name}


def test_the_app_users_sign_in_is_a_flow_the_app_client_allows_with_a_password_the_pool_accepts() -> None:
    # The flows the app client is given in the walkthrough's first deployment (some only when a parameter asks)
    flows = Stack(TEMPLATE.document, deployments()[0]).value(
        TEMPLATE.cloudformation["AppClient"]["Properties"]["ExplicitAuthFlows"]
    )
    policy = TEMPLATE.cloudformation["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]
    [sign_in] = [line for line in LINES if "admin-initiate-auth" in line]
    [password] = re.findall(r"--password '([^']+)'", TEXT)

    flow = re.search(r"--auth-flow (\w+)", sign_in)[1]  # type: ignore[index]
    assert f"ALLOW_{flow}" in flows
    assert "--client-id $APP" in sign_in
    assert f"PASSWORD={password}" in sign_in
    assert len(password) >= policy["MinimumLength"]
    assert all(re.search(kind, password) for kind in ("[a-z]", "[A-Z]", "[0-9]", "[^A-Za-z0-9]"))  # Cognito's default


def test_each_client_credentials_token_asks_for_a_scope_its_client_is_given() -> None:
    clients = {"BACKEND": "BackendClient", "ADMIN": "AdminClient"}
    asked = re.findall(r"token \$(\w+) (\S+?)\)", TEXT)

    assert {client for client, _ in asked} == set(clients)
    for client, scope in asked:
        assert TEMPLATE.cloudformation[clients[client]]["Properties"]["AllowedOAuthScopes"] == [scope], client


# The scopes each token of the walkthrough holds: an app user's has none of the API's.
TOKEN_SCOPES = {"USER_TOKEN": set(), "BACKEND_TOKEN": {"actionlog/cache"}, "ADMIN_TOKEN": {"actionlog/admin"}}


def api_calls() -> list[tuple[str, str, str | None]]:
    """(METHOD, path, the token variable it sends) of every curl to the API."""
    calls = []
    for line in LINES:
        tokens = words(line)
        if "curl" not in tokens or not any(token.startswith("${API}") for token in tokens):
            continue
        [url] = [token for token in tokens if token.startswith("${API}")]
        method = tokens[tokens.index("-X") + 1] if "-X" in tokens else "POST" if "-d" in tokens else "GET"
        bearer = [re.search(r"Bearer \$(\w+)", token) for token in tokens]
        token = next((found[1] for found in bearer if found), None)
        path = "/" + url.removeprefix("${API}").partition("?")[0].replace("$SUB", SHELL["SUB"])
        calls.append((method, path, token))
    return calls


def test_each_api_call_is_a_route_the_token_it_sends_may_use() -> None:
    routes = RouteTable(TEMPLATE.routes)
    calls = api_calls()

    assert {path.split("/")[1] for _, path, _ in calls} >= {"health", "users", "cache", "userActions"}
    for method, path, token in calls:
        match = routes.match(method, path)
        assert match is not None, f"{method} {path}"
        held: set[str] = TOKEN_SCOPES[token] if token else set()
        if match.route.authorizer is None:
            continue
        assert token is not None, f"{method} {path} needs a token"
        assert not match.route.scopes or held & set(match.route.scopes), f"{method} {path} with {token}"
        user = match.path_parameters.get("userId")
        assert user in (None, SHELL["SUB"]) or "actionlog/admin" in held, f"{method} {path} with {token}"


def test_samconfig_holds_no_secret_and_only_the_templates_parameters() -> None:
    with (REPO_ROOT / "samconfig.toml").open("rb") as stream:
        config: dict[str, Any] = tomllib.load(stream)
    deploy = config["default"]["deploy"]["parameters"]

    overrides = dict(pair.split("=", 1) for pair in deploy["parameter_overrides"].split())
    assert set(overrides) <= set(PARAMETERS)
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    settings = [key for command in config["default"].values() for key in command["parameters"]]
    assert not [key for key in [*settings, *overrides] if re.search(r"password|secret(?!arn)|token", key, re.I)]
