"""The bench's long reads (bench/reads.py): filtered reads of a 10,000-entry list beside the plain read, measured in
the quick mode on a real server, and how the report shows them."""

from __future__ import annotations

import pytest

from bench.__main__ import QUICK, run_worker
from bench.operations import Plan, SideBySide
from bench.reads import ENTRIES, FilteredRead, Reads, calls_needed
from tests.bench.test_bench_verdicts import made_up
from tests.support import RedisServer


@pytest.mark.redis_server
def test_each_filtered_read_of_the_long_list_is_one_round_trip_and_answers_a_page(bench_server: RedisServer) -> None:
    # Given the template's defaults (a read limit of 600 a minute per user) and lists of 10,000 entries
    reads = run_worker("reads", QUICK, bench_server.url)

    assert reads.entries == ENTRIES == 10_000
    assert [read.round_trips for read in reads.reads] == [1, 1, 1]
    assert [read.returned for read in reads.reads] == [50, 50, 50]
    assert all(read.timing.subject_us > read.timing.floor_us > 0 for read in reads.reads)  # it reads 10,000 entries
    assert bench_server.client().llen("user:reads-source:actions") == ENTRIES  # the cap let the whole list stand


def test_the_subjects_suffice_for_every_call_a_side_by_side_makes() -> None:
    plan = Plan(warm_rounds=41, warm_block_seconds=0.02, warm_up_calls=100)

    # A read of 10 ms: blocks of 2 calls; one of 0.1 ms: blocks of 200.
    assert calls_needed(plan, 0.010) >= 1 + 2 * 100 + 5 + 41 * 2 * 2
    assert calls_needed(plan, 0.0001) >= 1 + 2 * 100 + 5 + 41 * 2 * 200


def test_the_report_shows_the_filtered_reads_beside_the_plain_read() -> None:
    timing = SideBySide(10_400.0, 450.0, 23.1, (20.0, 40.0))
    reads = Reads(ENTRIES, 41, "limit=50", [FilteredRead("action=pay, limit 50", timing, 1, 50)])

    report = made_up()._replace(reads=reads).render()

    assert "## Reading a 10,000-entry list" in report
    assert "| action=pay, limit 50 | 50 | 10,400 | 450 | 23.10x (20.00 to 40.00) | 1 | 72 |" in report
    assert report.index("## Reading a 10,000-entry list") < report.index("## Cold start")
    assert "Reading a" not in made_up().render()  # results made before the long reads were measured
