"""Every recorded payload of tests/corpus/ through Beffroi's mappings: no exception, and no
field check worse than tests/corpus/fidelity-baseline.json (issue 13)."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.fidelity.run import load_baseline, platform_modules, regressions, run_platform

pytestmark = pytest.mark.fidelity


@pytest.mark.parametrize("module", platform_modules(), ids=lambda module: module.PLATFORM)
def test_the_recorded_payloads_map_without_error_or_regression(module: ModuleType) -> None:
    report = run_platform(module)
    assert report.records > 0, f"no record read for {module.PLATFORM} from tests/corpus/"
    assert regressions(report, load_baseline()) == []
