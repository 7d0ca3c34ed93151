"""``beffroi bench --day``: the day written as described, findings compared honestly, and
the refusals (the whole run, with workers, is measured by hand: docs/benchmarks.md)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from beffroi.bench_day import (
    DAY,
    HISTORY,
    HOAX_TEXTS,
    SPIKE_TAG,
    compare,
    run_day,
    write_day,
)
from beffroi.bench_distributed import DistributedBenchError

END = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_the_day_holds_its_history_hoax_spike_and_campaigns_in_time_order(
    tmp_path: Path,
) -> None:
    day = write_day(tmp_path / "day.csv", 3000, END)
    with day.path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == day.posts and len({row["id"] for row in rows}) == day.posts
    moments = [datetime.fromisoformat(row["created_at"]) for row in rows]
    assert moments == sorted(moments)
    assert END - DAY - HISTORY <= moments[0] and moments[-1] < END
    in_day = [m for m in moments if m >= END - DAY]
    assert len(in_day) >= 0.85 * 3000
    hoax = [row for row in rows if row["id"].startswith("hoax")]
    assert len(hoax) == day.hoax_posts >= 30 and len({row["author"] for row in hoax}) == len(hoax)
    assert all(any(text in row["text"] for text in HOAX_TEXTS) for row in hoax)
    burst = [m for row, m in zip(rows, moments, strict=True) if row["id"].startswith("spike")]
    assert len(burst) == day.spike_posts and max(burst) - min(burst) <= timedelta(hours=1)
    tagged = [row for row in rows if SPIKE_TAG in row["text"].casefold()]
    assert len(tagged) > day.spike_posts  # the hashtag's ordinary life before the burst
    assert day.campaign_posts > 0 and all(row["kind"] == "mention" for row in rows)
    # The same day again: the comparison of two installations needs the same input.
    again = write_day(tmp_path / "again.csv", 3000, END)
    assert again.path.read_bytes() == day.path.read_bytes()


def test_findings_are_compared_kind_by_kind() -> None:
    found = {
        "verdicts": {"keep": 3, "hide": 1},
        "narratives": [["a", "b"], ["c", "d", "e"]],
        "campaigns": [["copy", ["x", "y", "z"]]],
        "claim_matches": [["a", "hoax"]],
        "spike_alerts": [["#tag", "2026-12-01T20:00:00+00:00"]],
    }
    other = {
        **found,
        "narratives": [["a", "b"], ["c", "d"]],
        "verdicts": {"keep": 4},
    }
    report = compare(found, other)
    assert report["campaigns"] == {"distributed": 1, "single_process": 1, "equal": True}
    assert report["narratives"]["equal"] is False
    assert report["narratives"]["only_distributed"] == 1
    assert report["narratives"]["only_single_process"] == 1
    assert report["verdicts"] == {"distributed": 4, "single_process": 4, "equal": False}


def test_a_day_needs_postgresql_and_redis(tmp_path: Path) -> None:
    with pytest.raises(DistributedBenchError, match="PostgreSQL URL"):
        run_day(1000, 2, database_url="sqlite:///x", broker_url="redis://x", step=print)
    with pytest.raises(DistributedBenchError, match="at least 1,000"):
        run_day(10, 2, database_url="postgres://x", broker_url="redis://x", step=print)
    with pytest.raises(DistributedBenchError, match="not reachable"):
        run_day(
            1000,
            2,
            database_url="postgres://postgres@127.0.0.1:1/postgres",
            broker_url="redis://127.0.0.1:6379/12",
            step=print,
        )
