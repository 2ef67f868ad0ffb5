"""Structured JSON logging and CloudWatch metrics (embedded metric format) shared by every handler.

Service name, level and namespace come from Powertools' variables; their defaults are rows of settings.py's table.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

import actionlog
from actionlog.settings import (
    POWERTOOLS_LOGGER_LOG_EVENT,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
    parse_flag,
)

# Libraries that log what they send and receive at DEBUG: botocore the GetSecretValue response (the Redis password)
# and the signed request's headers, urllib3 its connections, redis-py its commands. With LogLevel DEBUG, Lambda sets
# the root logger to DEBUG, and a logger without a level of its own inherits it: these are held at WARNING, whatever
# the function's level, so no log line carries a password, token or value at any level the template allows.
QUIET_LIBRARIES = ("botocore", "boto3", "urllib3", "redis")
for _library in QUIET_LIBRARIES:
    logging.getLogger(_library).setLevel(logging.WARNING)

# An explicit argument would win over Powertools' variables, so the defaults are applied only when they are unset.
SERVICE = POWERTOOLS_SERVICE_NAME.read(os.environ)
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=POWERTOOLS_METRICS_NAMESPACE.read(os.environ), service=SERVICE)

__all__ = ["MetricUnit", "begin_invocation", "count", "flushing_metrics", "lambda_entry", "logger", "metrics"]

type Handler = Callable[[Mapping[str, Any], Any], Any]

# Powertools' own switch for logging every event (debugging only: an event carries the caller's token).
LOG_EVENT = POWERTOOLS_LOGGER_LOG_EVENT.read(os.environ)


class Counts:
    """The Count metrics of one invocation, written at its end as one line in CloudWatch's embedded metric format.

    The line is the one Powertools' Metrics writes for the same metrics (namespace, the `service` dimension, a list of
    values a metric), and POWERTOOLS_METRICS_DISABLED (or POWERTOOLS_DEV) is honoured the same way. Written here
    because Powertools validates each metric and builds the document through several layers: measured, about a
    fifth of a warm call of a few hundred µs for the one or two counts a handler adds. The probe's other units still
    go through Powertools (`metrics`).
    """

    def __init__(self, namespace: str, service: str, *, disabled: bool) -> None:
        self._namespace = json.dumps(namespace)  # operators' text: encoded once
        self._service = json.dumps(service)
        self._disabled = disabled
        self.values: dict[str, list[float]] = {}

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(float(value))

    def flush(self) -> None:
        values, self.values = self.values, {}
        if not values or self._disabled:
            return
        # Written around its parts: metric names are Actionlog's own identifiers, values floats, so nothing to escape.
        names = ",".join(f'{{"Name":"{name}","Unit":"Count"}}' for name in values)
        fields = "".join(f',"{name}":[{",".join(map(repr, each))}]' for name, each in values.items())
        sys.stdout.write(
            f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)},"CloudWatchMetrics":[{{"Namespace":{self._namespace},'
            f'"Dimensions":[["service"]],"Metrics":[{names}]}}]}},"service":{self._service}{fields}}}\n'
        )


def _metrics_disabled(env: Mapping[str, str]) -> bool:
    """Powertools' rule: POWERTOOLS_METRICS_DISABLED, or POWERTOOLS_DEV unless the first says otherwise."""
    disabled = env.get("POWERTOOLS_METRICS_DISABLED")
    if disabled is not None:
        return parse_flag(disabled)
    return parse_flag(env.get("POWERTOOLS_DEV", "false"))


counts = Counts(metrics.namespace or "", SERVICE, disabled=_metrics_disabled(os.environ))

_cold_start = True


def begin_invocation(context: Any, event: Mapping[str, Any], *, correlation_id: str | None = None) -> None:
    """Give the invocation's log lines its Lambda context and correlation id.

    What Powertools' `inject_lambda_context(clear_state=True)` records (the same keys; POWERTOOLS_LOGGER_LOG_EVENT
    honoured), at a small part of its cost, which counts in a call of a few hundred µs: no context model and no
    JMESPath lookup per call, and the container's own keys (name, memory, ARN) set once. Actionlog logs its details
    with `extra=` and never appends keys, so the three keys set here are all that differ between invocations.
    """
    global _cold_start
    if _cold_start:
        actionlog.init_done()
        logger.structure_logs(
            cold_start=True,
            function_name=context.function_name,
            function_memory_size=context.memory_limit_in_mb,
            function_arn=context.invoked_function_arn,
            function_request_id=context.aws_request_id,
            correlation_id=correlation_id,
        )
        _cold_start = False
    else:
        # The formatter's own append_keys: Logger's finds the formatter through three properties on every call.
        _formatter().append_keys(
            cold_start=False, function_request_id=context.aws_request_id, correlation_id=correlation_id
        )
    if LOG_EVENT:
        logger.info(event)


@functools.cache
def _formatter() -> Any:
    """The formatter of the logger's handler, which holds the keys every line carries (made once, with the logger)."""
    return logger.registered_formatter


def flushing_metrics[**P, R](handler: Callable[P, R]) -> Callable[P, R]:
    """Write the invocation's metrics as one EMF log line at its end, and nothing when it added none.

    Powertools' `log_metrics` would warn on every invocation that adds no metric (most reads).
    """

    @wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        finally:
            counts.flush()
            if metrics.metric_set:
                metrics.flush_metrics()

    return wrapper


def lambda_entry(handler: Handler) -> Handler:
    """The entry point of an event-driven function (SQS, schedule): its log context, and its metrics flushed."""

    @wraps(handler)
    def entry(event: Mapping[str, Any], context: Any) -> Any:
        begin_invocation(context, event)
        return handler(event, context)

    return flushing_metrics(entry)


def count(name: str, value: float = 1) -> None:
    """Add `value` to the invocation's Count metric `name`."""
    counts.add(name, value)
