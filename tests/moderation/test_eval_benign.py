"""``beffroi eval moderation --benign``: what the charter would do to legitimate rows, judged
exactly as the application judges items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from beffroi.analysis.moderation.decide import CategoryPolicy, CharterPolicy
from beffroi.analysis.moderation.evaluate import (
    TextRow,
    charter_policy,
    detector_signals,
    evaluate_benign,
)
from beffroi.analysis.moderation.rules import RuleDetector, load_default_rules
from beffroi.analysis.moderation.signals import Signal
from beffroi.charter.yaml_io import load_default_charter
from beffroi.cli import main

# (text, kind). By the default French rules and charter: a phone number alone weighs 0.6 for
# personal_data (review at 0.5, hide at 0.9) → review; "voici son numéro" (0.6) with a number
# (0.6) → 1.0 → hidden; the others match no rule → kept.
ROWS = [
    ("Le service a été rapide, merci.", "citizen"),
    ("Pour un rendez-vous appelez le 01 40 33 20 55 le matin.", "citizen"),
    ("Voici son numéro : 06 12 34 56 78", "citizen"),
    ("Quand rouvre la médiathèque ?", "other"),
    ("Voici son numéro : 06 98 76 54 32", "other"),
]


def _write(path: Path) -> Path:
    lines = ["id,text,kind"]
    for number, (text, kind) in enumerate(ROWS, start=1):
        lines.append(f'{number},"{text}",{kind}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["eval", "moderation", *args])
    return result.exit_code, result.output


def _report(output: str) -> dict[str, object]:
    report: dict[str, object] = json.loads(output[output.index("{") :])
    return report


def test_rates_and_counts_on_the_chosen_rows(tmp_path: Path) -> None:
    data = _write(tmp_path / "citizens.csv")
    code, output = _run(
        "--input", str(data), "--text-column", "text", "--benign", "--where", "kind=citizen",
        "--detectors", "rules", "--json",
    )  # fmt: skip
    assert code == 0, output
    report = _report(output)
    assert report["n"] == 3
    assert (report["hidden"], report["reviewed"], report["kept"]) == (1, 1, 1)
    assert report["hidden_or_reviewed"] == 2
    assert report["hide_rate"] == round(1 / 3, 4)
    assert report["review_rate"] == round(1 / 3, 4)
    assert report["hide_or_review_rate"] == round(2 / 3, 4)
    assert report["top_categories"] == [["personal_data", 2]]
    assert report["top_detectors"] == [["rules", 2]]
    assert ["rules: rule:fr.personal_data.telephone", 2] in report["top_evidence"]  # type: ignore[operator]
    flagged = {row["line"]: row for row in report["flagged"]}  # type: ignore[attr-defined]
    assert flagged[2]["verdict"] == "review" and flagged[2]["score"] == 0.6
    assert flagged[3]["verdict"] == "hide" and flagged[3]["score"] == 1.0


def test_every_row_without_a_filter_and_the_plain_summary(tmp_path: Path) -> None:
    data = _write(tmp_path / "citizens.csv")
    common = ["--input", str(data), "--text-column", "text", "--benign", "--detectors", "rules"]
    code, output = _run(*common, "--json")
    assert code == 0, output
    report = _report(output)
    assert (report["n"], report["hidden"], report["reviewed"]) == (5, 2, 1)
    assert report["hide_or_review_rate"] == 0.6
    code, output = _run(*common)
    assert code == 0, output
    assert "5 legitimate rows: 2 hidden (40.0%), 1 sent to review (20.0%)" in output
    assert "hidden or reviewed 60.0%" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--benign", "--where", "kind"], "is not COLUMN=VALUE"),
        (["--benign", "--where", "sort=x"], "no column 'sort'"),
        (["--benign", "--where", "kind=nobody"], "no row has a text where kind=nobody"),
        (["--benign", "--threshold", "0.7"], "not with --benign"),
        (["--benign", "--categories", "hate"], "not with --benign"),
        (["--where", "kind=citizen"], "only with --benign"),
        ([], "--label-column and --positive are needed"),
    ],
)
def test_bad_options_get_a_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    data = _write(tmp_path / "citizens.csv")
    code, output = _run("--input", str(data), "--text-column", "text", *args)
    assert code != 0
    assert message in output


class _Fixed:
    """A detector that returns given signals, by text."""

    name = "fixed"
    version = "1"

    def __init__(self, table: dict[str, list[tuple[str, float]]]) -> None:
        self.table = table

    def score(self, texts: list[str]) -> list[list[Signal]]:
        return [
            [Signal(self.name, self.version, c, s, (f"word:{t}",)) for c, s in self.table[t]]
            for t in texts
        ]


def test_thresholds_shadow_and_disabled_categories_as_the_charter_says() -> None:
    policy = CharterPolicy(
        version=1,
        categories={
            "insult": CategoryPolicy("insult", "Insult", hide_at=0.95, review_at=0.6),
            "defamation": CategoryPolicy("defamation", "Defamation", hide_at=None, review_at=0.6),
            "spam": CategoryPolicy("spam", "Spam", review_at=0.5, shadow=True),
            "off_topic": CategoryPolicy("off_topic", "Off topic", review_at=0.1, enabled=False),
        },
    )
    detector = _Fixed(
        {
            "a": [("insult", 0.59)],  # under review_at: kept
            "b": [("insult", 0.6)],  # at review_at: review
            "c": [("insult", 0.95)],  # at hide_at: hidden
            "d": [("defamation", 0.99)],  # never hidden without a person: review
            "e": [("spam", 0.9)],  # shadow: recorded, not acted on
            "f": [("off_topic", 0.9)],  # disabled: kept
        }
    )
    rows = [TextRow(n, text) for n, text in enumerate("abcdef", start=1)]
    result = evaluate_benign(rows, [detector], policy)
    figures = result.as_dict()
    assert (figures["n"], figures["hidden"], figures["reviewed"], figures["shadow"]) == (6, 1, 2, 1)
    assert figures["kept"] == 3
    assert figures["hide_or_review_rate"] == 0.5
    assert figures["top_categories"] == [("insult", 2), ("defamation", 1)]
    assert [(row.line, row.verdict) for row in result.flagged] == [
        (2, "review"),
        (3, "hide"),
        (4, "review"),
    ]
    assert result.flagged[1].evidence == ("fixed: word:c",)


def test_signals_are_the_applications() -> None:
    from beffroi.moderation.detectors import run

    rules = RuleDetector(load_default_rules())
    texts = ["Voici son numéro : 06 12 34 56 78", "x" * 300_000 + " sale connard", "Merci !"]
    assert detector_signals([rules], texts) == run([rules], texts)


@pytest.mark.django_db
def test_the_default_charter_policy_is_the_one_an_organization_gets() -> None:
    from beffroi.charter.services import ensure_default_charter
    from beffroi.moderation.policy import charter_policies
    from beffroi.organizations.models import Organization

    organization = Organization.objects.create(slug="benign-town", name="Benign town")
    ensure_default_charter(organization)
    live, _ = charter_policies(organization)
    assert live is not None
    ours = charter_policy(load_default_charter().categories)
    assert set(ours.categories) == set(live.categories)
    for slug, category in live.categories.items():
        mine = ours.categories[slug]
        assert (mine.hide_at, mine.review_at, mine.severity, mine.shadow, mine.enabled) == (
            category.hide_at,
            category.review_at,
            category.severity,
            category.shadow,
            category.enabled,
        ), slug
