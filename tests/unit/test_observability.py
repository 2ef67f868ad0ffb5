"""The handlers' count metrics are written as Powertools writes them: one embedded-metric-format line."""

import json

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from actionlog.observability import Counts


def test_the_line_is_the_one_powertools_writes_for_the_same_counts(capsys: pytest.CaptureFixture[str]) -> None:
    ours = Counts("Actionlog", "actionlog", disabled=False)
    theirs = Metrics(namespace="Actionlog", service="actionlog")
    for name, value in [("ActionsLogged", 3), ("CacheHit", 1), ("ActionsLogged", 1)]:
        ours.add(name, value)
        theirs.add_metric(name=name, unit=MetricUnit.Count, value=value)
    expected = theirs.serialize_metric_set()
    theirs.clear_metrics()

    ours.flush()
    [line] = capsys.readouterr().out.splitlines()
    written = json.loads(line)

    assert abs(written["_aws"].pop("Timestamp") - expected["_aws"].pop("Timestamp")) < 5_000
    assert written == expected


def test_nothing_is_written_without_counts_or_when_metrics_are_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    Counts("Actionlog", "actionlog", disabled=False).flush()
    disabled = Counts("Actionlog", "actionlog", disabled=True)
    disabled.add("ActionsLogged", 1)
    disabled.flush()

    assert capsys.readouterr().out == ""
    assert disabled.values == {}  # an invocation's counts never reach the next one
