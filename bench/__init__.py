"""`python -m bench` (`make bench`): Actionlog's handlers measured next to raw redis-py doing the same Redis work.

Against a redis-server of its own on loopback: warm handlers in `bench.operations` processes, their tails call by
call (`bench.tail`), N warm containers at once (`bench.scale`), cold starts in Lambda's emulator (`bench.cold`),
where the time goes (`bench.profiles`), the floors in `bench.floors`, the report and the verdicts in `bench.report`.
How a target is judged, the exit status, and when bench/RESULTS.md is written: `bench.__main__`
(`python -m bench --help`).
"""
