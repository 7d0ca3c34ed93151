"""A charter version as a YAML file: reading with every problem listed by line, and writing.

The layout (``format: beffroi-charter/1``)::

    format: beffroi-charter/1
    settings:
      use_default_rules: true
      preamble: {fr: "…", en: "…"}
      notes: "…"                       # optional, internal
    categories:
      - slug: hate
        name: {fr: "…", en: "…"}
        clause: {fr: "…", en: "…"}
        legal_reference: "…"
        severity: 3                    # 1 low … 4 critical (or the words)
        hide_at: 0.9                   # null: never hidden without a person
        review_at: 0.5                 # null: never queued
        auto_delete: false
        shadow: false
        enabled: true
        dsa:
          decision_ground: DECISION_GROUND_ILLEGAL_CONTENT
          category: STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH
          specification: [KEYWORD_HATE_SPEECH]
          specification_other: ""
    rules:
      - {category: hate, language: fr, kind: keyword, pattern: "…", weight: 1.0, note: "", enabled: true}

A ``version`` block written by the export (number, status, dates) is informative and ignored
on import: an imported file always becomes a new draft.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from beffroi.charter.validation import category_problems, normalize_severity, rule_problems

FORMAT = "beffroi-charter/1"
#: Larger files are refused before parsing.
MAX_YAML_BYTES = 1024 * 1024
DEFAULT_CHARTER_PATH = Path(__file__).with_name("data") / "default_charter.yaml"

TOP_KEYS = {"format", "version", "settings", "categories", "rules"}
SETTINGS_KEYS = {"use_default_rules", "preamble", "notes"}
CATEGORY_KEYS = {
    "slug",
    "name",
    "clause",
    "legal_reference",
    "severity",
    "hide_at",
    "review_at",
    "auto_delete",
    "shadow",
    "enabled",
    "dsa",
}
LANGUAGE_KEYS = {"fr", "en"}
DSA_KEYS = {"decision_ground", "category", "specification", "specification_other"}
RULE_KEYS = {"category", "language", "kind", "pattern", "weight", "note", "enabled"}


class CharterFormatError(ValueError):
    """The file is not a valid charter; ``problems`` lists every problem, with its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class CharterData:
    """A validated charter version as plain data (categories and rules in the YAML layout)."""

    categories: list[dict[str, Any]]
    rules: list[dict[str, Any]] = field(default_factory=list)
    use_default_rules: bool = True
    preamble_fr: str = ""
    preamble_en: str = ""
    notes: str = ""


class _LineDict(dict[Hashable, Any]):
    """A mapping that remembers the line where it starts in the file (keys as the file has
    them, not always text: the validation reports the unexpected ones)."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            loader.duplicates.append(
                f"line {key_node.start_mark.line + 1}: the key “{key}” is given twice."
            )
        seen.add(key)
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line(value: Any) -> int:
    return getattr(value, "line", 0)


def _where(value: Any, label: str) -> str:
    line = _line(value)
    return f"line {line}, {label}" if line else label


def _unknown_keys(value: dict[str, Any], allowed: set[str], label: str) -> list[str]:
    return [
        f"{_where(value, label)}: unknown key “{key}” (expected: {', '.join(sorted(allowed))})."
        for key in value
        if key not in allowed
    ]


def _normalize_category(raw: dict[str, Any]) -> dict[str, Any]:
    dsa_block = raw.get("dsa") if isinstance(raw.get("dsa"), dict) else {}
    assert isinstance(dsa_block, dict)
    specification = dsa_block.get("specification")
    return {
        "slug": raw.get("slug"),
        "name": dict(raw["name"]) if isinstance(raw.get("name"), dict) else {},
        "clause": dict(raw["clause"]) if isinstance(raw.get("clause"), dict) else {},
        "legal_reference": raw.get("legal_reference") or "",
        "severity": normalize_severity(raw.get("severity")),
        "hide_at": raw.get("hide_at"),
        "review_at": raw.get("review_at"),
        "auto_delete": raw.get("auto_delete", False),
        "shadow": raw.get("shadow", False),
        "enabled": raw.get("enabled", True),
        "dsa": {
            "decision_ground": dsa_block.get("decision_ground"),
            "category": dsa_block.get("category"),
            "specification": [] if specification is None else specification,
            "specification_other": dsa_block.get("specification_other") or "",
        },
    }


def _normalize_rule(raw: dict[str, Any]) -> dict[str, Any]:
    weight = raw.get("weight", 1.0)
    return {
        "category": raw.get("category"),
        "language": raw.get("language"),
        "kind": raw.get("kind"),
        "pattern": raw.get("pattern"),
        "weight": float(weight)
        if isinstance(weight, int) and not isinstance(weight, bool)
        else weight,
        "note": raw.get("note") or "",
        "enabled": raw.get("enabled", True),
    }


def parse_charter(text: str | bytes) -> CharterData:
    """Read and check a charter file; raise :class:`CharterFormatError` listing every problem."""
    if isinstance(text, bytes):
        if len(text) > MAX_YAML_BYTES:
            raise CharterFormatError([f"The file is larger than {MAX_YAML_BYTES // 1024} KiB."])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CharterFormatError([f"The file is not UTF-8 text (byte {exc.start})."]) from exc
    if len(text.encode("utf-8")) > MAX_YAML_BYTES:
        raise CharterFormatError([f"The file is larger than {MAX_YAML_BYTES // 1024} KiB."])
    loader = _LineLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CharterFormatError([f"{where}not valid YAML ({problem})."]) from exc
    finally:
        loader.dispose()
    problems = list(loader.duplicates)
    if not isinstance(document, dict):
        raise CharterFormatError(
            [*problems, "The file must be a YAML mapping (format, settings, categories, rules)."]
        )

    problems += _unknown_keys(document, TOP_KEYS, "top level")
    if document.get("format") != FORMAT:
        problems.append(f"format: must be “{FORMAT}” (found {document.get('format')!r}).")

    settings = document.get("settings") or {}
    data = CharterData(categories=[], rules=[])
    if not isinstance(settings, dict):
        problems.append(f"{_where(document, 'settings')}: must be a mapping.")
    else:
        problems += _unknown_keys(settings, SETTINGS_KEYS, "settings")
        use_default = settings.get("use_default_rules", True)
        if not isinstance(use_default, bool):
            problems.append(
                f"{_where(settings, 'settings')}: use_default_rules must be true or false."
            )
        else:
            data.use_default_rules = use_default
        preamble = settings.get("preamble") or {}
        if not isinstance(preamble, dict):
            problems.append(f"{_where(settings, 'settings')}: preamble must be a mapping fr/en.")
        else:
            problems += _unknown_keys(preamble, LANGUAGE_KEYS, "settings.preamble")
            for language in ("fr", "en"):
                value = preamble.get(language) or ""
                if not isinstance(value, str):
                    problems.append(
                        f"{_where(preamble, 'settings.preamble')}: {language} must be text."
                    )
                else:
                    setattr(data, f"preamble_{language}", value.strip())
        notes = settings.get("notes") or ""
        if not isinstance(notes, str):
            problems.append(f"{_where(settings, 'settings')}: notes must be text.")
        else:
            data.notes = notes.strip()

    categories = document.get("categories")
    slugs: list[str] = []
    if not isinstance(categories, list) or not categories:
        problems.append("categories: a list of at least one category is required.")
        categories = []
    for index, raw in enumerate(categories, start=1):
        label = f"category {index}"
        if not isinstance(raw, dict):
            problems.append(f"{label}: must be a mapping.")
            continue
        if isinstance(raw.get("slug"), str):
            label = f"category {index} ({raw['slug']})"
        problems += _unknown_keys(raw, CATEGORY_KEYS, label)
        for key, allowed in (("name", LANGUAGE_KEYS), ("clause", LANGUAGE_KEYS), ("dsa", DSA_KEYS)):
            block = raw.get(key)
            if block is None:
                problems.append(f"{_where(raw, label)}: {key} is required.")
            elif not isinstance(block, dict):
                problems.append(f"{_where(raw, label)}: {key} must be a mapping.")
            else:
                problems += _unknown_keys(block, allowed, f"{label}, {key}")
        category = _normalize_category(raw)
        for path, message in category_problems(category):
            problems.append(f"{_where(raw, label)}: {path}: {message}")
        if isinstance(category["slug"], str):
            if category["slug"] in slugs:
                problems.append(
                    f"{_where(raw, label)}: the slug “{category['slug']}” is used twice."
                )
            slugs.append(category["slug"])
        data.categories.append(category)

    rules = document.get("rules") or []
    keys: set[tuple[Any, ...]] = set()
    if not isinstance(rules, list):
        problems.append("rules: must be a list.")
        rules = []
    for index, raw in enumerate(rules, start=1):
        label = f"rule {index}"
        if not isinstance(raw, dict):
            problems.append(f"{label}: must be a mapping.")
            continue
        problems += _unknown_keys(raw, RULE_KEYS, label)
        rule = _normalize_rule(raw)
        for path, message in rule_problems(rule):
            problems.append(f"{_where(raw, label)}: {path}: {message}")
        if isinstance(rule["category"], str) and rule["category"] not in slugs:
            problems.append(
                f"{_where(raw, label)}: category: “{rule['category']}” is not a category of this charter."
            )
        identity = (rule["category"], rule["language"], rule["kind"], rule["pattern"])
        if identity in keys:
            problems.append(f"{_where(raw, label)}: the same rule is given twice.")
        keys.add(identity)
        data.rules.append(rule)

    if problems:
        raise CharterFormatError(problems)
    return data


def load_default_charter() -> CharterData:
    """The charter Beffroi ships (``data/default_charter.yaml``)."""
    return parse_charter(DEFAULT_CHARTER_PATH.read_text(encoding="utf-8"))


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=style)


_Dumper.add_representer(str, _represent_str)
# Text choices (``CharterVersion.Status.LIVE``…) are written as their plain value.
_Dumper.add_multi_representer(str, _represent_str)


def dump_charter(
    data: CharterData, *, header: str = "", version: dict[str, Any] | None = None
) -> str:
    """The YAML text of a charter; ``parse_charter(dump_charter(d))`` gives ``d`` back."""
    document: dict[str, Any] = {"format": FORMAT}
    if version:
        document["version"] = version
    settings: dict[str, Any] = {
        "use_default_rules": data.use_default_rules,
        "preamble": {"fr": data.preamble_fr, "en": data.preamble_en},
    }
    if data.notes:
        settings["notes"] = data.notes
    document["settings"] = settings
    document["categories"] = data.categories
    document["rules"] = data.rules
    body = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    prefix = "".join(f"# {line}\n" for line in header.splitlines())
    return prefix + body
