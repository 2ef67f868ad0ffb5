"""How the bench judges its targets and what it exits with, on made-up results: no measurement runs here."""

from pathlib import Path

import pytest

from bench.__main__ import main
from bench.cold import ColdResult
from bench.operations import OPERATIONS, SEED, Memory, Plan, SideBySide, Warm
from bench.report import MISSED, PASSED, UNDECIDED, Results, Verdict, judge_ratio

FULL = Plan()  # 41 warm rounds; the cold starts below have 12 samples each, as a full run's
WITHIN = SideBySide(150.0, 100.0, 1.5, (1.4, 1.6), 110.0, 1.36)  # every ratio target is 2.0x or more
COLD_WITHIN = (1.3, (1.2, 1.4))  # the limit is 1.5x


def made_up(
    log_one: SideBySide = WITHIN,
    cold: dict[str, tuple[float, tuple[float, float]]] | None = None,
    layer_mib: float | str = 17.2,
    plan: Plan = FULL,
) -> Results:
    """A run that meets every target, but for what the arguments change."""
    operations = {op.name: WITHIN for op in OPERATIONS} | {"log one": log_one}
    round_trips = {op.name: (1, 1) for op in OPERATIONS} | {SEED: (2, 1)}
    limits = {"log one": SideBySide(152.0, 150.0, 1.01, (0.98, 1.04))}
    warm = Warm(operations, WITHIN, round_trips, {op.name: 1 for op in OPERATIONS}, limits)
    ratios = {op.function: COLD_WITHIN for op in OPERATIONS} | (cold or {})
    cold_starts = [
        ColdResult(op.name, op.function, (260.0, 240.0), (200.0, 180.0), *ratios[op.function], 12) for op in OPERATIONS
    ]
    facts = {"date": "today", "CPUs": "2"}
    return Results(plan, 130.0, facts, warm, cold_starts, "the source tree", Memory(40, 42), layer_mib)


def verdicts(results: Results) -> dict[str, Verdict]:
    return {target.name: target.verdict for target in results.targets()}


def test_a_run_within_every_target_passes_each_and_exits_0(tmp_path: Path) -> None:
    results = made_up()

    assert set(verdicts(results).values()) == {Verdict.PASS}
    assert main([], measure=lambda plan: results, recorded=tmp_path / "RESULTS.md") == PASSED


def test_a_missed_target_fails_and_the_bench_exits_1(tmp_path: Path) -> None:
    # Given a warm log one at 3x its floor, the middle half of its rounds 2.9x to 3.1x, and an undecided cold start
    results = made_up(log_one=SideBySide(300.0, 100.0, 3.0, (2.9, 3.1)), cold={"cache_get": (1.45, (1.2, 1.8))})

    status = main([], measure=lambda plan: results, recorded=tmp_path / "RESULTS.md")

    assert verdicts(results)["warm log one ≤ 2.0x plain redis-py"] is Verdict.FAIL
    assert status == MISSED  # a miss outweighs an undecided target


def test_a_ratio_whose_interval_holds_the_limit_is_undecided_and_the_bench_exits_3(tmp_path: Path) -> None:
    # Given a median under the limit (1.95x) whose rounds spread from 1.5x to 2.6x: 1.68x to 2.22x for the median
    results = made_up(log_one=SideBySide(195.0, 100.0, 1.95, (1.5, 2.6)))

    status = main([], measure=lambda plan: results, recorded=tmp_path / "RESULTS.md")

    assert verdicts(results)["warm log one ≤ 2.0x plain redis-py"] is Verdict.UNDECIDED
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
    results = made_up(cold={"health_check": (1.32, (1.14, 1.52)), "cache_get": (1.45, (1.2, 1.8))})

    cold = next(target for target in results.targets() if target.name.startswith("cold start"))

    assert (cold.measured, cold.interval, cold.verdict) == (
        "worst cache_get 1.45x (1.20 to 1.80)",
        "1.18 to 1.72",
        Verdict.UNDECIDED,
    )
    assert "| health_check | health | 260 | 240 | 200 | 180 | 1.32x (1.14 to 1.52) | pass |" in results.render()


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

    assert "| warm log one ≤ 2.0x plain redis-py | 3.00x (2.90 to 3.10) | 2.95 to 3.05 | **FAIL** |" in report
    assert "| round trips ≤ the floor's, + 1 for a rate count apart | every operation within, 1 |  | pass |" in report
    assert "| log one | 152 | 150 | 1.01x (0.98 to 1.04) |" in report
    assert "| layer ≤ 25 MB unzipped, as deployed | skipped by --quick |  | not measured |" in report
    assert "5 pass, 1 **FAIL**, 1 not measured: exit status 1." in report
    assert "issue" not in report.lower()
