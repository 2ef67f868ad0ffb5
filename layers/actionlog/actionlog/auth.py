"""Who may use which route (docs/auth.md), applied to the JWT claims API Gateway passes on."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple

from actionlog.errors import Forbidden, Unauthorized
from actionlog.settings import Settings

ADMIN_SCOPE = "actionlog/admin"
CACHE_SCOPE = "actionlog/cache"


class Access(StrEnum):
    PUBLIC = "public"
    AUTHENTICATED = "authenticated"  # any caller with claims; finer rules once the request is parsed
    OWNER = "owner"  # the user named in the path, or an admin
    CACHE = "cache"
    ADMIN = "admin"


# What a route of each access asks of a token before its function runs, any one scope of them: the routes'
# AuthorizationScopes in template.yaml, which API Gateway checks. `authorize` checks the same again.
ROUTE_SCOPES: Mapping[Access, tuple[str, ...]] = {
    Access.CACHE: (CACHE_SCOPE, ADMIN_SCOPE),
    Access.ADMIN: (ADMIN_SCOPE,),
}


class Caller(NamedTuple):
    claims: Mapping[str, Any]
    scopes: frozenset[str]

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Caller | None:
        """The caller of an HTTP API (payload 2.0) event, or None when the event carries no claims."""
        jwt = ((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}
        claims = jwt.get("claims") or {}
        if not claims:
            return None
        scopes = frozenset(jwt.get("scopes") or ())
        scope_claim = claims.get("scope")
        if isinstance(scope_claim, str):
            # RFC 6749, 3.3: scope tokens are separated by spaces (%x20), and by nothing else. Python's split() would
            # also cut at a no-break space or a line separator, making "foo\u00a0actionlog/admin" an admin.
            scopes = scopes.union(scope_claim.split(" ")) - {""}
        return cls(claims=claims, scopes=scopes)

    @property
    def is_machine(self) -> bool:
        """A client's own token (client credentials): Cognito sets its `sub` to its `client_id`. Not a user."""
        client_id = self.claims.get("client_id")
        return client_id is not None and self.claims.get("sub") == client_id

    @property
    def is_id_token(self) -> bool:
        """An OpenID Connect ID token, which says who signed in rather than what the bearer may do: never accepted.

        API Gateway's JWT authorizer takes a Cognito ID token as well as an access token (the app client's id is its
        `aud`); Cognito marks which is which in `token_use`. A token without `token_use` (another issuer's) is judged
        by its other claims, as before.
        """
        return self.claims.get("token_use") not in (None, "access")

    def is_user(self, user_id: str, claim: str) -> bool:
        value = self.claims.get(claim)
        return value is not None and not self.is_machine and str(value) == user_id


def authorize(access: Access, caller: Caller | None, *, user_id: str | None, settings: Settings) -> None:
    """Raise Unauthorized (401) or Forbidden (403) unless `caller` may use a route of `access`."""
    if access is Access.PUBLIC:
        return
    if caller is None:
        if settings.auth_required:
            raise Unauthorized("authentication required: send a bearer token")
        return
    if caller.is_id_token:
        raise Unauthorized("only access tokens are accepted: send the access token, not the ID token")
    if access is Access.AUTHENTICATED or ADMIN_SCOPE in caller.scopes:
        return
    if access is Access.OWNER:
        if caller.is_machine:
            raise Forbidden(
                f"a client's own token has no user data: the /users routes need a user's token or scope {ADMIN_SCOPE}"
            )
        if user_id is None or not caller.is_user(user_id, settings.user_id_claim):
            raise Forbidden("you may only use your own data: the userId in the path must be yours")
        return
    needed = ROUTE_SCOPES[access]
    if caller.scopes.isdisjoint(needed):
        raise Forbidden(f"this route needs scope {' or '.join(needed)}")
