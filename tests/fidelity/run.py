"""The fidelity run: every recorded payload of tests/corpus/ through Beffroi's mappings, with a
per-field report compared with the committed baseline (tests/corpus/fidelity-baseline.json).

``make fidelity`` (or ``python -m tests.fidelity.run``) prints the report and exits 1 on any
exception and on any regression: a check that passes on fewer records, or fails on more, than
the baseline says. ``--update-baseline`` writes the baseline from this run (after a fix, or a
corpus change, reviewed in the diff).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.fidelity import platforms
from tests.fidelity.model import Check, Outcome

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BASELINE = CORPUS / "fidelity-baseline.json"
#: Files of an origin folder that are about the data, not data.
NOT_DATA = {"SOURCE.md", "LICENSE", "LICENSE.txt", "NOTICE", "README.md"}


@dataclass
class CheckResult:
    check: Check
    applies: int = 0
    passes: int = 0
    failing: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return self.applies - self.passes


@dataclass
class PlatformReport:
    platform: str
    files: int
    records: int
    errors: list[Outcome]
    checks: list[CheckResult]

    def as_baseline(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "records": self.records,
            "checks": {
                result.check.name: {"applies": result.applies, "passes": result.passes}
                for result in self.checks
            },
        }


def platform_modules(only: Iterable[str] = ()) -> list[ModuleType]:
    wanted = set(only)
    modules = []
    for info in sorted(pkgutil.iter_modules(platforms.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{platforms.__name__}.{info.name}")
        if not wanted or module.PLATFORM in wanted:
            modules.append(module)
    return modules


def corpus_files(module: ModuleType) -> list[Path]:
    """The recorded files a platform module reads: its own folder, or the folder named by its
    ``RECORDINGS`` where it reads another platform's recordings its own way (4CAT's CSV
    export of X is written from the X web answers Zeeschuimer captures)."""
    folder = CORPUS / getattr(module, "RECORDINGS", module.PLATFORM)
    return sorted(
        path for path in folder.rglob("*") if path.is_file() and path.name not in NOT_DATA
    )


def _outcomes(module: ModuleType, path: Path) -> Iterator[Outcome]:
    relative = str(path.relative_to(CORPUS))
    try:
        yield from module.read(path)
    except Exception as exc:  # the report says what broke, then the run fails
        yield Outcome(file=relative, ref="(file)", payload={}, error=f"{type(exc).__name__}: {exc}")


def run_platform(module: ModuleType) -> PlatformReport:
    files = corpus_files(module)
    outcomes = [outcome for path in files for outcome in _outcomes(module, path)]
    results = []
    for check in module.CHECKS:
        result = CheckResult(check)
        for outcome in outcomes:
            if outcome.error is not None or not check.applies(outcome):
                continue
            result.applies += 1
            if check.passes(outcome):
                result.passes += 1
            else:
                result.failing.append(f"{outcome.file} {outcome.ref}")
        results.append(result)
    errors = [outcome for outcome in outcomes if outcome.error is not None]
    return PlatformReport(module.PLATFORM, len(files), len(outcomes), errors, results)


def regressions(report: PlatformReport, baseline: dict[str, Any]) -> list[str]:
    """What got worse than the baseline (empty when nothing did)."""
    problems = [f"{e.file} {e.ref}: {e.error}" for e in report.errors]
    known = baseline.get(report.platform)
    if report.files == 0:
        problems.append(f"no recorded file for {report.platform} under tests/corpus/")
    known_checks: dict[str, Any] = (known or {}).get("checks", {})
    for result in report.checks:
        before = known_checks.get(result.check.name)
        if before is None:
            if result.failures:
                problems.append(
                    f"{result.check.name}: fails on {result.failures} of {result.applies} "
                    "(a new check without a baseline must pass everywhere)"
                )
            continue
        lost = before["passes"] - result.passes
        more_failures = result.failures - (before["applies"] - before["passes"])
        if lost > 0 or more_failures > 0:
            problems.append(
                f"{result.check.name}: passes on {result.passes} of {result.applies}, "
                f"the baseline on {before['passes']} of {before['applies']}"
            )
    names = {result.check.name for result in report.checks}
    for gone in sorted(set(known_checks) - names):
        problems.append(f"{gone}: in the baseline but no longer checked")
    return problems


def load_baseline() -> dict[str, Any]:
    if not BASELINE.exists():
        return {}
    data: dict[str, Any] = json.loads(BASELINE.read_text(encoding="utf-8"))
    return data


def print_report(report: PlatformReport, problems: list[str], details: bool) -> None:
    print(f"\n{report.platform}: {report.records} records in {report.files} files")
    width = max((len(r.check.name) for r in report.checks), default=10)
    for result in report.checks:
        share = f"{result.passes / result.applies:6.1%}" if result.applies else "     -"
        print(f"  {result.check.name:<{width}}  {result.passes:>5} / {result.applies:<5} {share}")
        if details and result.failing:
            print(f"  {'':<{width}}  {result.check.description}")
            for ref in result.failing[:5]:
                print(f"  {'':<{width}}    ✗ {ref}")
    for problem in problems:
        print(f"  REGRESSION {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", action="append", default=[], help="only this platform")
    parser.add_argument("--details", action="store_true", help="show the failing records")
    parser.add_argument("--update-baseline", action="store_true")
    args = parser.parse_args(argv)
    baseline = load_baseline()
    failed = False
    for module in platform_modules(args.platform):
        report = run_platform(module)
        problems = regressions(report, baseline)
        print_report(report, problems, args.details)
        if args.update_baseline:
            if report.errors:
                print(f"  not written: {len(report.errors)} records raised")
                failed = True
                continue
            baseline[report.platform] = report.as_baseline()
        failed = failed or bool(problems)
    if args.update_baseline:
        BASELINE.write_text(
            json.dumps(baseline, indent=2, sort_keys=True, ensure_ascii=False) + "\n", "utf-8"
        )
        print(f"\nbaseline written: {BASELINE.relative_to(CORPUS.parent.parent)}")
    return 1 if failed and not args.update_baseline else 0


if __name__ == "__main__":
    sys.exit(main())
