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
