"""The results as Markdown: printed, and written to bench/RESULTS.md by a full run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from bench.cold import ColdReport, ColdResult, Sizes
from bench.operations import OPERATIONS, SEED, Entry, Memory, Plan, Profile, RoundTrips, SideBySide, operation

# The targets (issue 8): handlers against plain redis-py doing the same Redis work.
WARM_RATIO_TARGETS = {"log one": 2.0, "read 50": 2.0, "log batch of 100": 3.0}
ROUND_TRIPS_TARGETS = {"health": 2}  # every other operation: 1
COLD_RATIO_TARGET, PEAK_RSS_TARGET_MIB, LAYER_TARGET_MIB = 1.5, 64, 25
COLD_TARGET = f"cold start ≤ {COLD_RATIO_TARGET}x: the emulator's init plus first invocation, against the same for "
COLD_TARGET += "import redis + the same pipeline"
LAYER_TARGET = f"layer ≤ {LAYER_TARGET_MIB} MB unzipped"


class Throughput(NamedTuple):
    calls_per_second: float
    p50_ms: float
    p99_ms: float


class ScaleResult(NamedTuple):
    clients: int
    handlers: Throughput
    redis_benchmark: Throughput | None  # None when redis-benchmark is not installed


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], align: str | None = None) -> str:
    """A Markdown table; `align` has an "r" for each right-aligned column (default: all but the first)."""
    align = align or "l" + "r" * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def times(ratio: float) -> str:
    return f"{ratio:.2f}x"


def spread(quartiles: tuple[float, float]) -> str:
    return f"{quartiles[0]:.2f} to {quartiles[1]:.2f}"


def outcome(passed: bool | None) -> str:
    return {True: "pass", False: "**FAIL**", None: "not measured"}[passed]


class Results(NamedTuple):
    plan: Plan
    elapsed_seconds: float
    facts: dict[str, str]  # "date", then the machine table's rows
    warm: dict[str, SideBySide]  # the handler, its plain redis-py floor, and the layer-configured one
    seed: SideBySide  # subject: the seed's two round trips; floor: our one MULTI
    round_trips: list[RoundTrips]
    cold: ColdReport
    memory: Memory
    sizes: Sizes | str  # str: why they were not measured
    scale: list[ScaleResult]
    profiles: list[Profile]

    def render(self) -> str:
        targets = [[target, measured, outcome(passed)] for target, measured, passed in self.verdicts()]
        sections = [self.warm_section, self.seed_section, self.round_trips_section, self.cold_section]
        sections += [self.memory_section, self.size_section, self.scale_section, self.profile_section]
        targets_section = "## Targets\n\n" + table(["target (issue 8)", "measured", "result"], targets, "lrl")
        return "\n\n".join([self.header(), targets_section, *(section() for section in sections)]) + "\n"

    def verdicts(self) -> list[tuple[str, str, bool | None]]:
        """(target, measured, passed) for each of the issue's targets; passed is None when not measured."""
        warm, worst = self.warm, max(self.cold.results, key=lambda result: result.ratio)
        counted = [item for item in self.round_trips if item.name in warm]
        over = [f"{i.name}: {i.handler}" for i in counted if i.handler > ROUND_TRIPS_TARGETS.get(i.name, 1)]
        every = "every operation " + " or ".join(map(str, sorted({item.handler for item in counted})))
        layer, peak = self.sizes.layer_mib if isinstance(self.sizes, Sizes) else None, self.memory.peak_rss_mib
        return [
            *(
                (f"warm {name}: handler ≤ {at}x plain redis-py", times(warm[name].ratio), warm[name].ratio <= at)
                for name, at in WARM_RATIO_TARGETS.items()
            ),
            ("round trips: 1 per operation, health ≤ 2", "; ".join(over) or every, not over),
            (COLD_TARGET, f"worst {worst.function} {times(worst.ratio)}", worst.ratio <= COLD_RATIO_TARGET),
            (f"peak RSS ≤ {PEAK_RSS_TARGET_MIB} MB", f"{peak:.0f} MB", peak <= PEAK_RSS_TARGET_MIB),
            (LAYER_TARGET, f"{layer:.1f} MB", layer <= LAYER_TARGET_MIB)
            if layer
            else (LAYER_TARGET, "not measured", None),
        ]

    def header(self) -> str:
        minutes, seconds = divmod(round(self.elapsed_seconds), 60)
        machine = [[name, value] for name, value in self.facts.items() if name != "date"]
        return (
            f"# Actionlog benchmarks\n\nMeasured {self.facts['date']}, {self.plan.name} run, {minutes} min {seconds} s."
            f"\n\n{table(['machine', ''], machine, 'll')}\n\nReproduce: `make bench` with `redis-server` and "
            "`redis-benchmark` installed; `python -m bench --quick` is a smoke run that writes nothing unless given "
            "`--output`.\n\nEvery figure is a median, each handler measured beside its floors in the same run, "
            "alternating in rounds so the shared machine's noise hits all of them; the middle half of the per-round "
            "ratios shows how far it moved them. The floors do the same Redis work in raw redis-py: plain (its "
            "defaults, 1 s timeouts: the targets') and with the layer's client settings (RESP2, one retry, health "
            "checks, decoded responses). Handlers run with the template's environment (`POWERTOOLS_LOG_LEVEL=INFO`): "
            "their happy-path log lines are paid for."
        )

    def warm_section(self) -> str:
        def row(name: str, timing: SideBySide) -> list[str]:
            us = [f"{timing.subject_us:,.0f}", f"{timing.floor_us:,.0f}", times(timing.ratio)]
            reference = [f"{timing.reference_us or 0:,.0f}", times(timing.reference_ratio or 0)]
            return [
                name,
                *us,
                spread(timing.ratio_quartiles),
                *reference,
                operation(name).floor.description,
            ]

        warm = self.warm
        calls = ", ".join(f"{name} {timing.calls_per_round}" for name, timing in warm.items())
        headers = ["operation", "handler µs", "plain redis-py µs", "handler / plain", "middle half"]
        headers += ["layer's settings µs", "handler / that", "redis-py does"]
        return (
            "## 1. Warm invocations\n\nEvent to response in a warm process (`functions.<op>.app` imported once, the "
            f"connection open). {self.plan.warm_rounds} rounds of a block of calls of each, in rotating order "
            f"(calls per block: {calls}); state a call uses up is put back before each call, off the clock.\n\n"
            + table(headers, [row(name, timing) for name, timing in warm.items()], "lrrrrrrl")
        )

    def seed_section(self) -> str:
        seed = self.seed
        rows = [
            ["the seed's: LPUSH, then LTRIM (2 round trips)", f"{seed.subject_us:,.0f}"],
            ["ours: MULTI LPUSH LTRIM EXEC (1 round trip)", f"{seed.floor_us:,.0f}"],
            ["seed / ours", f"{times(seed.ratio)} (middle half {spread(seed.ratio_quartiles)})"],
        ]
        return (
            "## 2. The seed's write next to ours\n\nBoth in raw redis-py over loopback, where a round trip is "
            "cheapest; across a VPC each extra one adds a network latency.\n\n" + table(["log one", "µs"], rows)
        )

    def round_trips_section(self) -> str:
        rows = []
        for item in self.round_trips:
            limit = ROUND_TRIPS_TARGETS.get(item.name, 1)
            if item.name == SEED:  # not a handler: the seed's write, in the raw column
                rows.append([item.name, "", str(item.handler), "", ""])
            else:
                passed = outcome(item.handler <= limit)
                rows.append([item.name, str(item.handler), str(item.floor), f"≤ {limit}", passed])
        return (
            "## 3. Round trips per operation\n\nCounted on redis-py's connections (a write of commands, then reading "
            "their replies, is one), the most any of five warm calls took.\n\n"
            + table(["operation", "handler", "raw redis-py", "target", "result"], rows, "lrrrl")
        )

    def cold_section(self) -> str:
        def row(each: ColdResult) -> list[str]:
            ms = [f"{ms:,.0f}" for ms in (*each.handler_ms, *each.floor_ms)]
            passed = outcome(each.ratio <= COLD_RATIO_TARGET)
            return [each.function, each.name, *ms, times(each.ratio), spread(each.ratio_quartiles), passed]

        cold = self.cold
        headers = ["function", "operation", "handler ms", "its init ms", "floor ms", "its init ms", "handler / floor"]
        headers += ["middle half", f"≤ {COLD_RATIO_TARGET}x"]
        imports = [
            [
                "\u00a0\u00a0" * module.depth + f"`{module.name}`",
                f"{module.cumulative_ms:,.1f}",
                f"{module.self_ms:,.1f}",
            ]
            for module in cold.imports
        ]
        return (
            "## 4. Cold start\n\nEach sample is a fresh Runtime Interface Emulator with awslambdaric, as in `sam "
            "local`, invoked once: its first REPORT Duration is the init phase plus the first invocation. The floor "
            "is a function whose app.py imports redis and whose handler does the same Redis work in plain redis-py, "
            f"run alike. Layout: {cold.layout}. Samples per function: {cold.results[0].samples}, alternating.\n\n"
            + table(headers, map(row, cold.results), "llrrrrrrl")
            + f"\n\n### Imports of `{cold.imports_of}` (the slowest): top {len(cold.imports)} by cumulative time\n\n"
            "`python -X importtime -c 'import app'` in the same layout; medians, nesting shown by indentation.\n\n"
            + table(["module", "cumulative ms", "self ms"], imports)
        )

    def memory_section(self) -> str:
        memory = self.memory
        row = [f"{self.plan.memory_calls:,}", str(len(OPERATIONS)), f"{memory.rss_after_first_call_mib:.1f}"]
        row += [f"{memory.peak_rss_mib:.1f}", outcome(memory.peak_rss_mib <= PEAK_RSS_TARGET_MIB)]
        headers = ["calls", "handlers", "RSS after first calls MB", "peak RSS MB", f"≤ {PEAK_RSS_TARGET_MIB} MB"]
        return (
            "## 5. Memory\n\nOne warm process holding every handler (a superset of any one container), called in "
            "turn; peak RSS is the kernel's VmHWM. 1 MB = 2^20 bytes.\n\n" + table(headers, [row], "rrrrl")
        )

    def size_section(self) -> str:
        if not isinstance(sizes := self.sizes, Sizes):
            return f"## 6. Size\n\nNot measured: {sizes}"
        rows = [[f"**{sizes.layer_id}** (layer)", f"**{sizes.layer_mib:.1f}**"]]
        rows += [[f"\u00a0\u00a0`{name}`", f"{size:.2f}"] for name, size in sizes.packages]
        rows += [[name, f"{size:.3f}"] for name, size in sizes.functions.items()]
        return (
            "## 6. Size\n\n`sam build` of template.yaml as deployed, unzipped: the bytes of every file, 1 MB = 2^20 "
            "bytes, as Lambda's quotas count.\n\n" + table(["artifact", "MB"], rows)
        )

    def scale_section(self) -> str:
        def cells(measured: Throughput | None) -> list[str]:
            if measured is None:
                return ["not installed", "", ""]
            return [f"{measured.calls_per_second:,.0f}", f"{measured.p50_ms:.3f}", f"{measured.p99_ms:.3f}"]

        rows = [[str(item.clients), *cells(item.handlers), *cells(item.redis_benchmark)] for item in self.scale]
        headers = ["N", "log one calls/s", "p50 ms", "p99 ms", "redis-benchmark LPUSH req/s", "p50 ms", "p99 ms"]
        return (
            f"## 7. Scale\n\nN warm log_action processes calling the handler for {self.plan.scale_seconds:g} s, "
            "released together; then `redis-benchmark -c N -t lpush`, the nearest built-in test to MULTI LPUSH "
            "LTRIM EXEC. They share this machine's CPUs with redis-server, so beyond N = CPUs the figures show "
            "sharing, not Redis's limit; in Lambda each container has a CPU of its own.\n\n" + table(headers, rows)
        )

    def profile_section(self) -> str:
        def rows(entries: Iterable[Entry], where: bool = True) -> list[list[str]]:
            return [[e.group, *[f"`{e.where}`"][:where], f"{e.per_call_us:,.0f}", f"{e.share:.0%}"] for e in entries]

        headers = ["library", "function", "µs per call", "share"]
        parts = [
            "## Where the warm handler's time goes\n\ncProfile of warm calls. It slows Python more than C, so the "
            "shares say where to look, not how long. Actionlog is the layer and `functions/`; redis-py includes "
            "hiredis, pydantic its core; other is the rest (builtins, dataclasses, ...)."
        ]
        for item in self.profiles:
            parts.append(
                f"### {item.name}: {item.per_call_us:,.0f} µs per call under the profiler ({item.calls:,} calls)\n\n"
                "Time in each library's own functions:\n\n"
                + table(["library", "µs per call", "share"], rows(item.by_library, where=False))
                + f"\n\nTop {len(item.cumulative)} by cumulative time (a function and all it calls):\n\n"
                + table(headers, rows(item.cumulative), "llrr")
                + f"\n\nTop {len(item.own)} by own time:\n\n"
                + table(headers, rows(item.own), "llrr")
            )
        return "\n\n".join(parts)
