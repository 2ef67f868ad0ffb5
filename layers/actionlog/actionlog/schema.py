"""Shapes: the JSON objects Actionlog reads and writes, declared like pydantic models and run by pydantic-core alone.

    class ActionIn(Shape):
        action: Annotated[str, Text(min_length=1, max_length=100)]
        metadata: dict[str, Any] = field(factory=dict)

    ActionIn.validate_json('{"action": "login"}').action  # "login"

A shape's fields are its annotations; `Annotated` adds constraints (`Text`, `Number`, `Length`, `Moment`), a
conversion before validation (`Before`) or a description (`Doc`), and `field()` a default. Each marker does what a
pydantic name does, so a pydantic reader can translate:

    this module                      pydantic
    Shape                            BaseModel (strict, extra="ignore" by default)
    Text(min_length, max_length,     StringConstraints(min_length=, max_length=, pattern=)
         pattern)
    Number(ge, le)                   Field(ge=, le=) / annotated_types.Ge, Le
    Length(min_length, max_length)   Field(min_length=, max_length=) / annotated_types.Len
    Moment(ge, le)                   AwareDatetime with Field(ge=, le=) (annotated_types.Timezone(...))
    LazyPattern(pattern)             StringConstraints(pattern=), its regex compiled on first use (an AfterValidator)
    Before(convert, accepts=)        BeforeValidator(convert, json_schema_input_type=accepts)
    Doc(text, json_schema_extra=)    Field(description=text, json_schema_extra=)
    field(default=, factory=,        Field(default=, default_factory=, exclude_if=lambda v: v is None)
          omit_if_none=)
    Encoded(shape, json)             (none: a shape's JSON written around stored text, see models) On first use the
annotations become a pydantic-core schema, from which pydantic-core builds the validator and the serialiser: the
same Rust code pydantic's models run on, the same errors (`pydantic_core.ValidationError`), and the same JSON
Schema, which `dev/openapi.py` has pydantic generate from that schema.

Why not pydantic's BaseModel: on this project's path to a first answer, importing pydantic (pydantic.main,
pydantic.types, annotated_types) and constructing its models cost about 80 ms of every cold start, against about
25 ms for pydantic-core alone and about 200 ms for `import redis` (bench/RESULTS.md); with BaseModel no function
could start within 1.5 times a bare redis-py process. Only the subset of types Actionlog uses is translated.
"""

import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Literal, NamedTuple, Self

from pydantic_core import CoreSchema, PydanticKnownError, SchemaSerializer, SchemaValidator
from pydantic_core import core_schema as cs

_NOT_GIVEN: Any = object()


class Text:
    """Constraints on a string."""

    def __init__(self, *, min_length: int | None = None, max_length: int | None = None, pattern: str | None = None):
        self.constraints = {"min_length": min_length, "max_length": max_length, "pattern": pattern}


class Number:
    """Bounds of an integer."""

    def __init__(self, *, ge: int | None = None, le: int | None = None) -> None:
        self.constraints = {"ge": ge, "le": le}


class Length:
    """How many items a list holds."""

    def __init__(self, *, min_length: int | None = None, max_length: int | None = None) -> None:
        self.constraints = {"min_length": min_length, "max_length": max_length}


class Moment:
    """A datetime with a time zone, within bounds."""

    def __init__(self, *, ge: datetime | None = None, le: datetime | None = None) -> None:
        self.constraints = {"tz_constraint": "aware", "ge": ge, "le": le}


class LazyPattern:
    """A string's pattern, as `Text(pattern=...)` checks it, its regex compiled when it first checks a value.

    The same check, error (`string_pattern_mismatch`, its message naming the pattern) and JSON Schema, for a pattern
    that is costly to compile: pydantic-core's regex unrolls bounded repeats, so `x{1,100}(,x{1,100}){0,19}` becomes
    2,000 copies of `x`, measured at about 10 ms of a cold start, paid by every request's validator even when the
    field is absent.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._validator: SchemaValidator | None = None

    def __call__(self, value: str) -> str:
        if self._validator is None:
            self._validator = SchemaValidator(cs.str_schema(pattern=self.pattern))
        if not self._validator.isinstance_python(value):
            raise PydanticKnownError("string_pattern_mismatch", {"pattern": self.pattern})
        return value


class Before:
    """A conversion applied to the input before validation; `accepts` is what the JSON Schema documents as input."""

    def __init__(self, convert: Callable[[Any], Any], *, accepts: Any = None) -> None:
        self.convert = convert
        self.accepts = accepts


class Doc:
    """A description, and what else the JSON Schema shows that the validator does not check (`json_schema_extra`)."""

    def __init__(self, description: str | None = None, *, json_schema_extra: Mapping[str, Any] | None = None) -> None:
        self.description = description
        self.json_schema_extra = dict(json_schema_extra or {})


class Encoded[S](NamedTuple):
    """A shape's JSON written by hand, around text that already is JSON (stored entries, a replayed answer)."""

    shape: type[S]
    json: str


class _Field:
    def __init__(self, default: Any, factory: Callable[[], Any] | None, omit_if_none: bool) -> None:
        self.default = default
        self.factory = factory
        self.omit_if_none = omit_if_none


def field(*, default: Any = _NOT_GIVEN, factory: Callable[[], Any] | None = None, omit_if_none: bool = False) -> Any:
    """A field's default (`factory` makes a fresh one for each value); `omit_if_none` leaves a None out of the JSON."""
    return _Field(default, factory, omit_if_none)


class Shape:
    """A JSON object with typed fields: validated from JSON or Python data, and encoded, by pydantic-core.

    Subclasses are strict by default (a field of another JSON type is refused, never coerced) and ignore unknown
    fields; `class X(Shape, strict=False, extra="forbid")` changes either.
    """

    # Where pydantic-core keeps what it knows of a value besides its fields, as in pydantic's own models.
    __slots__ = ("__dict__", "__pydantic_extra__", "__pydantic_fields_set__", "__pydantic_private__")

    __strict__: ClassVar[bool] = True
    __extra__: ClassVar[Literal["ignore", "forbid", "allow"]] = "ignore"
    # Made on first use, for each shape class itself (looked up in its own __dict__, never inherited).
    __core_schema__: ClassVar[CoreSchema]
    __fields__: ClassVar[dict[str, "_Field | None"]]
    __compiled__: ClassVar[tuple[SchemaValidator, SchemaSerializer]]
    # Read by pydantic's JSON Schema generator from the class of a model schema (title, description, ...).
    model_config: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(
        cls, *, strict: bool | None = None, extra: Literal["ignore", "forbid", "allow"] | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.__strict__ = cls.__strict__ if strict is None else strict
        cls.__extra__ = cls.__extra__ if extra is None else extra
        cls.model_config = {"extra": cls.__extra__}  # additionalProperties in the JSON Schema

    def __init__(self, **values: Any) -> None:
        """A shape from trusted values (Actionlog's own answers): defaults filled in, nothing validated."""
        fields = {}
        for name, spec in _fields(type(self)).items():
            if name in values:
                fields[name] = values[name]
            elif spec is not None and spec.factory is not None:
                fields[name] = spec.factory()
            elif spec is not None and spec.default is not _NOT_GIVEN:
                fields[name] = spec.default
            else:
                raise TypeError(f"{type(self).__name__} needs {name}")
        self.__dict__.update(fields)
        self.__pydantic_fields_set__ = set(values)
        self.__pydantic_extra__ = None
        self.__pydantic_private__ = None

    @classmethod
    def validate_json(cls, data: str | bytes) -> Self:
        result: Self = _compiled(cls)[0].validate_json(data)
        return result

    @classmethod
    def validate_python(cls, data: Any) -> Self:
        result: Self = _compiled(cls)[0].validate_python(data)
        return result

    def to_json(self) -> str:
        return _compiled(type(self))[1].to_json(self).decode()

    def check(self) -> None:
        """What the shape's fields cannot say alone, checked once validated and before Redis (by default nothing)."""

    def encoded(self) -> "Encoded[Self]":
        """The shape's JSON, as an answer that is kept and handed back as it is (a replayed response)."""
        return Encoded(type(self), self.to_json())

    def to_python(self) -> dict[str, Any]:
        """The shape as JSON-able Python data."""
        data: dict[str, Any] = _compiled(type(self))[1].to_python(self, mode="json")
        return data

    @classmethod
    def core_schema(cls) -> CoreSchema:
        """The pydantic-core schema of the shape (its validator's, its serialiser's and its JSON Schema's)."""
        cached = cls.__dict__.get("__core_schema__")
        if cached is None:
            annotations = typing.get_type_hints(cls, include_extras=True)
            fields = {name: _model_field(annotations[name], spec) for name, spec in _fields(cls).items()}
            cached = cs.model_schema(
                cls,
                cs.model_fields_schema(fields, extra_behavior=cls.__extra__),
                ref=cls.__qualname__,
                config=cs.CoreConfig(strict=cls.__strict__, extra_fields_behavior=cls.__extra__),
            )
            cls.__core_schema__ = cached
        return cached

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and type(other) is type(self) and self.to_python() == other.to_python()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name, None)!r}" for name in _fields(type(self)))
        return f"{type(self).__name__}({values})"


def _fields(shape: type[Shape]) -> dict[str, _Field | None]:
    """Each field's declared default, by name: an `_Field`, or None for a field without one."""
    cached: dict[str, _Field | None] | None = shape.__dict__.get("__fields__")
    if cached is None:
        cached = {}
        for klass in reversed(shape.__mro__):
            for name, annotation in vars(klass).get("__annotations__", {}).items():
                if name.startswith("_") or annotation is ClassVar or typing.get_origin(annotation) is ClassVar:
                    continue
                declared = vars(klass).get(name, _NOT_GIVEN)
                if isinstance(declared, _Field):
                    cached[name] = declared
                elif declared is not _NOT_GIVEN:
                    cached[name] = _Field(declared, None, omit_if_none=False)
                else:
                    cached[name] = cached.get(name)
        shape.__fields__ = cached
    return cached


def _compiled(shape: type[Shape]) -> tuple[SchemaValidator, SchemaSerializer]:
    cached: tuple[SchemaValidator, SchemaSerializer] | None = shape.__dict__.get("__compiled__")
    if cached is None:
        schema = shape.core_schema()
        cached = (SchemaValidator(schema), SchemaSerializer(schema))
        shape.__compiled__ = cached
    return cached


def _model_field(annotation: Any, spec: _Field | None) -> cs.ModelField:
    schema, metadata = _field_schema(annotation, spec)
    omit = _is_none if spec is not None and spec.omit_if_none else None
    return cs.model_field(schema, serialization_exclude_if=omit, metadata=metadata)


def _field_schema(annotation: Any, spec: _Field | None) -> tuple[Any, Any]:
    """A field's schema with its default, and its metadata (a description is the field's, in the JSON Schema)."""
    schema = core(annotation)
    metadata = schema.pop("metadata", None)
    if spec is not None and spec.factory is not None:
        schema = cs.with_default_schema(schema, default_factory=spec.factory)
    elif spec is not None and spec.default is not _NOT_GIVEN:
        schema = cs.with_default_schema(schema, default=spec.default)
    return schema, metadata


class Fields:
    """On a list of dicts, `Annotated[list[dict[str, Any]], Fields(SomeShape)]`: each item is validated as `shape`
    and kept as a dict of its fields.

    The same schema (fields, constraints, defaults, strictness, extra fields), and the same JSON Schema, without a
    model's work for each item: for a batch of 100 actions, about half of validating it.
    """

    def __init__(self, shape: type["Shape"]) -> None:
        self.shape = shape


def fields_of(shape: type[Shape]) -> Any:
    """The pydantic-core schema of `shape` validated into a dict of its fields (see `Fields`)."""
    annotations = typing.get_type_hints(shape, include_extras=True)
    fields = {}
    for name, spec in _fields(shape).items():
        schema, metadata = _field_schema(annotations[name], spec)
        required = schema.get("type") != "default"
        fields[name] = cs.typed_dict_field(schema, required=required, metadata=metadata)
    config = cs.CoreConfig(strict=shape.__strict__, extra_fields_behavior=shape.__extra__)
    return cs.typed_dict_schema(
        fields, cls=shape, ref=shape.__qualname__, extra_behavior=shape.__extra__, config=config
    )


def _is_none(value: Any) -> bool:
    return value is None


_SIMPLE: Mapping[Any, Callable[[], Any]] = {
    str: cs.str_schema,
    int: cs.int_schema,
    bool: cs.bool_schema,
    float: lambda: cs.float_schema(allow_inf_nan=False),
    datetime: cs.datetime_schema,
    Any: cs.any_schema,
    type(None): cs.none_schema,
}


def core(annotation: Any) -> Any:
    """The pydantic-core schema of a type annotation (the subset of types Actionlog uses), a CoreSchema.

    Typed `Any`: the constraints below are added to the schema dictionaries in place, which CoreSchema's TypedDicts,
    one per kind of schema, do not let a type checker follow.
    """
    if annotation in _SIMPLE:
        return _SIMPLE[annotation]()
    if isinstance(annotation, type) and issubclass(annotation, Shape):
        return annotation.core_schema()
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        shapes = [marker.shape for marker in annotation.__metadata__ if isinstance(marker, Fields)]
        inner = cs.list_schema(fields_of(shapes[0])) if shapes else core(arguments[0])
        return _constrained(inner, annotation.__metadata__)
    if origin is dict:
        return cs.dict_schema(core(arguments[0]), core(arguments[1]))
    if origin is list:
        return cs.list_schema(core(arguments[0]))
    if origin is Literal:
        return cs.literal_schema(list(arguments))
    if origin in (typing.Union, types.UnionType):
        options = [option for option in arguments if option is not type(None)]
        inner = core(options[0]) if len(options) == 1 else cs.union_schema([core(option) for option in options])
        return cs.nullable_schema(inner) if len(options) < len(arguments) else inner
    raise TypeError(f"no shape for {annotation!r}")


def _constrained(schema: Any, markers: tuple[Any, ...]) -> Any:
    for marker in markers:
        if isinstance(marker, Text | Number | Length | Moment):
            # On `X | None` the constraints are the value's: a nullable schema would ignore them.
            target = schema["schema"] if schema.get("type") == "nullable" else schema
            target.update({name: value for name, value in marker.constraints.items() if value is not None})
        elif isinstance(marker, LazyPattern):
            updates = {"pydantic_js_updates": {"pattern": marker.pattern}}  # where Text's pattern would show
            if schema.get("type") == "nullable":
                schema["schema"] = cs.no_info_after_validator_function(marker, schema["schema"], metadata=updates)
            else:
                schema = cs.no_info_after_validator_function(marker, schema, metadata=updates)
        elif isinstance(marker, Before):
            accepts = core(marker.accepts) if marker.accepts is not None else None
            metadata = schema.pop("metadata", None)
            schema = cs.no_info_before_validator_function(marker.convert, schema, json_schema_input_schema=accepts)
            if metadata:
                schema["metadata"] = metadata
        elif isinstance(marker, Doc):
            updates = schema.setdefault("metadata", {}).setdefault("pydantic_js_updates", {})
            if marker.description is not None:
                updates["description"] = marker.description
            updates.update(marker.json_schema_extra)
    return schema
