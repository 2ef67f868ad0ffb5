"""template.yaml is the one route table: every handler serves exactly the routes the template gives it."""

import importlib
import re

import pytest

from actionlog.http import ActionlogApi
from dev.template import load_template

TEMPLATE = load_template()
HTTP_FUNCTIONS = sorted({route.function.logical_id for route in TEMPLATE.routes})


def handler_api(logical_id: str) -> ActionlogApi:
    operation = TEMPLATE.functions[logical_id].code_dir.name
    module = importlib.import_module(f"functions.{operation}.app")
    apis = [value for value in vars(module).values() if isinstance(value, ActionlogApi)]
    apis += [value.api for value in vars(module).values() if isinstance(getattr(value, "api", None), ActionlogApi)]
    assert len(apis) == 1, f"{logical_id} should build exactly one ActionlogApi"
    return apis[0]


@pytest.mark.parametrize("logical_id", HTTP_FUNCTIONS)
def test_a_handler_serves_exactly_its_template_routes(logical_id: str) -> None:
    declared = {(route.method, route.path) for route in TEMPLATE.routes if route.function.logical_id == logical_id}
    # A template route with a fixed segment (POST /redisHealth/check) is served by the handler's
    # parameterised route for the same path shape (POST /redisHealth/{method}).
    schema = handler_api(logical_id).get_openapi_schema()
    served = {
        (method.upper(), path) for path, item in schema.paths.items() for method in item.model_dump(exclude_none=True)
    }

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    served_shapes = {(method, shape(path)) for method, path in served}
    for method, path in declared:
        parameterised = (method, shape(path))
        fixed_as_parameter = (method, re.sub(r"/[^/{}]+$", "/{}", path))
        assert parameterised in served_shapes or fixed_as_parameter in served_shapes, (method, path)
    assert served_shapes <= {(method, shape(path)) for method, path in declared}
