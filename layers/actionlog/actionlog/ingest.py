"""SQS ingestion: each message is one action or a batch for one user, logged at most once per message id."""

from collections.abc import Callable
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic_core import SchemaValidator, ValidationError, core_schema

from actionlog import actions
from actionlog.actions import WriteKey
from actionlog.errors import StoreUnavailable, Unprocessable, excerpt
from actionlog.models import ActionIn, BatchIn, SeedUserId
from actionlog.observability import logger
from actionlog.redis_client import RedisClient, report_failure


class ActionMessage(ActionIn, extra="forbid"):
    """An SQS message carrying one action."""

    userId: SeedUserId


class BatchMessage(BatchIn, extra="forbid"):
    """An SQS message carrying a batch of actions for one user."""

    userId: SeedUserId


@cache
def _messages() -> SchemaValidator:
    """Validates a message body as one action or a batch, whichever it is.

    Left to right: the first that fits is taken. Each refuses the other's fields, so at most one fits, and a "smart"
    union, which also tries the other to pick the better fit, cost 2.5 times as much on a large message.
    """
    return SchemaValidator(
        core_schema.union_schema([ActionMessage.core_schema(), BatchMessage.core_schema()], mode="left_to_right")
    )


class IngestBatch:
    """The messages of one invocation.

    Once Redis proved unavailable, the rest of the batch fails at once instead of each record waiting out
    its own socket timeouts: SQS redelivers every failed record, so nothing is lost, and a black-holed
    Redis cannot push the invocation past its function timeout.
    """

    def __init__(self, connect: Callable[[], RedisClient]) -> None:
        self._connect = connect
        self._unavailable: StoreUnavailable | None = None

    def log_message(self, record: SQSRecord) -> None:
        if self._unavailable is not None:
            raise StoreUnavailable("not attempted: Redis was unavailable earlier in this batch")
        message = _parse(record)
        entries = actions.new_entries([message] if isinstance(message, ActionMessage) else message.actions)
        key = WriteKey("sqs", record.message_id)
        try:
            logged = actions.log_actions(message.userId, entries, key=key, redis=self._connect())
        except StoreUnavailable as error:
            self._unavailable = error
            report_failure(error)
            raise
        if logged.replayed:
            logger.info("Message already logged; not logging it again", extra={"messageId": record.message_id})


def _parse(record: SQSRecord) -> ActionMessage | BatchMessage:
    try:
        message: ActionMessage | BatchMessage = _messages().validate_json(record.body)
        return message
    except ValidationError as error:
        # Field locations (an excerpt of each: a producer may send any key) and error types only.
        problems = [
            {"location": ".".join(map(excerpt, e["loc"])), "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        logger.warning("Invalid message", extra={"messageId": record.message_id, "problems": problems[:10]})
        raise Unprocessable(f"message {record.message_id} is not a valid action or batch") from None
