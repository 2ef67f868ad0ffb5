"""SQS ingestion end to end: a moto queue configured from template.yaml, the real handler, a real Redis."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import redis
from moto import mock_aws

from actionlog import actions
from dev.template import read_document
from tests.support import FlakyProxy, RedisServer, handler_module, lambda_context

pytestmark = pytest.mark.redis_server

REGION = "eu-west-1"


def queue_properties(name: str) -> dict[str, Any]:
    """A queue's properties as template.yaml declares them (the test wires the DLQ's ARN itself)."""
    properties: dict[str, Any] = read_document()["Resources"][name]["Properties"]
    return properties


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, str]]:
    """ActionsQueue and its DLQ with the template's visibility timeout and redrive policy."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        dead_letters = sqs.create_queue(QueueName="actions-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        properties = queue_properties("ActionsQueue")
        redrive = {**properties["RedrivePolicy"], "deadLetterTargetArn": dlq_arn}
        queue = sqs.create_queue(
            QueueName="actions",
            Attributes={
                "VisibilityTimeout": str(properties["VisibilityTimeout"]),
                "MessageRetentionPeriod": str(properties["MessageRetentionPeriod"]),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]
        yield sqs, queue, dead_letters


def send(sqs: Any, queue: str, *bodies: Any) -> list[str]:
    return [
        sqs.send_message(QueueUrl=queue, MessageBody=body if isinstance(body, str) else json.dumps(body))["MessageId"]
        for body in bodies
    ]


def receive(sqs: Any, queue: str) -> list[dict[str, Any]]:
    # VisibilityTimeout=0 makes failed messages visible again at once instead of after 90 s.
    response = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"])
    return response.get("Messages", [])


def lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's SQS poller builds from received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:actions",
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


def deliver(sqs: Any, queue: str, messages: list[dict[str, Any]]) -> set[str]:
    """Run the handler on `messages` as Lambda does: delete what succeeded, return the failed ids."""
    response = handler_module("ingest_actions").lambda_handler(lambda_event(messages), lambda_context())
    failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return failed


def logged(client: redis.Redis, user_id: str = "123") -> list[str]:
    return [json.loads(item)["action"] for item in client.lrange(f"user:{user_id}:actions", 0, -1)]


GOOD_SINGLE = {"userId": "123", "action": "login"}
GOOD_BATCH = {"userId": 123, "actions": [{"action": "open_app"}, {"action": "view_profile"}]}
BAD = {"userId": "123", "action": ""}


def test_a_bad_message_fails_alone_and_the_rest_is_logged_once(queues, real_redis: redis.Redis) -> None:  # type: ignore[no-untyped-def]
    sqs, queue, _ = queues
    bad_id, *_ = send(sqs, queue, BAD, GOOD_SINGLE, GOOD_BATCH)
    messages = receive(sqs, queue)
    assert len(messages) == 3

    assert deliver(sqs, queue, messages) == {bad_id}
    assert sorted(logged(real_redis)) == ["login", "open_app", "view_profile"]

    # The same batch delivered again (SQS is at-least-once): nothing more is logged.
    assert deliver(sqs, queue, messages) == {bad_id}
    assert sorted(logged(real_redis)) == ["login", "open_app", "view_profile"]


def test_a_bad_message_comes_back_until_it_reaches_the_dead_letter_queue(queues, real_redis: redis.Redis) -> None:  # type: ignore[no-untyped-def]
    sqs, queue, dead_letters = queues
    max_receives = queue_properties("ActionsQueue")["RedrivePolicy"]["maxReceiveCount"]
    (bad_id,) = send(sqs, queue, "not json at all")

    attempts = 0
    while messages := receive(sqs, queue):
        assert deliver(sqs, queue, messages) == {bad_id}
        attempts += 1
        assert attempts <= max_receives

    assert attempts == max_receives
    parked = sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10)["Messages"]
    assert [message["MessageId"] for message in parked] == [bad_id]
    assert logged(real_redis) == []


def test_redis_down_fails_the_whole_batch_and_redelivery_logs_each_message_once(
    queues,
    own_redis_server: RedisServer,  # type: ignore[no-untyped-def]
) -> None:
    sqs, queue, _ = queues
    ids = set(send(sqs, queue, GOOD_SINGLE, GOOD_BATCH))
    messages = receive(sqs, queue)

    own_redis_server.stop()
    assert deliver(sqs, queue, messages) == ids

    own_redis_server.start()
    assert deliver(sqs, queue, receive(sqs, queue)) == set()
    assert sorted(logged(own_redis_server.client())) == ["login", "open_app", "view_profile"]
    assert receive(sqs, queue) == []


def test_redis_dying_mid_batch_loses_nothing_and_logs_nothing_twice(
    queues,
    session_redis_server: RedisServer,
    real_redis: redis.Redis,
    configure,  # type: ignore[no-untyped-def]
) -> None:
    sqs, queue, _ = queues
    bodies = [{"userId": "123", "action": f"a{n}"} for n in range(6)]
    send(sqs, queue, *bodies)
    messages = receive(sqs, queue)
    real_redis.script_load(actions.LOG_SCRIPT)  # one request per record after the connection handshake
    with FlakyProxy(session_redis_server.port, cut_after_requests=4, failure="close") as proxy:
        configure(REDIS_URL=proxy.url)

        failed = deliver(sqs, queue, messages)

    done = {message["MessageId"] for message in messages} - failed
    assert failed  # Redis died before the batch was through ...
    assert done  # ... but after it had begun
    done_actions = {json.loads(m["Body"])["action"] for m in messages if m["MessageId"] in done}
    assert set(logged(real_redis)) == done_actions  # every record reported done is in Redis

    configure(REDIS_URL=session_redis_server.url)
    while retry := receive(sqs, queue):
        assert deliver(sqs, queue, retry) == set()
    assert sorted(logged(real_redis)) == sorted(body["action"] for body in bodies)
