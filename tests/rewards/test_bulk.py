"""Reading and checking a bulk file (`bot.rewards.bulk`): what the admin is told, row by row."""

from __future__ import annotations

import csv
import io

import pytest

from bot.rewards.bulk import (
    MAX_BYTES,
    MAX_ROWS,
    Checked,
    ReadFile,
    check_rows,
    outcomes_csv,
    problem_lines,
    read_file,
)
from bot.rewards.policy import Person, Rules
from bot.rewards.refusal import Refusal

RULES = Rules(max_per_reward=500, allowance=100, approval_threshold=0, values=("teamwork",))
ADMIN = Person("U0ADMIN", name="Ada", email="ada@acme.test", is_admin=True)
MARIA = Person("U0MARIA", name="Maria", email="maria@acme.test")
SAM = Person("U0SAM", name="Sam", email="sam@acme.test")
BOT = Person("U0BOT", name="Deploy bot", email=None, is_bot=True)
GONE = Person("U0GONE", name="Gone", email="gone@acme.test", deleted=True)
NOMAIL = Person("U0NOMAIL", name="Nomail", email=None)
PEOPLE = {p.user_id: p for p in (ADMIN, MARIA, SAM, BOT, GONE, NOMAIL)}
BY_EMAIL = {"maria@acme.test": "U0MARIA", "sam@acme.test": "U0SAM", "ada@acme.test": "U0ADMIN"}


def read(text: str | bytes) -> ReadFile:
    found = read_file(text.encode() if isinstance(text, str) else text)
    assert isinstance(found, ReadFile), found
    return found


def refused(text: str | bytes) -> str:
    found = read_file(text.encode() if isinstance(text, str) else text)
    assert isinstance(found, Refusal), found
    assert "Nothing was sent" in found.text
    return found.text


def check(text: str) -> Checked:
    return check_rows(read(text), giver=ADMIN, people=PEOPLE, by_email=BY_EMAIL, rules=RULES)


def test_a_good_file_gives_one_award_per_row_by_email_or_id() -> None:
    checked = check(
        "recipient,points,reason,value\n"
        "Maria@Acme.test,50,Shipped the launch,#teamwork\n"
        "U0SAM,25,Fixed the build,\n"
    )
    assert checked.ok and checked.total == 75
    assert [(a.line, a.user_id, a.points, a.value) for a in checked.awards] == [
        (2, "U0MARIA", 50, "teamwork"),
        (3, "U0SAM", 25, ""),
    ]


def test_bom_semicolons_column_order_and_blank_lines_are_read() -> None:
    text = "\ufeffReason;Points;Recipient\r\n\r\nthe demo;10;maria@acme.test\r\n;;\r\n"
    checked = check_rows(
        read(text.encode("utf-8")), giver=ADMIN, people=PEOPLE, by_email=BY_EMAIL, rules=RULES
    )
    assert checked.ok
    assert [(a.user_id, a.points, a.reason) for a in checked.awards] == [
        ("U0MARIA", 10, "the demo")
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "That file is empty"),
        ("   \n\n", "That file is empty"),
        ("recipient,points,reason\n", "has a header but no awards"),
        ("email,points,reason\nmaria@acme.test,5,x\n", "it has no `recipient` column"),
        ("recipient,amount,points,reason\n", "I don't know the column `amount`"),
        ("recipient,points,reason,points\n", "a column is named twice"),
    ],
)
def test_a_file_that_cant_be_read_is_refused_whole_saying_what_to_do(text: str, said: str) -> None:
    assert said in refused(text)


def test_not_text_too_big_and_too_many_rows_are_refused() -> None:
    assert "CSV UTF-8" in refused(b"\xff\xfe\x00r\x00e")
    assert "limit is 2.0 MB" in refused(b"x" * (MAX_BYTES + 1))
    rows = "".join(f"maria@acme.test,1,thanks {n}\n" for n in range(MAX_ROWS + 1))
    text = refused("recipient,points,reason\n" + rows)
    assert f"{MAX_ROWS + 1:,} rows" in text and f"{MAX_ROWS:,}" in text


def test_ten_thousand_rows_are_taken() -> None:
    rows = "".join(f"maria@acme.test,1,thanks {n}\n" for n in range(MAX_ROWS))
    assert len(read("recipient,points,reason\n" + rows).rows) == MAX_ROWS


@pytest.mark.parametrize(
    ("points", "said"),
    [
        ("-5", "the points are `-5`"),
        ("2.5", "the points are `2.5`"),
        ("0", "the points are `0`"),
        ("1e3", "the points are `1e3`"),
        ("", "the points are an empty cell"),
        ("=1+1", "the points are `=1+1`"),
        ("9999999999", "the points are `9999999999`"),
    ],
)
def test_bad_points_are_a_problem_of_their_row(points: str, said: str) -> None:
    checked = check(f"recipient,points,reason\nU0SAM,10,ok\nmaria@acme.test,{points},thanks\n")
    assert not checked.ok
    [problem] = checked.problems
    assert problem.line == 3
    assert said in problem.text and "whole number above zero" in problem.text


def test_every_rule_of_a_reward_is_checked_and_every_problem_listed() -> None:
    checked = check(
        "recipient,points,reason,value\n"
        "nobody@acme.test,10,thanks,\n"  # 2: unknown email
        "U0NOBODY,10,thanks,\n"  # 3: unknown id
        "U0BOT,10,thanks,\n"  # 4: a bot
        "U0GONE,10,thanks,\n"  # 5: deactivated
        "U0NOMAIL,10,thanks,\n"  # 6: no email
        "ada@acme.test,10,thanks,\n"  # 7: the admin themself
        "U0SAM,501,thanks,\n"  # 8: over the most per reward
        "U0SAM,10,thanks again,#synergy\n"  # 9: not a value
        "U0MARIA,10,the demo,\n"  # 10: fine
        "maria@acme.test,20,The  Demo,\n"  # 11: the same person and reason as row 10
        "@channel,10,thanks,\n"  # 12: not a person
        "U0MARIA,10,,\n"  # 13: no reason
    )
    said = {p.line: p.text for p in checked.problems}
    assert sorted(said) == [2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]
    assert "can't find anyone in this workspace with the email `nobody@acme.test`" in said[2]
    assert "with the id `U0NOBODY`" in said[3]
    assert "is a bot" in said[4]
    assert "deactivated" in said[5]
    assert "no email address" in said[6]
    assert "that's you" in said[7]
    assert "The most one person can get" in said[8] or "most one person" in said[8]
    assert "`#synergy` isn't one of our values" in said[9]
    assert "the same person and reason as row 10" in said[11]
    assert "neither an email address nor a Slack member id" in said[12]
    assert "the reason is empty" in said[13]
    assert [a.line for a in checked.awards] == [10]


def test_markup_in_a_reason_stays_text_and_a_shown_cell_is_harmless() -> None:
    checked = check(
        "recipient,points,reason\nU0MARIA,10,<!channel> *well* done & <https://x.test|click>\n"
    )
    assert checked.ok
    reason = checked.awards[0].reason
    assert "<!channel>" not in reason and "&lt;!channel&gt;" in reason
    assert "<https" not in reason
    bad = check("recipient,points,reason\n<!here>`x`\x07,10,thanks\n")
    [problem] = bad.problems
    assert "<!here>" not in problem.text and "\x07" not in problem.text
    assert "`&lt;!here&gt;'x'`" in problem.text


def test_control_characters_are_dropped_and_a_long_reason_is_a_problem() -> None:
    assert "isn't a CSV file" in refused("recipient,points,reason\nU0MARIA,1\x00,thanks\n")
    checked = check("recipient,points,reason\nU0MARIA,10,than\u202eks\x1b\x07\n")
    assert [a.reason for a in checked.awards] == ["thanks"]
    long = check("recipient,points,reason\nU0MARIA,10," + "x" * 501 + "\n")
    [problem] = long.problems
    assert "501 characters long and the limit is 500" in problem.text


def test_extra_cells_in_a_row_say_to_quote_a_reason_with_a_comma() -> None:
    checked = check("recipient,points,reason\nU0MARIA,10,thanks, really\n")
    [problem] = checked.problems
    assert "needs quotes around it" in problem.text


def test_the_first_twenty_problems_are_shown_then_how_many_more() -> None:
    rows = "".join(f"U0NOBODY{n},10,thanks\n" for n in range(45))
    checked = check("recipient,points,reason\n" + rows)
    lines = problem_lines(checked.problems)
    assert len(lines) == 21
    assert lines[0].startswith("Row 2: ") and lines[19].startswith("Row 21: ")
    assert lines[-1] == "…and 25 more problems."


def test_the_outcomes_csv_has_one_row_each_and_no_formula_runs() -> None:
    text = outcomes_csv([(2, "U0MARIA", 50, "sent", "R7K2Q9"), (3, "=cmd", 5, "failed", "-x")])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["row", "recipient", "points", "outcome", "reward"],
        ["2", "U0MARIA", "50", "sent", "R7K2Q9"],
        ["3", "'=cmd", "5", "failed", "'-x"],
    ]


def test_an_admin_is_checked_as_a_giver_with_no_allowance() -> None:
    # 100 is the monthly allowance; an admin's file is the company's and may send more
    checked = check("recipient,points,reason\nU0MARIA,300,the launch\nU0SAM,300,the launch\n")
    assert checked.ok and checked.total == 600


def test_a_value_is_one_short_word() -> None:
    rules = Rules(max_per_reward=500, allowance=0, approval_threshold=10**6)  # any value
    for value, ok in (("#Team-Work", True), ("two words", False), ("v" * 65, False)):
        checked = check_rows(
            read(f"recipient,points,reason,value\nU0MARIA,5,thanks,{value}\n"),
            giver=ADMIN,
            people=PEOPLE,
            by_email=BY_EMAIL,
            rules=rules,
        )
        assert checked.ok is ok, value
        if not ok:
            assert "a value is one word of at most 64 characters" in checked.problems[0].text
