"""One round trip to Redis: the commands of an operation sent together on the container's one connection.

redis-py's command path costs about 30 µs a call beyond the round trip itself (measured on loopback: a PING takes
~100 µs through `execute_command`, ~70 µs sent on the connection): the pool's lock and its poll of the socket on
every checkout, the observability hooks, the response callbacks, the pipeline's bookkeeping. A warm Lambda call
makes one round trip, so that is most of what Actionlog adds to it. On a standalone Redis, the container keeps one
connection checked out of its client's pool and sends each operation's packed commands on it, with redis-py's
connection doing the rest as it does for redis-py's own commands: the parser (hiredis), the retry policy of the client
(a connection that failed is reopened and the commands sent again; a reply that timed out is never sent again), the
PING of a connection idle for longer than `health_check_interval`, reconnecting after a failure. Replies are Redis's
own (`OK`, 0/1, lists), not redis-py's callbacks' (True, dicts).

On a cluster, redis-py's cluster client routes the commands (by their keys' slot) and keeps its own connections.

Every Actionlog command goes through here, so that a container holds one connection: a command sent through
redis-py's own methods would take a second one from the pool while this one is checked out.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from redis import Redis, RedisCluster
from redis.exceptions import NoScriptError, ResponseError
from redis.utils import HIREDIS_AVAILABLE

if TYPE_CHECKING:
    from actionlog.redis_client import RedisClient

type Command = tuple[Any, ...]
type Connection = Any  # redis-py's Connection, whose methods are untyped

# The layer's redis[hiredis]: what redis-py's own packer calls, without its checks of each argument.
pack_command: Callable[[Command], bytes] | None = None
if HIREDIS_AVAILABLE:
    from hiredis import pack_command

_held: weakref.WeakKeyDictionary[Redis, Connection] = weakref.WeakKeyDictionary()  # a connection of each client's pool


def send(redis: RedisClient, commands: Sequence[Command]) -> list[Any]:
    """The replies to `commands`, sent in one round trip and run in order (not atomically: `transaction` is); an
    error reply is its exception, returned in its place rather than raised. A failure to reach Redis raises."""
    if isinstance(redis, RedisCluster):
        return _cluster_send(redis, commands)
    connection = _connection(redis)
    packed = [b"".join(map(pack_command, commands))] if pack_command else connection.pack_commands(commands)
    replies: list[Any] = connection.retry.call_with_retry(
        lambda: _round_trip(connection, packed, len(commands)), lambda _: connection.disconnect()
    )
    return replies


def call(redis: RedisClient, *command: Any) -> Any:
    """The reply to one command; an error reply raised."""
    [reply] = send(redis, [command])
    if isinstance(reply, Exception):
        raise reply
    return reply


def transaction(redis: RedisClient, commands: Sequence[Command]) -> list[Any]:
    """The replies to `commands` run as one MULTI ... EXEC, in one round trip; an error raised."""
    if isinstance(redis, RedisCluster):
        with redis.pipeline(transaction=True) as pipe:  # type: ignore[no-untyped-call]
            for command in commands:
                pipe.execute_command(*command)
            results: list[Any] = pipe.execute()
        return results
    *queued, replies = send(redis, [("MULTI",), *commands, ("EXEC",)])
    for reply in (*queued, *(replies if isinstance(replies, list) else [replies])):
        if isinstance(reply, Exception):
            raise reply
    if not isinstance(replies, list):
        raise ResponseError(f"MULTI ... EXEC answered {replies!r}")
    return replies


class Script:
    """A Lua script, run by its SHA (EVALSHA); loaded in the same round trip when the server does not know it."""

    __slots__ = ("body", "sha")

    def __init__(self, body: str) -> None:
        self.body = body
        self.sha = hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, *, keys: Sequence[Any], args: Sequence[Any], client: RedisClient) -> Any:
        """The script's reply on `keys` and `args`; an error reply raised."""
        run = ("EVALSHA", self.sha, len(keys), *keys, *args)
        [reply] = send(client, [run])
        if isinstance(reply, NoScriptError):  # a server that restarted or failed over, or a new one
            if isinstance(client, RedisCluster):
                client.script_load(self.body)  # on every primary
                [reply] = send(client, [run])
            else:
                _, reply = send(client, [("SCRIPT", "LOAD", self.body), run])
        if isinstance(reply, Exception):
            raise reply
        return reply


def _connection(redis: Redis) -> Connection:
    """The connection this module keeps for `redis`, checked out of its pool on first use (which connects); closing
    the client (redis_client.discard_client) closes it."""
    connection = _held.get(redis)
    if connection is None:
        connection = _held[redis] = redis.connection_pool.get_connection()
    return connection


def _round_trip(connection: Connection, packed: list[bytes], count: int) -> list[Any]:
    replies: list[Any] = []
    try:
        connection.send_packed_command(packed)
        for _ in range(count):
            try:
                replies.append(connection.read_response())
            except ResponseError as error:
                replies.append(error)
    except BaseException:
        connection.disconnect()  # never leave a reply unread on the connection for the next call to take as its own
        raise
    return replies


def _cluster_send(redis: RedisCluster, commands: Sequence[Command]) -> list[Any]:
    if len(commands) == 1:
        try:
            return [redis.execute_command(*commands[0])]  # type: ignore[no-untyped-call]
        except ResponseError as error:
            return [error]
    with redis.pipeline(transaction=False) as pipe:  # type: ignore[no-untyped-call]
        for command in commands:
            pipe.execute_command(*command)
        replies: list[Any] = pipe.execute(raise_on_error=False)
    return replies
