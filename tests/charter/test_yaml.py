"""Charter files: a version goes out and comes back unchanged; a bad file lists every problem."""

from __future__ import annotations

from typing import Any

import pytest

from beffroi.audit.services import Actor
from beffroi.charter import services
from beffroi.charter.models import CharterVersion
from beffroi.charter.yaml_io import (
    MAX_YAML_BYTES,
    CharterFormatError,
    dump_charter,
    load_default_charter,
    parse_charter,
)

ACTOR = Actor.system("test")

SMALL = """\
format: beffroi-charter/1
settings:
  use_default_rules: false
  preamble: {fr: "Soyez courtois.", en: "Be courteous."}
categories:
  - slug: insult
    name: {fr: Injures, en: Insults}
    clause: {fr: "Pas d'injures.", en: "No insults."}
    severity: medium
    hide_at: 0.95
    review_at: 0.6
    dsa:
      decision_ground: DECISION_GROUND_INCOMPATIBLE_CONTENT
      category: STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH
      specification: [KEYWORD_OTHER]
      specification_other: Insult
rules:
  - {category: insult, language: fr, kind: keyword, pattern: malotru}
  - {category: insult, language: "*", kind: regex, pattern: "b[o0]uff?on", weight: 0.7, note: evasions}
"""


def problems_of(text: str | bytes) -> list[str]:
    with pytest.raises(CharterFormatError) as caught:
        parse_charter(text)
    return caught.value.problems


def test_a_small_file_is_read_with_defaults() -> None:
    data = parse_charter(SMALL)
    assert data.use_default_rules is False
    assert data.preamble_en == "Be courteous."
    (insult,) = data.categories
    assert insult["severity"] == 2  # "medium"
    assert insult["shadow"] is False and insult["enabled"] is True
    assert insult["legal_reference"] == ""
    assert [r["pattern"] for r in data.rules] == ["malotru", "b[o0]uff?on"]
    assert data.rules[0]["weight"] == 1.0 and data.rules[0]["enabled"] is True
    assert data.rules[1]["weight"] == 0.7


def test_the_default_charter_survives_dump_and_parse() -> None:
    data = load_default_charter()
    again = parse_charter(dump_charter(data, header="a header\nover two lines"))
    assert again == data


@pytest.mark.django_db
def test_a_version_round_trips_through_yaml(org: Any) -> None:
    live = services.ensure_default_charter(org)
    draft = services.create_draft(ACTOR, org)
    services.update_version(ACTOR, draft, notes="Avec des règles\nsur deux lignes.")
    services.save_category(
        ACTOR, draft, draft.categories.get(slug="insult"), hide_at=None, shadow=True
    )
    services.save_rule(
        ACTOR, draft, None, category="insult", language="fr", kind="phrase", pattern="espèce de"
    )
    services.save_rule(
        ACTOR, draft, None, category="spam", language="*", kind="domain", pattern="arnaque.example"
    )
    text = services.export_yaml(draft)
    assert text.startswith("# Usage charter of Ville de Test")
    imported = services.import_yaml(ACTOR, org, text)
    assert imported.status == CharterVersion.Status.DRAFT
    assert imported.number == draft.number + 1
    assert services.version_data(imported) == services.version_data(draft)
    assert services.diff_versions(draft, imported).is_empty
    assert not services.diff_versions(live, imported).is_empty
    assert services.export_yaml(imported).split("\n", 1)[1].replace(
        f"number: {imported.number}", "number: N"
    ) == text.split("\n", 1)[1].replace(f"number: {draft.number}", "number: N")


def test_invalid_yaml_gives_its_line() -> None:
    (problem,) = problems_of("format: beffroi-charter/1\ncategories:\n  - slug: [unclosed\n")
    assert problem.startswith("line 4, column 1: not valid YAML")


def test_every_problem_is_listed_with_its_line() -> None:
    text = (
        SMALL.replace("hide_at: 0.95", "hide_at: 1.5")
        .replace("pattern: malotru}", "pattern: malotru, colour: red}")
        .replace('pattern: "b[o0]uff?on"', 'pattern: "b[o0uffon"')
    )
    text += """\
  - {category: threat, language: fr, kind: keyword, pattern: two words}
"""
    problems = problems_of(text)
    assert "line 6, category 1 (insult): hide_at: Must be between 0 and 1." in problems
    assert any(p.startswith("line 18, rule 1: unknown key “colour”") for p in problems)
    assert any(
        p.startswith("line 19, rule 2: pattern: Invalid regular expression: unterminated")
        for p in problems
    ), problems
    assert "line 20, rule 3: category: “threat” is not a category of this charter." in problems
    assert (
        "line 20, rule 3: pattern: A keyword is one word: use a phrase for several words."
        in problems
    )
    assert len(problems) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a list\n", "The file must be a YAML mapping (format, settings, categories, rules)."),
        (SMALL.replace("beffroi-charter/1", "beffroi-charter/9"), "format: must be “beffroi-charter/1” (found 'beffroi-charter/9')."),
        (SMALL.replace("\nrules:", "\nextras: 1\nrules:"), "line 1, top level: unknown key “extras” (expected: categories, format, rules, settings, version)."),
        (SMALL.split("categories:")[0] + "categories: []\n", "categories: a list of at least one category is required."),
        (SMALL.replace("severity: medium", "severity: 7"), "line 6, category 1 (insult): severity: Must be 1 (low), 2 (medium), 3 (high) or 4 (critical)."),
        (SMALL.replace("review_at: 0.6", "review_at: 0.99"), "line 6, category 1 (insult): hide_at: The hide threshold cannot be below the review threshold."),
        (SMALL.replace("category: STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "category: STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"), "line 6, category 1 (insult): dsa.category: Unknown DSA category: STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE."),
        (SMALL.replace("[KEYWORD_OTHER]", "[KEYWORD_TERRORIST_CONTENT, KEYWORD_OTHER]"), "line 6, category 1 (insult): dsa.specification: KEYWORD_TERRORIST_CONTENT does not belong to the DSA category STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH."),
        (SMALL.replace("DECISION_GROUND_INCOMPATIBLE_CONTENT", "DECISION_GROUND_ILLEGAL_CONTENT"), "line 6, category 1 (insult): legal_reference: A category whose DSA ground is illegal content must cite its legal ground."),
        (SMALL.replace("    clause:", "    slug: again\n    clause:"), "line 8: the key “slug” is given twice."),
        (SMALL.replace("use_default_rules: false", "use_default_rules: maybe"), "line 3, settings: use_default_rules must be true or false."),
        (SMALL + "  - {category: insult, language: fr, kind: keyword, pattern: malotru}\n", "line 20, rule 3: the same rule is given twice."),
        (SMALL.replace('weight: 0.7', 'weight: 2'), "line 19, rule 2: weight: Must be a number above 0 and at most 1."),
        (SMALL.replace('language: "*"', "language: French"), "line 19, rule 2: language: A language code such as fr, en or ar, or * for every language."),
    ],
)  # fmt: skip
def test_each_problem_is_explained(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert expected in problems, problems


def test_a_duplicate_category_slug_is_refused() -> None:
    category = SMALL.split("categories:\n")[1].split("rules:")[0]
    text = SMALL.replace("\nrules:", "\n" + category + "rules:")
    assert any("the slug “insult” is used twice" in p for p in problems_of(text))


def test_size_and_encoding_are_checked_before_parsing() -> None:
    assert problems_of(b"x" * (MAX_YAML_BYTES + 1)) == ["The file is larger than 1024 KiB."]
    assert problems_of("é".encode("latin-1")) == ["The file is not UTF-8 text (byte 0)."]


@pytest.mark.django_db
def test_an_invalid_file_creates_nothing(org: Any) -> None:
    with pytest.raises(CharterFormatError):
        services.import_yaml(ACTOR, org, SMALL.replace("hide_at: 0.95", "hide_at: -1"))
    assert not CharterVersion.objects.filter(organization=org).exists()
