"""Unsigned JWTs for trying the authorisation rules locally, and the local reading of bearer tokens.

    python -m dev.token --sub 123
    python -m dev.token --sub ops-1 --scope "actionlog/cache actionlog/admin"
    curl -H "Authorization: Bearer $(python -m dev.token --sub 123)" http://127.0.0.1:3000/users/123/actions

Deployed, API Gateway's JWT authorizer verifies a token's signature, issuer and audience before any function
runs. Locally nothing is verified: `read_claims` only decodes the payload (and honours `exp` and `nbf`), so any
token works, including the unsigned ones (`"alg": "none"`) minted here. Never use this outside local runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

_HEADER = {"alg": "none", "typ": "JWT"}


class InvalidToken(Exception):
    """A bearer token API Gateway's JWT authorizer would turn away (401)."""


def mint(claims: Mapping[str, Any]) -> str:
    """An unsigned JWT carrying `claims`: base64url header and payload, without padding, and an empty signature."""
    return f"{_encode(_HEADER)}.{_encode(claims)}."


def read_claims(token: str, *, now: float | None = None) -> dict[str, Any]:
    """The claims of `token`, decoded WITHOUT verifying its signature. Raises InvalidToken."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("the token is not a JWT (header.payload.signature)")
    try:
        header = _decode(parts[0])
        claims = _decode(parts[1])
    except ValueError as error:  # binascii.Error and UnicodeDecodeError included
        raise InvalidToken(f"the token is not base64url-encoded JSON: {error}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("the token's header and payload must be JSON objects")
    now = time.time() if now is None else now
    expires, not_before = claims.get("exp"), claims.get("nbf")
    if isinstance(expires, int | float) and expires <= now:
        raise InvalidToken("the token has expired")
    if isinstance(not_before, int | float) and not_before > now:
        raise InvalidToken("the token is not valid yet")
    return claims


def _encode(document: Mapping[str, Any]) -> str:
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.token", description="Print an unsigned JWT for the local API (never for a deployment)."
    )
    parser.add_argument("--sub", help="the caller's user id (the claim USER_ID_CLAIM names, `sub` by default)")
    parser.add_argument("--scope", help='space-separated scopes, e.g. "actionlog/cache actionlog/admin"')
    parser.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other claim; VALUE is read as JSON when it parses, else as a string (repeatable)",
    )
    args = parser.parse_args(argv)
    claims: dict[str, Any] = {}
    if args.sub is not None:
        claims["sub"] = args.sub
    if args.scope is not None:
        claims["scope"] = args.scope
    for claim in args.claim:
        name, equals, value = claim.partition("=")
        if not equals or not name:
            parser.error(f"--claim expects NAME=VALUE, got {claim!r}")
        claims[name] = _claim_value(value)
    print(mint(claims))
    return 0


def _claim_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


if __name__ == "__main__":
    raise SystemExit(main())
