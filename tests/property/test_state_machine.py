"""The handlers against a plain Python model: any sequence of logs, reads, clears and cache calls.

Hypothesis drives the real handlers (events from events/, fakeredis' embedded TCP server through the `fake_server`
fixture) with random sequences of operations over a few users and cache keys, and keeps a model beside them: per
user, the capped newest-first list of what was logged; for the cache, a dict. After every step the data in Redis
must equal the model, and every answer must be the one the model predicts. The cap is 5, so trimming happens all
the time.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from actionlog.keys import actions_key
from tests.support import invoke, load_event, with_body, with_caller, with_path, with_query

CAP = 5
USERS = ("alice", "bob", "123")
CACHE_KEYS = ("session:abc123", "cache:profile:456", "session:x.y-z")
# Long enough that nothing expires while a run lasts, so the model needs no clock.
LONG_TTL = st.integers(min_value=3_600, max_value=2**31 - 1)

# An admin, as API Gateway's JWT authorizer passes one on: may use every user's log and the cache.
ADMIN: dict[str, Any] = {"sub": "property-tests"}
ADMIN_SCOPES = ["actionlog/admin"]

# Action names hold no control, format (invisible, bidirectional) or separator characters, nor lone surrogates.
action_names = st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=1, max_size=20)
# What every JSON reader takes back: integers within JavaScript's safe range, finite doubles.
safe_integers = st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
json_scalars = (
    st.none() | st.booleans() | safe_integers | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
metadata = st.dictionaries(st.text(max_size=8), json_scalars, max_size=3)
# Aware timestamps in any offset; the handler stores them in UTC with milliseconds.
offsets = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets)


@dataclass(frozen=True)
class Logged:
    """What the model knows of an entry: what the client sent (the id and a server timestamp are the server's)."""

    action: str
    metadata: dict[str, Any]
    timestamp: str | None  # as stored, when the client gave one

    @classmethod
    def sent(cls, body: dict[str, Any]) -> "Logged":
        given = body.get("timestamp")
        return cls(body["action"], body.get("metadata", {}), stored_timestamp(given) if given else None)

    def matches(self, entry: dict[str, Any]) -> bool:
        return (
            entry["action"] == self.action
            and entry["metadata"] == self.metadata
            and (self.timestamp is None or entry["timestamp"] == self.timestamp)
            and entry["timestamp"].endswith("Z")
        )


def stored_timestamp(iso: str) -> str:
    """ISO-8601 in UTC with milliseconds and a Z, as docs/data.md says a client's timestamp is stored."""
    moment = datetime.fromisoformat(iso).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def action_body(action: str, meta: dict[str, Any] | None, moment: datetime | None) -> dict[str, Any]:
    body: dict[str, Any] = {"action": action}
    if meta is not None:
        body["metadata"] = meta
    if moment is not None:
        body["timestamp"] = moment.isoformat()
    return body


action_bodies = st.builds(action_body, action_names, st.none() | metadata, st.none() | timestamps)


def user_event(name: str, user_id: str, path_suffix: str = "") -> dict[str, Any]:
    event = with_path(load_event(name), f"/users/{user_id}/actions{path_suffix}", userId=user_id)
    return with_caller(event, ADMIN, ADMIN_SCOPES)


def cache_event(name: str, key: str) -> dict[str, Any]:
    return with_caller(with_path(load_event(name), f"/cache/{key}", key=key), ADMIN, ADMIN_SCOPES)


class ActionlogMachine(RuleBasedStateMachine):
    def __init__(self, redis_client: redis.Redis) -> None:
        super().__init__()
        self.redis = redis_client
        self.redis.flushall()  # each run starts from an empty store, as the model does
        self.logs: dict[str, list[Logged]] = {user: [] for user in USERS}
        self.cache: dict[str, tuple[Any, int | None]] = {}  # key -> (value, ttlSeconds asked for)

    def _log(self, user: str, sent: list[Logged]) -> None:
        # The batch is oldest first; the list is newest first, capped.
        self.logs[user] = ([*reversed(sent), *self.logs[user]])[:CAP]

    @rule(user=st.sampled_from(USERS), body=action_bodies)
    def log_one(self, user: str, body: dict[str, Any]) -> None:
        response = invoke("log_action", with_body(user_event("log_action.json", user), body))

        assert response["statusCode"] == 201, response["body"]
        assert response["json"]["userId"] == user
        assert Logged.sent(body).matches(response["json"]["entry"])
        self._log(user, [Logged.sent(body)])

    @rule(user=st.sampled_from(USERS), bodies=st.lists(action_bodies, min_size=1, max_size=5))
    def log_batch(self, user: str, bodies: list[dict[str, Any]]) -> None:
        event = user_event("log_batch_actions.json", user, "/batch")
        response = invoke("log_batch_actions", with_body(event, {"actions": bodies}))

        assert response["statusCode"] == 201, response["body"]
        assert response["json"] == {"userId": user, "count": len(bodies)}
        self._log(user, [Logged.sent(body) for body in bodies])

    @rule(user=st.sampled_from(USERS), limit=st.integers(min_value=1, max_value=CAP))
    def read(self, user: str, limit: int) -> None:
        response = invoke("get_user_actions", with_query(user_event("get_user_actions.json", user), limit=str(limit)))

        assert response["statusCode"] == 200, response["body"]
        expected = self.logs[user][:limit]
        entries = response["json"]["actions"]
        assert response["json"]["count"] == len(entries) == len(expected)
        assert all(logged.matches(entry) for logged, entry in zip(expected, entries, strict=True)), entries
        assert "degraded" not in response["json"]

    @rule(user=st.sampled_from(USERS))
    def clear(self, user: str) -> None:
        response = invoke("clear_user_actions", user_event("clear_user_actions.json", user))

        assert response["statusCode"] == 200, response["body"]
        assert response["json"] == {"userId": user, "cleared": bool(self.logs[user])}
        self.logs[user] = []

    @rule(key=st.sampled_from(CACHE_KEYS), value=json_values, ttl=st.none() | LONG_TTL)
    def cache_set(self, key: str, value: Any, ttl: int | None) -> None:
        body = {"value": value} if ttl is None else {"value": value, "ttlSeconds": ttl}
        response = invoke("cache_set", with_body(cache_event("cache_set.json", key), body))

        assert response["statusCode"] == 200, response["body"]
        assert response["json"] == {"key": key, "ttlSeconds": ttl}
        self.cache[key] = (value, ttl)

    @rule(key=st.sampled_from(CACHE_KEYS))
    def cache_get(self, key: str) -> None:
        response = invoke("cache_get", cache_event("cache_get.json", key))

        if key not in self.cache:
            assert response["statusCode"] == 404, response["body"]
            assert response["json"]["message"]
            return
        value, ttl = self.cache[key]
        assert response["statusCode"] == 200, response["body"]
        assert response["json"]["key"] == key
        assert response["json"]["value"] == value
        if ttl is None:
            assert response["json"]["ttlSeconds"] is None
        else:
            assert 0 < response["json"]["ttlSeconds"] <= ttl

    @rule(key=st.sampled_from(CACHE_KEYS))
    def cache_delete(self, key: str) -> None:
        response = invoke("cache_delete", cache_event("cache_delete.json", key))

        assert response["statusCode"] == 200, response["body"]
        assert response["json"] == {"key": key, "deleted": key in self.cache}
        self.cache.pop(key, None)

    @invariant()
    def every_list_is_the_model_and_within_the_cap(self) -> None:
        with self.redis.pipeline(transaction=False) as pipe:  # one round trip: invariants run after every step
            for user in USERS:
                pipe.lrange(actions_key(user), 0, -1)
            lists = pipe.execute()
        for user, encoded in zip(USERS, lists, strict=True):
            stored = [json.loads(entry) for entry in encoded]
            assert len(stored) <= CAP
            assert len(stored) == len(self.logs[user])
            assert all(logged.matches(entry) for logged, entry in zip(self.logs[user], stored, strict=True)), stored
            assert all(entry["id"] for entry in stored)

    @invariant()
    def the_cache_is_the_model(self) -> None:
        for key, stored in zip(CACHE_KEYS, self.redis.mget(CACHE_KEYS), strict=True):
            if key not in self.cache:
                assert stored is None
            else:
                assert json.loads(stored) == self.cache[key][0]


# About 20 s when it passes; a failure then spends minutes shrinking to a short sequence, worth the wait.
@pytest.mark.timeout(600)
def test_the_handlers_behave_like_the_model(fake_server: redis.Redis, configure: Callable[..., None]) -> None:
    # Given the handlers on the embedded fake server, each list capped at 5
    configure(ACTIONS_MAX_ENTRIES=str(CAP))

    # Then every sequence of operations leaves Redis as the model says, and every answer is the model's
    run_state_machine_as_test(
        lambda: ActionlogMachine(fake_server),
        settings=settings(
            max_examples=150,
            stateful_step_count=30,
            deadline=None,  # each step is several round trips to a server; their timing is not the property
            derandomize=bool(os.environ.get("CI")),  # the same sequences in CI, new ones on every local run
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
