"""The worst bodies: what the costliest request of each route and the costliest SQS message of each size cost, next
to what reading their bytes costs (pydantic-core's parse of them, which no handler can skip).

A body that is all containers (`[[],[],...]`, `[{},{},...]`, chains nested 64 deep) is the most work per byte for
a JSON parser and for anything that walks what it parsed. Each runs through its handler in the bench's warm worker
(`python -m bench.operations bodies ...`), as a warm container would: refused for its size, or accepted.
"""

from __future__ import annotations

import importlib
import json
import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import pydantic_core
from redis import Redis

from dev.lambda_environment import lambda_context
from dev.template import REPO_ROOT

MIB = 1024 * 1024
# Lambda gives a function one vCPU at 1,769 MB and a share in proportion below it: at the template's 256 MB, about a
# seventh of a core, which stretches CPU-bound work by this factor (against one core of the bench's machine).
LAMBDA_CPU_SHARE_FACTOR = 1769 / 256
INGEST_TIMEOUT_SECONDS = 15  # the template's function timeout (Globals)


def containers(size: int, unit: bytes = b"[]") -> bytes:
    """About `size` bytes of a JSON array of empty containers."""
    return b"[" + b",".join([unit] * ((size - 2) // (len(unit) + 1))) + b"]"


def chains(size: int) -> bytes:
    """About `size` bytes of a JSON array of arrays nested 64 deep, the most Actionlog stores."""
    chain = b"[" * 63 + b"]" * 63
    return b"[" + b",".join([chain] * ((size - 2) // (len(chain) + 1))) + b"]"


def metadata_action(metadata: bytes) -> bytes:
    return b'{"action":"a","metadata":{"a":' + metadata + b"}}"


def bodies() -> dict[str, tuple[str, bytes]]:
    """Name -> (function, body). The plain string is the cheapest body of its size, for scale. Made when measured,
    never at import: the warm and memory workers import this module, and ~5 MiB of bodies would count in their
    peak memory."""
    return {
        "PUT /cache, 1 MiB string (for scale)": ("cache_set", b'{"value":"' + b"a" * (MIB - 13) + b'"}'),
        "PUT /cache, 1 MiB of [[],...]": ("cache_set", b'{"value":' + containers(MIB - 12) + b"}"),
        "PUT /cache, 1 MiB nested 64 deep": ("cache_set", b'{"value":' + chains(MIB - 12) + b"}"),
        "PUT /cache, 256 KiB of [[],...]": ("cache_set", b'{"value":' + containers(MIB // 4 - 12) + b"}"),
        "POST /users/{userId}/actions, 1 MiB of [[],...] metadata": (
            "log_action",
            metadata_action(containers(MIB - 40)),
        ),
        "POST .../actions/batch, 100 x 4 KiB of [{},...]": (
            "log_batch_actions",
            b'{"actions":[' + b",".join([metadata_action(containers(4000, b"{}"))] * 100) + b"]}",
        ),
        "POST /userActions/logAction, 1 MiB of [[],...] metadata": (
            "serverpod_user_actions",
            b'{"userId":"123",' + metadata_action(containers(MIB - 60))[1:],
        ),
    }


SQS_SIZES = {"256 KiB": MIB // 4, "1 MiB": MIB}
ROUNDS = 9  # the most rounds of each body a full run takes


class Body(NamedTuple):
    name: str
    size: int
    status: str  # the answer: an HTTP status, or the SQS records that failed
    handler_ms: float
    reading_ms: float  # pydantic-core's parse of the same bytes

    @property
    def ratio(self) -> float:
        return self.handler_ms / self.reading_ms


class Bodies(NamedTuple):
    rounds: int
    bodies: list[Body]

    def sqs_batch(self) -> Body:
        """The invocation of ten of the largest worst messages."""
        return self.bodies[-1]


def median_ms(call: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1e6


def event_of(function: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((REPO_ROOT / "events" / f"{function}.json").read_text())
    return event


def http_body(name: str, function: str, body: bytes, rounds: int) -> Body:
    event = {**event_of(function), "body": body.decode(), "isBase64Encoded": False}
    if function.startswith("serverpod"):
        event["pathParameters"] = {"method": "logAction"}
    handler = importlib.import_module(f"functions.{function}.app").lambda_handler
    context = lambda_context(f"actionlog-{function}")
    status = str(handler(event, context)["statusCode"])
    return Body(name, len(body), status, median_ms(lambda: handler(event, context), rounds),
                median_ms(lambda: pydantic_core.from_json(body), rounds))  # fmt: skip


def sqs_messages(name: str, size: int, count: int, rounds: int) -> Body:
    """`count` messages of one action each with `size` bytes of [[],...] metadata: each is parsed, then refused."""
    body = b'{"userId":"123",' + metadata_action(containers(size - 40))[1:]
    record = event_of("ingest_actions")["Records"][0]
    handler = importlib.import_module("functions.ingest_actions.app").lambda_handler
    serial = iter(range(10**9))

    def invoke() -> dict[str, Any]:
        # Each invocation new message ids, as SQS gives: a redelivery would be answered from its receipt.
        records = [{**record, "messageId": f"bench-{next(serial)}", "body": body.decode()} for _ in range(count)]
        result: dict[str, Any] = handler({"Records": records}, lambda_context("actionlog-ingest_actions"))
        return result

    failed = f"{len(invoke()['batchItemFailures'])} of {count} failed"
    return Body(name, len(body) * count, failed, median_ms(invoke, rounds),
                median_ms(lambda: [pydantic_core.from_json(body) for _ in range(count)], rounds))  # fmt: skip


def measure(rounds: int, redis: Redis) -> Bodies:
    """Every worst body, `rounds` times each (medians); the SQS batch of ten last."""
    redis.flushall()
    measured = [http_body(name, function, body, rounds) for name, (function, body) in bodies().items()]
    measured += [sqs_messages(f"SQS, one {label} message", size, 1, rounds) for label, size in SQS_SIZES.items()]
    measured.append(sqs_messages("SQS, ten 1 MiB messages in one invocation", MIB, 10, max(1, rounds // 3)))
    return Bodies(rounds, measured)
