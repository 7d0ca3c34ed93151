"""The fidelity run's own rules: any exception fails it, and so does a field check that got
worse than the baseline, a new check that fails, or a check that silently went away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.fidelity import run
from tests.fidelity.model import Check, Outcome

TEXT_KEPT = Check("text_kept", "the text is kept", lambda o: bool(o.item and o.item["text"]))


def module(records: list[dict[str, Any]], checks: tuple[Check, ...] = (TEXT_KEPT,)) -> Any:
    def read(path: Path) -> Iterator[Outcome]:
        for number, record in enumerate(records):
            if "boom" in record:
                raise ValueError("the file is not JSON")
            yield Outcome(str(path.name), str(number), record, item=record)

    return SimpleNamespace(PLATFORM="fake", read=read, CHECKS=checks)


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "fake" / "origin").mkdir(parents=True)
    (tmp_path / "fake" / "origin" / "page.json").write_text("{}")
    (tmp_path / "fake" / "origin" / "SOURCE.md").write_text("where it comes from")
    monkeypatch.setattr(run, "CORPUS", tmp_path)
    return tmp_path


def test_the_report_counts_per_check_and_skips_the_files_about_the_data(corpus: Path) -> None:
    report = run.run_platform(module([{"text": "a"}, {"text": ""}, {"text": "b"}]))
    assert (report.files, report.records) == (1, 3)
    (result,) = report.checks
    assert (result.applies, result.passes, result.failing) == (3, 2, ["page.json 1"])
    baseline = {"fake": report.as_baseline()}
    assert run.regressions(report, baseline) == []


def test_a_check_passing_on_fewer_records_than_the_baseline_fails(corpus: Path) -> None:
    before = run.run_platform(module([{"text": "a"}, {"text": "b"}]))
    after = run.run_platform(module([{"text": "a"}, {"text": ""}]))
    problems = run.regressions(after, {"fake": before.as_baseline()})
    assert problems == ["text_kept: passes on 1 of 2, the baseline on 2 of 2"]


def test_an_exception_fails_the_run_whatever_the_baseline(corpus: Path) -> None:
    report = run.run_platform(module([{"boom": True}]))
    problems = run.regressions(report, {"fake": report.as_baseline()})
    assert problems == ["fake/origin/page.json (file): ValueError: the file is not JSON"]


def test_a_new_check_must_pass_everywhere_and_a_removed_one_is_reported(corpus: Path) -> None:
    new = Check("has_author", "an author", lambda o: "author" in o.payload)
    report = run.run_platform(module([{"text": "a"}], checks=(new,)))
    problems = run.regressions(
        report, {"fake": {"checks": {"text_kept": {"applies": 1, "passes": 1}}}}
    )
    assert problems == [
        "has_author: fails on 1 of 1 (a new check without a baseline must pass everywhere)",
        "text_kept: in the baseline but no longer checked",
    ]


def test_a_platform_without_recorded_files_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fake").mkdir()
    monkeypatch.setattr(run, "CORPUS", tmp_path)
    report = run.run_platform(module([]))
    assert "no recorded file for fake under tests/corpus/" in run.regressions(report, {})
