"""Structured JSON logging and CloudWatch metrics (embedded metric format) shared by every handler.

Service name, level and namespace come from Powertools' variables; the defaults match template.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

# An explicit argument would win over Powertools' variables, so the defaults are applied only when they are unset.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "actionlog"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Actionlog", service=SERVICE)

__all__ = ["MetricUnit", "count", "flushing_metrics", "logger", "metrics"]


def flushing_metrics[**P, R](handler: Callable[P, R]) -> Callable[P, R]:
    """Write the invocation's metrics as one EMF log line at its end, and nothing when it added none.

    Powertools' `log_metrics` would warn on every invocation that adds no metric (most reads).
    """

    @wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        finally:
            if metrics.metric_set:
                metrics.flush_metrics()

    return wrapper


def count(name: str, value: float = 1) -> None:
    """Add `value` to the invocation's Count metric `name`."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
