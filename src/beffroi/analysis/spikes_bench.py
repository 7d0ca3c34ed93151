"""Evaluation of :mod:`beffroi.analysis.spikes` on synthetic series with known bursts.

Each series is ``weeks`` weeks of hourly Poisson counts (or negative binomial when
``overdispersion`` > 0) at a mean ``base`` items per hour, modulated by a daily rhythm (quiet
nights, a midday/evening peak, about 1:15 between the quietest and busiest hour) and a weekly
one (weekends at 60 %). After the first week, six bursts per series are injected at random
times (at most one a day): an extra Poisson rate of ``m * max(base, 1)`` items per hour for 1
to 6 hours, ``m`` in {1, 3, 10} (``x1`` doubles the mean rate, which even a perfect detector
often cannot tell from noise in one hour; ``x10`` is a flood).

Figures, per sensitivity, overall, per base level and per burst size: recall (share of bursts
overlapped by an alert), median and 90th-percentile detection delay in hours (0 = flagged at
the end of the burst's first hour), false alerts per series-week (alerts overlapping no
burst), over the whole series and after the first week (the model's warm-up).

Run: ``python -m beffroi.analysis.spikes_bench [OVERDISPERSION]`` (default 0: Poisson; e.g.
0.3 draws each hour's rate from a gamma of that squared coefficient of variation).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from beffroi.analysis.spikes import SpikeConfig, detect_spikes

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def rhythm(hours: int) -> npt.NDArray[np.float64]:
    """Daily x weekly multiplicative profile (mean 1) for ``hours`` hours from a Monday."""
    t = np.arange(hours)
    hod = t % 24
    daily = (
        0.15
        + np.exp(-0.5 * ((hod - 12.5) / 3.5) ** 2)
        + 0.8 * np.exp(-0.5 * ((hod - 20.0) / 2.0) ** 2)
    )
    weekly = np.where((t // 24) % 7 >= 5, 0.6, 1.0)
    profile = daily * weekly
    return np.asarray(profile / profile[: 24 * 7].mean(), dtype=np.float64)


def make_series(
    rng: np.random.Generator, base: float, weeks: int, n_bursts: int, overdispersion: float = 0.0
) -> tuple[npt.NDArray[np.int64], list[tuple[int, int, float]]]:
    """One synthetic series and its bursts as (start hour, duration in hours, multiplier)."""
    hours = weeks * 168
    mu = base * rhythm(hours)
    bursts: list[tuple[int, int, float]] = []
    extra = np.zeros(hours)
    candidates = rng.permutation(np.arange(168, hours - 24, 24))[:n_bursts]
    for day_start in sorted(candidates.tolist()):
        begin = int(day_start + rng.integers(0, 24))
        duration = int(rng.integers(1, 7))
        mult = float(rng.choice([1.0, 3.0, 10.0]))
        extra[begin : begin + duration] += mult * max(base, 1.0)
        bursts.append((begin, duration, mult))
    if overdispersion > 0:
        mu = mu * rng.gamma(1.0 / overdispersion, overdispersion, size=hours)
    counts = rng.poisson(mu + extra).astype(np.int64)
    return counts, bursts


def _summary(
    delays: list[int], found: int, total: int, false: int, false_late: int, n: int, weeks: int
) -> dict[str, float]:
    return {
        "recall": round(found / total, 3) if total else math.nan,
        "median_delay_h": float(np.median(delays)) if delays else math.nan,
        "p90_delay_h": round(float(np.percentile(delays, 90)), 1) if delays else math.nan,
        "false_per_week": round(false / (n * weeks), 3),
        "false_per_week_after_warmup": round(false_late / (n * (weeks - 1)), 3),
    }


def evaluate(
    sensitivities: tuple[float, ...] = (0.25, 0.5, 0.75),
    bases: tuple[float, ...] = (0.2, 2.0, 20.0),
    series_per_base: int = 17,
    weeks: int = 8,
    bursts_per_series: int = 6,
    overdispersion: float = 0.0,
    seed: int = 20261204,
) -> dict[str, Any]:
    """Run the benchmark; returns a JSON-ready dict of figures per sensitivity and base.

    A burst counts as detected when an alert overlaps it; its delay is the number of whole
    hours from the burst's first hour to the alert's first surprising hour (0 when that is
    the burst's first hour). An alert overlapping no burst is a false alert.
    """
    rng = np.random.default_rng(seed)
    data = [
        (base, *make_series(rng, base, weeks, bursts_per_series, overdispersion))
        for base in bases
        for _ in range(series_per_base)
    ]
    results: dict[str, Any] = {
        "series": len(data),
        "weeks": weeks,
        "bursts": sum(len(b) for _, _, b in data),
        "overdispersion": overdispersion,
        "by_sensitivity": {},
    }
    hour = timedelta(hours=1)
    for sens in sensitivities:
        cfg = SpikeConfig(sensitivity=sens)
        # group -> [delays, found, total, false, false_late, n_series]
        groups: dict[str, list[Any]] = {}
        for base, counts, bursts in data:
            alerts = detect_spikes(counts, start=START, config=cfg)
            spans = [((a.start - START) // hour, (a.end - START) // hour) for a in alerts]
            keys = ["all", f"base={base}"]
            for key in keys:
                groups.setdefault(key, [[], 0, 0, 0, 0, 0])[5] += 1
            for begin, duration, mult in sorted(bursts):
                hits = [s for s, e in spans if s < begin + duration and e > begin]
                for key in [*keys, f"burst=x{mult:g}"]:
                    g = groups.setdefault(key, [[], 0, 0, 0, 0, 0])
                    g[2] += 1
                    if hits:
                        g[1] += 1
                        g[0].append(max(0, min(hits) - begin))
            for s, e in spans:
                if not any(s < b + d and e > b for b, d, _ in bursts):
                    for key in keys:
                        groups[key][3] += 1
                        groups[key][4] += s >= 168
        out: dict[str, Any] = {"p_threshold": cfg.p_threshold}
        for key, (delays, found, total, false, late, n) in groups.items():
            summary = _summary(delays, found, total, false, late, max(n, 1), weeks)
            if key.startswith("burst="):
                summary = {k: v for k, v in summary.items() if not k.startswith("false")}
            out[key] = summary
        results["by_sensitivity"][str(sens)] = out
    return results


if __name__ == "__main__":
    import sys

    dispersion = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    print(json.dumps(evaluate(overdispersion=dispersion), indent=2))
