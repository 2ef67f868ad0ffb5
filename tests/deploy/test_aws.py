"""The stack's AWS parts where moto can play them: Cognito's tokens meet the handlers, the alarms meet CloudWatch.

The user pool, its resource server and clients are created in moto with the properties template.yaml gives them;
an app user's access token (as moto's Cognito issues it) then reaches only that user's data. The backend and admin
clients get tokens by client credentials at the pool's /oauth2/token, which moto does not serve: their claims are
written as Cognito documents them (sub and client_id the client's id, scope its allowed scopes). The alarms go to
moto's CloudWatch as CloudFormation would send them, which boto3 checks against the API's own model.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import redis

from dev.cloudformation import Stack
from dev.template import load_template
from dev.token import read_claims
from tests.support import AWS_REGION as REGION
from tests.support import invoke, load_event, with_caller, with_path

TEMPLATE = load_template()
RESOURCES = TEMPLATE.cloudformation
PASSWORD = "Correct-horse-battery-1"


def properties(name: str, **given: Any) -> dict[str, Any]:
    """A resource's properties as CloudFormation would send them, with the references `given` filled in."""
    # The admin password flow is how these tests (and docs/deploy.md's walkthrough) sign a user in without an app
    parameters = {"CreateUserPool": "true", "AppClientAdminPasswordAuth": "true"}
    resolved: dict[str, Any] = Stack(TEMPLATE.document, parameters, known=given).value(RESOURCES[name]["Properties"])
    return resolved


@pytest.fixture
def user_pool(aws: None) -> dict[str, Any]:
    """The stack's user pool, resource server and clients, in moto's Cognito."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = properties("UserPool", **{"AWS::StackName": "actionlog"})
    pool_id = cognito.create_user_pool(PoolName=pool.pop("UserPoolName"), **pool)["UserPool"]["Id"]
    cognito.create_resource_server(**properties("ResourceServer", UserPool=pool_id))
    clients = {}
    for name in ("AppClient", "BackendClient", "AdminClient"):
        client = cognito.create_user_pool_client(**properties(name, UserPool=pool_id))["UserPoolClient"]
        clients[name] = client
    return {"cognito": cognito, "pool_id": pool_id, **clients}


def app_user_token(user_pool: dict[str, Any], email: str) -> dict[str, Any]:
    """The claims of the access token the app's client gets when this user signs in."""
    cognito, pool_id, client_id = user_pool["cognito"], user_pool["pool_id"], user_pool["AppClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    answer = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    token = answer["AuthenticationResult"]["AccessToken"]
    assert cognito.get_user(AccessToken=token)["Username"]  # a token Cognito itself accepts
    return read_claims(token)


def client_credentials_claims(client: dict[str, Any]) -> dict[str, Any]:
    """What Cognito puts in a client-credentials access token: the client as subject, its scopes."""
    return {
        "sub": client["ClientId"],
        "client_id": client["ClientId"],
        "token_use": "access",
        "scope": " ".join(client["AllowedOAuthScopes"]),
    }


def call(operation: str, claims: dict[str, Any], user_id: str | None = None) -> int:
    """The status a handler answers a caller with these claims, as the JWT authorizer passes them on."""
    event = load_event(f"{operation}.json")
    if user_id is not None:
        path = event["rawPath"].replace("/users/123/", f"/users/{user_id}/")
        event = with_path(event, path, **{**event["pathParameters"], "userId": user_id})
    scope = claims.get("scope", "")
    status: int = invoke(operation, with_caller(event, claims, scope.split()))["statusCode"]
    return status


def test_an_app_users_access_token_reaches_their_own_log_and_cache_and_nobody_elses(
    user_pool: dict[str, Any], fake_server: redis.Redis
) -> None:
    claims = app_user_token(user_pool, "ada@example.com")
    sub = claims["sub"]

    assert claims["client_id"] == user_pool["AppClient"]["ClientId"]  # what the JWT authorizer matches audiences to
    assert call("log_action", claims, user_id=sub) == 201
    assert call("user_cache_set", claims, user_id=sub) == 200
    assert call("get_user_actions", claims, user_id="123") == 403
    assert [call(f"user_cache_{verb}", claims, user_id="123") for verb in ("set", "get", "delete")] == [403] * 3
    assert call("cache_get", claims) == 403  # the app's client holds no cache scope
    assert call("health_info", claims) == 403


def test_the_backend_client_reaches_the_shared_cache_only(user_pool: dict[str, Any], fake_server: redis.Redis) -> None:
    backend = user_pool["BackendClient"]
    claims = client_credentials_claims(backend)

    assert backend["AllowedOAuthFlows"] == ["client_credentials"]
    assert "ClientSecret" in backend
    assert call("cache_set", claims) == 200
    assert call("get_user_actions", claims, user_id="123") == 403
    assert [call(f"user_cache_{verb}", claims, user_id="123") for verb in ("set", "get", "delete")] == [403] * 3
    assert call("health_info", claims) == 403


def test_the_admin_client_reaches_every_users_data_and_the_server_facts(
    user_pool: dict[str, Any], fake_server: redis.Redis
) -> None:
    claims = client_credentials_claims(user_pool["AdminClient"])

    assert call("get_user_actions", claims, user_id="123") == 200
    assert call("cache_set", claims) == 200
    assert call("health_info", claims) == 200


def test_every_alarm_is_one_cloudwatch_accepts_and_notifies_the_stacks_topic(aws: None) -> None:
    sns, kms = boto3.client("sns", region_name=REGION), boto3.client("kms", region_name=REGION)
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    given = {
        "AlarmEmail": "ops@example.com",
        "CreateCache": "true",
        "VpcId": "vpc-0abc",
        "SubnetIds": "subnet-a,subnet-b",
        "JwtIssuer": "https://x",
        "JwtAudiences": "a",
    }
    pseudo = {"AWS::AccountId": account, "AWS::Region": REGION, "AWS::Partition": "aws"}
    # (moto keeps the key policy but does not enforce it: tests/deploy/test_template.py reads what it allows)
    key = Stack(TEMPLATE.document, given, known=pseudo).value(RESOURCES["AlarmTopicKey"]["Properties"])
    key_id = kms.create_key(Description=key["Description"], Policy=json.dumps(key["KeyPolicy"]))["KeyMetadata"]["KeyId"]
    topic = Stack(TEMPLATE.document, given, known={"AlarmTopicKey": key_id}).value(
        RESOURCES["AlarmTopic"]["Properties"]
    )
    topic_arn = sns.create_topic(
        Name="actionlog-alarms",
        Attributes={"DisplayName": topic["DisplayName"], "KmsMasterKeyId": topic["KmsMasterKeyId"]},
    )["TopicArn"]
    policy = Stack(TEMPLATE.document, given, known={**pseudo, "AlarmTopic": topic_arn}).value(
        RESOURCES["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]
    )
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    [subscription] = topic["Subscription"]
    sns.subscribe(TopicArn=topic_arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
    names = {name: f"actionlog-{name}-AbC123" for name in TEMPLATE.functions}
    known = {
        **names,
        "AlarmTopic": topic_arn,
        "ActionlogApi": "abcdef1234",
        "ActionsQueue.QueueName": "actionlog-ActionsQueue",
        "ActionsDeadLetterQueue.QueueName": "actionlog-ActionsDeadLetterQueue",
        "ProbeDeadLetterQueue.QueueName": "actionlog-ProbeDeadLetterQueue",
        "Cache": "actionlog-0a1b2c3d",
    }
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    alarms = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

    for name, alarm in alarms.items():
        cloudwatch.put_metric_alarm(
            AlarmName=name, **Stack(TEMPLATE.document, given, known=known).value(alarm["Properties"])
        )

    described = cloudwatch.describe_alarms()["MetricAlarms"]
    assert {alarm["AlarmName"] for alarm in described} == set(alarms)
    assert all(alarm["AlarmActions"] == [topic_arn] for alarm in described)
    [subscribed] = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert (subscribed["Protocol"], subscribed["Endpoint"]) == ("email", "ops@example.com")
