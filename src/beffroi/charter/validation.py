"""Checks of charter categories and rule entries, shared by the forms, the models and the YAML
import. Each check works on the plain-data layout of the YAML file and returns every problem
found as ``(field path, message)``, so that a form can tie it to its field and an import can
list it with its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from beffroi.analysis.moderation.signals import CATEGORIES
from beffroi.charter import dsa

Problem = tuple[str, str]

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LANGUAGE_RE = re.compile(r"^([a-z]{2,3}|\*)$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
RULE_KINDS = ("keyword", "phrase", "regex", "domain")
SEVERITY_NAMES = {"low": 1, "medium": 2, "high": 3, "critical": 4}
MAX_PATTERN = 500

#: Data paths of a category and the model fields they fill.
CATEGORY_FIELDS = {
    "slug": "slug",
    "name.fr": "name_fr",
    "name.en": "name_en",
    "clause.fr": "clause_fr",
    "clause.en": "clause_en",
    "legal_reference": "legal_reference",
    "severity": "severity",
    "hide_at": "hide_at",
    "review_at": "review_at",
    "auto_delete": "auto_delete",
    "shadow": "shadow",
    "enabled": "enabled",
    "dsa.decision_ground": "dsa_decision_ground",
    "dsa.category": "dsa_category",
    "dsa.specification": "dsa_category_specification",
    "dsa.specification_other": "dsa_category_specification_other",
}


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(
    problems: list[Problem], data: Mapping[str, Any], path: str, limit: int, required: bool
) -> None:
    value = _get(data, path)
    if value is None or value == "":
        if required:
            problems.append((path, _("This field is required.")))
        return
    if not isinstance(value, str):
        problems.append((path, _("Must be text.")))
    elif required and not value.strip():
        problems.append((path, _("This field is required.")))
    elif len(value) > limit:
        problems.append(
            (
                path,
                _("At most %(limit)d characters (it has %(count)d).")
                % {"limit": limit, "count": len(value)},
            )
        )


def _flag(problems: list[Problem], data: Mapping[str, Any], path: str) -> None:
    value = _get(data, path)
    if value is not None and not isinstance(value, bool):
        problems.append((path, _("Must be true or false.")))


def _threshold(problems: list[Problem], data: Mapping[str, Any], path: str) -> float | None:
    value = _get(data, path)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append((path, _("Must be a number between 0 and 1, or empty.")))
        return None
    if not 0 <= value <= 1:
        problems.append((path, _("Must be between 0 and 1.")))
        return None
    return float(value)


def category_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every problem of one category given in the YAML layout (see :data:`CATEGORY_FIELDS`)."""
    problems: list[Problem] = []
    slug = data.get("slug")
    if not slug:
        problems.append(("slug", _("This field is required.")))
    elif not isinstance(slug, str) or len(slug) > 64 or not SLUG_RE.match(slug):
        problems.append(
            ("slug", _("Lower-case letters, digits, hyphens and underscores only (64 at most)."))
        )
    for path, limit in (("name.fr", 120), ("name.en", 120)):
        _text(problems, data, path, limit, required=True)
    for path in ("clause.fr", "clause.en"):
        _text(problems, data, path, 5000, required=True)
    _text(problems, data, "legal_reference", 300, required=False)

    severity = data.get("severity")
    if isinstance(severity, bool) or severity not in (1, 2, 3, 4):
        problems.append(("severity", _("Must be 1 (low), 2 (medium), 3 (high) or 4 (critical).")))

    hide_at = _threshold(problems, data, "hide_at")
    review_at = _threshold(problems, data, "review_at")
    if hide_at is not None and review_at is not None and hide_at < review_at:
        problems.append(("hide_at", _("The hide threshold cannot be below the review threshold.")))
    for path in ("auto_delete", "shadow", "enabled"):
        _flag(problems, data, path)
    if data.get("auto_delete") is True and _get(data, "hide_at") is None:
        problems.append(
            ("auto_delete", _("Automatic deletion needs a hide threshold to act at all."))
        )

    ground = _get(data, "dsa.decision_ground")
    if ground not in dsa.DECISION_GROUNDS:
        problems.append(
            (
                "dsa.decision_ground",
                _("Unknown DSA decision ground: %(value)s.") % {"value": ground},
            )
        )
    elif ground == dsa.DECISION_GROUND_ILLEGAL and not data.get("legal_reference"):
        problems.append(
            (
                "legal_reference",
                _("A category whose DSA ground is illegal content must cite its legal ground."),
            )
        )
    category = _get(data, "dsa.category")
    if category not in dsa.STATEMENT_CATEGORIES:
        problems.append(
            ("dsa.category", _("Unknown DSA category: %(value)s.") % {"value": category})
        )
    specification = _get(data, "dsa.specification")
    if specification is None:
        specification = []
    if not isinstance(specification, list):
        problems.append(("dsa.specification", _("Must be a list of DSA keywords.")))
        specification = []
    for keyword in specification:
        if keyword not in dsa.CATEGORY_SPECIFICATIONS:
            problems.append(
                ("dsa.specification", _("Unknown DSA keyword: %(value)s.") % {"value": keyword})
            )
        elif category in dsa.STATEMENT_CATEGORIES and not dsa.keyword_fits(category, keyword):
            problems.append(
                (
                    "dsa.specification",
                    _("%(keyword)s does not belong to the DSA category %(category)s.")
                    % {"keyword": keyword, "category": category},
                )
            )
    if len(set(map(str, specification))) != len(specification):
        problems.append(("dsa.specification", _("A keyword is repeated.")))
    _text(problems, data, "dsa.specification_other", 500, required=False)
    if _get(data, "dsa.specification_other") and dsa.KEYWORD_OTHER not in specification:
        problems.append(
            (
                "dsa.specification_other",
                _("Only with the keyword KEYWORD_OTHER (“not captured by any other keyword”)."),
            )
        )
    return problems


def rule_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every problem of one rule entry (category, language, kind, pattern, weight, …)."""
    problems: list[Problem] = []
    category = data.get("category")
    if not category:
        problems.append(("category", _("This field is required.")))
    elif not isinstance(category, str) or not SLUG_RE.match(category):
        problems.append(("category", _("Not a category identifier.")))
    elif category not in CATEGORIES:
        problems.append(
            (
                "category",
                _("Rules can only feed the categories the detectors know: %(slugs)s.")
                % {"slugs": ", ".join(CATEGORIES)},
            )
        )
    language = data.get("language")
    if not isinstance(language, str) or not LANGUAGE_RE.match(language):
        problems.append(
            ("language", _("A language code such as fr, en or ar, or * for every language."))
        )
    kind = data.get("kind")
    if kind not in RULE_KINDS:
        problems.append(
            ("kind", _("Must be one of: %(kinds)s.") % {"kinds": ", ".join(RULE_KINDS)})
        )
    pattern = data.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        problems.append(("pattern", _("This field is required.")))
    elif len(pattern) > MAX_PATTERN:
        problems.append(("pattern", _("At most %(limit)d characters.") % {"limit": MAX_PATTERN}))
    elif pattern != pattern.strip():
        problems.append(("pattern", _("Remove the spaces at the start or the end.")))
    elif kind == "regex":
        try:
            re.compile(pattern)
        except re.error as exc:
            where = f" (position {exc.pos})" if exc.pos is not None else ""
            problems.append(
                (
                    "pattern",
                    _("Invalid regular expression: %(error)s%(where)s.")
                    % {"error": exc.msg, "where": where},
                )
            )
    elif kind == "keyword" and any(character.isspace() for character in pattern):
        problems.append(("pattern", _("A keyword is one word: use a phrase for several words.")))
    elif kind == "domain" and not DOMAIN_RE.match(pattern):
        problems.append(
            (
                "pattern",
                _("A domain name in lower case, such as example.org (no https://, no path)."),
            )
        )
    weight = data.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1:
        problems.append(("weight", _("Must be a number above 0 and at most 1.")))
    note = data.get("note", "")
    if note is not None and (not isinstance(note, str) or len(note) > 300):
        problems.append(("note", _("Text of 300 characters at most.")))
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(("enabled", _("Must be true or false.")))
    if not problems:
        problem = _engine_problem(data)
        if problem:
            problems.append(
                ("pattern", _("The rule engine refuses it: %(error)s.") % {"error": problem})
            )
    return problems


def _engine_problem(data: Mapping[str, Any]) -> str:
    """What the rule engine says of a rule that passed the checks above ("" if it takes it),
    so that a rule saved here never breaks the organization's detector."""
    try:
        from beffroi.analysis.moderation.rules import RuleDetector, RuleSpec
    except ImportError:  # the engine is optional to the charter
        return ""
    spec = RuleSpec(
        id="check",
        category=data["category"],
        language=data["language"],
        kind=data["kind"],
        pattern=data["pattern"],
        weight=float(data.get("weight", 1.0)),
        note=str(data.get("note") or ""),
    )
    try:
        RuleDetector([spec])
    except ValueError as exc:
        return str(exc).removeprefix("rule 'check': ")
    return ""


def normalize_severity(value: Any) -> Any:
    """``"high"`` → 3; numbers and unknown values are returned as they are (then checked)."""
    if isinstance(value, str) and value.strip().lower() in SEVERITY_NAMES:
        return SEVERITY_NAMES[value.strip().lower()]
    return value
