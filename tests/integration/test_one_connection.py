"""A container holds one connection to Redis, whatever it serves, and keeps it in step with its replies
(actionlog.wire): every operation's commands go through it, on a real redis-server."""

from typing import Any

import pytest
import redis

from tests.catalogue import OPERATIONS, seed
from tests.support import RedisServer, invoke, load_event

pytestmark = pytest.mark.redis_server


def newer_than(inspector: redis.Redis, last: int) -> list[dict[str, Any]]:
    """The clients connected since the client whose id is `last` (ids only grow), besides `inspector`."""
    own = inspector.client_id()
    return [client for client in inspector.client_list() if int(client["id"]) > last and int(client["id"]) != own]


def test_every_operation_in_one_container_uses_one_connection(
    real_redis: redis.Redis, session_redis_server: RedisServer
) -> None:
    # Given one warm container that serves every function's own event, each three times
    last = max(int(client["id"]) for client in real_redis.client_list())  # earlier tests' clients are not counted
    seeder = session_redis_server.client()  # puts back what the deletes take
    seed(seeder)
    answers = []
    for operation in OPERATIONS:
        for _ in range(3):
            answer = invoke(operation.name, load_event(operation.event_file))
            answers.append(answer.get("statusCode", 200))  # SQS and the schedule answer no status
            seed(seeder)
    seeder.close()

    # Then they were answered, by one connection, the same one from the first call to the last
    assert all(status < 500 for status in answers), answers
    [connection] = newer_than(real_redis, last)
    assert int(connection["age"]) >= 0
    assert len(answers) == 3 * len(OPERATIONS)


@pytest.mark.parametrize(
    ("key", "held"),
    [
        ("user:123:actions", "LLEN, the last of the commands sent together"),
        ("actionlog:rate:{user:123:actions}:reads", "INCR, the first: the replies after it are still to be read"),
    ],
)
def test_an_error_reply_in_a_pipeline_leaves_no_reply_behind_for_the_next_call(
    real_redis: redis.Redis, key: str, held: str
) -> None:
    # Given a key of the count's pipeline holding what its command refuses (another writer's): an error from `held`
    real_redis.set(key, "not a list, not a number")
    refused = invoke("count_user_actions", load_event("count_user_actions.json"))
    assert refused["statusCode"] == 500

    # When the key is put right
    real_redis.delete(key)
    logged = invoke("log_action", load_event("log_action.json"))
    counted = invoke("count_user_actions", load_event("count_user_actions.json"))

    # Then each call read its own replies
    assert logged["statusCode"] == 201, logged["body"]
    assert counted["statusCode"] == 200
    assert '"count":1' in counted["body"]


def test_a_server_that_lost_the_scripts_gets_them_back_on_the_next_call(real_redis: redis.Redis) -> None:
    # Given a warm container whose scripts the server no longer knows (a restart, a failover)
    assert invoke("log_action", load_event("log_action.json"))["statusCode"] == 201
    real_redis.script_flush()
    real_redis.config_resetstat()

    # When it logs again
    logged = invoke("log_action", load_event("log_action.json"))

    # Then the script was loaded once and run, and the entry is there
    assert logged["statusCode"] == 201, logged["body"]
    stats = real_redis.info("commandstats")
    assert stats["cmdstat_script|load"]["calls"] == 1
    assert stats["cmdstat_evalsha"]["calls"] == 2  # refused with NOSCRIPT, then run
    assert real_redis.llen("user:123:actions") == 2
