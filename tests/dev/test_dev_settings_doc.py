"""docs/configuration.md's tables are made from the layer's table of variables and the template, and kept so."""

from pathlib import Path

import pytest

from dev import settings_doc
from dev.template import load_template


def test_the_configuration_document_is_up_to_date() -> None:
    current = settings_doc.DOC_PATH.read_text(encoding="utf-8")

    assert settings_doc.render(current, load_template()) == current, "run `python -m dev.settings_doc`"


def test_check_fails_on_a_stale_document_and_writing_brings_it_up_to_date(tmp_path: Path) -> None:
    # Given the document with a default that drifted from the table
    stale = tmp_path / "configuration.md"
    current = settings_doc.DOC_PATH.read_text(encoding="utf-8")
    stale.write_text(current.replace("| `100` |", "| `50` |"), encoding="utf-8")

    assert settings_doc.main(["--check", "-o", str(stale)]) == 1
    assert settings_doc.main(["-o", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == current


def test_a_document_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        settings_doc.render("# Configuration\n", load_template())


@pytest.mark.parametrize(
    ("value", "described"),
    [
        ({"Ref": "RedisRetries"}, "`RedisRetries`"),
        ({"Fn::If": ["CreateCache", "true", {"Ref": "RedisTls"}]}, "`RedisTls` (`true` with `CreateCache`)"),
        ({"Fn::If": ["CreateCache", "", {"Ref": "RedisUrl"}]}, "`RedisUrl` (unset with `CreateCache`)"),
        ("actionlog", "none (set to `actionlog`)"),
    ],
)
def test_what_sets_a_variable_is_named_as_the_template_writes_it(value: object, described: str) -> None:
    assert settings_doc.describe_source(value, {"RedisRetries", "RedisTls", "RedisUrl"}) == described
