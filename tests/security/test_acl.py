"""The Redis ACL user Actionlog needs: every operation works as that user, and the user can do nothing else.

ACL_LINE is the one operators are given: it is read from docs/security.md, so the two cannot differ. It was
worked out by running every handler as a user allowed everything and reading the server's INFO commandstats, then
checked here the other way round: the line is loaded from an ACL file exactly as written, every event in events/
(so every function, and every operation a new function brings) answers as that user exactly what it answers as a
user allowed everything, with an empty ACL LOG (nothing denied), and anything else is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.catalogue import EVENT_FILES, Operation, seed, target
from tests.security.helpers import FAST_SECONDS, Output, log_one_action, read_actions
from tests.support import NEVER_LOGGED, ROOT, RedisServer, free_port, handler_module, lambda_context, load_event

pytestmark = pytest.mark.redis_server

# What Actionlog sends, by operation (redis-py 8.1, RESP2, database 0):
#   log one / batch      MULTI LPUSH LTRIM EXEC                      user:<id>:actions
#   Idempotency-Key, SQS EVALSHA (SCRIPT LOAD after NOSCRIPT); the script runs GET LPUSH LTRIM SET
#                                                                    user:<id>:actions, actionlog:written:{...}
#   read / clear         LRANGE / DEL                                user:<id>:actions
#   cache set/get/delete SET / MULTI GET TTL EXEC / DEL              session:*, cache:* (CACHE_KEY_PREFIXES)
#   health check, probe  MULTI SET GET EXEC                          actionlog:health
#   health info          INFO
#   any warm connection  PING once idle for REDIS_HEALTH_CHECK_INTERVAL seconds
#   cluster mode         CLUSTER SLOTS (slot map) and COMMAND (key positions) when the client is made
# AUTH needs no permission. Not needed, so not granted: EVAL, DISCARD, SELECT (only for a database other
# than 0), HELLO (RESP2), CLUSTER SHARDS/NODES (redis-py 8.1 does not send them), CLIENT SETINFO: redis-py
# ignores its refusal, and Redis 7.0 (ElastiCache 7.0/7.1) rejects the whole line if it names that
# subcommand; on Redis >= 7.2 or Valkey add `+client|setinfo` to keep the ACL LOG quiet.
SECURITY_DOC = ROOT / "docs" / "security.md"
# The docs' line, for redis-server's ACL file or ACL SETUSER; the resets make it the whole truth for an existing
# user too. ElastiCache's RBAC access string is everything from `on` onwards (ElastiCache sets passwords itself).
[ACL_LINE] = [
    line.strip() for line in SECURITY_DOC.read_text().splitlines() if line.strip().startswith("user actionlog ")
]
ACCESS_STRING = ACL_LINE[ACL_LINE.index(" on ") + 1 :]

USERNAME = "actionlog"
PASSWORD = f"{NEVER_LOGGED}-acl-user-password"
# The same grants without LPUSH: a user an operator got slightly wrong.
NO_LPUSH_USERNAME = "actionlog-no-lpush"


@pytest.fixture(scope="module")
def acl_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's ACL file: the default user for the test's own administration, and ACL_LINE verbatim."""
    path = tmp_path_factory.mktemp("acl") / "users.acl"
    lines = [
        "user default on nopass ~* &* +@all",
        ACL_LINE.replace(">PASSWORD", f">{PASSWORD}"),
        f"user {NO_LPUSH_USERNAME} >{PASSWORD} {ACCESS_STRING.replace(' +lpush', '')}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass(frozen=True)
class Deployment:
    server: RedisServer
    admin: redis.Redis  # the default user: the test's own administration, never Actionlog's
    cluster: bool

    def settings(self, username: str = USERNAME) -> dict[str, str]:
        return {
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.server.port),
            "REDIS_USERNAME": username,
            "REDIS_PASSWORD": PASSWORD,
            "REDIS_CLUSTER": str(self.cluster).lower(),
        }


@pytest.fixture(scope="module")
def standalone(acl_file: Path) -> Iterator[Deployment]:
    server = RedisServer(extra_args=("--aclfile", str(acl_file))).start()
    with server.client() as admin:
        yield Deployment(server, admin, cluster=False)
    server.stop()


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is a valid port too."""
    while (port := free_port()) > 55535:
        pass
    return port


@pytest.fixture(scope="module")
def cluster(acl_file: Path) -> Iterator[Deployment]:
    """A one-node Redis Cluster holding every slot: what ElastiCache cluster mode looks like to a client."""
    server = RedisServer(port=cluster_port(), extra_args=("--aclfile", str(acl_file), "--cluster-enabled", "yes"))
    server.start()
    with server.client() as admin:
        admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        # A primary declares its cluster ok only 2 s after it started, so as not to rejoin as a writable
        # primary too early after a restart; the other modules' tests run meanwhile.
        deadline = time.monotonic() + 10
        while "cluster_state:ok" not in admin.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "the one-node cluster never became ready"
            time.sleep(0.05)
        yield Deployment(server, admin, cluster=True)
    server.stop()


@pytest.fixture(params=["standalone", "cluster"])
def deployment(request: pytest.FixtureRequest) -> Deployment:
    found: Deployment = request.getfixturevalue(request.param)
    return found


def fresh(deployment: Deployment) -> None:
    """The deployment emptied but for a cached session, its ACL LOG cleared and its script cache flushed.

    With no script cached, EVALSHA answers NOSCRIPT and redis-py must SCRIPT LOAD: both are exercised.
    """
    admin = deployment.admin
    admin.flushall()
    admin.script_flush()
    admin.execute_command("ACL", "LOG", "RESET")
    seed(admin)


def outcome(operation: Operation, event: dict[str, Any]) -> object:
    """What a function answers to an event, in the terms that do not change from one call to the next."""
    response = handler_module(operation.name).lambda_handler(event, lambda_context())
    if "statusCode" in response:
        return response["statusCode"]
    if "batchItemFailures" in response:
        return sorted(failure["itemIdentifier"] for failure in response["batchItemFailures"])
    return response["status"]


def scenarios() -> list[Any]:
    """Every event in events/, and each with an Idempotency-Key where its operation honours one."""
    found = []
    for event_file in EVENT_FILES:
        event = load_event(event_file)
        operation = target(event)
        found.append(pytest.param(operation, event, id=event_file))
        if getattr(operation.declaration, "idempotency_key", False):
            keyed = {**event, "headers": {**event.get("headers", {}), "idempotency-key": "acl-check-1"}}
            found.append(pytest.param(operation, keyed, id=f"{event_file} with Idempotency-Key"))
    return found


@pytest.mark.parametrize(("operation", "event"), scenarios())
def test_given_the_actionlog_acl_user_when_an_event_arrives_then_it_answers_as_for_an_unrestricted_user(
    deployment: Deployment, configure: Callable[..., None], operation: Operation, event: dict[str, Any]
) -> None:
    # Given what the event gets from Redis's default user, which may do everything
    unrestricted = {**deployment.settings(), "REDIS_USERNAME": "", "REDIS_PASSWORD": ""}
    fresh(deployment)
    configure(**unrestricted)
    expected = outcome(operation, event)

    # When the same event arrives for the Actionlog user, on the same state
    fresh(deployment)
    configure(**deployment.settings())
    answered = outcome(operation, event)

    # Then it answers the same, Redis denied nothing, and a function's own event succeeded
    assert answered == expected
    assert deployment.admin.execute_command("ACL", "LOG") == []
    if event == load_event(operation.event_file) and isinstance(answered, int):
        assert 200 <= answered < 300


def test_given_the_acl_user_when_a_warm_connection_idles_past_the_health_check_interval_then_its_ping_is_allowed(
    standalone: Deployment, configure: Callable[..., None]
) -> None:
    admin = standalone.admin
    admin.execute_command("ACL", "LOG", "RESET")
    configure(**standalone.settings(), REDIS_HEALTH_CHECK_INTERVAL="1")
    assert log_one_action()[0]["statusCode"] == 201
    pings_before = admin.info("commandstats").get("cmdstat_ping", {}).get("calls", 0)

    time.sleep(1.2)  # a thawed container's connection, idle for longer than the interval
    read = read_actions()

    assert (read["statusCode"], read["json"].get("degraded")) == (200, None)
    assert admin.info("commandstats")["cmdstat_ping"]["calls"] > pings_before
    assert admin.execute_command("ACL", "LOG") == []


@pytest.fixture
def as_acl_user(standalone: Deployment) -> Iterator[redis.Redis]:
    """A raw client logged in as the Actionlog user: what anyone holding its password could try."""
    standalone.admin.set("other:1", "not Actionlog's")
    client = standalone.server.client(username=USERNAME, password=PASSWORD)
    yield client
    client.close()


@pytest.mark.parametrize(
    "command",
    [
        ("GET", "other:1"),
        ("SET", "other:1", "overwritten"),
        ("DEL", "other:1"),
        ("LPUSH", "user:123:actions:extra", "x"),  # only the action lists themselves, not look-alikes
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("KEYS", "*"),
        ("SCAN", "0"),
        ("CONFIG", "GET", "requirepass"),
        ("CONFIG", "SET", "appendonly", "no"),
        ("ACL", "LIST"),
        ("EVAL", "return 1", "0"),
        ("SCRIPT", "FLUSH"),
        ("CLIENT", "LIST"),
        ("SUBSCRIBE", "events"),
        ("SHUTDOWN",),
    ],
    ids=lambda command: " ".join(command),
)
def test_given_the_acl_user_when_it_tries_anything_else_then_redis_refuses(
    as_acl_user: redis.Redis, standalone: Deployment, command: tuple[str, ...]
) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError):
        as_acl_user.execute_command(*command)

    assert standalone.admin.get("other:1") == "not Actionlog's"


def test_given_the_acl_user_when_it_loads_its_own_script_then_the_script_is_held_to_the_same_acl(
    as_acl_user: redis.Redis, standalone: Deployment
) -> None:
    # SCRIPT LOAD + EVALSHA let the user run any Lua, so the ACL must also bind what a script does.
    flush = as_acl_user.script_load("return redis.call('FLUSHALL')")
    read_other = as_acl_user.script_load("return redis.call('GET', KEYS[1])")

    with pytest.raises(redis.exceptions.ResponseError, match="can't run this command"):
        as_acl_user.evalsha(flush, 0)
    with pytest.raises(redis.exceptions.NoPermissionError):
        as_acl_user.evalsha(read_other, 1, "other:1")

    assert standalone.admin.get("other:1") == "not Actionlog's"


def test_given_a_user_without_lpush_when_an_action_is_logged_then_a_fast_503_and_a_log_line_name_the_cause(
    standalone: Deployment, configure: Callable[..., None], output: Callable[[], Output]
) -> None:
    standalone.admin.delete("user:123:actions")
    configure(**standalone.settings(username=NO_LPUSH_USERNAME))

    response, seconds = log_one_action()
    written = output()

    assert (response["statusCode"], response["headers"]["Retry-After"]) == (503, "1")
    assert seconds < FAST_SECONDS
    assert written.failure()["cause"] == "NoPermissionError"
    assert PASSWORD not in written.everything
    assert standalone.admin.exists("user:123:actions") == 0


def test_given_a_user_without_lpush_when_actions_are_read_then_the_read_still_works(
    standalone: Deployment, configure: Callable[..., None]
) -> None:
    # A missing write permission must not take the whole service down: reads need only LRANGE.
    admin = standalone.admin
    admin.delete("user:123:actions")
    admin.lpush("user:123:actions", '{"action": "login", "timestamp": "2026-11-25T12:00:00Z", "metadata": {}}')
    configure(**standalone.settings(username=NO_LPUSH_USERNAME))

    read = read_actions()

    assert (read["statusCode"], read["json"]["count"]) == (200, 1)
