"""dev.template: the route table comes from template.yaml, and matches the code under functions/."""

from pathlib import Path

from dev.template import REPO_ROOT, load_template


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


def test_the_global_environment_lists_the_configuration_the_functions_read() -> None:
    template = load_template()

    assert {"REDIS_URL", "REDIS_HOST", "AUTH_REQUIRED", "POWERTOOLS_SERVICE_NAME"} <= set(template.global_environment)
    # A literal is kept; a !Ref has no local value.
    assert template.global_environment["POWERTOOLS_SERVICE_NAME"] == "actionlog"
    assert template.global_environment["AUTH_REQUIRED"] is None


def test_functions_merge_their_properties_over_the_globals_like_sam(tmp_path: Path) -> None:
    # Given a template with short tags, globals, a function that overrides some of them and a local layer
    (tmp_path / "template.yaml").write_text(
        """
Transform: AWS::Serverless-2016-10-31
Conditions:
  Never: !Equals [!Ref AWS::Region, "nowhere"]
Globals:
  Function:
    Handler: app.lambda_handler
    Timeout: 10
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        FROM_PARAMETER: !Ref SomeParameter
        SERVICE: shared
        ENABLED: true
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/shared/
  Api:
    Type: AWS::Serverless::HttpApi
  ItemsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/items/
      Handler: handlers/main.handle
      Timeout: 5
      Role: !GetAtt SomeRole.Arn
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
        Open:
          Type: HttpApi
          Properties:
            Method: get
            Path: /open
            Auth:
              Authorizer: NONE
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
"""
    )

    # When it is loaded
    template = load_template(tmp_path / "template.yaml")

    # Then the function's own settings win, the rest come from the globals
    function = template.functions["ItemsFunction"]
    assert function.code_dir == tmp_path / "functions" / "items"
    assert function.handler == "handlers/main.handle"
    assert function.timeout_seconds == 5
    assert function.memory_mb == 128  # SAM's default
    assert function.layer_dirs == (tmp_path / "layers" / "shared",)
    assert function.environment == {"FROM_PARAMETER": None, "SERVICE": "items", "ENABLED": "true"}
    # And only the HttpApi events are routes; an API without a default authorizer runs none
    assert [(route.key, route.authorizer) for route in template.routes] == [
        ("ANY /items/{proxy+}", None),
        ("GET /open", None),
    ]
