"""SQS ingestion: each message is one action or a batch for one user, logged at most once per message id."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from actionlog import actions
from actionlog.errors import StoreUnavailable, Unprocessable
from actionlog.models import ActionEntry, ActionMessage, BatchMessage, IngestMessage
from actionlog.observability import count, logger
from actionlog.redis_client import RedisClient, report_failure


class IngestBatch:
    """The messages of one invocation.

    Once Redis proved unavailable, the rest of the batch fails at once instead of each record waiting out
    its own socket timeouts: SQS redelivers every failed record, so nothing is lost, and a black-holed
    Redis cannot push the invocation past its function timeout.
    """

    def __init__(self, connect: Callable[[], RedisClient], *, max_entries: int) -> None:
        self._connect = connect
        self._max_entries = max_entries
        self._unavailable: StoreUnavailable | None = None

    def log_message(self, record: SQSRecord) -> None:
        if self._unavailable is not None:
            raise StoreUnavailable("not attempted: Redis was unavailable earlier in this batch")
        message = _parse(record)
        if isinstance(message, ActionMessage):
            entries = [ActionEntry.record(message)]
        else:
            entries = [ActionEntry.record(action) for action in message.actions]
        try:
            write = actions.log_actions_once(
                message.userId,
                entries,
                write_id=f"sqs:{record.message_id}",
                receipt=record.message_id,
                max_entries=self._max_entries,
                redis=self._connect(),
            )
        except StoreUnavailable as error:
            self._unavailable = error
            report_failure(error)
            count("RedisErrors")
            raise
        if write.first:
            count("ActionsLogged", len(entries))
        else:
            logger.info("Message already logged; not logging it again", extra={"messageId": record.message_id})


def _parse(record: SQSRecord) -> ActionMessage | BatchMessage:
    try:
        return IngestMessage.validate_json(record.body)
    except ValidationError as error:
        # Field locations and error types only: a message body may carry anything.
        problems = [{"location": ".".join(map(str, e["loc"])), "type": e["type"]} for e in error.errors()]
        logger.warning("Invalid message", extra={"messageId": record.message_id, "problems": problems[:10]})
        raise Unprocessable(f"message {record.message_id} is not a valid action or batch") from None
