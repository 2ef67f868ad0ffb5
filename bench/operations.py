"""The operations the bench measures, and `python -m bench.operations PHASE PLAN RESULT`: measuring them warm.

The bench process never imports the layer: bench.__main__.run_worker starts this one with the layer's source on
PYTHONPATH and the template's environment (rate limits, quotas and retention at their defaults included). It imports
each handler once, as a warm container does, calls it with Lambda's own context, and pickles what it measured to
RESULT; its stdout is the handlers' log.

The calls are spread over many users (and backend clients, on /cache), a new one every so many calls, so that no
user passes a rate limit however fast the calls come; a handler's floors write to the same users. An answer that is
not a success, a 429 included, stops the bench.
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
# What turns the rate limits and the retention off, for what they cost measured against the defaults.
LIMITS_OFF = {"RATE_LIMIT_WRITES": "0", "RATE_LIMIT_READS": "0", "USER_DATA_RETENTION_DAYS": "0"}
LIMITS_MEASURED = ("log one", "read 50")
MAX_BLOCK_CALLS, CALIBRATION_CALLS, ROUND_TRIP_SAMPLES = 500, 5, 5


class Plan(NamedTuple):
    """How much of each measurement; the defaults are the full run's, a few minutes on two cores."""

    name: str = "full"
    warm_rounds: int = 41
    warm_block_seconds: float = 0.02
    warm_up_calls: int = 100
    cold_rounds: int = 12  # a cold start is noisy: the median needs many
    memory_calls: int = 5000
    sam_build: bool = True  # the layer's size, and the built artifacts (rather than the source tree) measured
    tail_rounds: int = 40  # bench.tail: rounds of per-call samples, each a block of tail_block_calls per contender
    tail_block_calls: int = 1000
    profile_calls: int = 2000  # bench.profiles: warm calls of log one under cProfile (a fifth as many batches)
    import_runs: int = 5  # bench.profiles: cold imports of one function under -X importtime (medians)
    # bench.scale: rounds of handler and raw processes at each N, each side this long; short sides keep a round's
    # two sides close in time, so that the shared machine's busy seconds fall on both
    scale_rounds: int = 21
    scale_seconds: float = 0.5


@dataclass(frozen=True)
class Operation:
    name: str
    function: str  # functions/<function>/app.py, invoked with events/<function>.json (through `adjust`)
    floor: floors.Floor
    setup: floors.Floor | None = None  # put in place once before the operation is measured
    prepare: floors.Floor | None = None  # put back before every call, off the clock: the call uses it up
    adjust: Callable[[Event], Event] | None = None
    spare_round_trips: int = 0  # allowed beyond the floor's

    def event(self, subject: str = floors.USER) -> Event:
        """The event from events/ (through `adjust`), about user `subject` and from backend client `subject`."""
        event: Event = json.loads((REPO_ROOT / "events" / f"{self.function}.json").read_text())
        return about(self.adjust(event) if self.adjust else event, subject)

    def fixtures(self, redis: Redis, user: str = floors.USER) -> None:
        for fixture in (self.setup, self.prepare):
            if fixture is not None:
                fixture(redis, user)

    def round_trips_allowed(self) -> int:
        """The floor's round trips (the same Redis work in raw redis-py) and the operation's spare ones: a limited
        route counts its request in the operation's own round trip."""
        return self.floor.round_trips + self.spare_round_trips


def about(event: Event, subject: str) -> Event:
    """`event` about user `subject` (its path and its token's user, from the app's client), or, on the shared cache,
    from backend client `subject` (its token's client_id and sub, as client credentials make them): what a rate
    limit counts. The nested parts it changes are copies; the body is shared."""
    if subject == floors.USER:
        return event
    changed, path = dict(event), event.get("pathParameters") or {}
    if "userId" in path:
        changed["pathParameters"] = {**path, "userId": subject}
        changed["rawPath"] = event["rawPath"].replace(f"/users/{floors.USER}", f"/users/{subject}", 1)
    context = event["requestContext"]
    jwt = (context.get("authorizer") or {}).get("jwt")
    if jwt is not None:
        claims = {**jwt["claims"], "sub": subject} | ({} if "userId" in path else {"client_id": subject})
        changed["requestContext"] = {
            **context,
            "authorizer": {**context["authorizer"], "jwt": {**jwt, "claims": claims}},
        }
    return changed


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
    Operation("count", "count_user_actions", FLOORS["count"], setup=FLOORS["full_list"]),
    Operation("clear", "clear_user_actions", FLOORS["clear"], prepare=FLOORS["full_list"]),
    Operation("erase user", "erase_user", FLOORS["erase_user"], prepare=FLOORS["user_data"]),
    Operation("cache set", "cache_set", FLOORS["cache_set"]),
    Operation("cache get", "cache_get", FLOORS["cache_get"], setup=FLOORS["cache_set"]),
    Operation("cache delete", "cache_delete", FLOORS["cache_delete"], prepare=FLOORS["cache_set"]),
    Operation("user cache set", "user_cache_set", FLOORS["user_cache_set"]),
    Operation("user cache get", "user_cache_get", FLOORS["user_cache_get"], setup=FLOORS["user_cache_set"]),
    Operation("user cache delete", "user_cache_delete", FLOORS["user_cache_delete"], prepare=FLOORS["user_cache_set"]),
    Operation("health", "health_check", FLOORS["health"], spare_round_trips=1),
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
    reference_quartiles: tuple[float, float] | None = None

    def reference_is_faster(self) -> bool:
        return self.reference_us is not None and self.reference_us < self.floor_us

    def against_faster_floor(self) -> SideBySide:
        """The subject against whichever floor has the lower median, with the per-round ratios against that one:
        what a target judges."""
        reference, ratio = self.reference_us, self.reference_ratio
        if reference is None or ratio is None or reference >= self.floor_us:
            return SideBySide(self.subject_us, self.floor_us, self.ratio, self.ratio_quartiles)
        return SideBySide(self.subject_us, reference, ratio, self.reference_quartiles or (ratio, ratio))


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


def side_by_side(
    *contenders: Call, rounds: int, block_seconds: float, prepare: Call | None = None, enter: Sequence[Call] = ()
) -> SideBySide:
    """A subject and its floors in blocks of calls back to back in every round, in rotating order (none always
    runs after another's cache misses or GC debt); a block lasts about `block_seconds`, to average out the clock.
    `enter`, when given, has a call for each contender, made before each of its blocks, off the clock: what it runs
    under (the layer's settings)."""

    def block(index: int, calls: int) -> float:
        if enter:
            enter[index]()
        return run(contenders[index], calls, prepare)

    calls = max(1, min(MAX_BLOCK_CALLS, round(block_seconds / max(block(0, CALIBRATION_CALLS), 1e-6))))
    times: list[list[float]] = [[] for _ in contenders]
    for round_number in range(rounds):
        for offset in range(len(contenders)):
            index = (round_number + offset) % len(contenders)
            times[index].append(block(index, calls))
    medians = [statistics.median(each) * 1e6 for each in times]
    ratios = [[s / f for s, f in zip(times[0], other, strict=True)] for other in times[1:]]
    second = (medians[2], statistics.median(ratios[1]), quartiles(ratios[1])) if len(contenders) > 2 else ()
    return SideBySide(medians[0], medians[1], statistics.median(ratios[0]), quartiles(ratios[0]), *second)


class Subjects:
    """Who a run of calls is about: users (and backend clients) `prefix`-0, -1, ..., each the subject of
    `per_subject` calls in turn, so that none passes a rate limit of `per_subject` however fast the calls come.
    A handler and its floors take their calls from the same subjects: the floors write to the same users."""

    def __init__(self, prefix: str, calls: int, per_subject: int) -> None:
        self.names = [f"{prefix}-{index}" for index in range(-(-calls // per_subject))]
        self._per_subject = per_subject
        self._taken = 0

    def upcoming(self) -> int:
        """The index of the next call's subject."""
        return self._taken // self._per_subject

    def take(self) -> int:
        """The index of this call's subject."""
        index = self.upcoming()
        if index >= len(self.names):
            raise RuntimeError(f"more calls than {len(self.names)} subjects of {self._per_subject} calls each")
        self._taken += 1
        return index


def calls_per_subject() -> int:
    """The calls one subject may take: the smallest rate limit in force, from the function's environment (the
    template's defaults) as the layer reads it."""
    from actionlog.settings import get_settings  # the worker's, never the bench process's

    settings = get_settings()
    limits = [limit for limit in (settings.rate_limit_writes, settings.rate_limit_reads) if limit > 0]
    return min(limits, default=sys.maxsize)


def warm_calls(plan: Plan, contenders: int) -> int:
    """The most calls an operation's subjects serve in the warm phase, whatever their speed: the first call, the
    warm-up, the timed blocks (at most MAX_BLOCK_CALLS each) and the round trips counted."""
    timed = CALIBRATION_CALLS + plan.warm_rounds * contenders * MAX_BLOCK_CALLS
    return 1 + contenders * plan.warm_up_calls + timed + 2 * ROUND_TRIP_SAMPLES


class Ready(NamedTuple):
    call: Call  # the handler, called with the next subject's event; it raises on an answer that is not a success
    prepare: Call | None  # puts back the state the next call uses up, off the clock


def ready(op: Operation, redis: Redis, subjects: Subjects) -> Ready:
    """The operation's handler call with its state in place for every subject, and what must be put back before
    each further call. The first call is made, which opens the handler's connection."""
    names, setup, put_back = subjects.names, op.setup, op.prepare
    if setup is not None:
        for name in names:
            setup(redis, name)
    handler = importlib.import_module(f"functions.{op.function}.app").lambda_handler
    context = lambda_context(f"actionlog-{op.function}")
    events = [op.event(name) for name in names]

    def call() -> dict[str, Any]:
        response: dict[str, Any] = handler(events[subjects.take()], context)
        if not succeeded(response):  # a 429 or any other refusal would time the wrong path
            raise RuntimeError(f"{op.name}: the handler answered {response['statusCode']}: {response.get('body')}")
        return response

    prepare = None if put_back is None else lambda: put_back(redis, names[subjects.upcoming()])
    if prepare is not None:
        prepare()
    call()
    return Ready(call, prepare)


def floor_call(op: Operation, redis: Redis, subjects: Subjects) -> Call:
    """The operation's floor on `redis`, about the next subject, as its handler's call is."""
    commands = [op.floor.commands(name) for name in subjects.names]
    one_by_one = op.floor.one_by_one
    return lambda: floors.send(redis, commands[subjects.take()], one_by_one)


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
    round_trips_allowed: dict[str, int]  # the handler's (Operation.round_trips_allowed)
    limits: dict[str, SideBySide]  # subject: the handler as deployed; floor: with LIMITS_OFF (LIMITS_MEASURED)
    loopback_us: float = 0.0  # a raw PING's round trip on a socket of its own, right after the timed operations


def warm(plan: Plan, redis: Redis, plain: Redis) -> Warm:
    """Each handler timed next to its floors, then the seed's write next to ours; then the round trips of each;
    then what the rate limits and the retention cost the handlers of LIMITS_MEASURED."""
    timing: dict[str, Any] = {"rounds": plan.warm_rounds, "block_seconds": plan.warm_block_seconds}
    per_subject = calls_per_subject()
    operations, calls = {}, {}
    for op in OPERATIONS:
        subjects = Subjects(op.function, warm_calls(plan, 3), per_subject)
        subject, prepare = ready(op, redis, subjects)
        floor, layer_floor = floor_call(op, plain, subjects), floor_call(op, redis, subjects)
        for call in (subject, floor, layer_floor):
            run(call, plan.warm_up_calls, prepare)
        operations[op.name] = side_by_side(subject, floor, layer_floor, prepare=prepare, **timing)
        calls[op.name] = subject, layer_floor, prepare
    loopback = loopback_round_trip_us(plain)
    seed, ours = (functools.partial(FLOORS[name], redis) for name in ("seed_log_one", "log_one"))
    for call in (seed, ours):
        run(call, plan.warm_up_calls)
    seed_timing = side_by_side(seed, ours, **timing)
    round_trips, allowed = {}, {}
    with counting_round_trips() as counter:
        for op in OPERATIONS:
            handler, floor, prepare = calls[op.name]
            samples = [
                (counter.count(handler, prepare), counter.count(floor, prepare)) for _ in range(ROUND_TRIP_SAMPLES)
            ]
            round_trips[op.name] = max(h for h, _ in samples), max(f for _, f in samples)
            allowed[op.name] = op.round_trips_allowed()
        round_trips[SEED] = counter.count(seed), counter.count(ours)
    limits = {name: limits_on_and_off(operation(name), plan, redis, per_subject) for name in LIMITS_MEASURED}
    return Warm(operations, seed_timing, round_trips, allowed, limits, loopback)


def loopback_round_trip_us(redis: Redis, pings: int = 2000) -> float:
    """The median round trip of a PING written and read on a socket of its own, no client library: what every floor
    and handler pays once a call. It moves with the machine's state (about 10 µs with both cores busy, about 70 µs
    with them idle between calls here), and with it every ratio: the shorter it is, the more the handler's own work
    weighs."""
    import socket  # here: the timed calls run with no more imported than the handlers need

    options = redis.connection_pool.connection_kwargs
    times = []
    with socket.create_connection((options.get("host", "localhost"), options.get("port", 6379))) as connection:
        for _ in range(pings):
            started = time.perf_counter_ns()
            connection.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = connection.recv(64)
            times.append(time.perf_counter_ns() - started)
            if reply != b"+PONG\r\n":
                raise RuntimeError(f"PING answered {reply!r}")
    return statistics.median(times) / 1000


def limits_on_and_off(op: Operation, plan: Plan, redis: Redis, per_subject: int) -> SideBySide:
    """The handler with the rate limits and retention as deployed against the same handler with them off
    (LIMITS_OFF), in blocks of the same rounds on the same users; the layer reads its settings again at each
    switch, off the clock."""
    from actionlog.settings import get_settings  # the worker's, never the bench process's

    def under(environment: dict[str, str]) -> Call:
        def switch() -> None:
            os.environ.update(environment)
            get_settings.cache_clear()
            get_settings()

        return switch

    on, off = under({name: os.environ[name] for name in LIMITS_OFF}), under(LIMITS_OFF)
    subject, prepare = ready(op, redis, Subjects(f"{op.function}-limits", warm_calls(plan, 2), per_subject))
    try:
        for switch in (on, off):
            switch()
            run(subject, plan.warm_up_calls, prepare)
        return side_by_side(
            subject,
            subject,
            rounds=plan.warm_rounds,
            block_seconds=plan.warm_block_seconds,
            prepare=prepare,
            enter=(on, off),
        )
    finally:
        on()


class Memory(NamedTuple):
    rss_after_first_call_mib: float
    peak_rss_mib: float


def memory(plan: Plan, redis: Redis, plain: Redis) -> Memory:
    """Every handler in one process (a superset of any one function's container), called in turn. The peak is the
    kernel's VmHWM: getrusage's ru_maxrss would carry over the forking bench process's own peak."""
    per_subject, calls = calls_per_subject(), 1 + -(-plan.memory_calls // len(OPERATIONS))
    prepared = [ready(op, redis, Subjects(op.function, calls, per_subject)) for op in OPERATIONS]
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


def long_reads(plan: Plan, redis: Redis, plain: Redis) -> Any:
    """Filtered reads of a 10,000-entry list beside the plain read (bench.reads, which builds on this module)."""
    from bench import reads

    return reads.measure(plan, redis)


def tails(plan: Plan, redis: Redis, plain: Redis) -> Any:
    """Log one and read 50 timed call by call beside their floors (bench.tail, which builds on this module)."""
    from bench import tail

    return tail.measure(plan, redis, plain)


def profiles(plan: Plan, redis: Redis, plain: Redis) -> Any:
    """cProfile of warm calls of log one and of the batch of 100 (bench.profiles, which builds on this module)."""
    from bench import profiles

    return profiles.measure(plan, redis, plain)


PHASES = {
    "warm": warm,
    "memory": memory,
    "bodies": worst_bodies,
    "reads": long_reads,
    "tail": tails,
    "profiles": profiles,
}


def main(phase: str, plan: str, result: str) -> None:
    # The floors' clients are this process's own, next to the handlers' (the layer's, from the same REDIS_URL).
    url = os.environ["REDIS_URL"]
    measured = PHASES[phase](Plan(**json.loads(plan)), floors.client(url), floors.plain_client(url))
    Path(result).write_bytes(pickle.dumps(measured))


if __name__ == "__main__":  # run as bench.operations, so what it pickles names bench.operations' types, not __main__'s
    from bench import operations

    operations.main(*sys.argv[1:])
