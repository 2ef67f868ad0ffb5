"""`python -m bench` (`make bench`): Actionlog's handlers measured next to raw redis-py doing the same Redis work.

Everything runs against a redis-server the bench starts on a loopback port. The handlers run in worker processes
(`bench.worker`) whose import path is set the way Lambda mounts a function and its layer, so this package itself
never imports the layer. The floors, the raw redis-py version of each handler's Redis work, are in `bench.floors`.
"""
