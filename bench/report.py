"""The results as Markdown: printed, and written to bench/RESULTS.md by a full run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.build import Sizes
from bench.cold import ColdReport, ColdResult
from bench.machine import MachineFacts
from bench.memory import MemoryResult
from bench.operations import operation
from bench.profiling import Entry, Profile
from bench.roundtrips import RoundTrips
from bench.scale import ScaleResult, Throughput
from bench.warm import WarmReport

# The issues' targets (issue 8): warm handlers against plain redis-py doing the same Redis work.
WARM_RATIO_TARGETS = {"log one": 2.0, "read 50": 2.0, "log batch of 100": 3.0}
ROUND_TRIPS_TARGET = 1
HEALTH_ROUND_TRIPS_TARGET = 2
COLD_RATIO_TARGET = 1.5
PEAK_RSS_TARGET_MIB = 64
LAYER_TARGET_MIB = 25

REPRODUCE = """\
Reproduce: `make bench` (the same as `SAM_CLI=$PWD/.venv-sam/bin/sam .venv/bin/python -m bench`), on a machine with
`redis-server` and `redis-benchmark` (`apt-get install -y redis-server redis-tools`). `python -m bench --quick` is a
smoke run of every measurement in well under a minute; it prints and writes nothing unless given `--output`."""


@dataclass(frozen=True)
class Results:
    run: str  # "full" or "quick"
    elapsed_seconds: float
    facts: MachineFacts
    warm: WarmReport
    round_trips: list[RoundTrips]
    cold: ColdReport
    memory: MemoryResult
    sizes: Sizes | str  # str: why they were not measured
    scale: list[ScaleResult]
    profiles: list[Profile]
    warm_rounds: int
    scale_seconds: float


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    passed: bool | None  # None: not measured


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] | None = None) -> str:
    """A Markdown table; numeric columns are right-aligned."""
    numeric = numeric or [False, *[True] * (len(headers) - 1)]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def times(ratio: float) -> str:
    return f"{ratio:.2f}x"


def spread(quartiles: tuple[float, float]) -> str:
    low, high = quartiles
    return f"{low:.2f} to {high:.2f}"


def outcome(passed: bool | None) -> str:
    return {True: "pass", False: "**FAIL**", None: "not measured"}[passed]


def describe_floor(name: str) -> str:
    doc = operation(name).floor.__doc__ or name
    return doc.strip().splitlines()[0]


def round_trip_limit(name: str) -> int:
    return HEALTH_ROUND_TRIPS_TARGET if name == "health" else ROUND_TRIPS_TARGET


# The verdicts, one per target of the issue.


def verdicts(results: Results) -> list[Verdict]:
    warm = {item.name: item.timing for item in results.warm.operations}
    found = [
        Verdict(
            f"warm {name}: handler ≤ {target:.1f}x plain redis-py",
            times(warm[name].ratio),
            warm[name].ratio <= target,
        )
        for name, target in WARM_RATIO_TARGETS.items()
    ]
    operations = [item for item in results.round_trips if item.name in {r.name for r in results.warm.operations}]
    over = [f"{item.name}: {item.handler}" for item in operations if item.handler > round_trip_limit(item.name)]
    counts = sorted({item.handler for item in operations})
    found.append(
        Verdict(
            f"round trips: {ROUND_TRIPS_TARGET} per operation, health ≤ {HEALTH_ROUND_TRIPS_TARGET}",
            "; ".join(over) if over else f"every operation {' or '.join(map(str, counts))}",
            not over,
        )
    )
    worst = max(results.cold.results, key=lambda result: result.ratio)
    found.append(
        Verdict(
            f"cold start ≤ {COLD_RATIO_TARGET:.1f}x a plain redis-py process",
            f"worst {worst.function} {times(worst.ratio)}",
            worst.ratio <= COLD_RATIO_TARGET,
        )
    )
    peak = results.memory.peak_rss_mib
    found.append(Verdict(f"peak RSS ≤ {PEAK_RSS_TARGET_MIB} MB", f"{peak:.0f} MB", peak <= PEAK_RSS_TARGET_MIB))
    if isinstance(results.sizes, Sizes):
        layer = results.sizes.layer_mib
        found.append(Verdict(f"layer ≤ {LAYER_TARGET_MIB} MB unzipped", f"{layer:.1f} MB", layer <= LAYER_TARGET_MIB))
    else:
        found.append(Verdict(f"layer ≤ {LAYER_TARGET_MIB} MB unzipped", "not measured", None))
    return found


# The sections.


def header(results: Results) -> str:
    facts = results.facts
    minutes, seconds = divmod(round(results.elapsed_seconds), 60)
    machine = table(
        ["machine", ""],
        [
            ["CPUs", f"{facts.cpu_count} x {facts.cpu_model} (shared; load average at start {facts.load_average})"],
            ["system", facts.system],
            ["Python", facts.python],
            ["redis-server", f"{facts.redis_server}, the bench's own on 127.0.0.1, no persistence"],
            ["packages", facts.packages],
        ],
        numeric=[False, False],
    )
    return (
        f"# Actionlog benchmarks\n\nMeasured {facts.date}, {results.run} run, {minutes} min {seconds} s.\n\n"
        f"{machine}\n\n{REPRODUCE}\n\n"
        "Every figure is a median, and every handler figure is measured side by side with its floor in the same "
        "run: plain redis-py doing the same Redis work with its own defaults apart from 1 s timeouts (the targets' "
        "floor), and beside it the same work with the layer's client settings (RESP2, one retry, health checks "
        "every 10 s, decoded responses). They alternate in rounds, so the noise of this shared machine hits all "
        "of them; the middle half of the per-round ratios shows how far the noise moved them. Handlers run with "
        "`POWERTOOLS_LOG_LEVEL=INFO`, the template's default, so what they print on the "
        "happy path (the first connection's log line, a write's metrics line) is measured, as production pays it."
    )


def targets_section(results: Results) -> str:
    rows = [[v.target, v.measured, outcome(v.passed)] for v in verdicts(results)]
    return "## Targets\n\n" + table(["target (issue 8)", "measured", "result"], rows, [False, True, False])


def warm_section(results: Results) -> str:
    rows = [
        [
            item.name,
            f"{item.timing.subject_us:,.0f}",
            f"{item.timing.floor_us:,.0f}",
            times(item.timing.ratio),
            spread(item.timing.ratio_quartiles),
            f"{item.timing.reference_us or 0:,.0f}",
            times(item.timing.reference_ratio or 0),
            describe_floor(item.name),
        ]
        for item in results.warm.operations
    ]
    calls = ", ".join(f"{item.name} {item.timing.calls_per_round}" for item in results.warm.operations)
    return (
        "## 1. Warm invocations\n\n"
        "Time per invocation, event to response, in a warm process (each `functions.<op>.app` imported once, the "
        f"connection open), next to the floors. Median of {results.warm_rounds} rounds; a round is a block of handler "
        "calls and a block of calls of each floor back to back, in rotating order (calls per block: "
        f"{calls}). State a call uses up (the list that clear deletes, the key that delete deletes) is put back "
        "before each call, off the clock.\n\n"
        + table(
            [
                "operation",
                "handler µs",
                "plain redis-py µs",
                "handler / plain",
                "middle half",
                "layer's settings µs",
                "handler / that",
                "redis-py does",
            ],
            rows,
            [False, True, True, True, True, True, True, False],
        )
    )


def seed_section(results: Results) -> str:
    seed = results.warm.seed
    rows = [
        ["the seed's: LPUSH, then LTRIM (2 round trips)", f"{seed.subject_us:,.0f}"],
        ["ours: MULTI LPUSH LTRIM EXEC (1 round trip)", f"{seed.floor_us:,.0f}"],
        ["seed / ours", f"{times(seed.ratio)} (middle half {spread(seed.ratio_quartiles)})"],
    ]
    return (
        "## 2. The seed's write next to ours\n\nBoth in raw redis-py, over loopback, where a round trip is cheapest; "
        "across a VPC each extra round trip adds a network latency.\n\n" + table(["log one", "µs"], rows)
    )


def round_trips_section(results: Results) -> str:
    rows = []
    for item in results.round_trips:
        if item.name.startswith("seed"):
            rows.append([item.name, "", str(item.handler), "", ""])
            continue
        limit = round_trip_limit(item.name)
        rows.append([item.name, str(item.handler), str(item.floor), f"≤ {limit}", outcome(item.handler <= limit)])
    return (
        "## 3. Round trips per operation\n\n"
        "Counted on redis-py's connections (a write of commands followed by reading their replies is one), for "
        "warm calls after a first call opened the connection; the most any of five calls took.\n\n"
        + table(["operation", "handler", "raw redis-py", "target", "result"], rows, [False, True, True, True, False])
    )


def cold_row(result: ColdResult, label: str | None = None) -> list[str]:
    return [
        label or result.function,
        result.name,
        f"{result.handler_ms:,.0f}",
        f"{result.raw_ms:,.0f}",
        times(result.ratio),
        spread(result.ratio_quartiles),
        outcome(result.ratio <= COLD_RATIO_TARGET),
    ]


def cold_section(results: Results) -> str:
    cold = results.cold
    rows = [cold_row(result) for result in cold.results]
    samples = cold.results[0].samples
    imports = [
        ["\u00a0\u00a0" * module.depth + f"`{module.name}`", f"{module.cumulative_ms:,.1f}", f"{module.self_ms:,.1f}"]
        for module in cold.imports
    ]
    return (
        "## 4. Cold start\n\n"
        f"Wall time from spawning a fresh `python` to its first response. Layout: {cold.layout}. The handler "
        "process reads its event, imports `app` and invokes it once; the raw process imports redis (via "
        "`bench.floors`), makes the same client and does the same Redis work. Median of "
        f"{samples} samples each, the two alternating; every function sampled in every round.\n\n"
        + table(
            ["function", "operation", "handler ms", "raw redis-py ms", "handler / raw", "middle half", "≤ 1.5x"],
            rows,
            [False, False, True, True, True, True, False],
        )
        + f"\n\n### Imports of `{cold.imports_of}` (the slowest): top {len(cold.imports)} by cumulative time\n\n"
        "`python -X importtime -c 'import app'` in the same layout (so compiling is included where no .pyc is "
        "shipped); medians, nesting shown by indentation.\n\n" + table(["module", "cumulative ms", "self ms"], imports)
    )


def memory_section(results: Results) -> str:
    memory = results.memory
    rows = [
        [
            f"{memory.calls:,}",
            str(memory.handlers),
            f"{memory.rss_after_first_call_mib:.1f}",
            f"{memory.peak_rss_mib:.1f}",
            outcome(memory.peak_rss_mib <= PEAK_RSS_TARGET_MIB),
        ]
    ]
    return (
        "## 5. Memory\n\nOne warm process holding every handler (a superset of any one function's container), "
        "called in turn; peak RSS from `getrusage`. 1 MB = 2^20 bytes.\n\n"
        + table(
            ["calls", "handlers", "RSS after first calls MB", "peak RSS MB", f"≤ {PEAK_RSS_TARGET_MIB} MB"],
            rows,
            [True, True, True, True, False],
        )
    )


def size_section(results: Results) -> str:
    sizes = results.sizes
    if not isinstance(sizes, Sizes):
        return f"## 6. Size\n\nNot measured: {sizes}"
    rows = [[f"**{sizes.layer_id}** (layer)", f"**{sizes.layer_mib:.1f}**"]]
    rows += [[f"\u00a0\u00a0`{name}`", f"{mib:.2f}"] for name, mib in sizes.packages]
    rows += [[name, f"{mib:.3f}"] for name, mib in sizes.functions.items()]
    return (
        "## 6. Size\n\n`sam build` of template.yaml as deployed (its architecture), unzipped: the bytes of every "
        "file. 1 MB = 2^20 bytes, as Lambda's quotas count.\n\n" + table(["artifact", "MB"], rows)
    )


def throughput_cells(measured: Throughput | None) -> list[str]:
    if measured is None:
        return ["not installed", "", ""]
    return [f"{measured.calls_per_second:,.0f}", f"{measured.p50_ms:.3f}", f"{measured.p99_ms:.3f}"]


def scale_section(results: Results) -> str:
    rows = [
        [str(item.clients), *throughput_cells(item.handlers), *throughput_cells(item.redis_benchmark)]
        for item in results.scale
    ]
    headers = ["N", "log one calls/s", "p50 ms", "p99 ms", "redis-benchmark LPUSH req/s", "p50 ms", "p99 ms"]
    return (
        "## 7. Scale\n\n"
        f"N processes, each a warm log_action container calling its handler back to back for "
        f"{results.scale_seconds:g} s against the one Redis, released together; then `redis-benchmark -c N -t lpush` "
        "(LPUSH: the nearest built-in test to log one's MULTI LPUSH LTRIM EXEC). On this machine the N processes, "
        "redis-benchmark and redis-server share its CPUs, so beyond N = CPUs the figures show sharing, not Redis's "
        "limit; in Lambda every container has a CPU share of its own.\n\n" + table(headers, rows)
    )


PROFILE_COLUMNS = [False, False, True, True]


def profile_rows(entries: Iterable[Entry]) -> list[list[str]]:
    return [[e.group, f"`{e.where}`", f"{e.per_call_us:,.0f}", f"{e.share:.0%}"] for e in entries]


def profile_section(results: Results) -> str:
    parts = [
        "## Where the warm handler's time goes\n\ncProfile of warm calls. The profiler slows Python code more than "
        "C, so read the shares as where to look, not as timings. Libraries: Powertools, pydantic (with "
        "pydantic-core), Actionlog (the layer and `functions/`), redis-py (with hiredis), json and socket I/O "
        "(the standard library's), other (the rest: builtins, dataclasses, ...)."
    ]
    for item in results.profiles:
        libraries = [[e.group, f"{e.per_call_us:,.0f}", f"{e.share:.0%}"] for e in item.by_library]
        parts.append(
            f"### {item.name}: {item.per_call_us:,.0f} µs per call under the profiler ({item.calls:,} calls)\n\n"
            "Time in each library's own functions:\n\n"
            + table(["library", "µs per call", "share"], libraries)
            + f"\n\nTop {len(item.cumulative)} by cumulative time (a function and all it calls):\n\n"
            + table(["library", "function", "µs per call", "share"], profile_rows(item.cumulative), PROFILE_COLUMNS)
            + f"\n\nTop {len(item.own)} by own time:\n\n"
            + table(["library", "function", "µs per call", "share"], profile_rows(item.own), PROFILE_COLUMNS)
        )
    return "\n\n".join(parts)


def render(results: Results) -> str:
    sections = [
        header(results),
        targets_section(results),
        warm_section(results),
        seed_section(results),
        round_trips_section(results),
        cold_section(results),
        memory_section(results),
        size_section(results),
        scale_section(results),
        profile_section(results),
    ]
    return "\n\n".join(sections) + "\n"
