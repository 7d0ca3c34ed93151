"""Spike alerts on count series: rhythm, low counts, cool-down, sensitivity, bad input."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from beffroi.analysis import spikes
from beffroi.analysis.spikes import (
    SpikeAlert,
    SpikeConfig,
    SpikeDetector,
    bucket_counts,
    detect_spikes,
    detect_spikes_many,
    p_threshold,
    upper_tail,
)
from beffroi.analysis.spikes_bench import evaluate, rhythm

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, midnight
HOUR = timedelta(hours=1)


def poisson_series(seed: int, base: float, weeks: int = 4) -> npt.NDArray[np.int64]:
    rng = np.random.default_rng(seed)
    return rng.poisson(base * rhythm(weeks * 168)).astype(np.int64)


def hour_index(alert: SpikeAlert) -> int:
    return int((alert.start - START) / HOUR)


@pytest.mark.parametrize("base", [0.2, 2.0, 20.0])
def test_rhythmic_poisson_series_gives_almost_no_alert(base: float) -> None:
    alerts = detect_spikes(poisson_series(1, base), start=START)
    assert len(alerts) <= 1  # four weeks of strong daily and weekly rhythm


@pytest.mark.parametrize(("base", "extra"), [(2.0, 25), (20.0, 120)])
def test_injected_burst_is_detected_within_two_buckets(base: float, extra: int) -> None:
    counts = poisson_series(2, base)
    begin = 3 * 168 + 2 * 24 + 15  # week 4, Wednesday 15:00
    counts[begin : begin + 3] += extra
    alerts = detect_spikes(counts, start=START)
    hits = [a for a in alerts if begin <= hour_index(a) < begin + 3]
    assert hits, alerts
    assert hour_index(hits[0]) - begin <= 1
    alert = hits[0]
    assert alert.observed > alert.expected
    assert alert.p_value < p_threshold(0.5)
    assert alert.score == pytest.approx(-math.log10(alert.p_value))
    assert alert.end > alert.start and alert.start <= alert.peak_at < alert.end


def test_night_burst_alerts_but_same_count_at_daily_peak_does_not() -> None:
    counts = poisson_series(3, 2.0)
    peak_hour = int(np.argmax(rhythm(24)))
    night = 3 * 168 + 2 * 24 + 3  # Wednesday 03:00, expected about 0.3
    noon = 3 * 168 + 3 * 24 + peak_hour  # Thursday at the daily peak, expected about 5
    counts[night] = 9
    counts[noon] = 9
    counts[noon - 1 : noon + 2] = np.minimum(counts[noon - 1 : noon + 2], 9)
    starts = [hour_index(a) for a in detect_spikes(counts, start=START)]
    assert night in starts
    assert not any(noon - 1 <= s <= noon + 1 for s in starts)


def test_one_or_two_items_never_alert_even_on_a_silent_series() -> None:
    counts = np.zeros(3 * 168, dtype=np.int64)
    for k in range(60, len(counts), 37):
        counts[k] = 2
    for sensitivity in (0.5, 1.0):
        assert detect_spikes(counts, start=START, sensitivity=sensitivity) == []
    counts[400] = 5  # five items out of nowhere are a spike
    alerts = detect_spikes(counts, start=START)
    assert [hour_index(a) for a in alerts] == [400]


def test_estimated_overdispersion_keeps_bursty_series_quiet() -> None:
    rng = np.random.default_rng(10)
    rate = 20.0 * rhythm(4 * 168) * rng.gamma(1 / 0.3, 0.3, size=4 * 168)
    counts = rng.poisson(rate)
    assert len(detect_spikes(counts, start=START)) <= 1
    poisson_only = detect_spikes(counts, start=START, config=SpikeConfig(dispersion=0.0))
    assert len(poisson_only) >= 5


def test_empty_input_gives_no_alert() -> None:
    assert detect_spikes([]) == []
    assert detect_spikes_many({}) == []
    assert detect_spikes(np.zeros(0, dtype=np.int64), start=START) == []


def test_cooldown_merges_repeated_bursts() -> None:
    counts = poisson_series(4, 2.0)
    first = 3 * 168 + 10
    counts[first] += 30
    counts[first + 4] += 30  # four hours later: within the default six-hour cool-down
    counts[first + 30] += 30  # next day: a new alert
    alerts = [a for a in detect_spikes(counts, start=START) if hour_index(a) >= first]
    assert [hour_index(a) for a in alerts] == [first, first + 30]
    merged = alerts[0]
    assert merged.end == START + (first + 5) * HOUR
    assert merged.buckets == 5
    assert merged.observed >= 60
    without = detect_spikes(counts, start=START, cooldown=timedelta(0))
    assert len([a for a in without if hour_index(a) >= first]) == 3


def test_sensitivity_orders_the_number_of_alerts() -> None:
    rng = np.random.default_rng(5)
    counts = poisson_series(5, 2.0)
    for begin in rng.choice(np.arange(200, len(counts) - 10, 24), size=12, replace=False):
        counts[begin : begin + 2] += rng.integers(3, 15)
    numbers = [
        len(detect_spikes(counts, start=START, sensitivity=s)) for s in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    assert numbers == sorted(numbers)
    assert numbers[0] < numbers[-1]


def test_timestamps_and_mapping_give_the_same_alerts_as_counts() -> None:
    counts = poisson_series(6, 2.0, weeks=3)
    counts[2 * 168 + 40] += 30
    stamps = [
        START + k * HOUR + timedelta(minutes=7) for k, c in enumerate(counts) for _ in range(c)
    ]
    by_counts = detect_spikes(counts, start=START, series="mentions")
    by_stamps = detect_spikes(
        stamps, series="mentions", start=START, end=START + len(counts) * HOUR
    )
    by_mapping = detect_spikes(
        {START + k * HOUR: int(c) for k, c in enumerate(counts) if c}, series="mentions"
    )
    assert by_counts == by_stamps
    assert [a.start for a in by_mapping] == [a.start for a in by_counts]
    assert any(hour_index(a) == 2 * 168 + 40 for a in by_counts)
    assert all(a.series == "mentions" for a in by_counts)


def test_detect_spikes_many_names_each_series() -> None:
    counts = poisson_series(7, 2.0, weeks=3)
    quiet = [START + k * HOUR for k, c in enumerate(counts) for _ in range(c)]
    hashtag = [START + (2 * 168 + 30) * HOUR + timedelta(minutes=m) for m in range(0, 60, 5)]
    alerts = detect_spikes_many({"mentions": quiet, "#greve": hashtag})
    assert [(a.series, hour_index(a)) for a in alerts if a.series == "#greve"] == [
        ("#greve", 2 * 168 + 30)
    ]


def test_streaming_update_returns_the_alert_when_it_opens() -> None:
    counts = poisson_series(8, 2.0, weeks=3)
    counts[2 * 168 + 12 : 2 * 168 + 15] += 25
    detector = SpikeDetector("watch:transport")
    opened = []
    for k, c in enumerate(counts.tolist()):
        alert = detector.update(START + k * HOUR, c)
        if alert is not None:
            opened.append((k, alert))
    final = detector.finish()
    assert (2 * 168 + 12) in [k for k, _ in opened]
    assert [a.start for _, a in opened] == [a.start for a in final]
    # Skipped buckets count as zero; going back in time is refused.
    detector = SpikeDetector()
    detector.update(START, 1)
    detector.update(START + 5 * HOUR, 1)
    with pytest.raises(ValueError, match="not after"):
        detector.update(START + 2 * HOUR, 1)
    with pytest.raises(ValueError, match="grid"):
        detector.update(START + 7 * HOUR + timedelta(minutes=5), 1)


def test_local_time_zone_and_other_bucket_sizes() -> None:
    from zoneinfo import ZoneInfo

    cfg = SpikeConfig(bucket=timedelta(minutes=30), tz=ZoneInfo("Europe/Paris"))
    counts = np.random.default_rng(9).poisson(1.0, size=3 * 7 * 48)
    counts[900] += 20
    alerts = detect_spikes(counts, start=START, config=cfg)
    assert [a.start for a in alerts] == [START + 900 * timedelta(minutes=30)]


def test_upper_tail_matches_the_pure_python_fallbacks() -> None:
    for k, mu in [(1, 0.05), (3, 0.2), (9, 2.0), (40, 20.0), (15, 20.0)]:
        assert spikes._poisson_sf_math(k, mu) == pytest.approx(upper_tail(k, mu), rel=1e-6)
        assert spikes._nbinom_sf_math(k, mu, 0.3) == pytest.approx(upper_tail(k, mu, 0.3), rel=1e-6)
    assert upper_tail(0, 3.0) == 1.0
    assert upper_tail(5, 1.0, 0.5) > upper_tail(5, 1.0)  # over-dispersion: fatter tail


def test_sensitivity_mapping() -> None:
    assert p_threshold(0.0) == pytest.approx(1e-8)
    assert p_threshold(0.5) == pytest.approx(1e-5)
    assert p_threshold(1.0) == pytest.approx(1e-2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: detect_spikes([datetime(2026, 1, 5, 12)]), "timezone-aware"),
        (lambda: detect_spikes([1, 2], start=datetime(2026, 1, 5)), "timezone-aware"),
        (lambda: detect_spikes([1, -2, 3], start=START), "negative"),
        (lambda: detect_spikes([1, 2.5], start=START), "integers"),
        (lambda: detect_spikes([1, 2, 3]), "start="),
        (lambda: detect_spikes([START], bucket=timedelta(0)), "positive"),
        (lambda: detect_spikes([START], bucket=timedelta(hours=-1)), "positive"),
        (lambda: detect_spikes([START], bucket=timedelta(hours=7)), "dividing one day"),
        (lambda: detect_spikes([START], sensitivity=1.5), "sensitivity"),
        (lambda: detect_spikes([START], cooldown=timedelta(hours=-1)), "cooldown"),
        (lambda: bucket_counts([START], timedelta(0)), "positive"),
        (lambda: SpikeDetector().update(START, -1), "negative"),
        (lambda: SpikeDetector().update(datetime(2026, 1, 5), 1), "timezone-aware"),
        (lambda: SpikeConfig(min_count=0), "min_count"),
    ],
)
def test_bad_input_is_refused_clearly(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()


def test_bench_runs_and_reports_figures() -> None:
    figures = evaluate(sensitivities=(0.5,), bases=(2.0,), series_per_base=2, weeks=3)
    row = figures["by_sensitivity"]["0.5"]["all"]
    assert 0.0 <= row["recall"] <= 1.0
    assert row["false_per_week"] >= 0.0


def test_the_demo_towns_hoax_raises_an_alert_on_a_water_watch() -> None:
    """The demo town's hoax (contaminated tap water) grows slowly over days; a watch on water
    words alerts during it at sensitivity 0.6, and not before (labels are not used)."""
    from zoneinfo import ZoneInfo

    from beffroi.demo.builder import build_demo_town

    town = build_demo_town(datetime(2026, 11, 1, tzinfo=UTC))
    words = ("eau", "robinet", "water")
    watch = [
        item.created_at
        for source in town.sources
        for item in source.items
        if any(word in item.text.lower() for word in words)
    ]
    config = SpikeConfig(tz=ZoneInfo("Europe/Paris"), sensitivity=0.6)
    alerts = detect_spikes(watch, series="watch:eau", config=config)
    assert len(alerts) == 1
    assert datetime(2026, 10, 20, tzinfo=UTC) < alerts[0].start < datetime(2026, 10, 27, tzinfo=UTC)
    assert alerts[0].observed >= 5 * alerts[0].expected
