"""``beffroi connectors`` and docs/connectors.md say the same, from the connectors' code."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from beffroi.cli import main
from beffroi.connectors.base import Action
from beffroi.connectors.catalog import BEGIN, END, catalog, markdown
from beffroi.connectors.registry import available, connector_class

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: The platforms the issue lists, each with its connector.
PLATFORMS = {
    "facebook", "instagram", "x", "youtube", "bluesky", "mastodon", "telegram", "rss",
    "tiktok", "snapchat", "file",
}  # fmt: skip


def test_every_platform_has_a_connector_a_setup_page_and_reasons_for_what_it_cannot_do() -> None:
    assert set(available()) >= PLATFORMS
    for platform in PLATFORMS:
        cls = connector_class(platform)
        assert cls.platform == platform
        assert cls.setup_doc and (DOCS / cls.setup_doc).is_file(), platform
        for action in Action:
            if action in cls.actions:
                assert str(action) not in cls.not_supported, (platform, action)
            elif platform != "file":  # a file import is not a platform
                assert cls.not_supported.get(str(action)), (platform, action)


def test_the_documentation_table_is_the_one_the_code_gives() -> None:
    text = (DOCS / "connectors.md").read_text(encoding="utf-8")
    documented = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert documented == markdown(catalog()), "run `beffroi connectors --markdown`"


def test_the_command_lists_every_platform_and_what_it_cannot_do() -> None:
    runner = CliRunner()
    as_json = runner.invoke(main, ["connectors", "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = {row["platform"]: row for row in json.loads(as_json.output)}
    assert set(rows) >= PLATFORMS
    assert "hide" in rows["facebook"]["actions"]
    assert ["report", rows["x"]["not_supported"][0][1]] in rows["x"]["not_supported"]
    table = runner.invoke(main, ["connectors"], terminal_width=200)
    assert table.exit_code == 0
    for row in rows.values():
        assert row["label"].split(" ")[0] in table.output
    assert "supported" in table.output


def test_every_built_in_option_is_offered_for_translation() -> None:
    from beffroi.connectors.registry import BUILTIN
    from beffroi.sources.forms import CONNECTOR_STRINGS

    for platform in BUILTIN:
        cls = connector_class(platform)
        assert cls.label in CONNECTOR_STRINGS, platform
        for name, option in cls.options.items():
            assert option.label in CONNECTOR_STRINGS, (platform, name)
            assert not option.help or option.help in CONNECTOR_STRINGS, (platform, name)
