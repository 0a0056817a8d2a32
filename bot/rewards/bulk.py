"""Bulk awards, the pure part: reading an admin's CSV file and checking every row with the same
rules as a reward, before anything is sent.

The file: a header row naming the columns `recipient` (an email address or a Slack member id
`U…`), `points`, `reason` and optionally `value` (a company value, with or without `#`), in any
order; commas or semicolons between cells (a spreadsheet in some locales saves semicolons);
UTF-8, with or without a byte order mark. At most `MAX_ROWS` rows and `MAX_BYTES` bytes.

`read_file` refuses a file it can't read at all (a `Refusal`); otherwise each row it can't
read is a `RowProblem`. `check_rows` then looks at each readable row against the workspace's
people and the reward rules (`policy`): someone unknown, a bot, a deactivated account, nobody
with an email, the admin themself, an amount out of bounds, a value that isn't one, the same
person and reason twice. Any problem rejects the whole file (`problem_lines` lists the first
`SHOWN_PROBLEMS`). Nothing here talks to Slack or the ledger.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.rewards import policy
from bot.rewards.commands import CITATION_MAX_CHARS
from bot.rewards.mrkdwn import to_plain_text
from bot.rewards.policy import Person, Rules
from bot.rewards.refusal import Refusal
from bot.rewards.typed_text import clean_typed_text
from storage.csv_cells import csv_cell

MAX_ROWS = 10_000
MAX_BYTES = 2 * 1024 * 1024
SHOWN_PROBLEMS = 20
REQUIRED = ("recipient", "points", "reason")
OPTIONAL = ("value",)
EXAMPLE = "recipient,points,reason,value\nmaria@acme.com,50,Shipped the launch,#teamwork"
CELL_SHOWN_MAX = 40
POINTS_MAX_DIGITS = 9
VALUE_MAX_CHARS = 64  # as the ledger keeps a reward's values

_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_USER_ID = re.compile(r"<?@?([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>?")
_WHOLE = re.compile(rf"\+?[0-9]{{1,{POINTS_MAX_DIGITS}}}")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int  # the file's line, as a spreadsheet numbers it (the header is 1)
    text: str  # mrkdwn: what is wrong and what to do


@dataclass(frozen=True, slots=True)
class BulkRow:
    """A row as read: who (as written), how many points, why, and the value if any."""

    line: int
    recipient: str  # an email address (lowercased) or a Slack member id
    points: int
    reason: str  # mrkdwn-safe: `&`, `<` and `>` escaped, as Slack sends typed text
    value: str = ""  # lowercased, without `#`


@dataclass(frozen=True, slots=True)
class ReadFile:
    rows: tuple[BulkRow, ...]
    problems: tuple[RowProblem, ...]
    lines: int  # data rows in the file (blank ones not counted)


@dataclass(frozen=True, slots=True)
class Award:
    """A row that passed every check: one reward to one person."""

    line: int
    user_id: str
    points: int
    reason: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class Checked:
    awards: tuple[Award, ...]
    problems: tuple[RowProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.awards)

    @property
    def total(self) -> int:
        return sum(a.points for a in self.awards)


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size // 1024, 1)} KB"


def too_big(size: int) -> Refusal:
    return Refusal(
        f"That file is {size_text(size)} and the limit is {size_text(MAX_BYTES)}. Split it "
        f"into smaller files (at most {MAX_ROWS:,} rows each) and send them one by one. "
        "Nothing was sent.",
        code="too_big",
    )


def shown(cell: str) -> str:
    """A cell quoted in a message: one line, at most CELL_SHOWN_MAX characters, no markup."""
    text = " ".join(clean_typed_text(cell).split())
    if len(text) > CELL_SHOWN_MAX:
        text = text[: CELL_SHOWN_MAX - 1] + "…"
    text = text.replace("`", "'").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"`{text}`" if text else "an empty cell"


def escape(text: str) -> str:
    """Typed text as Slack sends it: `&`, `<` and `>` escaped, so `<!channel>` in a reason is
    text, never a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _refuse(text: str, code: str) -> Refusal:
    return Refusal(f"{text} Nothing was sent.", code=code)


def _delimiter(header: str) -> str:
    if header.count(";") > header.count(","):
        return ";"
    if "\t" in header and "," not in header:
        return "\t"
    return ","


def read_file(data: bytes) -> ReadFile | Refusal:
    """The file's rows, and a problem for each row that can't be read; a Refusal when the file
    as a whole can't be (too big, not text, no header, no rows, too many rows)."""
    if len(data) > MAX_BYTES:
        return too_big(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _refuse(
            "I can't read that file as text. Save it as *CSV UTF-8* (in Excel: File → Save As "
            "→ CSV UTF-8) and send it again.",
            "not_text",
        )
    if "\x00" in text:
        return _refuse(
            "That file isn't a CSV file. Save it as *CSV UTF-8* and send it again.", "not_text"
        )
    if not text.strip():
        return _refuse(
            f"That file is empty. Put a header row and one row per award, like:\n```{EXAMPLE}```",
            "empty",
        )
    first = text.lstrip().splitlines()[0]
    try:
        table = [
            row
            for row in csv.reader(
                io.StringIO(text.lstrip(), newline=""), delimiter=_delimiter(first)
            )
            if any(cell.strip() for cell in row)
        ]
    except csv.Error:
        return _refuse(
            "I can't read that file as CSV (a cell is too long or a quote is never closed). "
            "Check it in a spreadsheet, save it as CSV UTF-8 and send it again.",
            "not_csv",
        )
    header = [clean_typed_text(cell).strip().lower().lstrip("#") for cell in table[0]]
    columns = {name: i for i, name in enumerate(header) if name}
    missing = [name for name in REQUIRED if name not in columns]
    unknown = [name for name in columns if name not in REQUIRED + OPTIONAL]
    if missing or unknown or len(columns) != len([h for h in header if h]):
        said = []
        if missing:
            said.append("it has no " + " or ".join(f"`{m}`" for m in missing) + " column")
        if unknown:
            said.append("I don't know the column " + ", ".join(shown(u) for u in unknown[:5]))
        if not said:
            said.append("a column is named twice")
        return _refuse(
            f"The first row of the file names its columns, and {'; '.join(said)}. The columns "
            f"are `recipient`, `points`, `reason` and optionally `value`, like:\n```{EXAMPLE}```",
            "bad_header",
        )
    body = table[1:]
    if not body:
        return _refuse(
            f"That file has a header but no awards. Add one row per award, like:\n```{EXAMPLE}```",
            "no_rows",
        )
    if len(body) > MAX_ROWS:
        return _refuse(
            f"That file has {len(body):,} rows and the most I take at once is {MAX_ROWS:,}. "
            "Split it and send the parts one by one.",
            "too_many_rows",
        )
    rows: list[BulkRow] = []
    problems: list[RowProblem] = []
    width = len(header)
    for n, cells in enumerate(body, start=2):
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append(
                RowProblem(
                    n,
                    f"it has {len(cells)} cells and the header names {width}: a reason with a "
                    "comma needs quotes around it (a spreadsheet adds them when it saves CSV).",
                )
            )
            continue
        cell = {name: (cells[i] if i < len(cells) else "") for name, i in columns.items()}
        read = _row(n, cell)
        if isinstance(read, RowProblem):
            problems.append(read)
        else:
            rows.append(read)
    return ReadFile(rows=tuple(rows), problems=tuple(problems), lines=len(body))


def _row(line: int, cell: Mapping[str, str]) -> BulkRow | RowProblem:
    who = clean_typed_text(cell["recipient"]).strip()
    if _EMAIL.fullmatch(who):
        recipient = who.lower()
    elif m := _USER_ID.fullmatch(who):
        recipient = m.group(1)
    elif not who:
        return RowProblem(line, "the recipient is empty: write their email or Slack member id.")
    else:
        return RowProblem(
            line,
            f"the recipient {shown(who)} is neither an email address nor a Slack member id "
            "(`U…`). Awards go to one person per row.",
        )
    raw_points = clean_typed_text(cell["points"]).strip()
    if not _WHOLE.fullmatch(raw_points) or int(raw_points) < 1:
        return RowProblem(
            line,
            f"the points are {shown(raw_points)}: write a whole number above zero, like `50`.",
        )
    reason = clean_typed_text(cell["reason"]).strip()
    if not reason:
        return RowProblem(line, "the reason is empty: say in a few words what it's for.")
    length = len(to_plain_text(reason))
    if length > CITATION_MAX_CHARS:
        return RowProblem(
            line,
            f"the reason is {length:,} characters long and the limit is {CITATION_MAX_CHARS}. "
            "Shorten it.",
        )
    value = clean_typed_text(cell.get("value", "")).strip().lstrip("#").strip().lower()
    if len(value) > VALUE_MAX_CHARS or len(value.split()) > 1:
        return RowProblem(
            line,
            f"the value {shown(value)} isn't one: a value is one word of at most "
            f"{VALUE_MAX_CHARS} characters, like `#teamwork`.",
        )
    return BulkRow(
        line=line, recipient=recipient, points=int(raw_points), reason=escape(reason), value=value
    )


def check_rows(
    read: ReadFile,
    *,
    giver: Person,
    people: Mapping[str, Person],
    by_email: Mapping[str, str],
    rules: Rules,
) -> Checked:
    """Every row against the workspace (`people` by Slack id, `by_email`: lowercased email →
    Slack id) and the rules for one reward from `giver` (an admin: no allowance counts)."""
    problems = list(read.problems)
    awards: list[Award] = []
    seen: dict[tuple[str, str], int] = {}
    for row in read.rows:
        user_id = by_email.get(row.recipient) if "@" in row.recipient else row.recipient
        person = people.get(user_id) if user_id else None
        if person is None or user_id is None:
            where = "with the email" if "@" in row.recipient else "with the id"
            problems.append(
                RowProblem(
                    row.line,
                    f"I can't find anyone in this workspace {where} {shown(row.recipient)}.",
                )
            )
            continue
        found = [p.message for p in policy.recipient_problems(giver, person)]
        found += [p.message for p in policy.amount_problems(row.points, rules)]
        found += [p.message for p in policy.value_problems([row.value] if row.value else [], rules)]
        key = (user_id, " ".join(to_plain_text(row.reason).casefold().split()))
        if key in seen:
            found.append(
                f"the same person and reason as row {seen[key]}: keep one of them, or give "
                "each its own reason."
            )
        else:
            seen[key] = row.line
        if found:
            problems.extend(RowProblem(row.line, _row_sentence(text)) for text in found)
            continue
        awards.append(
            Award(
                line=row.line,
                user_id=user_id,
                points=row.points,
                reason=row.reason,
                value=row.value,
            )
        )
    problems.sort(key=lambda p: p.line)
    return Checked(awards=tuple(awards), problems=tuple(problems))


def _row_sentence(text: str) -> str:
    """A rule's message (written for one reward) as part of "Row N: …"."""
    text = text.replace(
        "You can't reward yourself. Take yourself off the list and thank someone else!",
        "that's you, and nobody rewards themselves: take the row out.",
    )
    return text[:1].lower() + text[1:] if text[:2] != "<@" else text


def problem_lines(problems: Sequence[RowProblem], *, limit: int = SHOWN_PROBLEMS) -> list[str]:
    """`Row N: …` for the first `limit` problems, then how many more there are."""
    lines = [f"Row {p.line}: {p.text}" for p in problems[:limit]]
    rest = len(problems) - limit
    if rest > 0:
        lines.append(f"…and {rest:,} more {'problem' if rest == 1 else 'problems'}.")
    return lines


OUTCOME_COLUMNS = ("row", "recipient", "points", "outcome", "reward")
OUTCOME_WORDS = {
    "sent": "sent",
    "failed": "failed",
    "in_doubt": "in doubt (an admin settles it)",
    "queued": "waiting",
    "sending": "sending",
    "cancelled": "cancelled",
}


def outcomes_csv(rows: Iterable[tuple[int, str, int, str, str]]) -> str:
    """The admin's CSV of outcomes: (line, recipient, points, status, reward id) per row; no
    secrets (no links, codes or tokens), every cell guarded against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTCOME_COLUMNS)
    for line, recipient, points, status, reward in rows:
        words = OUTCOME_WORDS.get(status, status)
        writer.writerow([csv_cell(v) for v in (line, recipient, points, words, reward)])
    return out.getvalue()
