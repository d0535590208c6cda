"""Documentation that is generated from the code stays equal to it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from callblock.cli import main
from callblock.settings import reference

DEPLOY = Path(__file__).parent.parent / "docs" / "deploy.md"


def test_the_deploy_guide_lists_every_setting_as_the_settings_object_does() -> None:
    text = DEPLOY.read_text()
    start = text.index("<!-- settings:start -->\n") + len("<!-- settings:start -->\n")
    end = text.index("<!-- settings:end -->")
    assert text[start:end] == reference()


def test_callblock_settings_prints_the_reference() -> None:
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 0
    assert result.output == reference()
    assert "`CALLBLOCK_DATABASE_URL`" in result.output
