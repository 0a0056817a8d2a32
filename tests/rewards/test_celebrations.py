"""Celebrations' pure rules (`bot.rewards.policy`): the day an occasion falls on and is sent,
the weekend, 29 February, the anniversary tiers, 09:00 in the person's time zone; and the
people file (`bot.rewards.people_import`), hostile rows included."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.rewards import policy
from bot.rewards.people_import import MAX_BYTES, read_people
from bot.rewards.policy import CelebrationAmounts, Occasion

AMOUNTS = CelebrationAmounts(birthday=50, welcome=25, anniversary={1: 100, 5: 500, 10: 1000})
TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("day", "sent_on"),
    [
        (date(2026, 3, 6), date(2026, 3, 6)),  # a Friday stays
        (date(2026, 3, 7), date(2026, 3, 6)),  # Saturday: the Friday before
        (date(2026, 3, 8), date(2026, 3, 6)),  # Sunday: the Friday before
        (date(2026, 3, 9), date(2026, 3, 9)),  # Monday stays
        (date(2028, 1, 1), date(2027, 12, 31)),  # a Saturday New Year: the year before
    ],
)
def test_a_weekend_date_moves_to_the_friday_before(day: date, sent_on: date) -> None:
    assert policy.weekday_on_or_before(day) == sent_on


def test_29_february_is_the_28th_in_a_year_without_it() -> None:
    assert policy.date_in_year(2027, 2, 29) == date(2027, 2, 28)
    assert policy.date_in_year(2028, 2, 29) == date(2028, 2, 29)
    (due,) = policy.occasions_in(2027, birthday=(2, 29), start=None, amounts=AMOUNTS)
    assert (due.occasion, due.on, due.year) == (date(2027, 2, 28), date(2027, 2, 26), 2027)


@pytest.mark.parametrize(
    ("years", "points"),
    [(0, 0), (1, 100), (4, 100), (5, 500), (9, 500), (10, 1000), (30, 1000), (-1, 0)],
)
def test_the_highest_tier_at_or_below_the_years_served_applies(years: int, points: int) -> None:
    assert policy.anniversary_points(AMOUNTS.anniversary, years) == points


def test_no_tier_below_the_years_served_pays_nothing() -> None:
    assert policy.anniversary_points({5: 500}, 3) == 0
    assert policy.anniversary_points({}, 3) == 0
    assert policy.anniversary_points(None, 3) == 0


def test_the_occasions_of_a_year_with_their_points_and_reasons() -> None:
    found = policy.occasions_in(2026, birthday=(3, 14), start=date(2021, 6, 1), amounts=AMOUNTS)
    assert [(d.kind, d.on, d.points, d.years) for d in found] == [
        (Occasion.BIRTHDAY, date(2026, 3, 13), 50, None),  # 14 March 2026 is a Saturday
        (Occasion.ANNIVERSARY, date(2026, 6, 1), 500, 5),
    ]
    assert [policy.celebration_reason(d) for d in found] == [
        "Happy birthday!",
        "Happy 5-year work anniversary!",
    ]
    (welcome,) = policy.occasions_in(2026, birthday=None, start=date(2026, 6, 1), amounts=AMOUNTS)
    assert (welcome.kind, welcome.on, welcome.points) == (Occasion.WELCOME, date(2026, 6, 1), 25)
    assert policy.celebration_reason(welcome) == "Welcome to the team!"


def test_a_kind_with_no_points_is_off() -> None:
    off = CelebrationAmounts(birthday=0, welcome=0, anniversary={})
    assert not off.any
    assert policy.occasions_in(2026, birthday=(3, 14), start=date(2020, 3, 1), amounts=off) == []


def test_a_reason_never_says_an_age() -> None:
    (due,) = policy.occasions_in(2026, birthday=(3, 14), start=None, amounts=AMOUNTS)
    assert policy.celebration_reason(due) == "Happy birthday!"


def _local(utc: datetime, tz: str) -> datetime:
    return utc.astimezone(ZoneInfo(tz))


@pytest.mark.parametrize(
    ("utc", "tz", "due"),
    [
        (datetime(2026, 3, 2, 7, 59, tzinfo=UTC), "Europe/Madrid", False),  # 08:59 there
        (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), "Europe/Madrid", True),  # 09:00 there
        (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), "America/Los_Angeles", False),  # midnight
        (datetime(2026, 3, 2, 17, 0, tzinfo=UTC), "America/Los_Angeles", True),  # 09:00
        (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "Asia/Kathmandu", False),  # 08:45 (+5:45)
        (datetime(2026, 3, 2, 3, 15, tzinfo=UTC), "Asia/Kathmandu", True),  # 09:00 (+5:45)
        (datetime(2026, 3, 1, 23, 0, tzinfo=UTC), "Asia/Tokyo", False),  # 08:00 on the 2nd
        (datetime(2026, 3, 5, 10, 0, tzinfo=UTC), "UTC", True),  # three days late: caught up
        (datetime(2026, 3, 6, 10, 0, tzinfo=UTC), "UTC", False),  # four: too late
        (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "UTC", False),  # the day before
    ],
)
def test_sent_from_nine_in_the_persons_time_zone(utc: datetime, tz: str, due: bool) -> None:
    assert policy.celebration_due(date(2026, 3, 2), _local(utc, tz)) is due


# ── the people file ──────────────────────────────────────────────────────────────────────


def read(text: str | bytes):  # type: ignore[no-untyped-def]
    return read_people(text if isinstance(text, bytes) else text.encode(), today=TODAY)


def test_a_good_file_with_every_accepted_form() -> None:
    got = read(
        "\ufeffPerson,Birthday,Start Date\n"
        "UMARIA01,03-14,2021-06-01\n"
        "Bob@Acme.test,3-4,\n"
        "<@UCHEN001>,--12-25,\n"
        "ana@acme.test,1990-02-29,\n"
        "ben@acme.test,March 9,\n"
        "cy@acme.test,9 mar,\n"
        "\n"
        "dee@acme.test,,2026-03-02\n"
    )
    assert got.ok, got.report()
    assert [(p.row, p.who, p.birthday, p.start_date) for p in got.people] == [
        (2, "UMARIA01", (3, 14), date(2021, 6, 1)),
        (3, "bob@acme.test", (3, 4), None),
        (4, "UCHEN001", (12, 25), None),
        (5, "ana@acme.test", (2, 29), None),  # the year is dropped
        (6, "ben@acme.test", (3, 9), None),
        (7, "cy@acme.test", (3, 9), None),
        (9, "dee@acme.test", None, date(2026, 3, 2)),
    ]


def test_one_bad_row_rejects_the_file_with_every_problem_by_row() -> None:
    got = read(
        "person,birthday,start_date\n"
        "UMARIA01,03-14,2021-06-01\n"
        "=cmd|' /C calc'!A0,13-40,\n"
        "<script>x</script>,02-30,\n"
        "bob@acme.test,03/14,\n"
        "UMARIA01,04-01,\n"
        "chen@acme.test,,21-06-01\n"
        "dee@acme.test,,\n"
        "eve@acme.test,01-01,1900-01-01\n"
        "fay@acme.test,01-01,2031-01-01\n"
    )
    assert not got.ok and got.people == ()
    assert [str(p) for p in got.problems] == [
        "row 3: \"=cmd|' /C calc'!A0\" is neither a Slack user id (like U012ABCDEF) nor an "
        "email (like ana@example.com); the birthday '13-40' is not a day of the year: write "
        "it as MM-DD, like 03-14",
        "row 4: '<script>x</script>' is neither a Slack user id (like U012ABCDEF) nor an email "
        "(like ana@example.com); the birthday '02-30' is not a day of the year: write it as "
        "MM-DD, like 03-14",
        "row 5: the birthday '03/14' isn't a month and a day: write it as MM-DD, like 03-14",
        "row 6: UMARIA01 is on row 2 too",
        "row 7: the start date '21-06-01' isn't a date: write it as YYYY-MM-DD, like 2021-06-01",
        "row 8: it gives neither a birthday nor a start date",
        "row 9: the start date '1900-01-01' is too long ago: check the year",
        "row 10: the start date '2031-01-01' is more than a year away: check the year",
    ]


def test_control_characters_and_huge_cells_are_quoted_short_and_printable() -> None:
    got = read("person,birthday\n" + "a\x1b[31m" + "x" * 5000 + ",01-01\n")
    (problem,) = got.problems
    assert "\x1b" not in str(problem) and len(str(problem)) < 200


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "the file is empty"),
        (b"person,birthday\n", "the file names nobody"),
        (b"name,birthday\nUMARIA01,01-01\n", "the column 'name' isn't one I know"),
        (b"person,start,start_date\nUMARIA01,,\n", "two columns say start_date"),
        (b"birthday\n01-01\n", "names no person column"),
        (b"person\nUMARIA01\n", "names no date column"),
        (b"\xff\xfeperson", "isn't UTF-8"),
        (b"person,birthday\nU\x00X,01-01\n", "binary data"),
        (b"x" * (MAX_BYTES + 1), "the file is 2,000,001 bytes; the most I read is 2,000,000"),
    ],
)
def test_a_file_that_is_not_a_people_file_says_what_to_do(data: bytes, says: str) -> None:
    got = read(data)
    assert not got.ok and says in got.report()


def test_a_long_report_is_cut_with_how_many_more() -> None:
    got = read("person,birthday\n" + "nobody,01-01\n" * 100)
    lines = got.report().splitlines()
    assert len(lines) == 31 and lines[-1] == "… and 70 more"
