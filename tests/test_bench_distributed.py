"""`beffroi bench --distributed` measures judging with Celery worker processes on a scratch
PostgreSQL database (docs/benchmarks.md), and says what it needs when it cannot run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from beffroi.bench_distributed import (
    Configuration,
    DistributedBenchError,
    parse_configurations,
    run_distributed,
)
from tests.support import service_reachable

DATABASE = os.environ.get("DATABASE_URL", "")
BROKER = os.environ.get("BEFFROI_TEST_BROKER_URL", "redis://127.0.0.1:6379")


def _bench(tmp_path: Path, *options: str) -> dict[str, Any]:
    """``beffroi bench --distributed`` with ``options`` on the tests' PostgreSQL server."""
    if not DATABASE.startswith("postgres"):
        pytest.skip("runs in the PostgreSQL pass (DATABASE_URL=postgres://…)")
    if not service_reachable(BROKER):
        pytest.skip(f"needs Redis at {BROKER}")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "beffroi.cli",
            "bench",
            "--distributed",
            "--database-url",
            DATABASE,
            *options,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def test_worker_configurations_are_read_or_refused_clearly() -> None:
    assert parse_configurations("1,2,4") == [
        Configuration(1),
        Configuration(2),
        Configuration(4),
    ]
    assert parse_configurations("1x2, 2x1") == [Configuration(1, 2), Configuration(2, 1)]
    for wrong in ("", "two", "0", "2x0", "1x"):
        with pytest.raises(ValueError):
            parse_configurations(wrong)


@pytest.mark.postgres  # run in the PostgreSQL pass too, where the server is there to pass
def test_it_refuses_without_postgresql_or_redis() -> None:
    closed = "postgres://postgres@127.0.0.1:9/postgres"  # the discard port: nothing listens
    with pytest.raises(DistributedBenchError, match="PostgreSQL is not reachable"):
        run_distributed(10, [Configuration(1)], database_url=closed, broker_url=BROKER, step=print)
    with pytest.raises(DistributedBenchError, match="must be a PostgreSQL URL"):
        run_distributed(
            10, [Configuration(1)], database_url="sqlite:///x", broker_url=BROKER, step=print
        )
    if DATABASE.startswith("postgres"):
        with pytest.raises(DistributedBenchError, match="from 0 to 14"):
            run_distributed(
                10,
                [Configuration(1)],
                database_url=DATABASE,
                broker_url="redis://127.0.0.1:6379/15",  # the bench would empty db 16
                step=print,
            )
        with pytest.raises(DistributedBenchError, match="Redis is not reachable"):
            run_distributed(
                10,
                [Configuration(1)],
                database_url=DATABASE,
                broker_url="redis://127.0.0.1:9/0",
                step=print,
            )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_distributed_bench_judges_every_comment_once_with_one_and_two_workers(
    tmp_path: Path,
) -> None:
    """Run once, in the PostgreSQL pass of `make test`: every comment judged, none twice, no
    job failed, for the embedded default and for one and two worker processes."""
    figures = _bench(
        tmp_path,
        "--items",
        "120",
        "--workers",
        "1,2",
        "--broker-url",
        f"{BROKER.rstrip('/')}/10",  # and 11, held: 1-9 are the other tests' (14 too)
    )
    runs = [figures["embedded"], *figures["distributed"]]
    assert [(run["processes"], run["concurrency"]) for run in figures["distributed"]] == [
        (1, 1),
        (2, 1),
    ]
    for run in runs:
        assert run["items"] == 120
        assert (run["left_new"], run["decided_twice"], run["failed_jobs"]) == (0, 0, 0), run
        assert run["cold_items_per_second"] > 0 and run["warm_items_per_second"] > 0
        assert 0 < run["peak_rss_kib_per_process"] <= run["peak_rss_kib_all_processes"]
        assert run["warm_worker_cpu_seconds"] > 0
    assert figures["distributed"][1]["warm_speedup_over_one_worker"] > 0
    assert figures["distributed_cost_over_embedded"] > 0


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_arrivals_are_each_judged_and_timed(tmp_path: Path) -> None:
    """Comments arriving at a steady rate while a slow worker scans: each one judged once,
    and the time from its arrival to its judgement reported."""
    arrivals = _bench(
        tmp_path,
        "--workers",
        "1",
        "--arrival-rate",
        "20",
        "--arrival-seconds",
        "3",
        "--broker-url",
        f"{BROKER.rstrip('/')}/12",  # and 13
    )["arrivals"]
    assert (arrivals["arrived"], arrivals["judged"]) == (60, 60)
    assert (arrivals["left_new"], arrivals["decided_twice"], arrivals["failed_jobs"]) == (0, 0, 0)
    latency = arrivals["arrival_to_judgement"]
    assert 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["max_ms"] < 60_000
    assert arrivals["fast_workers"] == 1 and arrivals["peak_rss_kib_per_process"] > 0
