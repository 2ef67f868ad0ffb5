"""Actionlog: a per-user action log and key-value cache on Redis, shared by every Lambda handler."""

import gc

# A cold start allocates some 40,000 objects (redis-py, pydantic-core, Powertools, this layer) and frees almost none:
# the cyclic collector's passes over them while they are imported cost about 12 ms of every cold start, and find a
# few hundred objects to free. It is off while the layer is imported; the first invocation turns it back on, with
# what init made frozen (never scanned again), so that its first collection does not pay the same passes.
_COLLECTING = gc.isenabled()
gc.disable()


def init_done() -> None:
    """The container's init is over (observability.begin_invocation, on the first invocation): collect again."""
    if _COLLECTING:
        gc.freeze()
        gc.enable()
