"""What a deployment gets: the CloudFormation SAM's own translator makes of template.yaml, under its parameters.

Offline, as cfn-lint and `sam deploy` see the template: awslabs' Serverless Rules, the routes' scopes, CORS, logs,
throttling, the stack's own Redis and Cognito under their conditions, the alarms, and the Rules that refuse a
deployment which could not work. `Stack` evaluates conditions and intrinsics for a set of parameters as
CloudFormation would; what only a deployment knows (a resource's id) is given by the test where it matters.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from actionlog.auth import ADMIN_SCOPE, CACHE_SCOPE, ROUTE_SCOPES, Access
from actionlog.http import HttpOperation
from actionlog.redis_client import RETRY_BACKOFF_CAP_SECONDS, SECRET_READ
from actionlog.settings import Settings
from dev.cloudformation import Stack
from dev.openapi import declaration, reachable_methods
from dev.sam_cli import SAM_PYTHON
from dev.template import TEMPLATE_PATH, load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE.cloudformation
# Enough to deploy without the stack's own Redis or Cognito: what the Rules ask for.
BRING_YOUR_OWN = {"RedisHost": "redis.internal", "JwtIssuer": "https://issuer.example", "JwtAudiences": "app,backend"}
NETWORK = {"VpcId": "vpc-0abc", "SubnetIds": "subnet-a,subnet-b"}
# What CloudFormation would give the references a test follows.
DEPLOYED = {
    "FunctionSecurityGroup": "sg-stack",
    "AlarmTopic": "arn:aws:sns:eu-west-1:123456789012:stack-alarms",
    "AWS::Region": "eu-west-1",
    "AWS::URLSuffix": "amazonaws.com",
}


def stack(**parameters: str) -> Stack:
    document = {**TEMPLATE.document, "Conditions": {**TEMPLATE.document["Conditions"], "Always": True}}
    return Stack(document, parameters, known=DEPLOYED)


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


def functions() -> dict[str, dict[str, Any]]:
    return of_type("AWS::Lambda::Function")


# --- awslabs' Serverless Rules ---------------------------------------------------------------------------------


def test_serverless_rules_find_nothing_in_the_template() -> None:
    linted = subprocess.run(
        [SAM_PYTHON.parent / "cfn-lint", TEMPLATE_PATH, "-a", "cfn_lint_serverless.rules"],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert (linted.returncode, linted.stdout) == (0, ""), linted.stdout + linted.stderr


def test_every_rule_the_template_suppresses_says_why_on_the_same_line() -> None:
    lines = [line for line in TEMPLATE_PATH.read_text().splitlines() if "ignore_checks" in line]

    assert lines  # the log group and dead-letter queue suppressions
    for line in lines:
        assert re.search(r"\]\}\}\s+# \w+", line), line


# --- Routes, CORS, logs, throttling ----------------------------------------------------------------------------


def test_each_routes_gateway_scopes_are_those_its_declared_access_asks_of_a_token() -> None:
    for route in TEMPLATE.routes:
        handler = declaration(route.function)
        if isinstance(handler, HttpOperation):
            accesses = {handler.access}
        else:  # the endpoint's own rule is no stricter than its methods'
            accesses = {handler.methods[name].access for name in reachable_methods(handler, route, TEMPLATE.routes)}
        # Only an access every reachable method shares can be asked of the token before the function runs
        [access, *others] = sorted(accesses - {Access.AUTHENTICATED}) or [Access.AUTHENTICATED]
        expected = ROUTE_SCOPES.get(access, ()) if not others else ()
        assert route.scopes == expected, route.key


def test_the_shared_cache_and_the_server_facts_are_refused_at_the_gateway_without_their_scope() -> None:
    scoped = {route.key: route.scopes for route in TEMPLATE.routes if route.scopes}

    assert scoped == {
        "DELETE /cache/{key}": (CACHE_SCOPE, ADMIN_SCOPE),
        "GET /cache/{key}": (CACHE_SCOPE, ADMIN_SCOPE),
        "PUT /cache/{key}": (CACHE_SCOPE, ADMIN_SCOPE),
        "GET /health/info": (ADMIN_SCOPE,),
        "POST /redisHealth/{method}": (ADMIN_SCOPE,),
    }


def test_without_allowed_origins_the_api_has_no_cors_and_with_them_it_allows_the_contracts_headers() -> None:
    cors = load_template(overrides={"CorsAllowedOrigins": "https://app.example.com,http://localhost:8080"}).cors

    assert TEMPLATE.cors is None
    assert cors is not None
    assert cors.allow_origins == ("https://app.example.com", "http://localhost:8080")
    assert set(cors.allow_headers) == {"Authorization", "Content-Type", "Idempotency-Key"}
    assert set(cors.expose_headers) == {"Idempotent-Replayed", "Retry-After"}
    assert set(cors.allow_methods) == {route.method for route in TEMPLATE.routes}


def test_every_function_logs_to_a_group_with_the_retention_parameter() -> None:
    [log_group] = {function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for function in functions().values()}

    assert RESOURCES[log_group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for name, group in of_type("AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    assert int(TEMPLATE.document["Parameters"]["LogRetentionDays"]["Default"]) == 30


def test_the_api_access_log_is_json_with_the_caller_and_the_outcome_but_no_token_path_or_header() -> None:
    [stage] = of_type("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["AccessLogSettings"]

    fields = json.loads(settings["Format"])
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert fields["requestId"] == "$context.requestId"
    assert fields["routeKey"] == "$context.routeKey"
    assert fields["status"] == "$context.status"
    assert fields["integrationError"] == "$context.integrationErrorMessage"
    assert fields["sub"] == "$context.authorizer.claims.sub"
    assert "latencyMs" in fields
    # The path holds user ids and cache keys (session ids), the headers the token
    assert not [value for value in fields.values() if re.search(r"\.path|header|authorization", value, re.I)]


def test_default_route_throttling_comes_from_parameters() -> None:
    [stage] = of_type("AWS::ApiGatewayV2::Stage").values()

    assert stage["Properties"]["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
    }


def test_every_setting_the_layer_reads_can_be_set_from_a_template_parameter() -> None:
    read: set[str] = set()

    class Recording(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            read.add(key)
            return default

    Settings.from_env(Recording())
    variables = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"]

    # A password only through Secrets Manager (RedisSecretArn): a variable is visible in the function's settings
    assert read - set(variables) == {"REDIS_PASSWORD"}
    parameters = set(TEMPLATE.document["Parameters"])
    for variable in read - {"REDIS_PASSWORD"}:
        assert set(re.findall(r"'Ref': '(\w+)'", str(variables[variable]))) & parameters, variable


# --- The schedule's failures -----------------------------------------------------------------------------------


def test_the_probe_schedule_retries_briefly_and_parks_what_fails_in_its_dead_letter_queue() -> None:
    [rule] = of_type("AWS::Events::Rule").values()
    [target] = rule["Properties"]["Targets"]
    [invoke_config] = of_type("AWS::Lambda::EventInvokeConfig").values()

    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ProbeDeadLetterQueue", "Arn"]}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert invoke_config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ProbeDeadLetterQueue", "Arn"]
    }
    assert invoke_config["Properties"]["MaximumRetryAttempts"] == 0
    probe_role = RESOURCES["ProbeRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert probe_role == [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["ProbeDeadLetterQueue", "Arn"]}}
    ]


# --- Redis in the stack, or yours -----------------------------------------------------------------------------


def test_at_the_redis_parameters_maxima_a_dead_redis_still_answers_before_the_function_times_out() -> None:
    # The slowest request: every attempt waits out the connect and then the reply timeout, each retry its longest
    # backoff, and a cold start first reads the secret at its slowest (each attempt, then the backoff between).
    parameters = TEMPLATE.document["Parameters"]
    connect, reply, retries = (
        float(parameters[name]["MaxValue"]) for name in ("RedisConnectTimeout", "RedisSocketTimeout", "RedisRetries")
    )
    redis_seconds = (1 + retries) * (connect + reply) + retries * RETRY_BACKOFF_CAP_SECONDS
    attempts = SECRET_READ["retries"]["max_attempts"]
    secret_seconds = attempts * (SECRET_READ["connect_timeout"] + SECRET_READ["read_timeout"]) + (attempts - 1) * 1.0

    timeouts = {name: function["Properties"]["Timeout"] for name, function in functions().items()}

    # (a timed-out function gets API Gateway's bare 500, no Retry-After: the adapter's 503 must come first)
    assert {name: timeout for name, timeout in timeouts.items() if redis_seconds + secret_seconds >= timeout} == {}


def test_without_a_redis_or_an_issuer_the_template_refuses_to_deploy() -> None:
    refusals = stack().refusals()

    assert any("RedisHost or RedisUrl" in refusal for refusal in refusals)
    assert any("JwtIssuer" in refusal for refusal in refusals)
    assert stack(**BRING_YOUR_OWN).refusals() == []
    assert stack(CreateCache="true", CreateUserPool="true", **NETWORK).refusals() == []


@pytest.mark.parametrize(
    ("parameters", "refusal"),
    [
        ({"CreateCache": "true", "VpcId": "vpc-0abc"}, "needs SubnetIds"),
        ({"CreateCache": "true", "SubnetIds": "subnet-a,subnet-b"}, "needs the VpcId"),
        ({"RedisHost": "redis.internal", "SubnetIds": "subnet-a"}, "SubnetIds without SecurityGroupIds needs VpcId"),
        ({"RedisHost": "redis.internal", "JwtIssuer": "https://issuer.example"}, "JwtAudiences"),
    ],
)
def test_a_deployment_that_could_not_work_is_refused_with_what_to_give(
    parameters: dict[str, str], refusal: str
) -> None:
    given = {**BRING_YOUR_OWN, **parameters}
    if "JwtAudiences" in refusal:
        given.pop("JwtAudiences")

    assert [found for found in stack(**given).refusals() if refusal in found]


def created(parameters: dict[str, str]) -> set[str]:
    """The resources CloudFormation creates for these parameters."""
    deployed = stack(**parameters)
    return {name for name, resource in RESOURCES.items() if deployed.condition(resource.get("Condition", "Always"))}


def environment(parameters: dict[str, str]) -> dict[str, Any]:
    """A function's environment for these parameters; None where CloudFormation fills it in (an attribute)."""
    variables = RESOURCES["LogActionFunction"]["Properties"]["Environment"]["Variables"]
    return {name: stack(**parameters).resolved(value) for name, value in variables.items()}


def vpc_config(parameters: dict[str, str]) -> Any:
    return stack(**parameters).resolved(RESOURCES["LogActionFunction"]["Properties"].get("VpcConfig", {}))


def test_create_cache_makes_an_elasticache_serverless_cache_with_tls_that_admits_only_the_functions() -> None:
    parameters = {**BRING_YOUR_OWN, "RedisHost": "", "CreateCache": "true", **NETWORK}
    cache = RESOURCES["Cache"]["Properties"]
    [ingress] = RESOURCES["CacheSecurityGroup"]["Properties"]["SecurityGroupIngress"]

    assert {"Cache", "CacheSecurityGroup", "FunctionSecurityGroup"} <= created(parameters)
    assert RESOURCES["Cache"]["Type"] == "AWS::ElastiCache::ServerlessCache"
    assert stack(**parameters, CacheEngine="redis").value(cache["Engine"]) == "redis"
    assert stack(**parameters).value(cache["Engine"]) == "valkey"
    assert cache["SecurityGroupIds"] == [{"Ref": "CacheSecurityGroup"}]
    assert ingress["SourceSecurityGroupId"] == {"Ref": "FunctionSecurityGroup"}
    assert (ingress["FromPort"], ingress["ToPort"]) == (6379, 6380)
    # The functions reach it by its endpoint, over TLS, with the cluster protocol ElastiCache Serverless speaks
    variables = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["REDIS_HOST"]["Fn::If"][1] == {"Fn::GetAtt": ["Cache", "Endpoint.Address"]}
    assert variables["REDIS_PORT"]["Fn::If"][1] == {"Fn::GetAtt": ["Cache", "Endpoint.Port"]}
    assert (environment(parameters)["REDIS_TLS"], environment(parameters)["REDIS_CLUSTER"]) == ("true", "true")
    assert vpc_config(parameters) == {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-stack"]}


def test_with_your_own_security_groups_and_the_stacks_cache_the_functions_join_both() -> None:
    parameters = {**BRING_YOUR_OWN, "CreateCache": "true", **NETWORK, "SecurityGroupIds": "sg-mine"}

    assert vpc_config(parameters)["SecurityGroupIds"] == ["sg-mine", "sg-stack"]


def test_your_own_redis_gets_no_cache_and_no_vpc_unless_subnets_are_given() -> None:
    assert not {"Cache", "CacheSecurityGroup", "FunctionSecurityGroup"} & created(BRING_YOUR_OWN)
    assert vpc_config(BRING_YOUR_OWN) is None
    assert environment(BRING_YOUR_OWN)["REDIS_HOST"] == "redis.internal"
    assert environment(BRING_YOUR_OWN)["REDIS_TLS"] == "false"


def test_subnets_without_security_groups_get_the_stacks_own_group() -> None:
    parameters = {**BRING_YOUR_OWN, **NETWORK}

    assert "FunctionSecurityGroup" in created(parameters)
    assert "Cache" not in created(parameters)
    assert vpc_config(parameters)["SecurityGroupIds"] == ["sg-stack"]
    assert vpc_config({**parameters, "SecurityGroupIds": "sg-mine"})["SecurityGroupIds"] == ["sg-mine"]


def test_a_secret_under_a_customer_managed_key_can_be_decrypted_through_secrets_manager_only() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-AbCdEf"
    policy = RESOURCES["RedisSecretPolicy"]["Properties"]["PolicyDocument"]

    statements = stack(**BRING_YOUR_OWN, RedisSecretArn=secret, RedisSecretKmsKeyArn=key).value(policy)["Statement"]
    assert [statement["Action"] for statement in statements] == ["secretsmanager:GetSecretValue", "kms:Decrypt"]
    assert statements[1]["Resource"] == key
    assert "kms:ViaService" in statements[1]["Condition"]["StringEquals"]
    assert [s["Action"] for s in stack(**BRING_YOUR_OWN, RedisSecretArn=secret).value(policy)["Statement"]] == [
        "secretsmanager:GetSecretValue"
    ]
    for role in ("FunctionRole", "IngestRole", "ProbeRole"):
        arns = stack(**BRING_YOUR_OWN, RedisSecretArn=secret).resolved(
            RESOURCES[role]["Properties"]["ManagedPolicyArns"]
        )
        assert arns is None  # it names the stack's own policy, a reference only CloudFormation resolves
        assert "RedisSecretPolicy" in json.dumps(RESOURCES[role]["Properties"]["ManagedPolicyArns"]), role
    assert "RedisSecretPolicy" not in created(BRING_YOUR_OWN)


# --- Cognito in the stack, or yours ----------------------------------------------------------------------------


def authorizer() -> dict[str, Any]:
    [api] = of_type("AWS::ApiGatewayV2::Api").values()
    schemes = api["Properties"]["Body"]["components"]["securitySchemes"]
    configuration: dict[str, Any] = schemes["JwtAuthorizer"]["x-amazon-apigateway-authorizer"]["jwtConfiguration"]
    return configuration


def test_create_user_pool_makes_the_pool_its_scopes_and_three_clients_and_the_authorizer_trusts_only_them() -> None:
    parameters = {"RedisHost": "redis.internal", "CreateUserPool": "true"}
    deployed = Stack(
        TEMPLATE.document, parameters, known={"AppClient": "app", "BackendClient": "be", "AdminClient": "ad"}
    )
    scopes = RESOURCES["ResourceServer"]["Properties"]

    assert {"UserPool", "UserPoolDomain", "ResourceServer", "AppClient", "BackendClient", "AdminClient"} <= created(
        parameters
    )
    assert {f"{scopes['Identifier']}/{scope['ScopeName']}" for scope in scopes["Scopes"]} == {CACHE_SCOPE, ADMIN_SCOPE}
    assert deployed.value(authorizer()["audience"]) == ["app", "be", "ad"]
    assert authorizer()["issuer"]["Fn::If"][1] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPool}"
    }
    app, backend, admin = (RESOURCES[name]["Properties"] for name in ("AppClient", "BackendClient", "AdminClient"))
    assert app["GenerateSecret"] is False
    assert "AllowedOAuthScopes" not in app
    assert (backend["AllowedOAuthFlows"], backend["AllowedOAuthScopes"]) == (["client_credentials"], [CACHE_SCOPE])
    assert (admin["AllowedOAuthFlows"], admin["AllowedOAuthScopes"]) == (["client_credentials"], [ADMIN_SCOPE])


def test_your_own_issuer_and_several_audiences_reach_the_authorizer() -> None:
    deployed = stack(**BRING_YOUR_OWN)

    assert deployed.value(authorizer()["issuer"]) == "https://issuer.example"
    assert deployed.value(authorizer()["audience"]) == ["app", "backend"]
    assert not {"UserPool", "AppClient"} & created(BRING_YOUR_OWN)


# --- Alarms ------------------------------------------------------------------------------------------------------


def alarms() -> dict[str, dict[str, Any]]:
    return of_type("AWS::CloudWatch::Alarm")


def test_function_errors_and_throttles_are_watched_across_every_function() -> None:
    for name, metric in (("FunctionErrorsAlarm", "Errors"), ("FunctionThrottlesAlarm", "Throttles")):
        [query] = alarms()[name]["Properties"]["Metrics"]
        expression = query["Expression"]["Fn::Sub"]
        assert expression.startswith(f'SELECT SUM({metric}) FROM SCHEMA("AWS/Lambda", FunctionName) WHERE ')
        assert set(re.findall(r"FunctionName = '\$\{(\w+)\}'", expression)) == set(functions()), name


def test_the_health_alarm_stays_quiet_on_a_fresh_stack_and_each_probe_schedule_feeds_its_periods() -> None:
    alarm = alarms()["RedisUnhealthyAlarm"]["Properties"]
    schedules = TEMPLATE.document["Parameters"]["HealthProbeSchedule"]["AllowedValues"]

    assert alarm["TreatMissingData"] != "breaching"  # no data yet is not an outage
    assert "InsufficientDataActions" in alarm  # a probe that stops reporting is heard of
    for schedule in schedules:
        amount, _ = re.fullmatch(r"rate\((\d+) (minutes?)\)", schedule).groups()  # type: ignore[union-attr]
        assert int(amount) * 60 <= alarm["Period"], schedule


def test_the_alarms_notify_the_stacks_topic_for_an_email_your_topic_or_both() -> None:
    email, yours = {"AlarmEmail": "ops@example.com"}, {"AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops"}

    for name, alarm in alarms().items():
        actions = alarm["Properties"]["AlarmActions"]
        assert stack(**BRING_YOUR_OWN).value(actions) == [], name
        assert stack(**BRING_YOUR_OWN, **email).value(actions) == [DEPLOYED["AlarmTopic"]], name
        assert stack(**BRING_YOUR_OWN, **yours).value(actions) == [yours["AlarmTopicArn"]], name
        assert len(stack(**BRING_YOUR_OWN, **email, **yours).value(actions)) == 2, name
    assert "AlarmTopic" in created({**BRING_YOUR_OWN, **email})
    assert "AlarmTopic" not in created(BRING_YOUR_OWN)


def test_queue_backlog_and_dead_letters_are_watched() -> None:
    backlog = alarms()["QueueBacklogAlarm"]["Properties"]
    parked = alarms()["DeadLetterQueueAlarm"]["Properties"]["Metrics"]

    assert backlog["MetricName"] == "ApproximateAgeOfOldestMessage"
    watched = {metric["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for metric in parked[1:]}
    assert watched == {"ActionsDeadLetterQueue", "ProbeDeadLetterQueue"}
