"""Spike alerts: bursts of activity on a watch, narrative, hashtag, domain or mention series.

Plain Python over plain data (timestamps or per-bucket counts), no Django needed. The method
is a seasonal count model with a one-sided tail test, run bucket by bucket so that it works
both on a whole history (:func:`detect_spikes`) and as a stream (:class:`SpikeDetector`).

Model
-----
Counts are bucketed (default one hour). Bucket ``t`` falls in a *slot* ``s(t)`` of the week in
the organization's time zone (``tz``): ``P = 7 days / bucket`` slots, made of ``D = 1 day /
bucket`` slots of the day ``h`` times 7 days of the week ``d``. The expected count is

    mu_t = max(floor, L_t * f(s_t))

- ``f`` is the **seasonal profile** (mean 1 over the week), estimated from the last
  ``history_weeks`` weeks of (cleaned, see below) counts with hierarchical shrinkage: with
  ``C`` the observed total and ``E`` the total expected under the coarser model, each factor
  is ``(C + a) / (E + a)`` with ``a = prior_strength`` pseudo-counts, first for the hour of
  the day (against a flat rate), then the day of the week (against the hour profile), then
  the slot of the week (against their product). With little history or low counts every
  factor shrinks toward 1; with a lot of data it follows the observed daily and weekly rhythm.
- ``L_t`` is the **recent level**, the Poisson maximum-likelihood multiplier of the profile
  over the past buckets weighted by ``2^(-age / level_half_life)``:
  ``L_t = sum_i w_i c_i / sum_i w_i f(s_i)``. It needs no complete week, so the model works
  after a day or two, and it follows slow trends.
- ``floor = min_expected`` keeps zero or tiny baselines (nights, quiet series) from making
  every single item look infinitely surprising.

Surprise
--------
The surprise of an observed count ``c`` is the upper-tail probability
``p = P(X >= c | mu_t)`` under a negative binomial with mean ``mu`` and variance
``mu + alpha mu^2`` (a Poisson when ``alpha = 0``), computed exactly with regularised
incomplete gamma/beta functions (``scipy.special`` when installed, a pure-Python series
otherwise). The over-dispersion ``alpha`` is either fixed (``dispersion``) or estimated by
moments from the past residuals, ``alpha = max(0, sum w (r^2 - mu) / sum w mu^2)`` with
``r = c - mu`` clipped to three standard deviations (Huber) and weights
``2^(-age / dispersion_half_life)``; a bucket enters this estimate one day late, so a burst
cannot raise ``alpha`` while it is happening. ``alpha`` absorbs both genuinely bursty series
and the model's own estimation error, so a noisier or less-known series needs more evidence.
(On the benchmark's over-dispersed series, a plain Poisson test gives 6 false alerts a week
at 20 items/hour; the estimated ``alpha`` brings that to 0.03.)

Slow, sustained bursts are caught by testing, besides the bucket itself, the sums over the
last ``w`` buckets for each ``w`` in ``windows`` (default 1, 3 and 6 buckets): the sum is
tested against the sum of the expectations, with dispersion ``alpha / w``, and the smallest
tail probability, multiplied by the number of windows (Bonferroni), is the bucket's ``p``.
Earlier buckets enter these sums cleaned (below), so a past burst does not echo.

A bucket is **surprising** when ``p < p*``, its own count is above ``mu``, the count tested
(bucket or window) is at least ``min_count`` and at least ``warmup`` of history has been
seen. ``min_count`` (default 3) means one or two items never alert, however quiet the series.
The threshold comes from ``sensitivity`` in ``[0, 1]``::

    p* = 10 ** -(2 + 6 * (1 - sensitivity))

so 0 gives ``1e-8`` (only massive bursts), 0.5 (default) gives ``1e-5`` and 1 gives ``1e-2``.
Because the test is exact for counts, the same ``p*`` means the same false-alert rate at 0.2
or at 200 items per hour: a burst of 6 items at 3 a.m. on a quiet account can alert while 60
items at noon on a busy one does not.

Robust history
--------------
A surprising count must not raise the baseline that should reveal the next one. Every bucket
whose tail probability is below ``clean_p`` (``1e-3``, independent of the sensitivity) enters
the history winsorised to the smallest count with tail probability below ``clean_p``. A
lasting change of level is still learnt (the winsorised value is above ``mu``), just slowly.

De-duplication and cool-down
----------------------------
Surprising buckets form one alert as long as the gap between them is shorter than
``cooldown`` (default 6 hours): a surprising bucket within the cool-down after an alert's
last surprising bucket extends that alert instead of opening a new one. Each alert carries its
context: first and last surprising bucket, the most surprising bucket (``peak_at``) with the
observed and expected count of the window that made it surprising, total observed and
expected counts over the alert, the smallest ``p_value`` and ``score = -log10(p_value)``.

The streaming :meth:`SpikeDetector.update` returns the alert as soon as its first bucket is
complete (this is the detection time measured by :mod:`beffroi.analysis.spikes_bench`); the
complete alerts, with their final extent, are in :attr:`SpikeDetector.alerts` after
:meth:`SpikeDetector.finish`.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import numpy as np
import numpy.typing as npt

try:  # scipy is a dependency of scikit-learn; the pure-Python fallback is exact but slower.
    from scipy.special import betainc as _betainc
    from scipy.special import gammainc as _gammainc

    _HAVE_SCIPY = True
except ImportError:  # pragma: no cover - exercised through the private fallbacks in tests
    _HAVE_SCIPY = False

__all__ = [
    "SpikeAlert",
    "SpikeConfig",
    "SpikeDetector",
    "bucket_counts",
    "detect_spikes",
    "detect_spikes_many",
    "p_threshold",
    "upper_tail",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_S = 86_400
_WEEK_S = 7 * _DAY_S


def p_threshold(sensitivity: float) -> float:
    """Tail-probability threshold for a ``sensitivity`` in [0, 1]: ``10**-(2 + 6*(1 - s))``."""
    if not (0.0 <= sensitivity <= 1.0) or math.isnan(sensitivity):
        raise ValueError(f"sensitivity must be between 0 and 1, got {sensitivity!r}")
    return float(10.0 ** -(2.0 + 6.0 * (1.0 - sensitivity)))


def _poisson_sf_math(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu), pure Python (k >= 1, mu > 0)."""
    log_mu = math.log(mu)

    def term(j: int) -> float:
        return math.exp(j * log_mu - mu - math.lgamma(j + 1))

    if k > mu:
        total, j = 0.0, k
        while True:
            t = term(j)
            total += t
            if t < total * 1e-17 or j > k + 100_000:
                return min(1.0, total)
            j += 1
    lower = math.fsum(term(j) for j in range(k))
    return max(0.0, 1.0 - lower)


def _nbinom_sf_math(k: int, mu: float, alpha: float) -> float:
    """P(X >= k) for a negative binomial of mean mu, variance mu + alpha mu^2, pure Python."""
    r = 1.0 / alpha
    log_p = math.log(r / (r + mu))
    log_q = math.log(mu / (r + mu))
    base = -math.lgamma(r)

    def term(j: int) -> float:
        return math.exp(math.lgamma(j + r) + base - math.lgamma(j + 1) + r * log_p + j * log_q)

    if k > mu:
        total, j = 0.0, k
        while True:
            t = term(j)
            total += t
            if (t < total * 1e-17 and j > mu * (1 + alpha)) or j > k + 1_000_000:
                return min(1.0, total)
            j += 1
    lower = math.fsum(term(j) for j in range(k))
    return max(0.0, 1.0 - lower)


def upper_tail(observed: int, expected: float, dispersion: float = 0.0) -> float:
    """``P(X >= observed)`` for a count of mean ``expected``.

    ``X`` is Poisson when ``dispersion`` is 0, else negative binomial with variance
    ``expected + dispersion * expected**2``.
    """
    if observed <= 0:
        return 1.0
    if expected <= 0.0:
        return 0.0
    if dispersion <= 0.0:
        if _HAVE_SCIPY:
            return float(_gammainc(observed, expected))
        return _poisson_sf_math(observed, expected)  # pragma: no cover
    if _HAVE_SCIPY:
        r = 1.0 / dispersion
        return float(_betainc(observed, r, expected / (r + expected)))
    return _nbinom_sf_math(observed, expected, dispersion)  # pragma: no cover


@dataclass(frozen=True)
class SpikeConfig:
    """Parameters of the spike detector (see the module docstring for their role)."""

    bucket: timedelta = timedelta(hours=1)
    sensitivity: float = 0.5
    cooldown: timedelta = timedelta(hours=6)
    min_count: int = 3
    history_weeks: int = 4
    level_half_life: timedelta = timedelta(days=3)
    dispersion: float | None = None
    dispersion_half_life: timedelta = timedelta(days=7)
    prior_strength: float = 10.0
    min_expected: float = 0.05
    warmup: timedelta = timedelta(days=2)
    clean_p: float = 1e-3
    windows: tuple[int, ...] = (1, 3, 6)
    tz: tzinfo = UTC

    def __post_init__(self) -> None:
        if self.bucket <= timedelta(0):
            raise ValueError(f"bucket must be a positive duration, got {self.bucket}")
        seconds = self.bucket.total_seconds()
        if seconds != int(seconds) or _DAY_S % int(seconds) != 0:
            raise ValueError(
                f"bucket must be a whole number of seconds dividing one day, got {self.bucket}"
            )
        p_threshold(self.sensitivity)
        if self.cooldown < timedelta(0):
            raise ValueError(f"cooldown must not be negative, got {self.cooldown}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {self.min_count}")
        if self.history_weeks < 1:
            raise ValueError(f"history_weeks must be at least 1, got {self.history_weeks}")
        for name in ("level_half_life", "dispersion_half_life"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be a positive duration")
        if self.warmup < timedelta(0):
            raise ValueError(f"warmup must not be negative, got {self.warmup}")
        if self.dispersion is not None and not self.dispersion >= 0.0:
            raise ValueError(f"dispersion must be >= 0 or None, got {self.dispersion!r}")
        if not self.prior_strength > 0.0:
            raise ValueError(f"prior_strength must be > 0, got {self.prior_strength!r}")
        if not self.min_expected > 0.0:
            raise ValueError(f"min_expected must be > 0, got {self.min_expected!r}")
        if not self.windows or any(w < 1 for w in self.windows):
            raise ValueError(f"windows must be positive bucket counts, got {self.windows!r}")
        if not (0.0 < self.clean_p < 1.0):
            raise ValueError(f"clean_p must be between 0 and 1, got {self.clean_p!r}")

    @property
    def p_threshold(self) -> float:
        """Tail probability below which a bucket is surprising."""
        return p_threshold(self.sensitivity)


@dataclass(frozen=True)
class SpikeAlert:
    """One burst on one series, with its context.

    ``start`` is the start of the first surprising bucket, ``end`` the (exclusive) end of the
    last one, ``peak_at`` the start of the most surprising bucket and ``peak_observed`` /
    ``peak_expected`` the counts of the window (ending there) that made it surprising.
    ``observed`` and ``expected`` are totals over ``[start, end)``; ``p_value`` is the
    smallest (window-adjusted) tail probability and ``score = -log10(p_value)``; ``buckets``
    is the alert's length in buckets and ``p_threshold`` the threshold it passed.
    """

    series: str
    start: datetime
    peak_at: datetime
    end: datetime
    observed: int
    expected: float
    p_value: float
    score: float
    peak_observed: int = 0
    peak_expected: float = 0.0
    buckets: int = 1
    p_threshold: float = 0.0

    @property
    def ratio(self) -> float:
        """Observed over expected count over the alert."""
        return self.observed / self.expected if self.expected > 0 else math.inf


def _check_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {value!r}")


def _floor_to_grid(value: datetime, bucket_s: int) -> datetime:
    seconds = math.floor((value - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=seconds - seconds % bucket_s)


@dataclass
class _Episode:
    start: int
    end: int
    peak: int
    peak_p: float
    peak_observed: int
    peak_expected: float
    observed: int
    expected: float
    gap_observed: int = 0
    gap_expected: float = 0.0


class SpikeDetector:
    """Incremental spike detector for one series: feed it one bucket at a time.

    Example::

        det = SpikeDetector("mentions")
        alert = det.update(bucket_start, count)  # a SpikeAlert when a burst starts, else None
        alerts = det.finish()  # every alert with its final extent
    """

    def __init__(self, series: str = "", config: SpikeConfig | None = None) -> None:
        """Start an empty detector for ``series`` with ``config`` (defaults if omitted)."""
        self.series = series
        self.config = config or SpikeConfig()
        cfg = self.config
        self._bucket_s = int(cfg.bucket.total_seconds())
        self._per_day = _DAY_S // self._bucket_s
        self._slots = 7 * self._per_day
        self._window = cfg.history_weeks * self._slots
        self._cooldown_b = cfg.cooldown.total_seconds() / self._bucket_s
        self._warmup_b = math.ceil(cfg.warmup.total_seconds() / self._bucket_s)
        self._level_decay = 0.5 ** (self._bucket_s / cfg.level_half_life.total_seconds())
        self._disp_decay = 0.5 ** (self._bucket_s / cfg.dispersion_half_life.total_seconds())
        self._p_star = cfg.p_threshold
        self._origin: datetime | None = None
        self._next = 0
        self._slot_sum = np.zeros(self._slots)
        self._slot_n = np.zeros(self._slots)
        self._ring = np.zeros(self._window)
        self._ring_slot = np.zeros(self._window, dtype=np.int64)
        self._profile = np.ones(self._slots)
        self._level_num = 0.0
        self._level_den = 0.0
        self._disp_num = 0.0
        self._disp_den = 0.0
        self._windows = sorted(set(self.config.windows))
        self._recent: deque[tuple[float, float]] = deque(maxlen=self._windows[-1])
        self._disp_lag: deque[tuple[float, float]] = deque()
        self._episode: _Episode | None = None
        self.alerts: list[SpikeAlert] = []

    # -- model ---------------------------------------------------------------------------

    def _slot(self, index: int) -> int:
        assert self._origin is not None
        local = (self._origin + timedelta(seconds=index * self._bucket_s)).astimezone(
            self.config.tz
        )
        sec = local.weekday() * _DAY_S + local.hour * 3600 + local.minute * 60 + local.second
        return sec // self._bucket_s

    def _refresh_profile(self) -> None:
        n_total = self._slot_n.sum()
        if n_total == 0:
            return
        a = self.config.prior_strength
        c2 = self._slot_sum.reshape(7, self._per_day)
        n2 = self._slot_n.reshape(7, self._per_day)
        rate = self._slot_sum.sum() / n_total
        hod = (c2.sum(axis=0) + a) / (rate * n2.sum(axis=0) + a)
        dow = (c2.sum(axis=1) + a) / ((rate * n2 * hod[None, :]).sum(axis=1) + a)
        sep = rate * n2 * hod[None, :] * dow[:, None]
        how = (c2 + a) / (sep + a)
        profile = (hod[None, :] * dow[:, None] * how).ravel()
        self._profile = profile / profile.mean()

    def _dispersion(self) -> float:
        if self.config.dispersion is not None:
            return self.config.dispersion
        if self._disp_den <= 0.0:
            return 0.0
        return max(0.0, self._disp_num / self._disp_den)

    def expected(self, slot: int) -> float:
        """Expected count of the next bucket if it falls in ``slot`` of the week."""
        factor = float(self._profile[slot])
        if self._level_den <= 0.0:
            return self.config.min_expected
        return max(self.config.min_expected, self._level_num / self._level_den * factor)

    def _clean(self, count: int, mu: float, alpha: float) -> float:
        """Smallest count whose tail probability is below ``clean_p`` (at most ``count``)."""
        lo, hi = max(1, math.ceil(mu)), count
        while lo < hi:
            mid = (lo + hi) // 2
            if upper_tail(mid, mu, alpha) < self.config.clean_p:
                hi = mid
            else:
                lo = mid + 1
        return float(hi)

    # -- stream --------------------------------------------------------------------------

    def _time(self, index: int) -> datetime:
        assert self._origin is not None
        return self._origin + timedelta(seconds=index * self._bucket_s)

    def _alert(self, ep: _Episode) -> SpikeAlert:
        p = max(ep.peak_p, 1e-300)
        return SpikeAlert(
            series=self.series,
            start=self._time(ep.start),
            peak_at=self._time(ep.peak),
            end=self._time(ep.end),
            observed=ep.observed,
            expected=ep.expected,
            p_value=ep.peak_p,
            score=-math.log10(p),
            peak_observed=ep.peak_observed,
            peak_expected=ep.peak_expected,
            buckets=ep.end - ep.start,
            p_threshold=self._p_star,
        )

    def _close(self) -> None:
        if self._episode is not None:
            self.alerts.append(self._alert(self._episode))
            self._episode = None

    def _step(self, count: int) -> SpikeAlert | None:
        i = self._next
        slot = self._slot(i)
        mu = self.expected(slot)
        alpha = self._dispersion()
        p1 = upper_tail(count, mu, alpha)
        p, window_count, window_mu = p1, count, mu
        if count > mu and len(self._windows) > 1:
            # Earlier buckets enter the windows cleaned, so a past burst does not echo.
            recent = [(float(count), mu), *reversed(self._recent)]
            p = 1.0
            for w in self._windows:
                if w > len(recent):
                    break
                obs = round(sum(c for c, _ in recent[:w]))
                exp = sum(m for _, m in recent[:w])
                pw = upper_tail(obs, exp, alpha / w) * len(self._windows)
                if pw < p:
                    p, window_count, window_mu = min(pw, 1.0), obs, exp
        surprising = (
            p < self._p_star
            and count > mu
            and window_count >= self.config.min_count
            and i >= self._warmup_b
        )
        opened: SpikeAlert | None = None
        ep = self._episode
        if surprising:
            gap = i - ep.end if ep is not None else 0
            if ep is not None and (gap == 0 or gap < self._cooldown_b):
                ep.observed += ep.gap_observed + count
                ep.expected += ep.gap_expected + mu
                ep.gap_observed, ep.gap_expected = 0, 0.0
                ep.end = i + 1
                if p < ep.peak_p:
                    ep.peak, ep.peak_p = i, p
                    ep.peak_observed, ep.peak_expected = window_count, window_mu
            else:
                self._close()
                self._episode = _Episode(i, i + 1, i, p, window_count, window_mu, count, mu)
                opened = self._alert(self._episode)
        elif ep is not None:
            ep.gap_observed += count
            ep.gap_expected += mu
            if i + 1 - ep.end >= self._cooldown_b:
                self._close()

        # Learn from the (winsorised) bucket.
        cleaned = float(count)
        if count > mu and p1 < self.config.clean_p:
            cleaned = self._clean(count, mu, alpha)
        self._recent.append((cleaned, mu))
        pos = i % self._window
        if i >= self._window:
            old_slot = int(self._ring_slot[pos])
            self._slot_sum[old_slot] -= self._ring[pos]
            self._slot_n[old_slot] -= 1
        self._ring[pos] = cleaned
        self._ring_slot[pos] = slot
        self._slot_sum[slot] += cleaned
        self._slot_n[slot] += 1
        factor = float(self._profile[slot])
        self._level_num = self._level_num * self._level_decay + cleaned
        self._level_den = self._level_den * self._level_decay + factor
        if i > 0:
            # Huber-style: residuals beyond 3 standard deviations count as 3.
            limit = 3.0 * math.sqrt(mu + alpha * mu * mu)
            resid = min(max(cleaned - mu, -limit), limit)
            # Enter the estimate one day late, so that a burst does not mask itself.
            self._disp_lag.append((resid * resid - mu, mu * mu))
            if len(self._disp_lag) > self._per_day:
                num, den = self._disp_lag.popleft()
                self._disp_num = self._disp_num * self._disp_decay + num
                self._disp_den = self._disp_den * self._disp_decay + den
        self._refresh_profile()
        self._next = i + 1
        return opened

    def update(self, bucket_start: datetime, count: int) -> SpikeAlert | None:
        """Feed the count of the bucket starting at ``bucket_start``.

        Buckets must come in order on the grid set by the first one; skipped buckets count as
        zero. Returns a :class:`SpikeAlert` (one bucket long so far) when this bucket opens a
        new alert, else ``None``; the alert's final extent is in :attr:`alerts` once closed.
        """
        _check_aware(bucket_start, "bucket_start")
        if isinstance(count, bool) or int(count) != count:
            raise ValueError(f"count must be an integer, got {count!r}")
        count = int(count)
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        if self._origin is None:
            self._origin = bucket_start
        offset = (bucket_start - self._origin).total_seconds()
        if offset % self._bucket_s != 0:
            raise ValueError(
                f"bucket_start {bucket_start.isoformat()} is not on the {self.config.bucket} grid "
                f"starting at {self._origin.isoformat()}"
            )
        index = int(offset // self._bucket_s)
        if index < self._next:
            raise ValueError(
                f"bucket_start {bucket_start.isoformat()} is not after the last bucket fed"
            )
        while self._next < index:
            self._step(0)
        return self._step(count)

    def finish(self) -> list[SpikeAlert]:
        """Close the alert in progress, if any, and return every alert so far."""
        self._close()
        return list(self.alerts)


def bucket_counts(
    timestamps: Iterable[datetime],
    bucket: timedelta = timedelta(hours=1),
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[datetime, npt.NDArray[np.int64]]:
    """Count timestamps per bucket; returns the first bucket's start and the counts.

    Without ``start``, buckets are aligned on the UTC epoch grid from the earliest timestamp;
    without ``end`` they run to the bucket of the latest one. Timestamps outside
    ``[start, end)`` are ignored. All datetimes must be timezone-aware.
    """
    if bucket <= timedelta(0):
        raise ValueError(f"bucket must be a positive duration, got {bucket}")
    bucket_s = bucket.total_seconds()
    stamps = list(timestamps)
    for ts in stamps:
        _check_aware(ts, "timestamp")
    if start is not None:
        _check_aware(start, "start")
    if end is not None:
        _check_aware(end, "end")
    if start is None:
        if not stamps:
            raise ValueError("no timestamps and no start: cannot place the buckets")
        start = _floor_to_grid(min(stamps), int(bucket_s)) if bucket_s >= 1 else min(stamps)
    offsets = np.array([(ts - start).total_seconds() for ts in stamps], dtype=np.float64)
    if end is None:
        n = int(offsets.max() // bucket_s) + 1 if len(offsets) else 0
    else:
        n = max(0, math.ceil((end - start).total_seconds() / bucket_s))
    idx = np.floor(offsets / bucket_s).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < n)]
    return start, np.bincount(idx, minlength=n).astype(np.int64)


def _resolve_config(
    config: SpikeConfig | None,
    sensitivity: float | None,
    cooldown: timedelta | None,
    bucket: timedelta | None,
) -> SpikeConfig:
    cfg = config or SpikeConfig()
    changes: dict[str, object] = {}
    if sensitivity is not None:
        changes["sensitivity"] = sensitivity
    if cooldown is not None:
        changes["cooldown"] = cooldown
    if bucket is not None:
        changes["bucket"] = bucket
    return dataclasses.replace(cfg, **changes) if changes else cfg  # type: ignore[arg-type]


def detect_spikes(
    data: Iterable[datetime] | Sequence[int] | npt.NDArray[np.integer] | Mapping[datetime, int],
    *,
    series: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    sensitivity: float | None = None,
    cooldown: timedelta | None = None,
    bucket: timedelta | None = None,
    config: SpikeConfig | None = None,
) -> list[SpikeAlert]:
    """Find the spikes of one series; returns its alerts in time order.

    ``data`` is either event timestamps (bucketed with :func:`bucket_counts`), a mapping
    from bucket start to count (missing buckets count as zero), or a sequence of per-bucket
    counts, which then needs ``start`` (the first bucket's start). ``sensitivity``,
    ``cooldown`` and ``bucket`` override the same fields of ``config``.
    """
    cfg = _resolve_config(config, sensitivity, cooldown, bucket)
    detector = SpikeDetector(series, cfg)
    if isinstance(data, Mapping):
        for ts in data:
            _check_aware(ts, "bucket start")
        for ts in sorted(data):
            detector.update(ts, data[ts])
        return detector.finish()
    if isinstance(data, np.ndarray):
        items: list[object] = list(data.tolist())
    else:
        items = list(data)
    if not items:
        return []
    if all(isinstance(x, datetime) for x in items):
        stamps = [x for x in items if isinstance(x, datetime)]
        origin, counts = bucket_counts(stamps, cfg.bucket, start, end)
    else:
        if any(isinstance(x, datetime) for x in items):
            raise ValueError("data mixes datetimes and counts")
        if start is None:
            raise ValueError("a series of counts needs start= (the first bucket's start)")
        _check_aware(start, "start")
        origin = start
        values = []
        for x in items:
            if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
                raise ValueError(f"counts must be integers, got {x!r}")
            if x != int(x):
                raise ValueError(f"counts must be integers, got {x!r}")
            if x < 0:
                raise ValueError(f"counts must not be negative, got {x!r}")
            values.append(int(x))
        counts = np.asarray(values, dtype=np.int64)
    if len(counts) == 0:
        return []
    for k, c in enumerate(counts.tolist()):
        detector.update(origin + k * cfg.bucket, c)
    return detector.finish()


def detect_spikes_many(
    series: Mapping[str, Iterable[datetime]],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    sensitivity: float | None = None,
    cooldown: timedelta | None = None,
    bucket: timedelta | None = None,
    config: SpikeConfig | None = None,
) -> list[SpikeAlert]:
    """Run :func:`detect_spikes` on several named series over a common time range.

    ``series`` maps a name (a watch, narrative, hashtag, domain, ``"mentions"``...) to its
    event timestamps. Without ``start``/``end`` the range covers every series' events, so a
    series that appears late is seen as silent before. Alerts come sorted by start time.
    """
    cfg = _resolve_config(config, sensitivity, cooldown, bucket)
    stamps = {name: list(values) for name, values in series.items()}
    every = [ts for values in stamps.values() for ts in values]
    for ts in every:
        _check_aware(ts, "timestamp")
    if not every and (start is None or end is None):
        return []
    bucket_s = int(cfg.bucket.total_seconds())
    if start is None:
        start = _floor_to_grid(min(every), bucket_s)
    if end is None:
        end = _floor_to_grid(max(every), bucket_s) + cfg.bucket
    alerts: list[SpikeAlert] = []
    for name, values in stamps.items():
        origin, counts = bucket_counts(values, cfg.bucket, start, end)
        alerts.extend(detect_spikes(counts, series=name, start=origin, config=cfg))
    return sorted(alerts, key=lambda a: (a.start, a.series))
