"""`python -m bench` (`make bench`): Actionlog's handlers measured next to raw redis-py doing the same Redis work.

Against a redis-server of its own on loopback: warm handlers in `bench.operations` processes, cold starts in Lambda's
emulator (`bench.cold`), the floors in `bench.floors`, the report in `bench.report`.
"""
