"""The one guard every CSV cell goes through: nothing a spreadsheet could run as a formula, the
text itself kept, and the project's own numbers left as numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from storage.csv_cells import csv_cell

GUARDED = {
    "equals": "=1+1",
    "hyperlink": '=HYPERLINK("http://evil.example","click")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(A1:A9)",
    "tab": "\t=1+1",
    "carriage return": "\r=1+1",
    "tab then text": "\tnothing after",
    "full-width equals": "＝1+1",
    "full-width plus": "＋1",
    "full-width minus": "－1",
    "full-width at": "＠SUM(A1)",
    "space then equals": "  =1+1",
    "newline then plus": "\n+1",
    "no-break space then at": "\u00a0@SUM(A1)",
    "ideographic space then equals": "\u3000=1",
    "zero-width space then equals": "\u200b=1",
    "byte-order mark then minus": "\ufeff-1",
    "mixed invisible run": " \u200b \u2060=1",
    "text that looks like a number": "-5",
}

UNCHANGED = {
    "plain": "thanks for the demo",
    "formula later": "see =A1 later",
    "quote already": "'=1",
    "hash": "#ownership",
    "json": '{"status":"sent"}',
    "iso time": "2025-03-01T12:00:00.000000+00:00",
    "hex hash": "0" * 64,
    "spaces only": "   ",
    "empty": "",
    "dash inside": "R7K2Q9-2",
    "link": "https://rewards.example/r/abc",
    "minus sign (not hyphen)": "\u22121",
}


@pytest.mark.parametrize("text", GUARDED.values(), ids=GUARDED.keys())
def test_text_that_could_start_a_formula_gets_a_leading_quote(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", UNCHANGED.values(), ids=UNCHANGED.keys())
def test_other_text_is_left_alone(text: str) -> None:
    assert csv_cell(text) == text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (0, 0),
        (-5, -5),
        (1234, 1234),
        (-1.5, -1.5),
        (Decimal("-12.50"), "-12.50"),
        (Decimal("1E+2"), "100"),
        (Decimal("10.00"), "10.00"),
        (True, "True"),
    ],
    ids=[
        "none",
        "zero",
        "negative int",
        "int",
        "float",
        "negative decimal",
        "exponent",
        "decimal",
        "bool",
    ],
)
def test_the_projects_own_numbers_stay_numbers(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


def test_other_objects_are_written_as_their_text_and_guarded() -> None:
    class Odd:
        def __str__(self) -> str:
            return "=evil()"

    assert csv_cell(Odd()) == "'=evil()"


def test_a_guarded_row_reads_back_with_its_text_intact() -> None:
    row = [7, GUARDED["hyperlink"], GUARDED["plus"], 'has "quotes", commas\nand lines', None]
    out = io.StringIO()
    csv.writer(out).writerow([csv_cell(v) for v in row])
    (back,) = list(csv.reader(io.StringIO(out.getvalue())))
    assert back == [
        "7",
        "'" + GUARDED["hyperlink"],
        "'" + GUARDED["plus"],
        'has "quotes", commas\nand lines',
        "",
    ]
