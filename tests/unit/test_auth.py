from typing import Any

import pytest

from actionlog.auth import Access, Caller, authorize
from actionlog.errors import Forbidden, Unauthorized
from actionlog.settings import Settings

SECURE = Settings()
LOCAL = Settings(auth_required=False)


def caller(claims: dict[str, Any], scopes: list[str] | None = None) -> Caller | None:
    event = {"requestContext": {"authorizer": {"jwt": {"claims": claims, "scopes": scopes}}}}
    return Caller.from_event(event)


USER_123 = caller({"sub": "123"})
ADMIN = caller({"sub": "ops"}, ["actionlog/admin"])
CACHE_USER = caller({"sub": "123", "scope": "openid actionlog/cache"})


def test_scopes_come_from_the_authorizer_and_the_scope_claim() -> None:
    both = caller({"sub": "1", "scope": "actionlog/cache email"}, ["actionlog/admin"])

    assert both is not None
    assert both.scopes == {"actionlog/cache", "email", "actionlog/admin"}


def test_an_event_without_claims_has_no_caller() -> None:
    assert Caller.from_event({"requestContext": {}}) is None
    assert caller({}) is None


@pytest.mark.parametrize("access", [Access.OWNER, Access.CACHE, Access.ADMIN])
def test_no_claims_is_401_when_auth_is_required(access: Access) -> None:
    with pytest.raises(Unauthorized):
        authorize(access, None, user_id="123", settings=SECURE)


@pytest.mark.parametrize("access", list(Access))
def test_no_claims_passes_when_auth_is_switched_off_on_purpose(access: Access) -> None:
    authorize(access, None, user_id="123", settings=LOCAL)


def test_health_is_public() -> None:
    authorize(Access.PUBLIC, None, user_id=None, settings=SECURE)


def test_a_user_may_use_their_own_log() -> None:
    authorize(Access.OWNER, USER_123, user_id="123", settings=SECURE)


def test_a_user_may_not_use_another_users_log() -> None:
    with pytest.raises(Forbidden):
        authorize(Access.OWNER, USER_123, user_id="456", settings=SECURE)


def test_an_admin_may_use_any_log() -> None:
    authorize(Access.OWNER, ADMIN, user_id="456", settings=SECURE)


def test_the_user_id_claim_is_configurable() -> None:
    custom = caller({"sub": "cognito-uuid", "custom:user_id": "123"})
    settings = Settings(user_id_claim="custom:user_id")

    authorize(Access.OWNER, custom, user_id="123", settings=settings)
    with pytest.raises(Forbidden):
        authorize(Access.OWNER, custom, user_id="cognito-uuid", settings=settings)


def test_a_numeric_claim_matches_a_numeric_user_id() -> None:
    authorize(Access.OWNER, caller({"sub": 123}), user_id="123", settings=SECURE)


def test_the_cache_needs_the_cache_or_admin_scope() -> None:
    authorize(Access.CACHE, CACHE_USER, user_id=None, settings=SECURE)
    authorize(Access.CACHE, ADMIN, user_id=None, settings=SECURE)
    with pytest.raises(Forbidden, match="actionlog/cache"):
        authorize(Access.CACHE, USER_123, user_id=None, settings=SECURE)


def test_server_info_needs_the_admin_scope() -> None:
    authorize(Access.ADMIN, ADMIN, user_id=None, settings=SECURE)
    for other in (USER_123, CACHE_USER):
        with pytest.raises(Forbidden, match="actionlog/admin"):
            authorize(Access.ADMIN, other, user_id=None, settings=SECURE)


def test_claims_are_checked_even_when_auth_is_not_required() -> None:
    with pytest.raises(Forbidden):
        authorize(Access.OWNER, USER_123, user_id="456", settings=LOCAL)


@pytest.mark.parametrize("separator", ["\u00a0", "\t", "\n", "\u2028", "\u3000", "\x1f"])
def test_the_scope_claim_is_split_on_spaces_only(separator: str) -> None:
    # Given a scope claim whose tokens are joined by a character that is not a space (RFC 6749, 3.3)
    sneaky = caller({"sub": "999", "scope": f"openid{separator}actionlog/admin"})

    # Then it holds no admin scope, and another user's log stays closed
    assert sneaky is not None
    assert "actionlog/admin" not in sneaky.scopes
    with pytest.raises(Forbidden):
        authorize(Access.OWNER, sneaky, user_id="123", settings=SECURE)


def test_scopes_separated_by_several_spaces_are_each_read() -> None:
    spaced = caller({"sub": "1", "scope": "  openid   actionlog/cache "})

    assert spaced is not None
    assert spaced.scopes == {"openid", "actionlog/cache"}


@pytest.mark.parametrize("access", [Access.OWNER, Access.CACHE, Access.ADMIN, Access.AUTHENTICATED])
def test_an_id_token_is_refused_with_401_whatever_it_claims(access: Access) -> None:
    id_token = caller({"sub": "123", "token_use": "id", "aud": "app-client", "scope": "actionlog/admin"})

    with pytest.raises(Unauthorized, match="access token"):
        authorize(access, id_token, user_id="123", settings=SECURE)


def test_an_access_token_and_a_token_without_token_use_are_judged_by_their_claims() -> None:
    authorize(Access.OWNER, caller({"sub": "123", "token_use": "access"}), user_id="123", settings=SECURE)
    authorize(Access.OWNER, caller({"sub": "123"}), user_id="123", settings=SECURE)


def test_a_machine_clients_token_has_no_users_space_of_its_own() -> None:
    # Given a client-credentials token: Cognito sets its sub to its client id
    backend = caller({"sub": "backend-client", "client_id": "backend-client", "scope": "actionlog/cache"})

    # Then /users/<its client id>/... is not its own, while the shared cache it was given is
    with pytest.raises(Forbidden, match="client"):
        authorize(Access.OWNER, backend, user_id="backend-client", settings=SECURE)
    authorize(Access.CACHE, backend, user_id=None, settings=SECURE)


def test_a_machine_client_holding_the_admin_scope_may_use_any_users_data() -> None:
    operator = caller({"sub": "admin-client", "client_id": "admin-client", "scope": "actionlog/admin"})

    authorize(Access.OWNER, operator, user_id="123", settings=SECURE)


def test_a_users_token_from_the_app_client_is_a_user() -> None:
    # A user's access token names the app client it was issued to, and the user as its sub
    user = caller({"sub": "123", "client_id": "app-client", "token_use": "access"})

    authorize(Access.OWNER, user, user_id="123", settings=SECURE)
