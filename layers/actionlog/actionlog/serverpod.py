"""Serverpod-compatible routes, so the seed's Flutter clients work by pointing them at the API.

A Serverpod client calls `POST /<endpoint>/<method>` with the arguments as named JSON fields, or (older
clients) `POST /<endpoint>` with a `"method"` field beside them, and expects the bare JSON result: `true`,
a list, an object. These routes reuse the layer's operations; only the envelope differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ValidationError

from actionlog.auth import Access
from actionlog.errors import BadRequest, NotFound, StoreUnavailable
from actionlog.http import ActionlogApi, json_response, parse_json


@dataclass(frozen=True, slots=True)
class Method:
    """One endpoint method: its arguments, who may call it, and what it does."""

    arguments: type[BaseModel]
    access: Access
    call: Callable[[Any], Any]
    degraded_result: Any = None  # answered (200) instead of 503 when Redis is unavailable; None: 503


class ServerpodEndpoint:
    def __init__(self, name: str, methods: Mapping[str, Method], *, access: Access) -> None:
        self.name = name
        self.methods = methods
        self.api = ActionlogApi(access)
        self.api.post(f"/{name}/<method>")(self._call_named_in_path)
        self.api.post(f"/{name}")(self._call_named_in_body)

    def _call_named_in_path(self, method: str) -> Response[Any]:
        return self._call(method, self._arguments())

    def _call_named_in_body(self) -> Response[Any]:
        arguments = self._arguments()
        method = arguments.pop("method", None)
        if not isinstance(method, str):
            raise BadRequest(f'name the {self.name} method in the path or in a "method" field')
        return self._call(method, arguments)

    def _call(self, name: str, arguments: dict[str, Any]) -> Response[Any]:
        method = self._method(name)
        try:
            parsed = method.arguments.model_validate(arguments)
        except ValidationError as error:
            fields = ", ".join(".".join(map(str, problem["loc"])) or "arguments" for problem in error.errors())
            raise BadRequest(f"invalid arguments for {self.name}.{name}: {fields}") from None
        self.api.authorize(method.access, user_id=getattr(parsed, "userId", None))
        try:
            return json_response(HTTPStatus.OK, method.call(parsed))
        except StoreUnavailable as error:
            if method.degraded_result is None:
                raise  # the resolver answers 503 with Retry-After
            self.api.note_unavailable(error)
            return json_response(HTTPStatus.OK, method.degraded_result)

    def _method(self, name: str) -> Method:
        method = self.methods.get(name)
        if method is None:
            raise NotFound(f"{self.name} has no method {name!r}; it has {', '.join(self.methods)}")
        return method

    def _arguments(self) -> dict[str, Any]:
        body = self.api.current_event.decoded_body or "{}"
        try:
            arguments = parse_json(body)
        except ValueError:
            raise BadRequest("request body is not valid JSON") from None
        if not isinstance(arguments, dict):
            raise BadRequest("arguments must be a JSON object of named fields")
        return arguments
