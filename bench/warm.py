"""Warm invocations: each handler, event to response, next to its floor in raw redis-py, in one warm process."""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis

from bench import floors
from bench.operations import OPERATIONS, Operation, succeeded
from bench.process import run_worker
from bench.timing import Call, SideBySide, side_by_side
from dev.lambda_context import LambdaContext

type Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class WarmResult:
    name: str
    timing: SideBySide


@dataclass(frozen=True)
class WarmReport:
    operations: list[WarmResult]
    seed: SideBySide  # subject: the seed's two round trips; floor: our one MULTI


def measure(redis_url: str, *, rounds: int, block_seconds: float, warm_up_calls: int) -> WarmReport:
    config = {"rounds": rounds, "block_seconds": block_seconds, "warm_up_calls": warm_up_calls}
    raw = run_worker("warm", config, redis_url)
    return WarmReport(
        operations=[WarmResult(item["name"], side_by_side_from_json(item["timing"])) for item in raw["operations"]],
        seed=side_by_side_from_json(raw["seed"]),
    )


def side_by_side_from_json(document: dict[str, Any]) -> SideBySide:
    low, high = document["ratio_quartiles"]  # JSON made the tuple a list
    return SideBySide(**{**document, "ratio_quartiles": (low, high)})


# What follows runs in the worker process (bench.worker), where the handlers can be imported.


def handler(function: str) -> Handler:
    """functions/<function>/app.py's lambda_handler, imported once, as a warm container holds it."""
    module = importlib.import_module(f"functions.{function}.app")
    entry: Handler = module.lambda_handler
    return entry


def invocation(op: Operation) -> Call:
    """One call of the operation's handler with its event, checked to succeed: a 4xx would time the wrong path."""
    lambda_handler = handler(op.function)
    event = op.event()
    context = LambdaContext(function_name="actionlog-bench")

    def call() -> dict[str, Any]:
        return lambda_handler(event, context)

    response = call()
    if not succeeded(response):
        raise RuntimeError(f"{op.name}: the handler answered {response['statusCode']}: {response.get('body')}")
    return call


def fixture(op_fixture: floors.Floor | None, redis: Redis) -> Call | None:
    return None if op_fixture is None else (lambda: op_fixture(redis))


def floor_call(op: Operation, redis: Redis) -> Call:
    return lambda: op.floor(redis)


def set_up(op: Operation, redis: Redis) -> Call | None:
    """Put the operation's state in place; returns what must run again before each call."""
    if op.setup is not None:
        op.setup(redis)
    prepare = fixture(op.prepare, redis)
    if prepare is not None:
        prepare()
    return prepare


def ready(op: Operation, redis: Redis) -> tuple[Call, Call | None]:
    """The operation's handler call, its state in place, and what must run before each further call."""
    prepare = set_up(op, redis)
    return invocation(op), prepare


def warm_up(call: Call, prepare: Call | None, calls: int) -> None:
    for _ in range(calls):
        if prepare is not None:
            prepare()
        call()


def measure_operation(op: Operation, redis: Redis, plain: Redis, config: dict[str, Any]) -> SideBySide:
    """The handler next to its floor in plain redis-py (the target's), and in redis-py as the layer configures it."""
    subject, prepare = ready(op, redis)
    floor, layer_floor = floor_call(op, plain), floor_call(op, redis)
    for call in (subject, floor, layer_floor):
        warm_up(call, prepare, config["warm_up_calls"])
    return side_by_side(
        subject,
        floor,
        reference=layer_floor,
        rounds=config["rounds"],
        block_seconds=config["block_seconds"],
        prepare=prepare,
    )


def measure_seed(redis: Redis, config: dict[str, Any]) -> SideBySide:
    def seed() -> object:
        return floors.seed_log_one(redis)

    def ours() -> object:
        return floors.log_one(redis)

    warm_up(seed, None, config["warm_up_calls"])
    warm_up(ours, None, config["warm_up_calls"])
    return side_by_side(seed, ours, rounds=config["rounds"], block_seconds=config["block_seconds"])


def run_in_worker(config: dict[str, Any]) -> dict[str, Any]:
    # The floors' client is this process's own, next to the handlers' (made by the layer from the same REDIS_URL).
    redis = floors.client(os.environ["REDIS_URL"])
    plain = floors.plain_client(os.environ["REDIS_URL"])
    results = [
        {"name": op.name, "timing": dataclasses.asdict(measure_operation(op, redis, plain, config))}
        for op in OPERATIONS
    ]
    return {"operations": results, "seed": dataclasses.asdict(measure_seed(redis, config))}
