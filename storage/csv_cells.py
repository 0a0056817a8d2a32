"""The one guard for every CSV cell the project writes: a spreadsheet must never run one.

Following OWASP's advice on CSV injection, a text cell that a spreadsheet could take for a
formula gets a leading `'` (shown as text by Excel, LibreOffice and Google Sheets): one whose
first character is `=`, `+`, `-`, `@`, a tab or a carriage return, the full-width forms
`＝ ＋ － ＠` (which some locales read as their ASCII twins), and any of those behind leading
whitespace or invisible characters (some applications skip those before looking). The text is
otherwise kept as it is, so a reason like `=HYPERLINK(…)` is still there, quoted.

Numbers the project writes itself (int, float, Decimal) stay numbers: `-5` is a number, not a
formula. Text that merely looks like one (`"-5"` typed by a person) is guarded like any text.
"""

from __future__ import annotations

import re
from decimal import Decimal

# A formula character first, or after whitespace (Unicode \s) or zero-width characters;
# a tab or carriage return first is a trigger by itself.
_FORMULA_START = re.compile(
    r"^(?:[\t\r]|[\s\u200b\u200c\u200d\u2060\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20])"
)


def csv_cell(value: object) -> str | int | float:
    """`value` as a CSV cell: None is empty, numbers stay numbers, text is guarded."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # 100, not 1E+2
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if _FORMULA_START.match(text) else text
