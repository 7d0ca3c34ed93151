"""The requests corpus: written by the project, every service present, groups kept whole."""

from __future__ import annotations

from collections import defaultdict

from beffroi.analysis.requests.corpus import (
    SERVICES,
    generate,
    load_corpus,
    main,
)


def test_corpus_loads_with_every_service_and_language() -> None:
    rows = load_corpus()
    assert len(rows) >= 3000
    requests = [row for row in rows if row.is_request]
    others = [row for row in rows if not row.is_request]
    assert len(others) >= 1000
    assert {row.service for row in requests} == set(SERVICES)
    assert all(row.service == "" for row in others)
    assert {row.language for row in rows} == {"fr", "en", "ar"}
    assert {row.language for row in requests} == {"fr", "en", "ar"}


def test_groups_are_templates_with_one_label() -> None:
    groups: dict[str, set[tuple[bool, str]]] = defaultdict(set)
    for row in load_corpus():
        groups[row.group].add((row.is_request, row.service))
    assert len(groups) >= 300
    assert all(len(labels) == 1 for labels in groups.values())


def test_stored_corpus_is_what_the_templates_generate() -> None:
    written: list[str] = []
    assert main(["--check"], written.append) == 0, written
    assert [row.text for row in generate()] == [row.text for row in load_corpus()]


def test_styles_vary_the_messages() -> None:
    rows = load_corpus()
    texts = [row.text for row in rows if row.group == "fr-eclairage-01"]
    assert texts[0].startswith("Le lampadaire ")  # the template as written comes first
    assert len(texts) >= 8
    assert len(set(texts)) == len(texts)
    assert any(text == text.lower() for text in texts)
    everything = [row.text for row in rows]
    assert any(text.startswith("@") for text in everything)
    assert any("#" in text for text in everything)
    assert any(" qd " in f" {text} " for text in everything)  # SMS spelling
