"""dev.template: the route table comes from template.yaml, and matches the code under functions/."""

import os
import time
from pathlib import Path

import pytest

from dev.template import REPO_ROOT, load_template, read_document


def test_every_function_directory_is_one_template_function() -> None:
    # Given the template and the functions/ directory
    template = load_template()
    on_disk = {path.parent.name for path in (REPO_ROOT / "functions").glob("*/app.py")}
    code_dirs = [function.code_dir for function in template.functions.values()]

    # Then each function directory is the CodeUri of exactly one function, and no function points elsewhere
    assert all(code_dir.parent == REPO_ROOT / "functions" for code_dir in code_dirs), code_dirs
    in_template = [code_dir.name for code_dir in code_dirs]
    assert len(in_template) == len(set(in_template)), "two functions share a CodeUri"
    assert sorted(on_disk - set(in_template)) == [], "functions/ directories template.yaml does not deploy"
    assert sorted(set(in_template) - on_disk) == [], "template functions without a functions/<name>/app.py"


def test_every_route_runs_a_handler_that_exists() -> None:
    template = load_template()

    assert template.routes
    for route in template.routes:
        module, _, _ = route.function.handler.rpartition(".")
        assert (route.function.code_dir / f"{module}.py").is_file(), route.key
        assert route.method in {"GET", "POST", "PUT", "DELETE"}, route.key
        assert route.path.startswith("/"), route.key


def test_routes_are_unique_and_only_the_health_checks_are_public() -> None:
    routes = load_template().routes

    keys = [route.key for route in routes]
    assert len(keys) == len(set(keys))
    public = [route.key for route in routes if route.authorizer is None]
    assert public == ["GET /health", "POST /redisHealth/check"]
    assert {route.authorizer for route in routes} == {None, "JwtAuthorizer"}


def test_every_function_gets_the_globals_with_the_parameters_at_their_defaults() -> None:
    template = load_template()

    for function in template.functions.values():
        assert (function.timeout_seconds, function.memory_mb, function.handler) == (15, 256, "app.lambda_handler")
        assert function.layer_dirs == (REPO_ROOT / "layers" / "actionlog",), function.logical_id
        assert (function.log_format, function.log_level) == ("JSON", "INFO"), function.logical_id
        assert function.description, function.logical_id
        environment = function.environment
        # A literal is kept, a !Ref to a parameter takes its default (CloudFormation's string, even for a Number),
        # and an !If follows its condition (CreateCache is false)
        assert environment["POWERTOOLS_SERVICE_NAME"] == "actionlog", function.logical_id
        assert environment["AUTH_REQUIRED"] == "true", function.logical_id
        assert (environment["REDIS_URL"], environment["REDIS_HOST"], environment["REDIS_PORT"]) == ("", "", "6379")
        assert (environment["REDIS_TLS"], environment["REDIS_CLUSTER"]) == ("false", "false")
        assert environment["ACTIONS_MAX_ENTRIES"] == "100"


def test_parameter_overrides_change_what_the_functions_get_and_attributes_stay_for_the_deployment() -> None:
    [environment] = {
        str(function.environment): function.environment
        for function in load_template(overrides={"CreateCache": "true", "RedisRetries": "0"}).functions.values()
    }.values()

    # The cache's endpoint is an attribute only CloudFormation knows: no local value
    assert (environment["REDIS_URL"], environment["REDIS_HOST"], environment["REDIS_PORT"]) == ("", None, None)
    assert (environment["REDIS_TLS"], environment["REDIS_CLUSTER"], environment["REDIS_RETRIES"]) == (
        "true",
        "true",
        "0",
    )


def test_an_override_of_a_parameter_the_template_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="no parameter RedisHots"):
        load_template(overrides={"RedisHots": "cache.internal"})


def test_each_function_knows_how_it_is_invoked() -> None:
    functions = load_template().functions

    assert functions["IngestActionsFunction"].event_types == {"SQS"}
    assert functions["HealthProbeFunction"].event_types == {"Schedule"}
    assert functions["LogActionFunction"].event_types == {"HttpApi"}
    assert all(function.event_types for function in functions.values())


def test_the_raw_document_keeps_the_intrinsics_in_their_long_form() -> None:
    document = read_document()

    variables = document["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["AUTH_REQUIRED"] == {"Ref": "AuthRequired"}
    assert load_template().document == document


TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  WithDefault:
    Type: String
    Default: from-the-default
  NumberWithDefault:
    Type: Number
    Default: 42
  WithoutDefault:
    Type: String
Conditions:
  Never: !Equals [!Ref AWS::Region, "nowhere"]
Globals:
  Function:
    Runtime: python3.13
    Handler: app.lambda_handler
    Timeout: 10
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        FROM_PARAMETER: !Ref WithDefault
        FROM_NUMBER: !Ref NumberWithDefault
        NO_DEFAULT: !Ref WithoutDefault
        REGION: !Sub "${AWS::Region}-suffix"
        SERVICE: shared
        ENABLED: true
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/shared/
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: https://issuer.example
              audience: [client]
  Queue:
    Type: AWS::SQS::Queue
  ItemsFunction:
    Type: AWS::Serverless::Function
    Properties:
      Description: Items.
      CodeUri: functions/items/
      Handler: handlers/main.handle
      Timeout: 5
      Role: arn:aws:iam::123456789012:role/items
      LoggingConfig:
        LogFormat: JSON
        ApplicationLogLevel: !Ref WithDefault
      Environment:
        Variables:
          SERVICE: items
      Events:
        Anything:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: any
            Path: /items/{proxy+}
        Admin:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: delete
            Path: /items/{id}
            Auth:
              Authorizer: Jwt
              AuthorizationScopes: [items/admin, items/ops]
        Open:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: get
            Path: /open
            Auth:
              Authorizer: NONE
        Implicit:
          Type: HttpApi
          Properties:
            Method: post
            Path: /implicit
        FromQueue:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/tick/
      Role: arn:aws:iam::123456789012:role/tick
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
"""


def test_functions_merge_their_properties_over_the_globals_as_sam_does(tmp_path: Path) -> None:
    # Given a template with short tags, globals, a function that overrides some of them, a local layer, and
    # parameters with and without a default
    (tmp_path / "template.yaml").write_text(TEMPLATE)

    # When it is loaded
    template = load_template(tmp_path / "template.yaml")

    # Then the function's own settings win, the rest come from the globals, and the Lambda defaults fill the gaps
    items, tick = template.functions["ItemsFunction"], template.functions["TickFunction"]
    assert items.code_dir == tmp_path / "functions" / "items"
    assert items.handler == "handlers/main.handle"
    assert (items.timeout_seconds, tick.timeout_seconds) == (5, 10)
    assert (items.memory_mb, tick.memory_mb) == (128, 128)  # Lambda's default
    assert items.layer_dirs == tick.layer_dirs == (tmp_path / "layers" / "shared",)
    assert (items.description, tick.description) == ("Items.", "")
    assert (items.log_format, items.log_level) == ("JSON", "from-the-default")
    assert (tick.log_format, tick.log_level) == ("Text", None)
    # And the environments merge, a parameter's default standing in for its Ref; no default, or any other
    # intrinsic, leaves no local value
    assert items.environment == {
        "FROM_PARAMETER": "from-the-default",
        "FROM_NUMBER": "42",
        "NO_DEFAULT": None,
        "REGION": None,
        "SERVICE": "items",
        "ENABLED": "true",
    }
    assert tick.environment["SERVICE"] == "shared"
    # And each function knows how it is invoked
    assert items.event_types == {"HttpApi", "SQS"}
    assert tick.event_types == {"Schedule"}
    # And only the HttpApi events are routes, with the authorizer and the scopes API Gateway applies: the API's
    # default unless a route says otherwise, and none on SAM's implicit API, which has no default authorizer
    routes = [(route.key, route.function.logical_id, route.authorizer, route.scopes) for route in template.routes]
    assert routes == [
        ("POST /implicit", "ItemsFunction", None, ()),
        ("DELETE /items/{id}", "ItemsFunction", "Jwt", ("items/admin", "items/ops")),
        ("ANY /items/{proxy+}", "ItemsFunction", "Jwt", ()),
        ("GET /open", "ItemsFunction", None, ()),
    ]


def test_an_edited_template_is_read_again(tmp_path: Path) -> None:
    # Given a template that was loaded
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    assert load_template(path).functions["ItemsFunction"].timeout_seconds == 5

    # When it is edited
    path.write_text(TEMPLATE.replace("Timeout: 5", "Timeout: 7"))
    later = time.time_ns() + 10**9
    os.utime(path, ns=(later, later))

    # Then the next load sees the change
    assert load_template(path).functions["ItemsFunction"].timeout_seconds == 7


def test_a_template_sams_translator_refuses_is_a_value_error_naming_the_reason(tmp_path: Path) -> None:
    # Given a template whose function has no CodeUri (SAM requires one, or InlineCode)
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.replace("CodeUri:", "Description:"))

    # Then loading it says what the translator found, as the local tools report bad input (exit status 2)
    with pytest.raises(ValueError, match=r"SAM's translator refused .*CodeUri"):
        load_template(path)


def test_without_the_sam_clis_virtualenv_loading_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no .venv-sam, where SAM's translator is installed
    monkeypatch.setattr("dev.sam_cli.SAM_PYTHON", tmp_path / "missing" / "python")
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)

    # Then loading the template fails as a missing file does, saying `make` installs it
    with pytest.raises(FileNotFoundError, match="`make` installs the SAM CLI"):
        load_template(path)
