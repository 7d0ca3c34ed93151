"""One shipped detector per test session: training it embeds the corpus (seconds)."""

from __future__ import annotations

import pytest

from beffroi.analysis.requests.detect import RequestDetector, default_detector


@pytest.fixture(scope="session")
def shipped_detector() -> RequestDetector:
    return default_detector()
