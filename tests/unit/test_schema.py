"""actionlog.schema: shapes validate strictly, encode as declared, and document themselves as pydantic would."""

import json
from typing import Annotated, Any, Literal

import pytest
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import ValidationError

from actionlog.schema import Before, Doc, Length, Number, Shape, Text, field


class Item(Shape):
    """An item."""

    name: Annotated[str, Text(min_length=1, max_length=5), Doc("Its name")]
    count: Annotated[int, Number(ge=1)] = 1
    tags: list[str] = field(factory=list)
    note: str | None = field(default=None, omit_if_none=True)


class Basket(Shape, extra="forbid"):
    items: Annotated[list[Item], Length(min_length=1)]
    size: Annotated[int, Before(lambda value: int(value) if isinstance(value, str) else value)] = 0
    kind: Literal["a", "b"] = "a"


def test_a_shape_validates_json_strictly_and_fills_its_defaults() -> None:
    basket = Basket.validate_json('{"items": [{"name": "egg"}]}')

    assert basket.items[0].name == "egg"
    assert (basket.items[0].count, basket.items[0].tags, basket.size, basket.kind) == (1, [], 0, "a")
    assert basket.items[0].tags is not Item.validate_json('{"name": "x"}').tags  # each gets a fresh list


@pytest.mark.parametrize(
    "body",
    [
        '{"items": []}',
        '{"items": [{"name": ""}]}',
        '{"items": [{"name": "toolong"}]}',
        '{"items": [{"name": "egg", "count": "2"}]}',
        '{"items": [{"name": "egg", "count": 0}]}',
        '{"items": [{"name": "egg"}], "extra": 1}',
        '{"items": [{"name": "egg"}], "kind": "c"}',
        '{"items": {"name": "egg"}}',
        "[]",
    ],
)
def test_what_breaks_the_shape_is_refused_never_coerced(body: str) -> None:
    with pytest.raises(ValidationError):
        Basket.validate_json(body)


def test_a_conversion_runs_before_validation() -> None:
    assert Basket.validate_python({"items": [{"name": "egg"}], "size": "3"}).size == 3


def test_a_shape_encodes_its_fields_in_order_and_leaves_out_what_it_omits_when_none() -> None:
    item = Item(name="egg")

    assert item.to_json() == '{"name":"egg","count":1,"tags":[]}'
    assert Item(name="egg", note="fresh").to_python()["note"] == "fresh"
    assert Item.validate_json(item.to_json()) == item


def test_a_shape_without_a_required_field_cannot_be_made() -> None:
    with pytest.raises(TypeError, match="name"):
        Item()


def test_the_json_schema_is_pydantics_with_constraints_defaults_and_descriptions() -> None:
    schema: dict[str, Any] = GenerateJsonSchema().generate(Basket.core_schema(), mode="validation")

    item = schema["$defs"]["Item"]
    assert item["description"] == "An item."
    assert item["properties"]["name"] == {
        "description": "Its name",
        "maxLength": 5,
        "minLength": 1,
        "title": "Name",
        "type": "string",
    }
    assert item["properties"]["count"]["minimum"] == 1
    assert schema["additionalProperties"] is False
    assert schema["properties"]["kind"]["enum"] == ["a", "b"]
    assert json.loads(json.dumps(schema))  # plain JSON


def test_constraints_on_an_optional_value_hold_for_the_value() -> None:
    from typing import Annotated

    from actionlog.schema import Number, Shape, Text

    class Optional(Shape):
        name: Annotated[str | None, Text(pattern=r"^[a-z]+$", max_length=3)] = None
        size: Annotated[int | None, Number(ge=1)] = None

    assert Optional.validate_python({}).name is None
    assert Optional.validate_python({"name": "abc", "size": 1}).size == 1
    for refused in ({"name": "ABC"}, {"name": "abcd"}, {"size": 0}):
        with pytest.raises(ValueError, match="validation error"):
            Optional.validate_python(refused)


def test_a_list_of_fields_is_validated_as_its_shape_and_kept_as_dicts() -> None:
    from actionlog.models import ActionIn, BatchIn

    batch = BatchIn.validate_json('{"actions": [{"action": "a"}, {"action": "b", "metadata": {"k": 1}}]}')

    assert batch.actions == [
        {"action": "a", "metadata": {}, "timestamp": None},
        {"action": "b", "metadata": {"k": 1}, "timestamp": None},
    ]
    for refused in ('{"action": ""}', '{"action": "a", "metadata": []}', '{"metadata": {}}', '{"action": 5}'):
        with pytest.raises(ValueError, match="validation error"):
            BatchIn.validate_json('{"actions": [' + refused + "]}")
        with pytest.raises(ValueError, match="validation error"):
            ActionIn.validate_json(refused)  # the same refusals as the shape itself
