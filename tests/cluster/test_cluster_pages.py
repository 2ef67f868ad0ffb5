"""Reading the log a page at a time, and listing a user's own cache keys, on a 3-primary Redis Cluster: the users'
lists live on different nodes, and each read stays in its user's hash slot."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest
import redis

from tests.cluster.helpers import USER_IDS, user_event
from tests.integration.paging import every_page, ids, lambda_response, logged, read_actions
from tests.support import invoke, with_body

pytestmark = pytest.mark.redis_server

each_user = pytest.mark.parametrize("user_id", USER_IDS)
STALE = "before names an entry the log no longer holds: read again from the newest"


@each_user
@pytest.mark.parametrize(
    "query", [{}, {"action": "pay,login", "since": "2026-01-01T00:10:00Z"}], ids=["plain", "action and since"]
)
def test_paging_visits_every_matching_entry_once_newest_first(
    cluster_handlers: redis.RedisCluster, user_id: str, query: dict[str, str]
) -> None:
    stored = logged(user_id, 60, redis=cluster_handlers)
    since = datetime.fromisoformat(query.get("since", "0001-01-01T00:00:00Z"))
    expected = [
        entry
        for entry in map(json.loads, stored)
        if entry["action"] in query.get("action", "login,view,pay").split(",")
        and datetime.fromisoformat(entry["timestamp"]) >= since
    ]

    pages = every_page(user_id, limit="6", **query)

    assert [entry for page in pages for entry in page["actions"]] == expected
    assert [page["count"] for page in pages[:-1]] == [6] * (len(pages) - 1)
    assert [page["next"] for page in pages] == [page["actions"][-1]["id"] for page in pages[:-1]] + [None]


@each_user
def test_a_stale_cursor_is_a_400_with_a_message(cluster_handlers: redis.RedisCluster, user_id: str) -> None:
    logged(user_id, 20, redis=cluster_handlers)
    cursor = read_actions(user_id, limit="5")["json"]["next"]
    invoke("clear_user_actions", user_event("clear_user_actions.json", user_id))

    response = read_actions(user_id, limit="5", before=cursor)

    assert response["statusCode"] == 400
    assert response["json"]["message"] == STALE


def test_a_page_is_cut_to_fit_lambdas_response_limit(
    cluster_handlers: redis.RedisCluster, configure: Callable[..., None]
) -> None:
    configure(ACTIONS_MAX_ENTRIES="2000", RATE_LIMIT_READS="0")
    stored = logged("789", 2000, redis=cluster_handlers, metadata={"note": 'é"😀\\' * 408})

    first = lambda_response("789", limit="2000")
    body = json.loads(first["body"])
    rest = every_page("789", limit="2000", before=body["next"])

    assert len(json.dumps(first).encode()) < 6 * 1024 * 1024
    assert 0 < body["count"] < 2000
    assert body["next"] == body["actions"][-1]["id"]
    assert [entry["id"] for entry in body["actions"]] + [e["id"] for page in rest for e in page["actions"]] == ids(
        stored
    )


def test_each_user_lists_only_their_own_cache_keys(cluster_handlers: redis.RedisCluster) -> None:
    owned = {user_id: [f"{user_id}:b", "a", f"z.{user_id}"] for user_id in USER_IDS}
    for user_id, names in owned.items():
        for name in names:
            event = user_event("user_cache_set.json", user_id)
            event = {**event, "rawPath": f"/users/{user_id}/cache/{name}"}
            event["pathParameters"] = {"userId": user_id, "key": name}
            assert invoke("user_cache_set", with_body(event, {"value": 1, "ttlSeconds": 600}))["statusCode"] == 200

    for user_id, names in owned.items():
        response = invoke("list_user_cache", user_event("list_user_cache.json", user_id))
        assert response["statusCode"] == 200, response["body"]
        assert [entry["key"] for entry in response["json"]["keys"]] == sorted(names)
        assert all(0 < entry["ttlSeconds"] <= 600 for entry in response["json"]["keys"])
