"""The operations the bench measures, and `python -m bench.operations PHASE PLAN RESULT`: measuring them warm.

The bench process never imports the layer: bench.__main__.run_worker starts this one with the layer's source on
PYTHONPATH and the template's environment. It imports each handler once, as a warm container does, calls it with
Lambda's own context, and pickles what it measured to RESULT; its stdout is the handlers' log.
"""

from __future__ import annotations

import base64
import functools
import importlib
import itertools
import json
import os
import pickle
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from redis import Redis
from redis.connection import AbstractConnection as Connection

from bench import bodies, floors
from bench.floors import FLOORS
from dev.lambda_environment import lambda_context
from dev.template import REPO_ROOT, Function, load_template

type Event = dict[str, Any]
type Call = Callable[[], object]
SEED = "seed's log one (LPUSH; LTRIM)"


class Plan(NamedTuple):
    """How much of each measurement; the defaults are the full run's, a few minutes on two cores."""

    name: str = "full"
    warm_rounds: int = 41
    warm_block_seconds: float = 0.02
    warm_up_calls: int = 100
    cold_rounds: int = 12  # a cold start is noisy: the median needs many
    memory_calls: int = 5000
    sam_build: bool = True  # the layer's size, and cold starts from the built artifacts rather than the source tree


@dataclass(frozen=True)
class Operation:
    name: str
    function: str  # functions/<function>/app.py, invoked with events/<function>.json (through `adjust`)
    floor: floors.Floor
    setup: floors.Floor | None = None  # put in place once before the operation is measured
    prepare: floors.Floor | None = None  # put back before every call, off the clock: the call uses it up
    adjust: Callable[[Event], Event] | None = None

    def event(self) -> Event:
        event: Event = json.loads((REPO_ROOT / "events" / f"{self.function}.json").read_text())
        return self.adjust(event) if self.adjust else event

    def fixtures(self, redis: Redis) -> None:
        for fixture in (self.setup, self.prepare):
            if fixture is not None:
                fixture(redis)


def read_50_event(event: Event) -> Event:
    return {**event, "queryStringParameters": {"limit": str(floors.READ_LIMIT)}, "rawQueryString": "limit=50"}


def batch_of_100_event(event: Event) -> Event:
    """The event's actions repeated up to the batch size, encoded as the file encodes its body."""
    encoded = event["isBase64Encoded"]
    body = json.loads(base64.b64decode(event["body"]) if encoded else event["body"])
    body["actions"] = list(itertools.islice(itertools.cycle(body["actions"]), floors.BATCH_SIZE))
    text = json.dumps(body)
    return {**event, "body": base64.b64encode(text.encode()).decode() if encoded else text}


OPERATIONS: tuple[Operation, ...] = (
    Operation("log one", "log_action", FLOORS["log_one"]),
    Operation("log batch of 100", "log_batch_actions", FLOORS["log_batch"], adjust=batch_of_100_event),
    Operation("read 50", "get_user_actions", FLOORS["read_50"], setup=FLOORS["full_list"], adjust=read_50_event),
    Operation("clear", "clear_user_actions", FLOORS["clear"], prepare=FLOORS["full_list"]),
    Operation("cache set", "cache_set", FLOORS["cache_set"]),
    Operation("cache get", "cache_get", FLOORS["cache_get"], setup=FLOORS["cache_set"]),
    Operation("cache delete", "cache_delete", FLOORS["cache_delete"], prepare=FLOORS["cache_set"]),
    Operation("health", "health_check", FLOORS["health"]),
    Operation("health info", "health_info", FLOORS["health_info"]),
)


def operation(name: str) -> Operation:
    return next(op for op in OPERATIONS if op.name == name)


def succeeded(response: dict[str, Any]) -> bool:
    return 200 <= int(response["statusCode"]) < 300


@functools.cache
def template_function(function: str) -> Function:
    """The template's function built from functions/<function>/."""
    return next(each for each in load_template().functions.values() if each.code_dir.name == function)


def handler_environment(function: Function, redis_url: str) -> dict[str, str]:
    """The function's environment as deployed (parameters at their defaults: auth on, INFO logs), on this Redis."""
    deployed = {name: value for name, value in function.environment.items() if value is not None}
    return deployed | {"REDIS_URL": redis_url}


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The middle half of `values`: how far the noise of a shared machine moved a median."""
    if len(values) < 2:
        return values[0], values[0]
    low, _, high = statistics.quantiles(values, n=4)
    return low, high


class SideBySide(NamedTuple):
    subject_us: float  # median over rounds of the mean time per call
    floor_us: float
    ratio: float  # median over rounds of subject / floor, each round's pair measured back to back
    ratio_quartiles: tuple[float, float]
    reference_us: float | None = None  # a second floor in the same rounds: the layer's client settings
    reference_ratio: float | None = None


def run(call: Call, calls: int, prepare: Call | None = None) -> float:
    """`calls` calls, `prepare` before each off the clock; the mean seconds per call."""
    total = 0
    for _ in range(calls):
        if prepare is not None:
            prepare()
        started = time.perf_counter_ns()
        call()
        total += time.perf_counter_ns() - started
    return total / calls / 1e9


def side_by_side(*contenders: Call, rounds: int, block_seconds: float, prepare: Call | None = None) -> SideBySide:
    """A subject and its floors in blocks of calls back to back in every round, in rotating order (none always
    runs after another's cache misses or GC debt); a block lasts about `block_seconds`, to average out the clock."""
    calls = max(1, min(500, round(block_seconds / max(run(contenders[0], 5, prepare), 1e-6))))
    times: list[list[float]] = [[] for _ in contenders]
    for round_number in range(rounds):
        for offset in range(len(contenders)):
            index = (round_number + offset) % len(contenders)
            times[index].append(run(contenders[index], calls, prepare))
    medians = [statistics.median(each) * 1e6 for each in times]
    ratios = [[s / f for s, f in zip(times[0], other, strict=True)] for other in times[1:]]
    second = (medians[2], statistics.median(ratios[1])) if len(contenders) > 2 else ()
    return SideBySide(medians[0], medians[1], statistics.median(ratios[0]), quartiles(ratios[0]), *second)


def ready(op: Operation, redis: Redis) -> tuple[Call, Call | None]:
    """The operation's handler call with its state in place, and what must be put back before each further call.

    The first call is checked to succeed (a 4xx would time the wrong path), and opens the handler's connection.
    """
    op.fixtures(redis)
    prepare = None if op.prepare is None else functools.partial(op.prepare, redis)
    handler = importlib.import_module(f"functions.{op.function}.app").lambda_handler
    call = functools.partial(handler, op.event(), lambda_context(f"actionlog-{op.function}"))
    if not succeeded(response := call()):
        raise RuntimeError(f"{op.name}: the handler answered {response['statusCode']}: {response.get('body')}")
    return call, prepare


class RoundTripCounter:
    """A round trip is one write of commands followed by reading their replies: a MULTI ... EXEC pipeline sent in
    one go is one, LPUSH then LTRIM each awaited is two, a health-check PING before a command adds one."""

    def __init__(self) -> None:
        self.round_trips = 0
        self._awaiting_reply = False

    def sent(self) -> None:
        self.round_trips += not self._awaiting_reply
        self._awaiting_reply = True

    def received(self) -> None:
        self._awaiting_reply = False

    def count(self, call: Call, prepare: Call | None = None) -> int:
        if prepare is not None:
            prepare()  # off the count, like off the clock
        before = self.round_trips
        call()
        return self.round_trips - before


@contextmanager
def counting_round_trips() -> Iterator[RoundTripCounter]:
    """Wraps every redis-py connection's send and read for the duration."""
    from unittest.mock import patch  # here: the timed calls run with no more imported than the handlers need

    counter = RoundTripCounter()

    def counting(method: Callable[..., Any], tally: Callable[[], None]) -> Callable[..., Any]:
        def counted(self: Connection, *args: Any, **kwargs: Any) -> Any:
            tally()
            return method(self, *args, **kwargs)

        return counted

    send = counting(Connection.send_packed_command, counter.sent)
    read = counting(Connection.read_response, counter.received)
    with patch.object(Connection, "send_packed_command", send), patch.object(Connection, "read_response", read):
        yield counter


class Warm(NamedTuple):
    operations: dict[str, SideBySide]  # the handler, its plain redis-py floor, and the layer-configured one
    seed: SideBySide  # subject: the seed's two round trips; floor: our one MULTI
    round_trips: dict[str, tuple[int, int]]  # handler's and floor's, the most any of five warm calls took


def warm(plan: Plan, redis: Redis, plain: Redis) -> Warm:
    """Each handler timed next to its floors, then the seed's write next to ours; then the round trips of each."""
    timing: dict[str, Any] = {"rounds": plan.warm_rounds, "block_seconds": plan.warm_block_seconds}
    operations, calls = {}, {}
    for op in OPERATIONS:
        calls[op.name] = subject, prepare = ready(op, redis)
        floor, layer_floor = functools.partial(op.floor, plain), functools.partial(op.floor, redis)
        for call in (subject, floor, layer_floor):
            run(call, plan.warm_up_calls, prepare)
        operations[op.name] = side_by_side(subject, floor, layer_floor, prepare=prepare, **timing)
    seed, ours = (functools.partial(FLOORS[name], redis) for name in ("seed_log_one", "log_one"))
    for call in (seed, ours):
        run(call, plan.warm_up_calls)
    seed_timing = side_by_side(seed, ours, **timing)
    round_trips = {}
    with counting_round_trips() as counter:
        for op in OPERATIONS:
            (handler, prepare), floor = calls[op.name], functools.partial(op.floor, redis)
            op.fixtures(redis)  # as ready() left them: the timed calls used some up
            samples = [(counter.count(handler, prepare), counter.count(floor, prepare)) for _ in range(5)]
            round_trips[op.name] = max(h for h, _ in samples), max(f for _, f in samples)
        round_trips[SEED] = counter.count(seed), counter.count(ours)
    return Warm(operations, seed_timing, round_trips)


class Memory(NamedTuple):
    rss_after_first_call_mib: float
    peak_rss_mib: float


def memory(plan: Plan, redis: Redis, plain: Redis) -> Memory:
    """Every handler in one process (a superset of any one function's container), called in turn. The peak is the
    kernel's VmHWM: getrusage's ru_maxrss would carry over the forking bench process's own peak."""
    prepared = [ready(op, redis) for op in OPERATIONS]
    after_first_call = status_mib("VmRSS")
    for call, prepare in itertools.islice(itertools.cycle(prepared), plan.memory_calls):
        run(call, 1, prepare)
    return Memory(after_first_call, status_mib("VmHWM"))


def status_mib(field: str) -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) / 1024 for line in status if line.startswith(f"{field}:"))  # in kB


def worst_bodies(plan: Plan, redis: Redis, plain: Redis) -> bodies.Bodies:
    """The worst bodies (bench.bodies), a few rounds each: the slowest takes a fifth of a second a call."""
    return bodies.measure(min(plan.warm_rounds, bodies.ROUNDS), redis)


PHASES = {"warm": warm, "memory": memory, "bodies": worst_bodies}


def main(phase: str, plan: str, result: str) -> None:
    # The floors' clients are this process's own, next to the handlers' (the layer's, from the same REDIS_URL).
    url = os.environ["REDIS_URL"]
    measured = PHASES[phase](Plan(**json.loads(plan)), floors.client(url), floors.plain_client(url))
    Path(result).write_bytes(pickle.dumps(measured))


if __name__ == "__main__":  # run as bench.operations, so what it pickles names bench.operations' types, not __main__'s
    from bench import operations

    operations.main(*sys.argv[1:])
