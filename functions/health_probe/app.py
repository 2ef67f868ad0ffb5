"""EventBridge schedule -> the health check, reported as CloudWatch metrics RedisHealthy and RedisLatencyMs."""

from typing import Any

from actionlog import health
from actionlog.errors import StoreUnavailable
from actionlog.observability import MetricUnit, lambda_entry, logger, metrics
from actionlog.redis_client import get_redis, report_failure


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        report = health.check(redis=get_redis())
    except StoreUnavailable as error:
        report_failure(error)
        report = health.unavailable_report(error)
    metrics.add_metric(name="RedisHealthy", unit=MetricUnit.Count, value=1 if report.status == "ok" else 0)
    if report.latencyMs is not None:
        metrics.add_metric(name="RedisLatencyMs", unit=MetricUnit.Milliseconds, value=report.latencyMs)
    logger.info("Health probe", extra={"status": report.status, "latencyMs": report.latencyMs})
    return report.to_python()
