"""The results as Markdown, and the verdict on each target; `bench.__main__` says how a verdict is reached."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from bench.bodies import INGEST_TIMEOUT_SECONDS, LAMBDA_CPU_SHARE_FACTOR, Bodies
from bench.cold import ColdResult
from bench.operations import SEED, Memory, Plan, SideBySide, Warm, operation
from bench.profiles import ImportTimes, Profile
from bench.reads import Reads
from bench.scale import Scale
from bench.tail import Distribution, OnCpu, Tail

# Handlers against the faster of their two floors (raw redis-py doing the same Redis work), as ratios of their
# times: the operations named, then every other operation; then counts and sizes.
WARM_RATIO_TARGETS = {"log one": 1.5, "read 50": 1.5, "log batch of 100": 2.5}
OTHER_WARM_RATIO_TARGET = 1.5
# Log one and read 50 call by call (bench.tail): the handler's p99 and mean over the faster floor's.
TAIL_P99_TARGET, TAIL_MEAN_TARGET = 3.0, 1.75
SCALE_RATIO_TARGET = 1.75  # raw redis-py's throughput over the containers', at every N (bench.scale)
COLD_RATIO_TARGET, PEAK_RSS_TARGET_MIB, LAYER_TARGET_MIB = 1.25, 64, 25
# A worst body costs about what reading it costs: at most this many times pydantic-core's parse of its bytes, or
# under WORST_BODY_FLOOR_MS (a body whose parse is nearly free, one long string). Ten worst SQS messages, at a 256 MB
# function's share of a CPU, end within this part of the function's timeout.
WORST_BODY_RATIO_TARGET, WORST_BODY_FLOOR_MS, SQS_TIMEOUT_SHARE_TARGET = 4.0, 20.0, 0.5

# A median's interval, as a box plot's notches draw it (McGill, Tukey and Larsen, 1978): the median plus or minus
# 1.57 times the middle half's width over the square root of the rounds, about 95% for two medians to differ.
NOTCH = 1.57
MIN_ROUNDS = 5  # fewer rounds say too little about the spread to draw an interval

# The bench's exit status (python -m bench; make turns any of the others into its own 2).
PASSED, MISSED, CANNOT_RUN, UNDECIDED = 0, 1, 2, 3


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "FAIL"
    UNDECIDED = "undecided"
    NOT_MEASURED = "not measured"

    def markdown(self) -> str:
        return f"**{self}**" if self is Verdict.FAIL else str(self)


SEVERITY = (Verdict.FAIL, Verdict.UNDECIDED, Verdict.NOT_MEASURED, Verdict.PASS)  # the first found decides


def judge(passed: bool) -> Verdict:
    """A count or a size: measured once, exactly."""
    return Verdict.PASS if passed else Verdict.FAIL


class Spread(Protocol):
    """A median of per-round ratios and the middle half of them: SideBySide, ColdResult, a tail's, a scale's."""

    @property
    def ratio(self) -> float: ...

    @property
    def ratio_quartiles(self) -> tuple[float, float]: ...


def median_interval(timing: Spread, rounds: int) -> tuple[float, float]:
    low, high = timing.ratio_quartiles
    reach = NOTCH * (high - low) / math.sqrt(rounds)
    return timing.ratio - reach, timing.ratio + reach


def judge_ratio(timing: Spread, rounds: int, limit: float) -> Verdict:
    """Pass when the median's whole interval is at or under `limit`, FAIL when it is all over, else undecided."""
    if rounds < MIN_ROUNDS:
        return Verdict.UNDECIDED
    low, high = median_interval(timing, rounds)
    return Verdict.PASS if high <= limit else Verdict.FAIL if low > limit else Verdict.UNDECIDED


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    found = set(verdicts)
    return next((verdict for verdict in SEVERITY if verdict in found), Verdict.PASS)


def exit_status(verdicts: Iterable[Verdict]) -> int:
    """MISSED when any target failed; else UNDECIDED when any is undecided or was not measured; else PASSED."""
    verdict = worst(verdicts)
    return MISSED if verdict is Verdict.FAIL else PASSED if verdict is Verdict.PASS else UNDECIDED


class Target(NamedTuple):
    name: str
    measured: str
    interval: str  # the median's interval a ratio was judged on; empty for counts and sizes
    verdict: Verdict


def within_reading(body: Any) -> bool:
    return bool(body.handler_ms < WORST_BODY_FLOOR_MS or body.ratio <= WORST_BODY_RATIO_TARGET)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], align: str) -> str:
    """A Markdown table; `align` has an "l" or "r" for each column."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def times(ratio: float) -> str:
    return f"{ratio:.2f}x"


def median_ratio(timing: Spread) -> str:
    """The median ratio, then the middle half of the per-round ratios: how far the machine's noise moved it."""
    low, high = timing.ratio_quartiles
    return f"{times(timing.ratio)} ({low:.2f} to {high:.2f})"


def reference_ratio(timing: SideBySide) -> str:
    """The median ratio against the second floor, and the middle half of those per-round ratios."""
    low, high = timing.reference_quartiles or (math.nan, math.nan)
    return f"{times(timing.reference_ratio or math.nan)} ({low:.2f} to {high:.2f})"


def interval_text(timing: Spread, rounds: int) -> str:
    if rounds < MIN_ROUNDS:
        return f"{rounds} rounds: too few"
    return "{:.2f} to {:.2f}".format(*median_interval(timing, rounds))


def ratio_target(name: str, timing: Spread, rounds: int, limit: float) -> Target:
    return Target(name, median_ratio(timing), interval_text(timing, rounds), judge_ratio(timing, rounds, limit))


def worst_of(name: str, judged: Sequence[tuple[str, Spread, int, float]]) -> Target:
    """One target over several ratios (label, spread, rounds, limit): the verdict of the worst, which it names."""
    verdicts = [judge_ratio(timing, rounds, limit) for _, timing, rounds, limit in judged]
    index = min(range(len(judged)), key=lambda i: (SEVERITY.index(verdicts[i]), -judged[i][1].ratio))
    label, timing, rounds, _ = judged[index]
    return Target(name, f"worst {label} {median_ratio(timing)}", interval_text(timing, rounds), worst(verdicts))


def not_measured(name: str) -> Target:
    return Target(name, "not measured in this run", "", Verdict.NOT_MEASURED)


class Results(NamedTuple):
    plan: Plan
    elapsed_seconds: float
    facts: dict[str, str]  # "date", then the machine table's rows
    warm: Warm
    cold: list[ColdResult]
    cold_layout: str
    memory: Memory
    layer_mib: float | str  # str: why it was not measured
    bodies: Bodies | None = None  # the worst bodies (bench.bodies); None in results made before they were measured
    reads: Reads | None = None  # filtered reads of a long list (bench.reads); None in results made before them
    tails: list[Tail] | None = None  # bench.tail; None: not measured (a target the run could not decide)
    scales: list[Scale] | None = None  # bench.scale; likewise
    profiles: list[Profile] | None = None  # bench.profiles' warm profiles
    imports: ImportTimes | None = None  # bench.profiles' import-time breakdown of a cold start
    warm_layer: str = "the layer's source"  # where the warm processes imported it from (bench.cold.Layout)

    def render(self) -> str:
        minutes, seconds = divmod(round(self.elapsed_seconds), 60)
        machine = [[name, value] for name, value in self.facts.items() if name != "date"]
        header = f"# Actionlog benchmarks\n\n`python -m bench`, {self.plan.name} run, {self.facts['date']}, "
        header += f"{minutes} min {seconds} s. Every figure is a median; how each is measured: docs/performance.md."
        sections = [header, table(["machine", ""], machine, "ll"), self.targets_section()]
        tails = [self.tails_section()] if self.tails is not None else []
        scales = [self.scales_section()] if self.scales is not None else []
        worst = [self.bodies_section()] if self.bodies is not None else []
        reads = [self.reads_section()] if self.reads is not None else []
        where = [self.where_section()] if self.profiles is not None or self.imports is not None else []
        measured = [self.warm_section(), *tails, *scales, self.limits_section(), *reads, self.cold_section(), *worst]
        return "\n\n".join([*sections, *measured, *where]) + "\n"

    def warm_verdict(self, name: str) -> Verdict:
        limit = WARM_RATIO_TARGETS.get(name, OTHER_WARM_RATIO_TARGET)
        return judge_ratio(self.warm.operations[name].against_faster_floor(), self.plan.warm_rounds, limit)

    def warm_targets(self) -> list[Target]:
        """The operations named in WARM_RATIO_TARGETS one by one, then every other one, by its worst."""
        faster, rounds = {n: t.against_faster_floor() for n, t in self.warm.operations.items()}, self.plan.warm_rounds
        named = [
            ratio_target(f"warm {name} ≤ {limit}x the faster floor", faster[name], rounds, limit)
            for name, limit in WARM_RATIO_TARGETS.items()
        ]
        others = [(name, timing, rounds, OTHER_WARM_RATIO_TARGET) for name, timing in faster.items()
                  if name not in WARM_RATIO_TARGETS]  # fmt: skip
        every = f"warm, every other operation ({len(others)}) ≤ {OTHER_WARM_RATIO_TARGET}x the faster floor"
        return [*named, worst_of(every, others)] if others else named

    def tail_targets(self) -> list[Target]:
        if self.tails is None:
            return [not_measured("warm p99 and mean of log one and read 50")]
        return [
            target
            for tail in self.tails
            for target in (
                ratio_target(f"warm {tail.name} p99 ≤ {TAIL_P99_TARGET:g}x the faster floor's", tail.p99, tail.rounds,
                             TAIL_P99_TARGET),
                ratio_target(f"warm {tail.name} mean ≤ {TAIL_MEAN_TARGET:g}x the faster floor's", tail.mean,
                             tail.rounds, TAIL_MEAN_TARGET),
            )
        ]  # fmt: skip

    def scale_targets(self) -> list[Target]:
        if self.scales is None:
            return [not_measured("scale: N warm containers beside N raw processes")]
        throughput = [
            ratio_target(f"scale N={each.n}: raw / handler throughput ≤ {SCALE_RATIO_TARGET}x", each, each.rounds,
                         SCALE_RATIO_TARGET)
            for each in self.scales
        ]  # fmt: skip
        unanswered = [f"N={each.n}: {each.answered('handler'):,} of {each.calls('handler'):,}" for each in self.scales
                      if not each.every_call_answered()]  # fmt: skip
        lost = [f"N={each.n}: {each.found('handler'):,} found of {each.answered('handler'):,}" for each in self.scales
                if not each.nothing_lost()]  # fmt: skip
        connections = [f"N={each.n}: {'{} to {}'.format(*each.connections())}" for each in self.scales
                       if each.connections() != (1, 1)]  # fmt: skip
        calls = sum(each.calls("handler") for each in self.scales)
        return [
            *throughput,
            Target("scale: every call answered (201), nothing lost (entries found = answered)",
                   "; ".join(unanswered + lost) or f"{calls:,} calls, each answered and found", "",
                   judge(not unanswered and not lost)),
            Target("scale: one connection per container", "; ".join(connections) or "1 each, at every N", "",
                   judge(not connections)),
        ]  # fmt: skip

    def targets(self) -> list[Target]:
        """Each target with what was measured and its verdict."""
        memory = self.memory
        trips, allowed = self.warm.round_trips, self.warm.round_trips_allowed
        over = [f"{name}: {trips[name][0]} of {most}" for name, most in allowed.items() if trips[name][0] > most]
        every = "every operation within, " + " or ".join(map(str, sorted({trips[name][0] for name in allowed})))
        cold = [(each.function, each, each.samples, COLD_RATIO_TARGET) for each in self.cold]
        rss = f"{memory.peak_rss_mib:.1f} MB (after the first calls {memory.rss_after_first_call_mib:.1f})"
        return [
            *self.warm_targets(),
            *self.tail_targets(),
            *self.scale_targets(),
            Target("round trips ≤ the floor's (health: + 1 spare)", "; ".join(over) or every, "", judge(not over)),
            worst_of(f"cold start ≤ {COLD_RATIO_TARGET}x the floor's", cold),
            Target(f"peak RSS after {self.plan.memory_calls:,} calls ≤ {PEAK_RSS_TARGET_MIB} MB", rss, "",
                   judge(memory.peak_rss_mib <= PEAK_RSS_TARGET_MIB)),
            self.layer_target(),
            *self.bodies_targets(),
        ]  # fmt: skip

    def bodies_targets(self) -> list[Target]:
        if self.bodies is None:
            return []
        measured = self.bodies.bodies
        over = [body.name for body in measured if not within_reading(body)]
        costliest = max(measured, key=lambda body: body.ratio if body.handler_ms >= WORST_BODY_FLOOR_MS else 0)
        batch = self.bodies.sqs_batch()
        at_lambda = batch.handler_ms / 1000 * LAMBDA_CPU_SHARE_FACTOR
        limit = SQS_TIMEOUT_SHARE_TARGET * INGEST_TIMEOUT_SECONDS
        return [
            Target(f"worst bodies ≤ {WORST_BODY_RATIO_TARGET:g}x reading them (or < {WORST_BODY_FLOOR_MS:g} ms)",
                   "; ".join(over) or f"costliest {costliest.name}: {times(costliest.ratio)}", "", judge(not over)),
            Target(f"ten worst 1 MiB SQS messages at 256 MB ≤ {limit:g} s", f"{at_lambda:.1f} s "
                   f"({batch.handler_ms:,.0f} ms here x {LAMBDA_CPU_SHARE_FACTOR:.1f})", "", judge(at_lambda <= limit)),
        ]  # fmt: skip

    def bodies_section(self) -> str:
        assert self.bodies is not None
        rows = [
            [body.name, f"{body.size:,}", body.status, f"{body.handler_ms:,.1f}", f"{body.reading_ms:,.1f}",
             times(body.ratio)]
            for body in self.bodies.bodies
        ]  # fmt: skip
        return (
            "## Worst bodies\n\nThe costliest body of each route and SQS message of each size (bench/bodies.py), "
            f"median of {self.bodies.rounds} rounds: its handler's time, and reading it (pydantic-core's parse of "
            "the same bytes).\n\n"
            + table(["body", "bytes", "answer", "handler ms", "reading ms", "ratio"], rows, "lrlrrr")
        )

    def reads_section(self) -> str:
        assert self.reads is not None
        rows = [
            [read.name, f"{read.returned}", f"{read.timing.subject_us:,.0f}", f"{read.timing.floor_us:,.0f}",
             median_ratio(read.timing), str(read.round_trips),
             f"{read.timing.subject_us / 1000 * LAMBDA_CPU_SHARE_FACTOR:,.0f}"]
            for read in self.reads.reads
        ]  # fmt: skip
        headers = ["filtered read", "entries answered", "handler µs", "plain read µs", "ratio (middle half)"]
        return (
            f"## Reading a {self.reads.entries:,}-entry list\n\nGET /users/{{userId}}/actions with "
            f"ACTIONS_MAX_ENTRIES at {self.reads.entries:,} (for this measurement only) and every list that long: "
            "each filtered read (bench/reads.py) takes the whole list after its cursor in its one round trip and keeps "
            f"the matching entries; beside it, in the same {self.reads.rounds} rounds on the same users, the plain "
            f"read `{self.reads.plain}` takes the newest 51. At 256 MB: the filtered read's time at a 256 MB "
            f"function's share of a CPU (x {LAMBDA_CPU_SHARE_FACTOR:.1f}). Not a target.\n\n"
            + table([*headers, "round trips", "at 256 MB ms"], rows, "lrrrrrr")
        )

    def layer_target(self) -> Target:
        name, size = f"layer ≤ {LAYER_TARGET_MIB} MB unzipped, as deployed", self.layer_mib
        if isinstance(size, str):
            return Target(name, size, "", Verdict.NOT_MEASURED)
        return Target(name, f"{size:.1f} MB", "", judge(size <= LAYER_TARGET_MIB))

    def exit_status(self) -> int:
        return exit_status(target.verdict for target in self.targets())

    def targets_section(self) -> str:
        targets = self.targets()
        rows = [[target.name, target.measured, target.interval, target.verdict.markdown()] for target in targets]
        counts = {verdict: sum(target.verdict is verdict for target in targets) for verdict in Verdict}
        tally = ", ".join(f"{count} {verdict.markdown()}" for verdict, count in counts.items() if count)
        return (
            "## Targets\n\nRatios are the median of the per-round ratios, the middle half of them in brackets; each "
            f"is judged on the median's interval (± {NOTCH} x the middle half's width / √rounds): pass when all of "
            "it is within the limit, FAIL when none is, undecided when the limit falls inside it. A target over "
            "several ratios (every other operation, the cold start) is its worst one's, which it names.\n\n"
            + table(["target", "measured", "median's interval", "result"], rows, "lrrl")
            + f"\n\n{tally}: exit status {exit_status(target.verdict for target in targets)}."
        )

    def warm_section(self) -> str:
        def row(name: str, timing: SideBySide) -> list[str]:
            plain = [f"{timing.subject_us:,.0f}", f"{timing.floor_us:,.0f}", median_ratio(timing)]
            layer = [f"{timing.reference_us or 0:,.0f}", reference_ratio(timing)]
            faster = "layer's" if timing.reference_is_faster() else "plain"
            limit = WARM_RATIO_TARGETS.get(name, OTHER_WARM_RATIO_TARGET)
            judged = [faster, f"≤ {limit}x", self.warm_verdict(name).markdown()]
            trips = "{} / {}".format(*self.warm.round_trips[name])
            allowed = str(self.warm.round_trips_allowed[name])
            return [name, *plain, *layer, *judged, trips, allowed, operation(name).floor.description]

        seed, seed_trips = self.warm.seed, self.warm.round_trips[SEED][0]
        headers = ["operation", "handler µs", "plain redis-py µs", "ratio (middle half)", "layer's settings µs"]
        headers += ["ratio (middle half)", "faster floor", "target", "result", "round trips", "allowed"]
        rows = [row(name, timing) for name, timing in self.warm.operations.items()]
        return (
            f"## Warm calls\n\nEvent to response in a warm process ({self.warm_layer}), {self.plan.warm_rounds} "
            "rounds, with the rate "
            "limits, quotas and retention at the template's defaults; the calls are spread over enough users (and "
            "clients, on /cache) that none passes a limit, and the floors write to the same ones. Floors: plain "
            "redis-py, and redis-py with the layer's client settings; each operation is judged against the faster "
            "of the two (the lower median), on the per-round ratios against it. Round trips: handler / raw "
            "redis-py; allowed: the floor's, and a spare one for health.\n\n"
            + table([*headers, "redis-py does"], rows, "lrrrrrlrlrrl")
            + f"\n\nA raw PING on a socket of its own, right after these rounds: {self.warm.loopback_us:,.0f} µs (the "
            "median of 2,000), the round trip every floor and handler pays; the shorter it is (a busy machine keeps "
            "both cores awake), the more the handler's own work weighs in its ratios."
            + f"\n\nThe seed's write, LPUSH then LTRIM ({seed_trips} round trips), against ours in one MULTI: "
            f"{seed.subject_us:,.0f} µs against {seed.floor_us:,.0f} µs, {median_ratio(seed)}."
        )

    def tails_section(self) -> str:
        assert self.tails is not None

        def cpu(figures: OnCpu | None) -> list[str]:
            if figures is None:
                return ["", ""]
            return [f"{figures.wall_us:,.0f} / {figures.cpu_us:,.0f}",
                    f"{figures.slowest_wall_us:,.0f} / {figures.slowest_cpu_us:,.0f}"]  # fmt: skip

        def row(tail: Tail, who: str, figures: Distribution, on_cpu: OnCpu | None) -> list[str]:
            us = [f"{value:,.0f}" for value in (figures.p50_us, figures.p99_us, figures.max_us, figures.mean_us)]
            gc = [f"{figures.collected:,}", f"{figures.collected_in_slowest} of {figures.slowest}"]
            return [tail.name, who, f"{figures.calls:,}", *us, *gc, *cpu(on_cpu)]

        rows = [
            each
            for tail in self.tails
            for each in (row(tail, "handler", tail.handler, tail.handler_cpu),
                         row(tail, f"floor ({tail.floor_name})", tail.floor, tail.floor_cpu))
        ]  # fmt: skip
        ratios = [[tail.name, tail.floor_name, median_ratio(tail.p99), median_ratio(tail.mean)] for tail in self.tails]
        first = self.tails[0]
        block = first.handler.calls // max(1, first.rounds)
        headers = ["operation", "", "calls", "p50 µs", "p99 µs", "max µs", "mean µs", "gc calls", "gc in slowest 1%"]
        headers += ["median wall / CPU µs", "slowest 1% wall / CPU µs"]
        return (
            f"## Warm tails\n\nLog one and read 50 timed call by call (bench/tail.py): {first.rounds} rounds, in each "
            f"a block of {block:,} calls of the handler and of each floor in rotating order. Pooled over every call; "
            "gc: the calls during which the garbage collector ran, and how many of the slowest 1% it ran in. Wall / "
            "CPU: a pass of its own, each call timed by the wall clock and by the thread's CPU clock, the median call "
            "and the mean of the slowest 1% (CPU well under wall: the call waited, for the scheduler or Redis). The "
            "targets are the medians of the per-round ratios of the blocks' p99 and mean, against the floor with the "
            "lower median mean.\n\n"
            + table(headers, rows, "llrrrrrrrrr")
            + "\n\n"
            + table(["operation", "faster floor", "p99 ratio (middle half)", "mean ratio (middle half)"], ratios,
                    "llrr")
        )  # fmt: skip

    def scales_section(self) -> str:
        assert self.scales is not None

        def row(each: Scale) -> list[str]:
            low, high = each.connections()
            return [
                str(each.n), f"{each.throughput('handler'):,.0f}", f"{each.throughput('raw'):,.0f}",
                median_ratio(each), f"{each.handler_p50_us:,.0f} / {each.handler_p99_us:,.0f}",
                f"{each.raw_p50_us:,.0f} / {each.raw_p99_us:,.0f}",
                f"{each.answered('handler'):,} of {each.calls('handler'):,}",
                f"{each.found('handler'):,}", f"{each.found('raw'):,} of {each.answered('raw'):,}",
                str(low) if low == high else f"{low} to {high}",
            ]  # fmt: skip

        first = self.scales[0]
        headers = ["N", "handler calls/s", "raw calls/s", "raw / handler (middle half)", "handler p50 / p99 µs"]
        headers += ["raw p50 / p99 µs", "handler 201s of calls", "entries found", "raw found of answered"]
        return (
            "## Scale\n\nN warm log_action containers (separate processes, each importing the handler once) "
            "logging one action after another to the one redis-server, beside N processes doing the floor with "
            f"plain redis-py (bench/scale.py): {first.rounds} rounds at each N, in each {self.plan.scale_seconds:g} s "
            "of the containers and as long of the raw processes, in alternating order. Throughput: the median "
            "round's; latency: every call at that N. Entries found: LLEN of every user written, after each round. "
            "Connections: each container's, as CLIENT LIST shows them.\n\n"
            + table([*headers, "connections per container"], map(row, self.scales), "rrrrrrrrrr")
        )

    def where_section(self) -> str:
        parts = ["## Where the time goes"]
        for profile in self.profiles or []:
            rows = [[row.function, f"{row.calls:,.1f}", f"{row.own_us:,.1f}", f"{row.cumulative_us:,.1f}"]
                    for row in profile.rows]  # fmt: skip
            parts.append(
                f"cProfile of {profile.calls:,} warm calls of {profile.name} ({profile.per_call_us:,.0f} µs a call "
                "under the profiler, which slows every Python call): the functions with the most time of their own, "
                "per call.\n\n" + table(["function", "calls", "own µs", "cumulative µs"], rows, "lrrr")
            )
        if self.imports is not None:
            imports = self.imports
            rows = [[("· " * row.depth) + row.module, f"{row.cumulative_ms:,.1f}", f"{row.own_ms:,.1f}"]
                    for row in imports.rows]  # fmt: skip
            parts.append(
                f'Import time of {imports.function}\'s cold start: `python -X importtime -c "import app"` in its '
                f"environment, on {imports.layout}, the median of {imports.runs} runs: `import app` "
                f"{imports.total_ms:,.0f} ms. The modules with the most cumulative time (a · for each level of "
                "nesting).\n\n" + table(["module", "cumulative ms", "own ms"], rows, "lrr")
            )
            packages = [[package, f"{ms:,.1f}"] for package, ms in imports.packages]
            parts.append(
                "The same imports by top-level package: the own time of each package's modules, summed.\n\n"
                + table(["package", "ms"], packages, "lr")
            )
        return "\n\n".join(parts)

    def limits_section(self) -> str:
        def row(name: str, timing: SideBySide) -> list[str]:
            return [name, f"{timing.subject_us:,.0f}", f"{timing.floor_us:,.0f}", median_ratio(timing)]

        rows = [row(name, timing) for name, timing in self.warm.limits.items()]
        return (
            "## What the rate limits and the retention cost\n\nThe handler with the limits and the retention at the "
            "template's defaults (on) against the same handler with RATE_LIMIT_WRITES, RATE_LIMIT_READS and "
            f"USER_DATA_RETENTION_DAYS at 0 (off), in alternating blocks of the same {self.plan.warm_rounds} rounds, "
            "on the same users. Not a target.\n\n"
            + table(["operation", "on µs", "off µs", "on / off (middle half)"], rows, "lrrr")
        )

    def cold_section(self) -> str:
        def row(each: ColdResult) -> list[str]:
            ms = [f"{ms:,.0f}" for ms in (*each.handler_ms, *each.floor_ms)]
            verdict = judge_ratio(each, each.samples, COLD_RATIO_TARGET)
            return [each.function, each.name, *ms, median_ratio(each), verdict.markdown()]

        headers = ["function", "operation", "handler ms", "its init", "floor ms", "its init", "ratio (middle half)"]
        return (
            "## Cold start\n\nA fresh Runtime Interface Emulator with awslambdaric per sample: its first REPORT "
            f"Duration (init plus first invocation), {self.cold[0].samples} samples each, alternating with the floor; "
            f"{self.cold_layout}.\n\n" + table([*headers, "result"], map(row, self.cold), "llrrrrrl")
        )
