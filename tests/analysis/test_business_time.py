"""Business time: opening hours, French holidays, summer time, pauses, deadlines, SLA badges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.analysis.business_time import BusinessCalendar, Pause, Sla, SlaStatus

PARIS = ZoneInfo("Europe/Paris")
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
WHOLE_DAY = ((time(0), time(0)),)

OFFICE = BusinessCalendar()
MOSELLE = BusinessCalendar(subdivision="57")
# A town hall: lunch break, Saturday morning, and a bridge day of its own.
TOWN_HALL = BusinessCalendar(
    hours={
        **{weekday: ((time(9), time(12)), (time(13, 30), time(17, 30))) for weekday in range(5)},
        5: ((time(9), time(12)),),
    },
    extra_closed_days=[date(2027, 5, 7)],
)
# Open through the night of the clock changes (01:00–04:00 on Sundays) and all Saturday.
NIGHTS = BusinessCalendar(hours={5: WHOLE_DAY, 6: ((time(1), time(4)), (time(20), time(0)))})
POLICE_CELL = BusinessCalendar(always_open=True)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def utc(moment: datetime) -> datetime:
    # Datetimes sharing a tzinfo compare, subtract and add by wall clock, fold ignored:
    # properties are checked on instants.
    return moment.astimezone(UTC)


def later(moment: datetime, span: timedelta) -> datetime:
    return (utc(moment) + span).astimezone(moment.tzinfo)


# Concrete cases.


def test_friday_afternoon_plus_two_hours_is_monday_morning() -> None:
    assert paris(2026, 12, 4).strftime("%A") == "Friday"
    assert OFFICE.add(paris(2026, 12, 4, 16, 30), 2 * HOUR) == paris(2026, 12, 7, 10, 30)


def test_budget_spent_at_closing_time_ends_at_closing_time() -> None:
    assert OFFICE.add(paris(2026, 12, 4, 16, 30), 30 * MINUTE) == paris(2026, 12, 4, 17)
    assert OFFICE.add(paris(2026, 12, 4, 16, 30), timedelta(0)) == paris(2026, 12, 4, 16, 30)


def test_start_on_a_sunday_counts_from_monday_opening() -> None:
    assert paris(2026, 12, 6).strftime("%A") == "Sunday"
    assert OFFICE.add(paris(2026, 12, 6, 15), HOUR) == paris(2026, 12, 7, 10)
    assert OFFICE.elapsed(paris(2026, 12, 6, 15), paris(2026, 12, 7, 9, 45)) == 45 * MINUTE


def test_start_before_opening_and_lunch_break() -> None:
    assert OFFICE.add(paris(2026, 12, 7, 7), HOUR) == paris(2026, 12, 7, 10)
    assert TOWN_HALL.add(paris(2026, 12, 7, 11, 30), HOUR) == paris(2026, 12, 7, 14)
    # Saturday morning only, then Monday.
    assert TOWN_HALL.add(paris(2026, 12, 5, 11), 2 * HOUR) == paris(2026, 12, 7, 10)


def test_easter_monday_2027_is_closed_and_good_friday_only_in_moselle() -> None:
    friday = paris(2027, 3, 26, 16, 30)  # Good Friday; Easter Monday is 29 March
    assert OFFICE.add(friday, 2 * HOUR) == paris(2027, 3, 30, 10, 30)
    assert MOSELLE.add(paris(2027, 3, 25, 16, 30), 2 * HOUR) == paris(2027, 3, 30, 10, 30)
    assert OFFICE.elapsed(paris(2027, 3, 29), paris(2027, 3, 30)) == timedelta(0)


def test_fourteenth_of_july_is_closed() -> None:
    assert OFFICE.add(paris(2027, 7, 13, 16, 30), 2 * HOUR) == paris(2027, 7, 15, 10, 30)
    assert OFFICE.elapsed(paris(2027, 7, 14), paris(2027, 7, 15)) == timedelta(0)
    assert BusinessCalendar(country=None).elapsed(paris(2027, 7, 14), paris(2027, 7, 15)) == (
        8 * HOUR
    )


@pytest.mark.parametrize(
    ("subdivision", "expected"),
    [(None, 8 * HOUR), ("57", timedelta(0)), ("67", timedelta(0)), ("6AE", timedelta(0))],
)
def test_saint_stephens_day_is_closed_only_in_alsace_moselle(
    subdivision: str | None, expected: timedelta
) -> None:
    calendar = BusinessCalendar(subdivision=subdivision)
    assert calendar.elapsed(paris(2025, 12, 26), paris(2025, 12, 27)) == expected  # a Friday


def test_overseas_holiday_in_its_own_time_zone() -> None:
    reunion = BusinessCalendar(timezone="Indian/Reunion", subdivision="974")
    monday = datetime(2027, 12, 20, 9, tzinfo=ZoneInfo("Indian/Reunion"))  # abolition of slavery
    assert reunion.elapsed(monday, monday + timedelta(days=1)) == timedelta(0)
    assert OFFICE.elapsed(monday, monday + timedelta(days=1)) > timedelta(0)


def test_extra_closed_day() -> None:
    assert TOWN_HALL.elapsed(paris(2027, 5, 7), paris(2027, 5, 8)) == timedelta(0)
    assert OFFICE.elapsed(paris(2027, 5, 7), paris(2027, 5, 8)) == 8 * HOUR


def test_office_hours_keep_their_wall_clock_across_summer_time() -> None:
    # 28 March 2027: clocks go from 02:00 to 03:00; Monday 29 is Easter Monday.
    friday, tuesday = paris(2027, 3, 26, 9), paris(2027, 3, 30, 17)
    assert friday.utcoffset() == HOUR and tuesday.utcoffset() == 2 * HOUR
    assert OFFICE.add(paris(2027, 3, 26, 16), 2 * HOUR) == paris(2027, 3, 30, 10)
    assert OFFICE.elapsed(friday, tuesday) == 16 * HOUR


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2027, 3, 28), 2), (date(2027, 10, 31), 4), (date(2027, 3, 21), 3)],
)
def test_night_hours_on_clock_change_days_last_real_hours(day: date, hours: int) -> None:
    start = datetime.combine(day, time(0), tzinfo=PARIS)
    assert NIGHTS.elapsed(start, start.replace(hour=12)) == hours * HOUR


@pytest.mark.parametrize(("day", "hours"), [(date(2027, 3, 27), 30), (date(2027, 10, 30), 32)])
def test_weekends_around_clock_changes(day: date, hours: int) -> None:
    # All Saturday (24 h), Sunday 01:00–04:00 (2 or 4 real hours) and 20:00–24:00 (4 h).
    start = datetime.combine(day, time(0), tzinfo=PARIS)
    end = datetime.combine(day + timedelta(days=2), time(0), tzinfo=PARIS)
    assert NIGHTS.elapsed(start, end) == hours * HOUR


def test_always_open_counts_real_time_through_holidays_and_clock_changes() -> None:
    christmas = paris(2027, 12, 25, 10)
    assert POLICE_CELL.add(christmas, 30 * HOUR) == christmas + 30 * HOUR
    saturday = paris(2027, 3, 27, 12)
    assert POLICE_CELL.elapsed(saturday, paris(2027, 3, 28, 12)) == 23 * HOUR
    assert POLICE_CELL.is_open(christmas)


def test_results_keep_the_start_time_zone() -> None:
    start = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # 16:30 in Paris
    deadline = OFFICE.add(start, 2 * HOUR)
    assert deadline.tzinfo is UTC and deadline == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def test_year_boundaries_and_long_spans() -> None:
    assert OFFICE.elapsed(paris(2027, 12, 31, 16), paris(2028, 1, 3, 10)) == 2 * HOUR
    start = paris(2026, 6, 1, 9)
    end = OFFICE.add(start, 2000 * HOUR)  # about a year of working days
    assert end.year == 2027 and OFFICE.elapsed(start, end) == 2000 * HOUR


def test_is_open() -> None:
    assert OFFICE.is_open(paris(2026, 12, 7, 9))
    assert not OFFICE.is_open(paris(2026, 12, 7, 17))
    assert not OFFICE.is_open(paris(2027, 7, 14, 10))


def test_pauses_are_merged_clipped_and_left_out() -> None:
    monday, wednesday = paris(2026, 12, 7, 9), paris(2026, 12, 9, 17)
    assert OFFICE.elapsed(monday, wednesday) == 24 * HOUR
    pauses: list[Pause] = [
        (paris(2026, 12, 8, 9), paris(2026, 12, 8, 10)),  # inside the next one
        (paris(2026, 12, 7, 12), paris(2026, 12, 8, 10)),  # 5 h Monday + 1 h Tuesday
        (paris(2026, 12, 1), paris(2026, 12, 7, 10)),  # began before the start: 1 h
    ]
    assert OFFICE.elapsed(monday, wednesday, pauses) == 17 * HOUR
    open_pause: list[Pause] = [(paris(2026, 12, 9, 16), None)]
    assert OFFICE.elapsed(monday, wednesday, open_pause) == 23 * HOUR


def test_deadline_is_pushed_back_only_by_pauses_before_it() -> None:
    start, target = paris(2026, 12, 7, 9), 8 * HOUR
    assert OFFICE.deadline(start, target) == paris(2026, 12, 7, 17)
    before: list[Pause] = [(paris(2026, 12, 7, 10), paris(2026, 12, 7, 12))]
    assert OFFICE.deadline(start, target, before) == paris(2026, 12, 8, 11)
    after: list[Pause] = [(paris(2026, 12, 7, 17), None)]
    assert OFFICE.deadline(start, target, after) == paris(2026, 12, 7, 17)
    running: list[Pause] = [(paris(2026, 12, 7, 16), None)]
    assert OFFICE.deadline(start, target, running) is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        OFFICE.add(datetime(2026, 12, 7, 9), HOUR)
    with pytest.raises(ValueError, match="aware"):
        OFFICE.elapsed(paris(2026, 12, 7), paris(2026, 12, 8), [(datetime(2026, 12, 7), None)])
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add(paris(2026, 12, 7, 9), -HOUR)
    with pytest.raises(ValueError, match="before it starts"):
        OFFICE.elapsed(
            paris(2026, 12, 7), paris(2026, 12, 8), [(paris(2026, 12, 8), paris(2026, 12, 7))]
        )
    with pytest.raises(ValueError, match="subdivision"):
        BusinessCalendar(subdivision="99")
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar(timezone="Europe/Nowhere")
    with pytest.raises(ValueError, match="never open"):
        BusinessCalendar(hours={})
    with pytest.raises(ValueError, match="ends before"):
        BusinessCalendar(hours={0: ((time(17), time(9)),)})
    with pytest.raises(ValueError, match="weekday"):
        BusinessCalendar(hours={7: ((time(9), time(17)),)})
    with pytest.raises(ValueError, match="positive"):
        Sla(timedelta(0))
    with pytest.raises(ValueError, match="due_soon_share"):
        Sla(HOUR, due_soon_share=1.5)


def test_sla_badges() -> None:
    sla = Sla(10 * HOUR, due_soon_share=0.8)
    assert sla.status(7 * HOUR) is SlaStatus.ON_TIME
    assert sla.status(8 * HOUR) is SlaStatus.DUE_SOON
    assert sla.status(10 * HOUR) is SlaStatus.BREACHED
    assert sla.status(7 * HOUR, paused=True) is SlaStatus.PAUSED
    assert sla.status(11 * HOUR, paused=True) is SlaStatus.BREACHED
    assert sla.met(10 * HOUR) and not sla.met(10 * HOUR + MINUTE)
    assert sla.remaining(11 * HOUR) == -HOUR


def test_sla_status_at_a_moment() -> None:
    sla, start = Sla(2 * HOUR), paris(2026, 12, 4, 16, 30)
    assert sla.status_at(OFFICE, start, paris(2026, 12, 5, 12)) is SlaStatus.ON_TIME
    assert sla.status_at(OFFICE, start, paris(2026, 12, 7, 10, 15)) is SlaStatus.DUE_SOON
    assert sla.status_at(OFFICE, start, paris(2026, 12, 7, 10, 30)) is SlaStatus.BREACHED
    waiting: list[Pause] = [(paris(2026, 12, 4, 16, 45), None)]
    assert sla.status_at(OFFICE, start, paris(2026, 12, 9), waiting) is SlaStatus.PAUSED
    # Breached on Saturday when due on Friday at closing time.
    assert Sla(30 * MINUTE).status_at(OFFICE, start, paris(2026, 12, 5, 9)) is SlaStatus.BREACHED


# Properties.

CALENDARS = st.sampled_from([OFFICE, MOSELLE, TOWN_HALL, NIGHTS, POLICE_CELL])
MOMENTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(PARIS)
) | st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
)
DURATIONS = st.integers(0, 300 * 3600 * 10**6).map(lambda micros: timedelta(microseconds=micros))
SPANS = st.integers(0, 40 * 24 * 3600 * 10**6).map(lambda micros: timedelta(microseconds=micros))


@st.composite
def pauses_after(draw: st.DrawFn, start: datetime) -> list[Pause]:
    pauses: list[Pause] = []
    for _ in range(draw(st.integers(0, 4))):
        begins = later(start, draw(SPANS) - draw(st.sampled_from([timedelta(0), 3 * DAY])))
        ends = None if draw(st.integers(0, 5)) == 0 else later(begins, draw(SPANS) / 4)
        pauses.append((begins, ends))
    return pauses


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(CALENDARS, MOMENTS, DURATIONS, DURATIONS)
def test_adding_twice_is_adding_the_sum(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    once = calendar.add(start, first + second)
    assert utc(once) == utc(calendar.add(calendar.add(start, first), second))
    assert once.tzinfo is start.tzinfo


@PROPERTY
@given(CALENDARS, MOMENTS, DURATIONS)
def test_elapsed_until_the_sum_is_the_duration(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    end = calendar.add(start, duration)
    assert utc(end) >= utc(start)
    assert calendar.elapsed(start, end) == duration


@PROPERTY
@given(CALENDARS, MOMENTS, SPANS, SPANS, st.data())
def test_elapsed_is_additive_monotonic_and_never_increased_by_pauses(
    calendar: BusinessCalendar,
    start: datetime,
    first: timedelta,
    second: timedelta,
    data: st.DataObject,
) -> None:
    middle, end = later(start, first), later(start, first + second)
    pauses = data.draw(pauses_after(start))
    whole = calendar.elapsed(start, end)
    assert calendar.elapsed(start, middle) + calendar.elapsed(middle, end) == whole
    assert timedelta(0) <= calendar.elapsed(start, middle) <= whole <= utc(end) - utc(start)
    paused_middle = calendar.elapsed(start, middle, pauses)
    paused_whole = calendar.elapsed(start, end, pauses)
    assert timedelta(0) <= paused_middle <= paused_whole <= whole
    assert calendar.elapsed(end, start, pauses) == timedelta(0)
    covering: list[Pause] = [(later(start, -first), None)]
    assert calendar.elapsed(start, end, pauses + covering) == timedelta(0)


@PROPERTY
@given(CALENDARS, MOMENTS, DURATIONS, st.data())
def test_deadline_is_the_first_moment_the_target_is_spent(
    calendar: BusinessCalendar, start: datetime, target: timedelta, data: st.DataObject
) -> None:
    pauses = data.draw(pauses_after(start))
    deadline = calendar.deadline(start, target, pauses)
    if deadline is None:
        # Only a running pause that began before the target was spent leaves it unknown.
        assert any(ends is None for _, ends in pauses)
        return
    assert utc(deadline) >= utc(calendar.add(start, target))
    assert calendar.elapsed(start, deadline, pauses) == target
    if target > timedelta(0):
        just_before = utc(deadline) - timedelta(microseconds=1)
        assert calendar.elapsed(start, just_before, pauses) < target
    if not pauses:
        assert utc(deadline) == utc(calendar.add(start, target))


@PROPERTY
@given(CALENDARS, MOMENTS, DURATIONS.filter(bool), SPANS)
def test_breached_exactly_from_the_deadline(
    calendar: BusinessCalendar, start: datetime, target: timedelta, span: timedelta
) -> None:
    now, sla = later(start, span), Sla(target)
    deadline = calendar.deadline(start, target)
    assert deadline is not None
    breached = sla.status_at(calendar, start, now) is SlaStatus.BREACHED
    assert breached == (utc(now) >= utc(deadline))
