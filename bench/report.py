"""The results as Markdown, and the verdict on each target; `bench.__main__` says how a verdict is reached."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

from bench.bodies import INGEST_TIMEOUT_SECONDS, LAMBDA_CPU_SHARE_FACTOR, Bodies
from bench.cold import ColdResult
from bench.operations import SEED, Memory, Plan, SideBySide, Warm, operation
from bench.reads import Reads

# Handlers against plain redis-py doing the same Redis work, as ratios of their times; then counts and sizes.
WARM_RATIO_TARGETS = {"log one": 2.0, "read 50": 2.0, "log batch of 100": 3.0}
COLD_RATIO_TARGET, PEAK_RSS_TARGET_MIB, LAYER_TARGET_MIB = 1.5, 64, 25
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


def median_interval(timing: SideBySide | ColdResult, rounds: int) -> tuple[float, float]:
    low, high = timing.ratio_quartiles
    reach = NOTCH * (high - low) / math.sqrt(rounds)
    return timing.ratio - reach, timing.ratio + reach


def judge_ratio(timing: SideBySide | ColdResult, rounds: int, limit: float) -> Verdict:
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


def median_ratio(timing: SideBySide | ColdResult) -> str:
    """The median ratio, then the middle half of the per-round ratios: how far the machine's noise moved it."""
    low, high = timing.ratio_quartiles
    return f"{times(timing.ratio)} ({low:.2f} to {high:.2f})"


def interval_text(timing: SideBySide | ColdResult, rounds: int) -> str:
    if rounds < MIN_ROUNDS:
        return f"{rounds} rounds: too few"
    return "{:.2f} to {:.2f}".format(*median_interval(timing, rounds))


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

    def render(self) -> str:
        minutes, seconds = divmod(round(self.elapsed_seconds), 60)
        machine = [[name, value] for name, value in self.facts.items() if name != "date"]
        header = f"# Actionlog benchmarks\n\n`python -m bench`, {self.plan.name} run, {self.facts['date']}, "
        header += f"{minutes} min {seconds} s. Every figure is a median; how each is measured: docs/performance.md."
        sections = [header, table(["machine", ""], machine, "ll"), self.targets_section()]
        worst = [self.bodies_section()] if self.bodies is not None else []
        reads = [self.reads_section()] if self.reads is not None else []
        measured = [self.warm_section(), self.limits_section(), *reads, self.cold_section(), *worst]
        return "\n\n".join([*sections, *measured]) + "\n"

    def targets(self) -> list[Target]:
        """Each target with what was measured and its verdict."""
        warm, memory, rounds = self.warm.operations, self.memory, self.plan.warm_rounds
        trips, allowed = self.warm.round_trips, self.warm.round_trips_allowed
        over = [f"{name}: {trips[name][0]} of {most}" for name, most in allowed.items() if trips[name][0] > most]
        every = "every operation within, " + " or ".join(map(str, sorted({trips[name][0] for name in allowed})))
        cold = {each.function: judge_ratio(each, each.samples, COLD_RATIO_TARGET) for each in self.cold}
        deciding = min(self.cold, key=lambda each: (SEVERITY.index(cold[each.function]), -each.ratio))
        rss = f"{memory.peak_rss_mib:.1f} MB (after the first calls {memory.rss_after_first_call_mib:.1f})"
        return [
            *(
                Target(f"warm {name} ≤ {at}x plain redis-py", median_ratio(warm[name]),
                       interval_text(warm[name], rounds), judge_ratio(warm[name], rounds, at))
                for name, at in WARM_RATIO_TARGETS.items()
            ),
            Target("round trips ≤ the floor's, + 1 for a rate count apart", "; ".join(over) or every, "",
                   judge(not over)),
            Target(f"cold start ≤ {COLD_RATIO_TARGET}x the floor's",
                   f"worst {deciding.function} {median_ratio(deciding)}", interval_text(deciding, deciding.samples),
                   worst(cold.values())),
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
            "it is within the limit, FAIL when none is, undecided when the limit falls inside it. The cold start "
            "target is its worst function's.\n\n"
            + table(["target", "measured", "median's interval", "result"], rows, "lrrl")
            + f"\n\n{tally}: exit status {exit_status(target.verdict for target in targets)}."
        )

    def warm_section(self) -> str:
        def row(name: str, timing: SideBySide) -> list[str]:
            plain = [f"{timing.subject_us:,.0f}", f"{timing.floor_us:,.0f}", median_ratio(timing)]
            layer = [f"{timing.reference_us or 0:,.0f}", times(timing.reference_ratio or 0)]
            trips = "{} / {}".format(*self.warm.round_trips[name])
            allowed = str(self.warm.round_trips_allowed[name])
            return [name, *plain, *layer, trips, allowed, operation(name).floor.description]

        seed, seed_trips = self.warm.seed, self.warm.round_trips[SEED][0]
        headers = ["operation", "handler µs", "plain redis-py µs", "ratio (middle half)", "layer's settings µs"]
        headers += ["ratio", "round trips", "allowed", "redis-py does"]
        rows = [row(name, timing) for name, timing in self.warm.operations.items()]
        return (
            f"## Warm calls\n\nEvent to response in a warm process, {self.plan.warm_rounds} rounds, with the rate "
            "limits, quotas and retention at the template's defaults; the calls are spread over enough users (and "
            "clients, on /cache) that none passes a limit, and the floors write to the same ones. Floors: plain "
            "redis-py, and redis-py with the layer's client settings. Round trips: handler / raw redis-py; allowed: "
            "the floor's, one more where a limited route counts the request apart (the rate count, an EVALSHA), "
            "and a spare one for health.\n\n"
            + table(headers, rows, "lrrrrrrrl")
            + f"\n\nThe seed's write, LPUSH then LTRIM ({seed_trips} round trips), against ours in one MULTI: "
            f"{seed.subject_us:,.0f} µs against {seed.floor_us:,.0f} µs, {median_ratio(seed)}."
        )

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
