"""Reading the people file an admin imports for celebrations (`rewardbot people import FILE`):
pure, no Slack or database.

A CSV with a header row naming its columns: `person` (a Slack user id like U012ABCDEF, or an
email; `email` and `slack_id` columns are read too), `birthday` (month and day: `03-14`,
`3-14`, `--03-14`, `March 14`, `14 March`; a full `1990-03-14` is read as 03-14 and its year
is dropped, never stored) and `start_date` (`2021-06-01`). Every row is checked before
anything is stored: one bad row rejects the file, with every problem listed by row (the
header is row 1, as a spreadsheet numbers it). A person named twice is a problem, not a
silent choice between the two rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

MAX_BYTES = 2_000_000
MAX_ROWS = 20_000
SHOWN_ERRORS = 30

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29 February exists

COLUMNS = {
    "person": "person",
    "user": "person",
    "email": "email",
    "e-mail": "email",
    "slack_id": "slack_id",
    "slack_user_id": "slack_id",
    "slack": "slack_id",
    "user_id": "slack_id",
    "birthday": "birthday",
    "birth_date": "birthday",
    "date_of_birth": "birthday",
    "dob": "birthday",
    "start_date": "start_date",
    "start": "start_date",
    "hire_date": "start_date",
    "joined": "start_date",
}
WHAT_COLUMNS = (
    "person (a Slack user id or an email), birthday (month-day, like 03-14) and start_date "
    "(like 2021-06-01)"
)

SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>")
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MONTH_DAY = re.compile(r"(?:--)?(\d{1,2})-(\d{1,2})")
FULL_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
WORDS = re.compile(
    r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?"
)
START = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True, slots=True)
class PersonDates:
    """One row: who (a Slack id, an email or both), their birthday (month, day), their start
    date, and the row it came from."""

    row: int
    slack_user_id: str | None
    email: str | None
    birthday: tuple[int, int] | None
    start_date: date | None

    @property
    def who(self) -> str:
        return self.slack_user_id or self.email or ""


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # 0: the file as a whole
    text: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.text}" if self.row else self.text


@dataclass(frozen=True, slots=True)
class PeopleFile:
    """What a file holds: its people when every row is good, else every problem found."""

    people: tuple[PersonDates, ...] = ()
    problems: tuple[RowProblem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self, limit: int = SHOWN_ERRORS) -> str:
        """The problems, one a line, at most `limit` of them (and how many more)."""
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"… and {len(self.problems) - limit} more")
        return "\n".join(lines)


def shown(cell: str, limit: int = 40) -> str:
    """A cell as a problem quotes it: one line of printable characters, cut short."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in cell)
    return repr(clean[:limit] + ("…" if len(clean) > limit else ""))


def too_big(size: int) -> PeopleFile:
    """The answer for a file over MAX_BYTES (`size` its whole size, in bytes)."""
    # In bytes: a file just over the limit is "2.0 MB" to one decimal, which reads as fitting.
    return _refused(
        f"the file is {size:,} bytes; the most I read is {MAX_BYTES:,} bytes "
        f"({MAX_BYTES // 1_000_000} MB, about {MAX_ROWS:,} people): split it"
    )


def parse_birthday(cell: str) -> tuple[int, int] | str:
    """(month, day), or what is wrong with it. A year, when given, is dropped."""
    text = cell.strip()
    month = day = 0
    if m := FULL_DATE.fullmatch(text):
        month, day = int(m[2]), int(m[3])
    elif m := MONTH_DAY.fullmatch(text):
        month, day = int(m[1]), int(m[2])
    elif m := WORDS.fullmatch(text):
        name, number = (m[1], m[2]) if m[1] else (m[4], m[3])
        month, day = MONTHS.get(name.lower(), 0), int(number)
    else:
        return f"the birthday {shown(cell)} isn't a month and a day: write it as MM-DD, like 03-14"
    if not 1 <= month <= 12 or not 1 <= day <= DAYS_IN_MONTH[month - 1]:
        return f"the birthday {shown(cell)} is not a day of the year: write it as MM-DD, like 03-14"
    return month, day


def parse_start(cell: str, *, today: date) -> date | str:
    text = cell.strip()
    m = START.fullmatch(text)
    try:
        day = date(int(m[1]), int(m[2]), int(m[3])) if m else None
    except ValueError:
        day = None
    if day is None:
        return f"the start date {shown(cell)} isn't a date: write it as YYYY-MM-DD, like 2021-06-01"
    if day.year < 1950:
        return f"the start date {shown(cell)} is too long ago: check the year"
    if (day - today).days > 366:
        return f"the start date {shown(cell)} is more than a year away: check the year"
    return day


def _person(cells: dict[str, str]) -> tuple[str | None, str | None] | str:
    slack_id: str | None = None
    email: str | None = None
    for name in ("person", "slack_id", "email"):
        text = cells.get(name, "").strip()
        if not text:
            continue
        if m := MENTION.fullmatch(text):
            text = m[1]
        if SLACK_ID.fullmatch(text) and name != "email":
            if slack_id is not None and slack_id != text:
                return "it names two different Slack ids"
            slack_id = text
        elif len(text) <= 254 and EMAIL.fullmatch(text) and name != "slack_id":
            if email is not None and email != text.lower():
                return "it names two different emails"
            email = text.lower()
        else:
            return (
                f"{shown(text)} is neither a Slack user id (like U012ABCDEF) nor an email "
                "(like ana@example.com)"
            )
    if slack_id is None and email is None:
        return "it names nobody: give a Slack user id or an email"
    return slack_id, email


def read_people(data: bytes, *, today: date) -> PeopleFile:
    """Every row of the file, or every problem in it (nothing half-read)."""
    if len(data) > MAX_BYTES:
        return too_big(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _refused("the file isn't UTF-8 text: save it as CSV (UTF-8) and import that")
    if "\x00" in text:
        return _refused("the file isn't a CSV (it holds binary data): save it as CSV (UTF-8)")
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, None)
    except csv.Error as err:
        return _refused(f"row 1 isn't CSV: {err}")
    if header is None or not any(h.strip() for h in header):
        return _refused(f"the file is empty: its first row names the columns, {WHAT_COLUMNS}")
    columns: list[str | None] = []
    for name in header:
        key = re.sub(r"[\s-]+", "_", name.strip().lower())
        if not key:
            columns.append(None)
            continue
        if key not in COLUMNS:
            return _refused(
                f"row 1: the column {shown(name)} isn't one I know: the columns are {WHAT_COLUMNS}"
            )
        if COLUMNS[key] in columns:
            return _refused(f"row 1: two columns say {COLUMNS[key]}")
        columns.append(COLUMNS[key])
    if not {"person", "email", "slack_id"} & set(filter(None, columns)):
        return _refused(f"row 1 names no person column: the columns are {WHAT_COLUMNS}")
    if not {"birthday", "start_date"} & set(filter(None, columns)):
        return _refused(f"row 1 names no date column: the columns are {WHAT_COLUMNS}")
    people: list[PersonDates] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    number = 1
    try:
        for cells_list in rows:
            number = rows.line_num
            if not any(c.strip() for c in cells_list):
                continue
            if len(people) + len(problems) >= MAX_ROWS:
                return _refused(f"the file has more than {MAX_ROWS:,} people: split it")
            row = _row(number, columns, cells_list, today=today)
            if isinstance(row, RowProblem):
                problems.append(row)
                continue
            keys = [k for k in (row.slack_user_id, row.email) if k]
            earlier = next((seen[k] for k in keys if k in seen), None)
            if earlier is not None:
                problems.append(RowProblem(number, f"{row.who} is on row {earlier} too"))
                continue
            seen.update(dict.fromkeys(keys, number))
            people.append(row)
    except csv.Error as err:
        problems.append(RowProblem(number + 1, f"this isn't CSV: {err}"))
    if not people and not problems:
        return _refused("the file names nobody: add a row for each person under the header")
    if problems:
        return PeopleFile(problems=tuple(problems))
    return PeopleFile(people=tuple(people))


def _row(
    number: int, columns: list[str | None], cells_list: list[str], *, today: date
) -> PersonDates | RowProblem:
    if len(cells_list) > len(columns) and any(c.strip() for c in cells_list[len(columns) :]):
        return RowProblem(
            number, f"it has {len(cells_list)} cells; the header names {len(columns)}"
        )
    cells = {name: cell for name, cell in zip(columns, cells_list, strict=False) if name}
    who = _person(cells)
    birthday: tuple[int, int] | None = None
    start: date | None = None
    wrong: list[str] = [who] if isinstance(who, str) else []
    if cells.get("birthday", "").strip():
        parsed = parse_birthday(cells["birthday"])
        if isinstance(parsed, str):
            wrong.append(parsed)
        else:
            birthday = parsed
    if cells.get("start_date", "").strip():
        began = parse_start(cells["start_date"], today=today)
        if isinstance(began, str):
            wrong.append(began)
        else:
            start = began
    if birthday is None and start is None and not wrong:
        wrong.append("it gives neither a birthday nor a start date")
    if wrong or isinstance(who, str):
        return RowProblem(number, "; ".join(wrong))
    return PersonDates(
        row=number, slack_user_id=who[0], email=who[1], birthday=birthday, start_date=start
    )


def _refused(text: str) -> PeopleFile:
    return PeopleFile(problems=(RowProblem(0, text),))
