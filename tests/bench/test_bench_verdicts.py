"""How the bench judges its targets and what it exits with, on made-up results: no measurement runs here."""

from pathlib import Path

import pytest

from bench.__main__ import main
from bench.cold import ColdResult
from bench.operations import OPERATIONS, SEED, Memory, Plan, SideBySide, Warm
from bench.report import MISSED, PASSED, UNDECIDED, Results, Verdict, judge_ratio
from bench.scale import Scale, Side
from bench.tail import Distribution, RoundRatios, Tail

FULL = Plan()  # 41 warm rounds; the cold starts below have 12 samples each, as a full run's
# Against plain redis-py 1.3x, against the layer's settings (the faster floor here) 1.4x: every warm limit is 1.5x+.
WITHIN = SideBySide(130.0, 100.0, 1.3, (1.25, 1.35), 93.0, 1.4, (1.35, 1.45))
COLD_WITHIN = (1.15, (1.1, 1.2))  # the limit is 1.25x
HANDLER_TAIL = Distribution(20_000, 200.0, 400.0, 4_000.0, 210.0, 40, 200, 30)
FLOOR_TAIL = Distribution(20_000, 130.0, 250.0, 2_000.0, 135.0, 0, 200, 0)


def tail(name: str, p99: tuple[float, tuple[float, float]] = (1.6, (1.4, 1.8))) -> Tail:
    """Within both tail targets (3x, 1.75x) unless `p99` says otherwise."""
    return Tail(name, 40, HANDLER_TAIL, FLOOR_TAIL, "plain redis-py", RoundRatios(*p99), RoundRatios(1.5, (1.45, 1.6)))


def side(calls: int = 5_000, answered: int = 5_000, found: int = 5_000, connections: tuple[int, ...] = (1,)) -> Side:
    return Side(calls / 1.0, calls, answered, found, connections, 180.0, 700.0)


def scale(n: int, ratio: float = 1.4, handler: Side | None = None, rounds: int = 9) -> Scale:
    """N containers within every scale target, but for what the arguments change."""
    handler = handler or side(connections=(1,) * n)
    return Scale(n, [handler] * rounds, [side(7_000, 7_000, 7_000, ())] * rounds, ratio, (ratio - 0.05, ratio + 0.05),
                 180.0, 700.0, 110.0, 350.0)  # fmt: skip


def made_up(
    log_one: SideBySide = WITHIN,
    cold: dict[str, tuple[float, tuple[float, float]]] | None = None,
    layer_mib: float | str = 17.2,
    plan: Plan = FULL,
    others: dict[str, SideBySide] | None = None,
) -> Results:
    """A run that meets every target, but for what the arguments change."""
    operations = {op.name: WITHIN for op in OPERATIONS} | {"log one": log_one} | (others or {})
    round_trips = {op.name: (1, 1) for op in OPERATIONS} | {SEED: (2, 1)}
    limits = {"log one": SideBySide(152.0, 150.0, 1.01, (0.98, 1.04))}
    warm = Warm(operations, WITHIN, round_trips, {op.name: 1 for op in OPERATIONS}, limits)
    ratios = {op.function: COLD_WITHIN for op in OPERATIONS} | (cold or {})
    cold_starts = [
        ColdResult(op.name, op.function, (260.0, 240.0), (200.0, 180.0), *ratios[op.function], 12) for op in OPERATIONS
    ]
    facts = {"date": "today", "CPUs": "2"}
    tails, scales = [tail("log one"), tail("read 50")], [scale(n) for n in (1, 2, 4)]
    return Results(
        plan, 130.0, facts, warm, cold_starts, "the source tree", Memory(40, 42), layer_mib, tails=tails, scales=scales
    )


def verdicts(results: Results) -> dict[str, Verdict]:
    return {target.name: target.verdict for target in results.targets()}


def test_a_run_within_every_target_passes_each_and_exits_0(tmp_path: Path) -> None:
    results = made_up()

    assert set(verdicts(results).values()) == {Verdict.PASS}
    assert main([], measure=lambda plan: results, recorded=tmp_path / "RESULTS.md") == PASSED


def test_a_missed_target_fails_and_the_bench_exits_1(tmp_path: Path) -> None:
    # Given a warm log one at 3x its floor, the middle half of its rounds 2.9x to 3.1x, and an undecided cold start
    results = made_up(log_one=SideBySide(300.0, 100.0, 3.0, (2.9, 3.1)), cold={"cache_get": (1.2, (1.0, 1.5))})

    status = main([], measure=lambda plan: results, recorded=tmp_path / "RESULTS.md")

    assert verdicts(results)["warm log one ≤ 1.5x the faster floor"] is Verdict.FAIL
    assert status == MISSED  # a miss outweighs an undecided target


def test_a_ratio_whose_interval_holds_the_limit_is_undecided_and_the_bench_exits_3(tmp_path: Path) -> None:
    # Given a median under the limit (1.45x) whose rounds spread from 1.0x to 2.1x: 1.18x to 1.72x for the median
    results = made_up(log_one=SideBySide(145.0, 100.0, 1.45, (1.0, 2.1)))

    status = main([], measure=lambda plan: results, recorded=tmp_path / "RESULTS.md")

    assert verdicts(results)["warm log one ≤ 1.5x the faster floor"] is Verdict.UNDECIDED
    assert status == UNDECIDED


def test_more_rounds_decide_a_ratio_that_fewer_left_undecided() -> None:
    timing = SideBySide(180.0, 100.0, 1.8, (1.3, 2.3))

    assert judge_ratio(timing, 12, 2.0) is Verdict.UNDECIDED  # 1.35x to 2.25x
    assert judge_ratio(timing, 100, 2.0) is Verdict.PASS  # 1.64x to 1.96x


def test_a_ratio_from_fewer_than_5_rounds_is_undecided_however_tight() -> None:
    timing = SideBySide(300.0, 100.0, 3.0, (3.0, 3.0))

    assert judge_ratio(timing, 4, 2.0) is Verdict.UNDECIDED
    assert judge_ratio(timing, 5, 2.0) is Verdict.FAIL


def test_the_cold_start_target_is_its_worst_functions_and_names_it() -> None:
    results = made_up(cold={"health_check": (1.12, (1.04, 1.22)), "cache_get": (1.2, (1.0, 1.5))})

    cold = next(target for target in results.targets() if target.name.startswith("cold start"))

    assert (cold.name, cold.measured, cold.interval, cold.verdict) == (
        "cold start ≤ 1.25x the floor's",
        "worst cache_get 1.20x (1.00 to 1.50)",
        "0.97 to 1.43",
        Verdict.UNDECIDED,
    )
    assert "| health_check | health | 260 | 240 | 200 | 180 | 1.12x (1.04 to 1.22) | pass |" in results.render()


def test_a_handler_over_its_allowed_round_trips_fails_and_names_it() -> None:
    results = made_up()
    results.warm.round_trips["count"] = (3, 1)
    results.warm.round_trips_allowed["count"] = 2

    trips = next(target for target in results.targets() if target.name.startswith("round trips"))

    assert (trips.measured, trips.verdict) == ("count: 3 of 2", Verdict.FAIL)


def test_a_target_not_measured_leaves_the_run_undecided(tmp_path: Path) -> None:
    results = made_up(layer_mib="skipped by --quick")

    assert verdicts(results)["layer ≤ 25 MB unzipped, as deployed"] is Verdict.NOT_MEASURED
    assert main([], measure=lambda plan: results, recorded=tmp_path / "RESULTS.md") == UNDECIDED


def test_a_run_that_crashes_exits_2_not_1_as_a_missed_target_would(tmp_path: Path) -> None:
    def crash(plan: Plan) -> Results:
        raise RuntimeError("bench worker 'warm' failed")

    assert main([], measure=crash, recorded=tmp_path / "RESULTS.md") == 2


def test_without_record_the_results_are_printed_and_the_recorded_file_is_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = tmp_path / "RESULTS.md"
    recorded.write_text("the last recorded run\n")

    main([], measure=lambda plan: made_up(), recorded=recorded)

    assert recorded.read_text() == "the last recorded run\n"
    assert capsys.readouterr().out == made_up().render() + "\n"


def test_record_writes_the_results_to_the_recorded_file(tmp_path: Path) -> None:
    recorded = tmp_path / "RESULTS.md"
    recorded.write_text("the last recorded run\n")

    main(["--record"], measure=lambda plan: made_up(), recorded=recorded)

    assert recorded.read_text() == made_up().render()


def test_a_quick_run_cannot_be_recorded(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--record", "--quick"], measure=lambda plan: made_up(), recorded=tmp_path / "RESULTS.md")

    assert refused.value.code == 2
    assert not (tmp_path / "RESULTS.md").exists()


def test_the_report_shows_each_verdict_and_the_exit_status() -> None:
    results = made_up(log_one=SideBySide(300.0, 100.0, 3.0, (2.9, 3.1)), layer_mib="skipped by --quick")

    report = results.render()

    assert "| warm log one ≤ 1.5x the faster floor | 3.00x (2.90 to 3.10) | 2.95 to 3.05 | **FAIL** |" in report
    assert "| round trips ≤ the floor's (health: + 1 spare) | every operation within, 1 |  | pass |" in report
    assert "| log one | 152 | 150 | 1.01x (0.98 to 1.04) |" in report
    assert "| layer ≤ 25 MB unzipped, as deployed | skipped by --quick |  | not measured |" in report
    assert "15 pass, 1 **FAIL**, 1 not measured: exit status 1." in report
    assert "issue" not in report.lower()


def test_each_operation_is_judged_against_its_faster_floor_on_the_ratios_against_that_floor() -> None:
    # Given log one at 1.3x plain redis-py (100 µs) but 1.6x the layer's settings (81 µs), the faster floor
    faster_is_layers = SideBySide(130.0, 100.0, 1.3, (1.25, 1.35), 81.0, 1.6, (1.55, 1.65))
    # and count at 1.6x plain redis-py (the faster here) but 1.3x the layer's settings
    faster_is_plain = SideBySide(160.0, 100.0, 1.6, (1.55, 1.65), 123.0, 1.3, (1.25, 1.35))

    results = made_up(log_one=faster_is_layers, others={"count": faster_is_plain})

    assert faster_is_layers.against_faster_floor() == SideBySide(130.0, 81.0, 1.6, (1.55, 1.65))
    assert faster_is_plain.against_faster_floor() == SideBySide(160.0, 100.0, 1.6, (1.55, 1.65))
    assert verdicts(results)["warm log one ≤ 1.5x the faster floor"] is Verdict.FAIL
    assert results.warm_verdict("count") is Verdict.FAIL
    assert (
        "| log one | 130 | 100 | 1.30x (1.25 to 1.35) | 81 | 1.60x (1.55 to 1.65) | layer's | ≤ 1.5x | **FAIL** |"
        in results.render()
    )


def test_a_floor_measured_alone_is_the_faster() -> None:
    alone = SideBySide(150.0, 100.0, 1.5, (1.4, 1.6))

    assert alone.against_faster_floor() == alone
    assert not alone.reference_is_faster()


def test_every_other_operation_is_judged_and_the_target_names_the_worst() -> None:
    # Given the batch (its own target, 2.5x) at 2.2x, and cache get at 1.7x: over every other operation's 1.5x
    results = made_up(
        others={"log batch of 100": SideBySide(220.0, 100.0, 2.2, (2.1, 2.3)),
                "cache get": SideBySide(170.0, 100.0, 1.7, (1.65, 1.75))},
    )  # fmt: skip

    found = verdicts(results)
    every = next(target for target in results.targets() if target.name.startswith("warm, every other operation"))

    assert found["warm log batch of 100 ≤ 2.5x the faster floor"] is Verdict.PASS
    assert (every.name, every.measured, every.verdict) == (
        "warm, every other operation (11) ≤ 1.5x the faster floor",
        "worst cache get 1.70x (1.65 to 1.75)",
        Verdict.FAIL,
    )


def test_the_tail_targets_judge_the_per_round_p99_and_mean_ratios() -> None:
    # Given read 50's per-round p99 ratios around 3.2x (3.1x to 3.3x): over the 3x limit
    results = made_up()._replace(tails=[tail("log one"), tail("read 50", p99=(3.2, (3.1, 3.3)))])

    found = verdicts(results)

    assert found["warm log one p99 ≤ 3x the faster floor's"] is Verdict.PASS
    assert found["warm log one mean ≤ 1.75x the faster floor's"] is Verdict.PASS
    assert found["warm read 50 p99 ≤ 3x the faster floor's"] is Verdict.FAIL
    report = results.render()
    assert "| log one | handler | 20,000 | 200 | 400 | 4,000 | 210 | 40 | 30 of 200 |  |  |" in report
    assert "| read 50 | plain redis-py | 3.20x (3.10 to 3.30) | 1.50x (1.45 to 1.60) |" in report


def test_the_scale_targets_judge_throughput_at_every_n_answers_losses_and_connections() -> None:
    lost = side(calls=5_000, answered=4_990, found=4_980, connections=(1, 2))
    results = made_up()._replace(scales=[scale(1), scale(2, handler=lost), scale(4, ratio=2.4)])

    found = verdicts(results)
    measured = {target.name: target.measured for target in results.targets()}

    assert found["scale N=1: raw / handler throughput ≤ 1.75x"] is Verdict.PASS
    assert found["scale N=4: raw / handler throughput ≤ 1.75x"] is Verdict.FAIL
    answered = "scale: every call answered (201), nothing lost (entries found = answered)"
    assert found[answered] is Verdict.FAIL
    assert measured[answered] == "N=2: 44,910 of 45,000; N=2: 44,820 found of 44,910"
    assert (found["scale: one connection per container"], measured["scale: one connection per container"]) == (
        Verdict.FAIL,
        "N=2: 1 to 2",
    )


def test_a_scale_of_too_few_rounds_is_undecided() -> None:
    results = made_up()._replace(scales=[scale(1, rounds=2), scale(2), scale(4)])

    assert verdicts(results)["scale N=1: raw / handler throughput ≤ 1.75x"] is Verdict.UNDECIDED


def test_targets_a_run_did_not_measure_leave_it_undecided() -> None:
    results = made_up()._replace(tails=None, scales=None)

    found = verdicts(results)

    assert found["warm p99 and mean of log one and read 50"] is Verdict.NOT_MEASURED
    assert found["scale: N warm containers beside N raw processes"] is Verdict.NOT_MEASURED
    assert results.exit_status() == UNDECIDED
