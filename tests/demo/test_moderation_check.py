"""The demo town a new user tries first is judged as a moderator would: its legitimate
comments left alone, most of its violating ones hidden or queued
(``beffroi eval demo-moderation``, the table in docs/moderation.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

from beffroi.analysis.moderation.classifier import default_classifier
from beffroi.analysis.moderation.evaluate import charter_policy
from beffroi.analysis.moderation.rules import RuleDetector, load_default_rules
from beffroi.charter.yaml_io import load_default_charter
from beffroi.cli import main
from beffroi.demo.moderation_check import VEILLE_CATEGORIES, judge_demo_town


def test_the_demo_town_is_judged_as_a_moderator_would() -> None:
    detectors = [RuleDetector(load_default_rules()), default_classifier()]
    policy = charter_policy(load_default_charter().categories)
    result = judge_demo_town(datetime(2026, 12, 1, tzinfo=UTC), detectors, policy)
    assert not {label for label, _, _ in result.table} & VEILLE_CATEGORIES
    legitimate = violating = legitimate_flagged = violating_flagged = 0
    for (_label, expected, verdict), count in result.table.items():
        if expected in ("hide", "review"):
            violating += count
            violating_flagged += count * (verdict != "keep")
        else:
            legitimate += count
            legitimate_flagged += count * (verdict != "keep")
            # An acceptable comment is never hidden at once.
            assert verdict != "hide"
    assert legitimate > 250 and violating > 50
    # Measured on 2026-12-07 (docs/moderation.md, last run): 2 of 308 legitimate comments
    # queued, 43 of 69 violating ones hidden or queued; these floors catch a regression.
    assert legitimate_flagged / legitimate <= 0.02
    assert violating_flagged / violating >= 0.55
    assert len(result.wrong) == legitimate_flagged + violating - violating_flagged


def test_the_command_prints_the_table_and_json() -> None:
    runner = CliRunner()
    table = runner.invoke(main, ["eval", "demo-moderation"])
    assert table.exit_code == 0, table.output
    assert "| announcement | keep |" in table.output
    as_json = runner.invoke(main, ["eval", "demo-moderation", "--json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output[as_json.output.index("{") :])
    assert report["items"] == sum(row["items"] for row in report["table"])
    assert report["wrong"] == len(report["wrong_items"])
