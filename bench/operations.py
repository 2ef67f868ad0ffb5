"""The operations the bench measures, and `python -m bench.operations PHASE PLAN RESULT`: measuring them warm.

The bench process never imports the layer: bench.__main__.run_workers starts these processes with its source on
PYTHONPATH and the template's environment. Each imports a handler once, as a warm container does, calls it with
Lambda's own context, and pickles what it measured to RESULT; its stdout is the handlers' log.
"""

from __future__ import annotations

import base64
import cProfile
import functools
import importlib
import itertools
import json
import math
import os
import pickle
import pstats
import statistics
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from redis import Redis
from redis.connection import AbstractConnection as Connection

from bench import floors
from bench.floors import FLOORS
from dev.lambda_runtime import lambda_context
from dev.template import REPO_ROOT, Function, load_template

ROOT = REPO_ROOT
READY = "bench:ready"

type Event = dict[str, Any]


class Plan(NamedTuple):
    """How much of each measurement; the defaults are the full run's, a few minutes on two cores."""

    name: str = "full"
    warm_rounds: int = 41
    warm_block_seconds: float = 0.02
    warm_up_calls: int = 100
    cold_rounds: int = 12  # a cold start is noisy: the median needs many
    import_runs: int = 3
    memory_calls: int = 5000
    scale_clients: tuple[int, ...] = (1, 2, 4, 8)
    scale_seconds: float = 3.0
    benchmark_requests: int = 50_000
    profile_calls: int = 1000
    sam_build: bool = True  # sizes, and cold starts from the built artifacts rather than the source tree


@dataclass(frozen=True)
class Operation:
    name: str
    function: str  # functions/<function>/app.py, invoked with events/<function>.json (through `adjust`)
    floor: floors.Floor
    setup: floors.Floor | None = None  # put in place once before the operation is measured
    prepare: floors.Floor | None = None  # put back before every call, off the clock: the call uses it up
    adjust: Callable[[Event], Event] | None = None

    def event(self) -> Event:
        event: Event = json.loads((ROOT / "events" / f"{self.function}.json").read_text())
        return self.adjust(event) if self.adjust else event


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


@cache
def template_function(function: str) -> Function:
    """The template's function built from functions/<function>/."""
    return next(each for each in load_template().functions.values() if each.code_dir.name == function)


def handler_environment(function: Function, redis_url: str) -> dict[str, str]:
    """The function's environment as the template deploys it (parameters at their defaults), on the bench's Redis.

    AUTH_REQUIRED and POWERTOOLS_LOG_LEVEL are pinned to those defaults whatever a local edit says. At INFO the
    handlers log the connection's first use and a write's metrics line, so the figures include what production pays.
    """
    deployed = {name: value for name, value in function.environment.items() if value is not None}
    return deployed | {"REDIS_URL": redis_url, "AUTH_REQUIRED": "true", "POWERTOOLS_LOG_LEVEL": "INFO"}


type Call = Callable[[], object]


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The middle half of `values`: how far the noise of a shared machine moved a median."""
    if len(values) < 2:
        return values[0], values[0]
    low, _, high = statistics.quantiles(values, n=4)
    return low, high


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0 < fraction <= 1) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class SideBySide(NamedTuple):
    subject_us: float  # median over rounds of the mean time per call
    floor_us: float
    ratio: float  # median over rounds of subject / floor, each round's pair measured back to back
    ratio_quartiles: tuple[float, float]
    rounds: int
    calls_per_round: int
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
    """A subject, its floor and maybe a second floor, in blocks of calls back to back in every round, so the
    machine's noise hits them all; a block lasts about `block_seconds`, long enough to average out the clock."""
    calls = max(1, min(500, round(block_seconds / max(run(contenders[0], 5, prepare), 1e-6))))
    times: list[list[float]] = [[] for _ in contenders]
    for round_number in range(rounds):
        for offset in range(len(contenders)):  # rotated: none always runs after another's cache misses or GC debt
            index = (round_number + offset) % len(contenders)
            times[index].append(run(contenders[index], calls, prepare))
    medians = [statistics.median(each) * 1e6 for each in times]
    ratios = [[s / f for s, f in zip(times[0], other, strict=True)] for other in times[1:]]
    second = (medians[2], statistics.median(ratios[1])) if len(contenders) > 2 else ()
    ratio = statistics.median(ratios[0])
    return SideBySide(medians[0], medians[1], ratio, quartiles(ratios[0]), rounds, calls, *second)


def ready(op: Operation, redis: Redis) -> tuple[Call, Call | None]:
    """The operation's handler call with its state in place, and what must be put back before each further call.

    The first call is checked to succeed (a 4xx would time the wrong path), and opens the handler's connection.
    """
    for fixture in (op.setup, op.prepare):
        if fixture is not None:
            fixture(redis)
    prepare = None if op.prepare is None else functools.partial(op.prepare, redis)
    handler = importlib.import_module(f"functions.{op.function}.app").lambda_handler
    call = functools.partial(handler, op.event(), lambda_context(f"actionlog-{op.function}"))
    if not succeeded(response := call()):
        raise RuntimeError(f"{op.name}: the handler answered {response['statusCode']}: {response.get('body')}")
    return call, prepare


def warm(plan: Plan, redis: Redis, plain: Redis) -> tuple[dict[str, SideBySide], SideBySide]:
    """Each handler next to its floor in plain redis-py (the target's), and in redis-py as the layer configures it;
    and the seed's write (two round trips) next to ours (one MULTI)."""
    timing: dict[str, Any] = {"rounds": plan.warm_rounds, "block_seconds": plan.warm_block_seconds}
    operations = {}
    for op in OPERATIONS:
        subject, prepare = ready(op, redis)
        floor, layer_floor = functools.partial(op.floor, plain), functools.partial(op.floor, redis)
        for call in (subject, floor, layer_floor):
            run(call, plan.warm_up_calls, prepare)
        operations[op.name] = side_by_side(subject, floor, layer_floor, prepare=prepare, **timing)
    seed, ours = (functools.partial(FLOORS[name], redis) for name in ("seed_log_one", "log_one"))
    for call in (seed, ours):
        run(call, plan.warm_up_calls)
    return operations, side_by_side(seed, ours, **timing)


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

    def count(self, call: Call) -> int:
        before = self.round_trips
        call()
        return self.round_trips - before


@contextmanager
def counting_round_trips() -> Iterator[RoundTripCounter]:
    """Wraps every redis-py connection's send and read for the duration; only for a process of its own."""
    from unittest.mock import patch  # here: the warm processes import no more than the handlers and the timing need

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


class RoundTrips(NamedTuple):
    name: str
    handler: int  # the most any of five warm calls took
    floor: int


SEED = "seed's log one (LPUSH; LTRIM)"


def round_trips(plan: Plan, redis: Redis, plain: Redis) -> list[RoundTrips]:
    redis.ping()  # the floors' client connected before counting, as ready()'s first call connects the handler's
    found = []
    with counting_round_trips() as counter:
        for op in OPERATIONS:
            handler, prepare = ready(op, redis)  # its first call connects: the counted ones find the connection open

            def counted(call: Call, prepare: Call | None = prepare) -> int:
                if prepare is not None:
                    prepare()  # off the count, like off the clock
                return counter.count(call)

            samples = [(counted(handler), counted(functools.partial(op.floor, redis))) for _ in range(5)]
            found.append(RoundTrips(op.name, max(h for h, _ in samples), max(f for _, f in samples)))
        seed = counter.count(functools.partial(FLOORS["seed_log_one"], redis))
        found.append(RoundTrips(SEED, seed, counter.count(functools.partial(FLOORS["log_one"], redis))))
    return found


class Memory(NamedTuple):
    rss_after_first_call_mib: float
    peak_rss_mib: float


def memory(plan: Plan, redis: Redis, plain: Redis) -> Memory:
    """Every handler in one process (a superset of any one function's container), called in turn.

    The peak is the kernel's VmHWM: getrusage's ru_maxrss would carry over the forking bench process's own peak.
    """
    prepared = [ready(op, redis) for op in OPERATIONS]
    after_first_call = status_mib("VmRSS")
    for call, prepare in itertools.islice(itertools.cycle(prepared), plan.memory_calls):
        run(call, 1, prepare)
    return Memory(after_first_call, status_mib("VmHWM"))


def status_mib(field: str) -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) / 1024 for line in status if line.startswith(f"{field}:"))  # in kB


class Entry(NamedTuple):
    group: str
    where: str
    per_call_us: float
    share: float  # of the whole handler call, 0..1


class Profile(NamedTuple):
    name: str
    calls: int
    per_call_us: float  # under the profiler
    by_library: list[Entry]  # the time in each library's own functions, summed
    cumulative: list[Entry]  # the top entries by cumulative time
    own: list[Entry]  # the top entries by time in the function itself


type Site = tuple[str, int, str]  # pstats' (filename, line, function)
STDLIB = sysconfig.get_paths()["stdlib"]
LIBRARIES = {  # the first whose marks are in "file function" names the library of a profiled function
    "Powertools": ("aws_lambda_powertools",),
    "pydantic": ("pydantic",),
    "Actionlog": (f"{ROOT}/layers/", f"{ROOT}/functions/"),
    "redis-py": ("/redis/", "hiredis"),
    "socket I/O": ("_socket", "socket.py "),
    "json (stdlib)": (f"{STDLIB}/json/", "_json"),
}


def library(site: Site) -> str:
    name = f"{site[0]} {site[2]}"
    return next((library for library, marks in LIBRARIES.items() if any(mark in name for mark in marks)), "other")


def describe(site: Site) -> str:
    filename, line, function = site
    if filename == "~":  # a built-in: pstats names it by its repr
        return function
    anchors = ("site-packages/", f"{ROOT}/layers/actionlog/", f"{ROOT}/", f"{STDLIB}/")
    return f"{next((filename.split(a, 1)[1] for a in anchors if a in filename), filename)}:{line} {function}"


def profile(plan: Plan, redis: Redis, plain: Redis) -> list[Profile]:
    """cProfile of warm calls of operations without a `prepare`, so only the handler runs under the profiler."""
    profiles, calls = [], plan.profile_calls
    for name in ("log one", "read 50"):
        call, _ = ready(operation(name), redis)
        run(call, 100)
        profiler = cProfile.Profile()
        profiler.runcall(lambda each: [each() for _ in range(calls)], call)  # no clock in the loop, unlike run()
        table: dict[Site, tuple[int, int, float, float, Any]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        total = sum(row[2] for row in table.values())

        def entry(group: str, where: str, seconds: float, total: float = total) -> Entry:
            return Entry(group, where, seconds / calls * 1e6, seconds / total)

        def top(sites: Iterable[Site], column: int, count: int, table: dict[Site, Any] = table) -> list[Entry]:
            ranked = sorted(sites, key=lambda site: -table[site][column])[:count]
            return [entry(library(site), describe(site), table[site][column]) for site in ranked]

        own: dict[str, float] = defaultdict(float)
        for site, row in table.items():
            own[library(site)] += row[2]
        by_library = [entry(group, "", seconds) for group, seconds in sorted(own.items(), key=lambda kv: -kv[1])]
        handler_sites = [site for site in table if not site[0].startswith(str(ROOT / "bench"))]  # not the loop
        ranked = (top(handler_sites, 3, 25), top(table, 2, 8))  # by cumulative time, by own time
        profiles.append(Profile(name, calls, total / calls * 1e6, by_library, *ranked))
    return profiles


def released() -> None:
    """Tell the bench this process is ready, and wait for its go (stdin closed): every process starts at once."""
    print(READY, file=sys.stderr, flush=True)
    sys.stdin.read()


def scale(plan: Plan, redis: Redis, plain: Redis) -> list[int]:
    """log one back to back for `seconds`, from the go; the latency of each call in µs."""
    call, prepare = ready(operation("log one"), redis)
    run(call, 200, prepare)
    released()
    latencies: list[int] = []
    now = started = time.perf_counter_ns()
    while now < started + int(plan.scale_seconds * 1e9):
        call()
        latencies.append((finished := time.perf_counter_ns()) - now)
        now = finished
    return [latency // 1000 for latency in latencies]


PHASES = {phase.__name__.replace("_", " "): phase for phase in (warm, round_trips, memory, profile, scale)}


def main(phase: str, plan: str, result: str) -> None:
    # The floors' clients are this process's own, next to the handlers' (the layer's, from the same REDIS_URL).
    url = os.environ["REDIS_URL"]
    if phase != "scale":
        released()
    measured = PHASES[phase](Plan(**json.loads(plan)), floors.client(url), floors.plain_client(url))
    Path(result).write_bytes(pickle.dumps(measured))


if __name__ == "__main__":  # run as bench.operations, so what it pickles names bench.operations' types, not __main__'s
    from bench import operations

    operations.main(*sys.argv[1:])
