"""Business time: response-time deadlines and elapsed times in opening hours, with holidays.

A response-time target ("answer within 16 business hours") counts only the hours the
organization is open: its weekly opening hours, minus public holidays (from the maintained
``holidays`` package, French ones by default, with the subdivision's own: Good Friday and
26 December in Alsace-Moselle, the abolition of slavery overseas), minus the days it closes
on its own (``extra_closed_days``: a bridge day, a local feast). A desk open around the clock
(a police cell) counts plain elapsed time with ``always_open``. Plain Python, no Django needed.

Time
----
Every instant given must be time-zone aware (a naive one raises :class:`ValueError`): a
deadline for a message received "at 16:30" means nothing without the zone. Opening hours are
wall-clock times in the calendar's ``timezone`` (``Europe/Paris`` by default), converted
day by day with :mod:`zoneinfo`, so 09:00–17:00 stays 09:00–17:00 across the switches to
and from summer time, and a night interval that spans the switch lasts 7 or 9 real hours.
Results are returned in the time zone of the ``start`` they were computed from; arithmetic
is exact to the microsecond.

Conventions
-----------
- :meth:`BusinessCalendar.add` returns the instant the budget runs out: Friday 16:30 plus
  30 business minutes is Friday 17:00 (not Monday 09:00), and a start outside opening hours
  starts counting at the next opening. Adding zero returns the start itself.
- :meth:`BusinessCalendar.elapsed` counts business time between two instants minus *pauses*
  (the clock stops while the organization waits for the citizen). Pauses may overlap, come
  in any order and reach outside the interval; a pause still running (end ``None``) lasts
  until ``end``.
- :meth:`BusinessCalendar.deadline` is the instant the target is reached, pushed back by
  the pauses taken before it; while a pause is running the deadline is unknown (``None``).
- :class:`Sla` turns a target and an elapsed time into a badge: breached, paused, due soon
  or on time, in this order of precedence (a pause does not hide a breach that happened).
  A running clock is breached from the deadline on (the closed hours after it included);
  an answer given at the deadline itself met the target (:meth:`Sla.met`).

Cost
----
Each year's open intervals and the running total of open time are computed once, when a
date of that year is first needed, and kept (a few kilobytes a year). Elapsed time is then
two partial days plus a difference of running totals, and a deadline is a binary search,
whatever the span: 20,000 conversations take a small fraction of a second.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "OFFICE_HOURS",
    "BusinessCalendar",
    "Hours",
    "Pause",
    "Sla",
    "SlaStatus",
]

#: Opening intervals by weekday (Monday is 0), in wall-clock time.
Hours = Mapping[int, Sequence[tuple[time, time]]]
#: A pause of the clock: from, until (``None`` while it is still running).
Pause = tuple[datetime, datetime | None]

#: Monday to Friday, 09:00 to 17:00.
OFFICE_HOURS: Hours = {weekday: ((time(9), time(17)),) for weekday in range(5)}

# The holidays package names Alsace "6AE"; people type its departments' numbers.
_SUBDIVISION_ALIASES = {"67": "6AE", "68": "6AE"}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
# Stands for the end of a pause still running when looking for a deadline.
_FOREVER = 2**62

# Instants are handled as integer microseconds since the Unix epoch: exact, cheap to compare.
_Interval = tuple[int, int]


class SlaStatus(StrEnum):
    """The badge of a response-time target."""

    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class _Year:
    """One year's open intervals, day by day, and the running total of open time."""

    first_day: int  # ordinal of 1 January
    days: list[tuple[_Interval, ...]]
    # totals[i] is the open time of the year's days before day i; totals[-1] the year's.
    totals: list[int]


class BusinessCalendar:
    """Opening hours, holidays and closed days of an organization, to count time in."""

    def __init__(
        self,
        timezone: str = "Europe/Paris",
        hours: Hours = OFFICE_HOURS,
        country: str | None = "FR",
        subdivision: str | None = None,
        extra_closed_days: Iterable[date] = (),
        always_open: bool = False,
    ) -> None:
        """Check the settings and prepare the (lazily filled) yearly cache.

        ``hours`` maps a weekday (Monday 0 … Sunday 6) to its opening intervals in wall-clock
        time; an interval ending at ``time(0)`` runs to the end of the day (``00:00–00:00``
        is the whole day). ``country`` and ``subdivision`` are those of the ``holidays``
        package (``"FR"``; ``"57"`` Moselle, ``"6AE"`` or ``"67"``/``"68"`` Alsace,
        ``"971"`` Guadeloupe…); ``country=None`` counts no public holiday. ``always_open``
        counts every hour of every day, holidays included.
        """
        try:
            self.timezone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone: {timezone!r}") from error
        self.country = country
        self.subdivision = (
            _SUBDIVISION_ALIASES.get(subdivision, subdivision) if subdivision else None
        )
        if country is not None:
            try:  # fail now on an unknown country or subdivision, not at the first deadline
                holidays.country_holidays(country, subdiv=self.subdivision, years=())
            except NotImplementedError as error:
                raise ValueError(str(error)) from error
        elif subdivision is not None:
            raise ValueError("a subdivision needs a country")
        self.hours = _check_hours(hours)
        self.extra_closed_days = frozenset(extra_closed_days)
        self.always_open = always_open
        if not always_open and not any(self.hours.values()):
            raise ValueError("the calendar is never open: give opening hours or always_open")
        self._years: dict[int, _Year] = {}
        self._recent_year: _Year | None = None

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(timezone={self.timezone.key!r}, country={self.country!r}, "
            f"subdivision={self.subdivision!r}, always_open={self.always_open})"
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of business time after ``start``, in ``start``'s zone."""
        if duration < timedelta(0):
            raise ValueError("a duration of business time cannot be negative")
        moment = _micros(start)
        return _datetime(self._add(moment, duration // _MICROSECOND), start)

    def elapsed(self, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """Business time from ``start`` to ``end``, paused intervals left out (never negative)."""
        return self._clock(start, end, pauses)[0]

    def deadline(
        self, start: datetime, target: timedelta, pauses: Sequence[Pause] = ()
    ) -> datetime | None:
        """When ``target`` of business time will have run since ``start``, pauses left out.

        Only pauses that begin before the target is reached push it back. ``None`` when a
        pause still running began before that: the clock is stopped and no one knows for how
        long. The result ``d`` satisfies ``elapsed(start, d, pauses) == target``.
        """
        if target < timedelta(0):
            raise ValueError("a target cannot be negative")
        cursor, remaining = _micros(start), target // _MICROSECOND
        for pause_start, pause_end in _merged_pauses(pauses, until=_FOREVER):
            if pause_end <= cursor:
                continue
            if pause_start >= cursor:
                reached = self._add(cursor, remaining)
                if reached <= pause_start:
                    return _datetime(reached, start)
                remaining -= self._business(cursor, pause_start)
            if pause_end == _FOREVER:
                return None
            cursor = pause_end
        return _datetime(self._add(cursor, remaining), start)

    def is_open(self, moment: datetime) -> bool:
        """Whether the clock runs at ``moment`` (pauses aside)."""
        at = _micros(moment)
        if self.always_open:
            return True
        return any(opens <= at < closes for opens, closes in self._day(self._ordinal(at)))

    # Counting, on integer microseconds.

    def _clock(
        self, start: datetime, end: datetime, pauses: Sequence[Pause]
    ) -> tuple[timedelta, bool]:
        """Elapsed business time, and whether a pause holds the clock at ``end``."""
        first, last = _micros(start), _micros(end)
        spans = _merged_pauses(pauses, until=_FOREVER)
        paused = any(pause_start <= last < pause_end for pause_start, pause_end in spans)
        if last <= first:
            return timedelta(0), paused
        total = self._business(first, last)
        for pause_start, pause_end in spans:
            total -= self._business(max(pause_start, first), min(pause_end, last))
        return total * _MICROSECOND, paused

    def _business(self, first: int, last: int) -> int:
        if last <= first:
            return 0
        if self.always_open:
            return last - first
        first_day, last_day = self._ordinal(first), self._ordinal(last)
        if first_day == last_day:
            return _overlap(self._day(first_day), first, last)
        return (
            _overlap(self._day(first_day), first, last)
            + self._whole_days(first_day + 1, last_day)
            + _overlap(self._day(last_day), first, last)
        )

    def _add(self, moment: int, remaining: int) -> int:
        if remaining == 0 or self.always_open:
            return moment + remaining
        day = self._ordinal(moment)
        for opens, closes in self._day(day):
            if closes <= moment:
                continue
            opens = max(opens, moment)
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        day += 1
        while True:
            year = self._year_of(day)
            index = day - year.first_day
            # The first day whose running total reaches the budget holds the deadline.
            reached = bisect.bisect_left(year.totals, year.totals[index] + remaining, lo=index)
            if reached == len(year.totals):
                remaining -= year.totals[-1] - year.totals[index]
                day = year.first_day + len(year.days)
                continue
            remaining -= year.totals[reached - 1] - year.totals[index]
            for opens, closes in year.days[reached - 1]:
                if remaining <= closes - opens:
                    return opens + remaining
                remaining -= closes - opens
            raise AssertionError("running totals and day intervals disagree")  # pragma: no cover

    def _whole_days(self, first_day: int, stop_day: int) -> int:
        total = 0
        while first_day < stop_day:
            year = self._year_of(first_day)
            begin = first_day - year.first_day
            end = min(stop_day - year.first_day, len(year.days))
            total += year.totals[end] - year.totals[begin]
            first_day = year.first_day + end
        return total

    def _ordinal(self, moment: int) -> int:
        return (_EPOCH + moment * _MICROSECOND).astimezone(self.timezone).toordinal()

    def _day(self, ordinal: int) -> tuple[_Interval, ...]:
        year = self._year_of(ordinal)
        return year.days[ordinal - year.first_day]

    def _year_of(self, ordinal: int) -> _Year:
        year = self._recent_year  # most lookups fall in the same year as the last one
        if year is not None and 0 <= ordinal - year.first_day < len(year.days):
            return year
        number = date.fromordinal(ordinal).year
        year = self._years.get(number)
        if year is None:
            year = self._years[number] = self._build_year(number)
        self._recent_year = year
        return year

    def _build_year(self, number: int) -> _Year:
        closed = set(self.extra_closed_days)
        if self.country is not None:
            closed.update(
                holidays.country_holidays(self.country, subdiv=self.subdivision, years=number)
            )
        first_day = date(number, 1, 1).toordinal()
        days: list[tuple[_Interval, ...]] = []
        totals = [0]
        for ordinal in range(first_day, date(number, 12, 31).toordinal() + 1):
            day = date.fromordinal(ordinal)
            intervals = () if day in closed else self._open_intervals(day)
            days.append(intervals)
            totals.append(totals[-1] + sum(closes - opens for opens, closes in intervals))
        return _Year(first_day=first_day, days=days, totals=totals)

    def _open_intervals(self, day: date) -> tuple[_Interval, ...]:
        intervals: list[_Interval] = []
        for opens, closes in self.hours.get(day.weekday(), ()):
            closing_day = day + _ONE_DAY if closes == _MIDNIGHT else day
            interval = (
                _micros(datetime.combine(day, opens, tzinfo=self.timezone)),
                _micros(datetime.combine(closing_day, closes, tzinfo=self.timezone)),
            )
            # A wall-clock time skipped by the spring switch can turn an interval inside out.
            if interval[1] > interval[0]:
                intervals.append(interval)
        return tuple(_merge(intervals))


@dataclass(frozen=True, slots=True)
class Sla:
    """A response-time target and when to warn that it is near (``due_soon_share`` of it)."""

    target: timedelta
    due_soon_share: float = 0.8

    def __post_init__(self) -> None:
        if self.target <= timedelta(0):
            raise ValueError("a response-time target must be positive")
        if not 0 < self.due_soon_share <= 1:
            raise ValueError("due_soon_share must be in (0, 1]")

    def status(self, elapsed: timedelta, *, paused: bool = False) -> SlaStatus:
        """The badge of a clock still running after ``elapsed`` business time.

        Breached as soon as the target is spent: a message due Friday 17:00 and still
        unanswered is breached on Saturday, not only when the clock runs again on Monday.
        """
        if elapsed >= self.target:
            return SlaStatus.BREACHED
        if paused:
            return SlaStatus.PAUSED
        if elapsed >= self.target * self.due_soon_share:
            return SlaStatus.DUE_SOON
        return SlaStatus.ON_TIME

    def met(self, elapsed: timedelta) -> bool:
        """Whether an answer after ``elapsed`` business time met the target, deadline included."""
        return elapsed <= self.target

    def remaining(self, elapsed: timedelta) -> timedelta:
        """Business time left before the target (negative once breached)."""
        return self.target - elapsed

    def status_at(
        self,
        calendar: BusinessCalendar,
        start: datetime,
        now: datetime,
        pauses: Sequence[Pause] = (),
    ) -> SlaStatus:
        """The badge at ``now`` of a clock started at ``start``, paused by ``pauses``."""
        elapsed, paused = calendar._clock(start, now, pauses)
        return self.status(elapsed, paused=paused)


def _check_hours(hours: Hours) -> dict[int, tuple[tuple[time, time], ...]]:
    checked: dict[int, tuple[tuple[time, time], ...]] = {}
    for weekday, intervals in hours.items():
        if weekday not in range(7):
            raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        for opens, closes in intervals:
            if opens.tzinfo is not None or closes.tzinfo is not None:
                raise ValueError("opening hours are wall-clock times: no tzinfo")
            if closes != _MIDNIGHT and closes <= opens:
                raise ValueError(
                    f"opening interval {opens}–{closes} ends before it starts "
                    "(split a night across two days; end at time(0) for midnight)"
                )
        checked[weekday] = tuple(sorted(intervals))
    return checked


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a time-zone aware datetime is needed, got {moment!r}")
    return (moment - _EPOCH) // _MICROSECOND


def _datetime(moment: int, like: datetime) -> datetime:
    return (_EPOCH + moment * _MICROSECOND).astimezone(like.tzinfo)


def _overlap(intervals: Iterable[_Interval], first: int, last: int) -> int:
    return sum(max(0, min(closes, last) - max(opens, first)) for opens, closes in intervals)


def _merge(intervals: Iterable[_Interval]) -> list[_Interval]:
    merged: list[_Interval] = []
    for opens, closes in sorted(intervals):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def _merged_pauses(pauses: Sequence[Pause], *, until: int) -> list[_Interval]:
    spans: list[_Interval] = []
    for pause_start, pause_end in pauses:
        first = _micros(pause_start)
        last = max(until, first) if pause_end is None else _micros(pause_end)
        if last < first:
            raise ValueError(f"a pause ends before it starts: {pause_start} → {pause_end}")
        spans.append((first, last))
    return _merge(spans)
