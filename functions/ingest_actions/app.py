"""SQS ActionsQueue -> the action log. Failed records are reported back (ReportBatchItemFailures)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from actionlog.ingest import IngestBatch
from actionlog.observability import lambda_entry
from actionlog.redis_client import get_redis

# A batch whose every record failed is still a partial response listing them all, not an exception:
# SQS redelivers exactly those records either way, and the function's error metric stays for real errors.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    batch = IngestBatch(get_redis)
    return process_partial_response(event, batch.log_message, processor, context)  # type: ignore[return-value]
