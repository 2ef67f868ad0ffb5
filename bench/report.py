"""The results as Markdown: printed, and written to bench/RESULTS.md by a full run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from bench.cold import ColdResult
from bench.operations import SEED, Memory, Plan, SideBySide, Warm, operation

# The targets (issue 8): handlers against plain redis-py doing the same Redis work.
WARM_RATIO_TARGETS = {"log one": 2.0, "read 50": 2.0, "log batch of 100": 3.0}
ROUND_TRIPS_TARGETS = {"health": 2}  # every other operation: 1
COLD_RATIO_TARGET, PEAK_RSS_TARGET_MIB, LAYER_TARGET_MIB = 1.5, 64, 25


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


def outcome(passed: bool | None) -> str:
    return {True: "pass", False: "**FAIL**", None: "not measured"}[passed]


class Results(NamedTuple):
    plan: Plan
    elapsed_seconds: float
    facts: dict[str, str]  # "date", then the machine table's rows
    warm: Warm
    cold: list[ColdResult]
    cold_layout: str
    memory: Memory
    layer_mib: float | str  # str: why it was not measured

    def render(self) -> str:
        minutes, seconds = divmod(round(self.elapsed_seconds), 60)
        machine = [[name, value] for name, value in self.facts.items() if name != "date"]
        header = f"# Actionlog benchmarks\n\n`python -m bench`, {self.plan.name} run, {self.facts['date']}, "
        header += f"{minutes} min {seconds} s. Every figure is a median; how each is measured: README.md, Performance."
        targets = "## Targets (issue 8)\n\nRatios with the middle half of the per-round ratios in brackets.\n\n"
        targets += table(["target", "measured", "result"], self.verdicts(), "lrl")
        sections = [header, table(["machine", ""], machine, "ll"), targets, self.warm_section(), self.cold_section()]
        return "\n\n".join(sections) + "\n"

    def verdicts(self) -> list[list[str]]:
        """(target, measured, result) for each of the issue's targets."""
        warm, worst, memory = self.warm.operations, max(self.cold, key=lambda each: each.ratio), self.memory
        trips = {name: handler for name, (handler, _) in self.warm.round_trips.items() if name != SEED}
        over = [f"{name}: {count}" for name, count in trips.items() if count > ROUND_TRIPS_TARGETS.get(name, 1)]
        every = "every operation " + " or ".join(map(str, sorted(set(trips.values()))))
        rss = f"{memory.peak_rss_mib:.1f} MB (after the first calls {memory.rss_after_first_call_mib:.1f})"
        size = self.layer_mib
        layer = (size, None) if isinstance(size, str) else (f"{size:.1f} MB", size <= LAYER_TARGET_MIB)
        found: list[tuple[str, str, bool | None]] = [
            *(
                (f"warm {name} ≤ {at}x plain redis-py", median_ratio(warm[name]), warm[name].ratio <= at)
                for name, at in WARM_RATIO_TARGETS.items()
            ),
            ("round trips: 1 per operation, health ≤ 2", "; ".join(over) or every, not over),
            (f"cold start ≤ {COLD_RATIO_TARGET}x the floor's", f"worst {worst.function} {median_ratio(worst)}",
             worst.ratio <= COLD_RATIO_TARGET),
            (f"peak RSS after {self.plan.memory_calls:,} calls ≤ {PEAK_RSS_TARGET_MIB} MB", rss,
             memory.peak_rss_mib <= PEAK_RSS_TARGET_MIB),
            (f"layer ≤ {LAYER_TARGET_MIB} MB unzipped, as deployed", *layer),
        ]  # fmt: skip
        return [[target, measured, outcome(passed)] for target, measured, passed in found]

    def warm_section(self) -> str:
        def row(name: str, timing: SideBySide) -> list[str]:
            plain = [f"{timing.subject_us:,.0f}", f"{timing.floor_us:,.0f}", median_ratio(timing)]
            layer = [f"{timing.reference_us or 0:,.0f}", times(timing.reference_ratio or 0)]
            trips = "{} / {}".format(*self.warm.round_trips[name])
            return [name, *plain, *layer, trips, operation(name).floor.description]

        seed, seed_trips = self.warm.seed, self.warm.round_trips[SEED][0]
        headers = ["operation", "handler µs", "plain redis-py µs", "ratio (middle half)", "layer's settings µs"]
        headers += ["ratio", "round trips", "redis-py does"]
        rows = [row(name, timing) for name, timing in self.warm.operations.items()]
        return (
            f"## Warm calls\n\nEvent to response in a warm process, {self.plan.warm_rounds} rounds. Floors: plain "
            "redis-py, and redis-py with the layer's client settings. Round trips: handler / raw redis-py.\n\n"
            + table(headers, rows, "lrrrrrrl")
            + f"\n\nThe seed's write, LPUSH then LTRIM ({seed_trips} round trips), against ours in one MULTI: "
            f"{seed.subject_us:,.0f} µs against {seed.floor_us:,.0f} µs, {median_ratio(seed)}."
        )

    def cold_section(self) -> str:
        def row(each: ColdResult) -> list[str]:
            ms = [f"{ms:,.0f}" for ms in (*each.handler_ms, *each.floor_ms)]
            passed = outcome(each.ratio <= COLD_RATIO_TARGET)
            return [each.function, each.name, *ms, median_ratio(each), passed]

        headers = ["function", "operation", "handler ms", "its init", "floor ms", "its init", "ratio (middle half)"]
        return (
            "## Cold start\n\nA fresh Runtime Interface Emulator with awslambdaric per sample: its first REPORT "
            f"Duration (init plus first invocation), {self.cold[0].samples} samples each, alternating with the floor; "
            f"{self.cold_layout}.\n\n" + table([*headers, "result"], map(row, self.cold), "llrrrrrl")
        )
