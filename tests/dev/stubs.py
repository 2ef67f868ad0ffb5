"""Routes to functions that are never started: what the gateway and server tests route requests to."""

from pathlib import Path

from dev.template import Function, Route


def stub_route(
    method: str,
    path: str,
    authorizer: str | None = "JwtAuthorizer",
    scopes: tuple[str, ...] = (),
    function_name: str | None = None,
) -> Route:
    function = Function(
        logical_id=function_name or f"{method.title()}{len(path)}Function",
        code_dir=Path("/nowhere"),
        handler="app.lambda_handler",
        layer_dirs=(),
        timeout_seconds=3,
        memory_mb=128,
        environment={},
        description="",
        event_types=frozenset({"HttpApi"}),
        log_format="Text",
        log_level=None,
    )
    return Route(function=function, method=method, path=path, authorizer=authorizer, scopes=scopes)
