"""Scale: N warm containers writing at once to one redis-server, beside N raw processes doing the floor's work.

For each N of SCALES the bench starts N container processes and N raw ones (`python -m bench.scale SIDE ...`), with
the environment bench.__main__.run_worker gives its workers (the function's, as deployed, and the same layer). A
container imports log_action's handler once and calls it once, as a warm container has; a raw process imports
bench.floors (redis-py) and sends the floor's MULTI LPUSH LTRIM EXEC with plain redis-py. Then, in each of
Plan.scale_rounds rounds, the N containers log one action after another for Plan.scale_seconds, every call timed,
then the N raw processes do the same (the other way round every second round); each process writes to users of its
own, each taking at most as many calls as the write limit allows and as the list keeps (floors.MAX_ENTRIES), so
that no call is refused and every entry written stays in its list.

Per round and side: the throughput (each process's calls over its own time, summed), the calls answered (a 201, or a
raw reply), the entries found in Redis afterwards (LLEN of every user written), and, for the containers, the
connections each holds as the server sees them: CLIENT LIST's clients whose port is one of the container's sockets
(/proc/PID/fd and /proc/net/tcp). The target is the median of the per-round raw / handler throughput ratios, judged
on its notch interval as every ratio is; latencies are the p50 and p99 of every call of a side at that N.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, NamedTuple

from redis import Redis

from bench import floors
from bench.operations import Plan, quartiles
from bench.tail import quantile
from dev.template import REPO_ROOT

SCALES = (1, 2, 4)
SIDES = ("handler", "raw")


class Burst(NamedTuple):
    """What one process did in one round."""

    calls: int
    answered: int  # a 201 from the handler; a reply from Redis for raw redis-py
    seconds: float
    times_ns: list[int]
    users: list[str]  # every user written to


class Side(NamedTuple):
    """One side (handler or raw) in one round: its N processes together."""

    throughput: float  # calls a second, the processes' summed
    calls: int
    answered: int
    found: int  # entries in the users' lists afterwards
    connections: tuple[int, ...]  # each container's connections to Redis (empty for raw)
    p50_us: float
    p99_us: float


class Scale(NamedTuple):
    n: int
    handler: list[Side]  # one per round
    raw: list[Side]
    ratio: float  # median of the per-round raw / handler throughput
    ratio_quartiles: tuple[float, float]
    handler_p50_us: float  # every call of the side at this N
    handler_p99_us: float
    raw_p50_us: float
    raw_p99_us: float

    @property
    def rounds(self) -> int:
        return len(self.handler)

    def side(self, side: str) -> list[Side]:
        return self.handler if side == "handler" else self.raw

    def calls(self, side: str) -> int:
        return sum(each.calls for each in self.side(side))

    def answered(self, side: str) -> int:
        return sum(each.answered for each in self.side(side))

    def found(self, side: str) -> int:
        return sum(each.found for each in self.side(side))

    def throughput(self, side: str) -> float:
        return statistics.median(each.throughput for each in self.side(side))

    def connections(self) -> tuple[int, int]:
        """The fewest and the most connections any container held after any round."""
        held = [count for each in self.handler for count in each.connections]
        return min(held, default=0), max(held, default=0)

    def every_call_answered(self) -> bool:
        return self.answered("handler") == self.calls("handler") > 0

    def nothing_lost(self) -> bool:
        return self.found("handler") == self.answered("handler")


# The processes' side: a loop that waits for a round on stdin and answers on a pipe of its own (stdout is the
# handler's log, as in Lambda).


def writer(side: str) -> tuple[Callable[[str], Callable[[], bool]], int]:
    """For a user, a call that logs one action about them, True when it was answered; and how many calls a user
    may take."""
    if side == "raw":
        redis, floor = floors.plain_client(os.environ["REDIS_URL"]), floors.FLOORS["log_one"]

        def raw(user: str) -> Callable[[], bool]:
            commands = floor.commands(user)
            return lambda: floors.send(redis, commands) is not None

        return raw, floors.MAX_ENTRIES
    from bench.operations import about, calls_per_subject, operation
    from dev.lambda_environment import lambda_context

    op = operation("log one")
    handler = importlib.import_module(f"functions.{op.function}.app").lambda_handler
    context, event = lambda_context(f"actionlog-{op.function}"), op.event()

    def log(user: str) -> Callable[[], bool]:
        about_user = about(event, user)
        return lambda: int(handler(about_user, context)["statusCode"]) == 201

    return log, min(calls_per_subject(), floors.MAX_ENTRIES)


def burst(writes: Callable[[str], Callable[[], bool]], per_user: int, prefix: str, seconds: float) -> Burst:
    """Calls one after another for `seconds`, each user taking `per_user` of them."""
    times: list[int] = []
    users: list[str] = []
    answered, clock = 0, time.perf_counter_ns
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        users.append(f"{prefix}-{len(users)}")
        write = writes(users[-1])
        for _ in range(per_user):
            began = clock()
            with contextlib.suppress(Exception):  # a call that raised is one not answered: the report says so
                answered += write()
            times.append(clock() - began)
            if time.perf_counter() >= deadline:
                break
    return Burst(len(times), answered, time.perf_counter() - started, times, users)


def serve(side: str, name: str, reply: IO[str]) -> None:
    """The process's loop: one burst per `go` line on stdin, its Burst pickled to the file the line names."""
    writes, per_user = writer(side)
    writes(f"{name}-first")()  # the first call: the container is warm from here on
    print("ready", file=reply, flush=True)
    for line in sys.stdin:
        round_number, seconds, result = line.split(maxsplit=2)
        done = burst(writes, per_user, f"{name}-r{round_number}", float(seconds))
        Path(result.strip()).write_bytes(pickle.dumps(done))
        print("done", file=reply, flush=True)


# The bench's side.


class Process(NamedTuple):
    process: subprocess.Popen[str]
    reply: IO[str]


def start(side: str, name: str, env: dict[str, str], log: IO[str]) -> Process:
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "bench.scale", side, name, str(write_end)]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=log, stderr=log, text=True, pass_fds=(write_end,)
    )
    os.close(write_end)
    return Process(process, os.fdopen(read_end))


def await_line(processes: Iterable[Process], expected: str, log: IO[str]) -> None:
    for each in processes:
        line = each.reply.readline().strip()
        if line != expected:
            if not line:  # it closed its end of the pipe: let it finish writing why
                with contextlib.suppress(subprocess.TimeoutExpired):
                    each.process.wait(timeout=10)
            log.flush()
            output = Path(log.name).read_text()[-3000:]
            raise RuntimeError(f"a bench.scale process answered {line!r}, not {expected!r}; the processes' output:\n"
                               f"{output}")  # fmt: skip


def redis_ports(pid: int, redis_port: int) -> set[int]:
    """The local ports of `pid`'s TCP connections to `redis_port`."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        for line in path.read_text().splitlines()[1:] if path.exists() else ():
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == redis_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def connections(redis: Redis, pids: Sequence[int], redis_port: int) -> tuple[int, ...]:
    """Each process's connections as the server lists them."""
    listed = {int(client["addr"].rsplit(":", 1)[1]) for client in redis.client_list()}
    return tuple(len(redis_ports(pid, redis_port) & listed) for pid in pids)


def side_of(bursts: Sequence[Burst], redis: Redis, held: tuple[int, ...]) -> tuple[Side, list[int]]:
    users = [user for each in bursts for user in each.users]
    with redis.pipeline(transaction=False) as pipe:
        for user in users:
            pipe.llen(floors.actions_key(user))
        found = sum(pipe.execute())
    times = sorted(time_ns for each in bursts for time_ns in each.times_ns)
    side = Side(
        sum(each.calls / each.seconds for each in bursts),
        sum(each.calls for each in bursts),
        sum(each.answered for each in bursts),
        found,
        held,
        quantile(times, 0.5) / 1000 if times else 0.0,
        quantile(times, 0.99) / 1000 if times else 0.0,
    )
    return side, times


def measure_n(n: int, env: dict[str, str], seconds: float, rounds: int, workdir: Path, log: IO[str]) -> Scale:
    redis = floors.plain_client(env["REDIS_URL"])
    redis.flushall()
    redis_port = int(redis.connection_pool.connection_kwargs["port"])
    processes = {side: [start(side, f"scale-{n}-{side}-{index}", env, log) for index in range(n)] for side in SIDES}
    sides: dict[str, list[Side]] = {side: [] for side in SIDES}
    every: dict[str, list[int]] = {side: [] for side in SIDES}
    try:
        for side in SIDES:
            await_line(processes[side], "ready", log)
        for round_number in range(rounds):
            for side in SIDES if round_number % 2 == 0 else SIDES[::-1]:
                results = [workdir / f"{side}-{index}" for index in range(n)]
                for each, result in zip(processes[side], results, strict=True):
                    assert each.process.stdin is not None
                    each.process.stdin.write(f"{round_number} {seconds} {result}\n")
                    each.process.stdin.flush()
                await_line(processes[side], "done", log)
                bursts = [pickle.loads(result.read_bytes()) for result in results]
                pids = [each.process.pid for each in processes[side]]
                held = connections(redis, pids, redis_port) if side == "handler" else ()
                measured, times = side_of(bursts, redis, held)
                sides[side].append(measured)
                every[side] += times
    finally:
        for each in (each for side in SIDES for each in processes[side]):
            if each.process.stdin is not None:
                each.process.stdin.close()
        for each in (each for side in SIDES for each in processes[side]):
            try:
                each.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                each.process.kill()
            each.reply.close()
    ratios = [raw.throughput / handler.throughput for raw, handler in zip(sides["raw"], sides["handler"], strict=True)]
    handler_times, raw_times = (sorted(every[side]) for side in SIDES)
    return Scale(
        n,
        sides["handler"],
        sides["raw"],
        statistics.median(ratios),
        quartiles(ratios),
        quantile(handler_times, 0.5) / 1000,
        quantile(handler_times, 0.99) / 1000,
        quantile(raw_times, 0.5) / 1000,
        quantile(raw_times, 0.99) / 1000,
    )


def measure(env: dict[str, str], plan: Plan, workdir: Path) -> list[Scale]:
    """Every N of SCALES, in a warm process's environment `env`; the processes' output (the handlers' log) to
    workdir/scale.log."""
    with open(workdir / "scale.log", "w") as log, tempfile.TemporaryDirectory(dir=workdir) as results:
        return [measure_n(n, env, plan.scale_seconds, plan.scale_rounds, Path(results), log) for n in SCALES]


def main(side: str, name: str, reply_fd: str) -> None:
    with os.fdopen(int(reply_fd), "w") as reply:
        serve(side, name, reply)


if __name__ == "__main__":  # run as bench.scale, so what it pickles names bench.scale's types, not __main__'s
    from bench import scale

    scale.main(*sys.argv[1:])
