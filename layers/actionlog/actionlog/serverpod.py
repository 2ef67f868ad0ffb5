"""Serverpod-compatible endpoints, so the seed's Flutter clients work by pointing them at the API.

A Serverpod client calls `POST /<endpoint>/<method>` with the arguments as named JSON fields, or (older
clients) `POST /<endpoint>` with a `"method"` field beside them, and expects the bare JSON result: `true`,
a list, an object. An endpoint is one function with a table of methods; each method reuses a layer
operation, and only the envelope differs from the REST routes. Admission, errors, metrics and logs are the
HTTP adapter's (actionlog.http), as for every other route.
"""

import typing
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, NamedTuple

import pydantic_core

from actionlog.auth import Access, authorize
from actionlog.errors import ActionlogError, BadRequest, NotFound, Unprocessable, excerpt
from actionlog.http import (
    Answer,
    Fallback,
    HttpEndpoint,
    admit,
    answer_error,
    attempt,
    error_answer,
    rate_limit,
    validated_body,
    with_rate_headers,
)
from actionlog.models import (
    DEFAULT_READ_LIMIT,
    MAX_BATCH_SIZE,
    ActionIn,
    ActionName,
    Metadata,
    SeedUserId,
    whole_number_as_int,
)
from actionlog.ratelimit import READS, WRITES, RateLimit
from actionlog.schema import Before, Encoded, Length, Number, Shape
from actionlog.settings import get_settings

if TYPE_CHECKING:
    from actionlog.documented import Documented


class Method(NamedTuple):
    """One endpoint method: its arguments, who may call it, and what it does."""

    arguments: type[Shape]
    access: Access
    # What it does, given its arguments and the caller's rate limit (counted in its own round trip); its return
    # annotation documents the result.
    call: Callable[[Any, RateLimit | None], Any]
    # The result (200) when Redis is unavailable, as the seed answers then (getUserActions: []); None: a 503.
    unavailable: Fallback[Any] | None = None
    reads: bool = False  # counted against the read limit rather than the write limit


class ServerpodEndpoint(HttpEndpoint):
    """One Serverpod endpoint: the method named in the path (`pathParameters.method`) or in the body."""

    def __init__(self, name: str, methods: Mapping[str, Method], *, access: Access) -> None:
        self.name = name
        self.methods = methods
        self.access = access  # who may reach the endpoint at all; each method then has its own rule

    def responses(self, methods: Sequence[str], *, named_by_caller: bool) -> "dict[HTTPStatus, Documented]":
        """What a route that can call `methods` answers: their results, the adapter's errors, and a 404 when the
        caller names the method (in the body, or a path parameter) and may name one the endpoint lacks."""
        from actionlog.documented import RATE_LIMIT_HEADERS, Documented, error_responses, limited  # documentation only

        called = [self.methods[name] for name in methods]
        results = tuple(dict.fromkeys(typing.get_type_hints(method.call).get("return", Any) for method in called))
        accesses = {self.access, *(method.access for method in called)}
        counted = RATE_LIMIT_HEADERS if limited(accesses) else ()
        return {
            HTTPStatus.OK: Documented(
                "The method's result, as the seed's Serverpod endpoint returns it", results, counted
            ),
            **error_responses(
                accesses,
                malformed="Malformed JSON, or arguments the method does not take",
                forbidden="The token's user or scopes may not call this method",
                no_method=f"{self.name} has no such method" if named_by_caller else None,
                unavailable=any(method.unavailable is None for method in called),
            ),
        }

    def answer(self, event: Mapping[str, Any]) -> Answer:
        text, caller = admit(event)
        text = text or "{}"
        settings = get_settings()
        authorize(self.access, caller, user_id=None, settings=settings)
        method = self._method(event, text)
        arguments = validated_body(method.arguments, text, where="arguments", invalid=HTTPStatus.BAD_REQUEST)
        owner = getattr(arguments, arguments.OWNER) if isinstance(arguments, UserArgs) else None
        authorize(method.access, caller, user_id=owner, settings=settings)
        rate = rate_limit(method.access, caller, owner, READS if method.reads else WRITES)

        try:
            result = attempt(lambda given: method.call(given, rate), arguments, method.unavailable)
        except Unprocessable as error:
            # What the arguments' models cannot say (metadata over 4 KiB once encoded): bad arguments, as any other.
            refused = BadRequest(f"invalid arguments for {self.name}: {error.message}")
            return with_rate_headers(error_answer(refused), rate)
        except ActionlogError as error:
            return with_rate_headers(answer_error(error), rate)
        if isinstance(result, Answer):
            return with_rate_headers(result, rate)
        encoded = result.to_json() if isinstance(result, Shape) else pydantic_core.to_json(result).decode()
        return with_rate_headers(Answer(HTTPStatus.OK, Encoded(type(result), encoded)), rate)

    def _method(self, event: Mapping[str, Any], text: str) -> Method:
        """The method named in the path, or else in the body's "method" field (which its arguments then ignore).

        In the path: as the route's `{method}` parameter, or as the literal last segment of a route such as
        `POST /redisHealth/check` (API Gateway names the route it matched in `routeKey`).
        """
        name = (event.get("pathParameters") or {}).get("method")
        route_path = str(event.get("routeKey", "")).partition(" ")[2]
        if name is None and route_path.startswith(f"/{self.name}/") and "{" not in route_path:
            name = route_path.removeprefix(f"/{self.name}/")
        if name is None:
            try:
                arguments = pydantic_core.from_json(text, allow_inf_nan=False)
            except ValueError:
                raise BadRequest("request body is not valid JSON") from None
            name = arguments.get("method") if isinstance(arguments, dict) else None
            if not isinstance(name, str):
                raise BadRequest(f'name the {self.name} method in the path or in a "method" field')
        method = self.methods.get(name)
        if method is None:
            raise NotFound(f"{self.name} has no method {excerpt(name)!r}; it has {', '.join(self.methods)}")
        return method


# Arguments of the seed's endpoint methods (named JSON fields), as strict as the REST bodies.


class NoArguments(Shape):
    pass


class UserArgs(Shape):
    """The arguments of a method about one user's data: `userId` names the owner Access.OWNER checks."""

    OWNER: ClassVar[str] = "userId"

    userId: SeedUserId


class LogActionArgs(UserArgs):
    action: ActionName
    metadata: Metadata | None = None

    def as_action(self) -> ActionIn:
        return ActionIn(action=self.action, metadata=self.metadata or {})


class GetUserActionsArgs(UserArgs):
    limit: Annotated[int, Number(ge=1), Before(whole_number_as_int)] = DEFAULT_READ_LIMIT


class LogBatchActionsArgs(UserArgs):
    actions: Annotated[list[ActionName | ActionIn], Length(min_length=1, max_length=MAX_BATCH_SIZE)]

    def as_actions(self) -> list[ActionIn]:
        return [ActionIn(action=item) if isinstance(item, str) else item for item in self.actions]


class ClearUserActionsArgs(UserArgs):
    pass
