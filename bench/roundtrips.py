"""Round trips per operation, counted on the client's connections rather than assumed.

A round trip is one write of commands followed by reading their replies: a MULTI ... EXEC pipeline sent in one
go is one, LPUSH then LTRIM each awaited is two, and a health-check PING before a command adds one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from redis.connection import AbstractConnection

from bench import floors
from bench.operations import OPERATIONS
from bench.process import run_worker
from bench.warm import floor_call, ready

CALLS_PER_OPERATION = 5


@dataclass(frozen=True)
class RoundTrips:
    name: str
    handler: int  # the most any of the warm calls took
    floor: int


class RoundTripCounter:
    def __init__(self) -> None:
        self.round_trips = 0
        self._awaiting_reply = False

    def sent(self) -> None:
        if not self._awaiting_reply:
            self.round_trips += 1
            self._awaiting_reply = True

    def received(self) -> None:
        self._awaiting_reply = False

    def count(self, call: Callable[[], object]) -> int:
        before = self.round_trips
        call()
        return self.round_trips - before


@contextmanager
def counting_round_trips() -> Iterator[RoundTripCounter]:
    """Wraps every redis-py connection's send and read for the duration; only for a process of its own."""
    counter = RoundTripCounter()
    send: Callable[..., Any] = AbstractConnection.send_packed_command
    read: Callable[..., Any] = AbstractConnection.read_response

    def counted_send(self: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
        counter.sent()
        return send(self, *args, **kwargs)

    def counted_read(self: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
        counter.received()
        return read(self, *args, **kwargs)

    AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]
    AbstractConnection.read_response = counted_read  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
        AbstractConnection.read_response = read  # type: ignore[method-assign]


def count(redis_url: str) -> list[RoundTrips]:
    return [RoundTrips(**item) for item in run_worker("roundtrips", {}, redis_url)]


# What follows runs in the worker process (bench.worker).


def run_in_worker(config: dict[str, Any]) -> list[dict[str, Any]]:
    redis = floors.client(os.environ["REDIS_URL"])
    redis.ping()  # connect the floors' client before counting, as invocation() does for the handlers'
    results = []
    with counting_round_trips() as counter:
        for op in OPERATIONS:
            # ready() makes a first call, which connects: the counted calls find the connection open.
            handler, prepare = ready(op, redis)
            floor = floor_call(op, redis)
            handler_counts, floor_counts = [], []
            for _ in range(CALLS_PER_OPERATION):
                if prepare is not None:
                    prepare()
                handler_counts.append(counter.count(handler))
                if prepare is not None:
                    prepare()
                floor_counts.append(counter.count(floor))
            results.append({"name": op.name, "handler": max(handler_counts), "floor": max(floor_counts)})
        # Not a handler: the seed's write in the first column, next to ours.
        results.append(
            {
                "name": "seed's log one (LPUSH; LTRIM)",
                "handler": counter.count(lambda: floors.seed_log_one(redis)),
                "floor": counter.count(lambda: floors.log_one(redis)),
            }
        )
    return results
