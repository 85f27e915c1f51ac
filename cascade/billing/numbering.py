"""Numbering policy of invoices, credit notes and payment notices: `F2026-000123`, `A2026-000004`, `E2026-000001`.

Numbers are per organisation (the seller), series and year of the invoice date, and
gapless: French law requires a continuous chronological sequence (CGI, annexe II,
art. 242 nonies A), so a number is assigned only when the document is issued, in the same
transaction that issues it, never to a draft. The counter row and its lock live with the
models; this module only says what a number looks like and which one comes next.
"""

import re
from datetime import date

INVOICE_SERIES = "F"
CREDIT_NOTE_SERIES = "A"
PAYMENT_NOTICE_SERIES = "E"

_NUMBER = re.compile(r"([A-Z]+)(\d{4})-(\d{6,})")


def format_number(series: str, year: int, n: int) -> str:
    """`format_number("F", 2026, 123)` → `"F2026-000123"`."""
    if not re.fullmatch(r"[A-Z]+", series):
        raise ValueError(f"a series is made of capital letters, got {series!r}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"the year has four digits, got {year}")
    if n < 1:
        raise ValueError(f"numbers start at 1, got {n}")
    return f"{series}{year}-{n:06d}"


def parse_number(s: str) -> tuple[str, int, int]:
    """`"F2026-000123"` → `("F", 2026, 123)`."""
    match = _NUMBER.fullmatch(s)
    if match is None or int(match[3]) < 1:
        raise ValueError(f"{s!r} is not an invoice number like F2026-000123")
    return match[1], int(match[2]), int(match[3])


def next_number(last: int | None) -> int:
    """The number after `last` in its series and year; 1 when none was issued yet."""
    if last is None:
        return 1
    if last < 1:
        raise ValueError(f"numbers start at 1, got {last}")
    return last + 1


def chronological_date(scheduled: date, last_issued: date | None) -> date:
    """The date of a document due on `scheduled` when the series' last one is dated `last_issued`.

    Numbers follow dates, so a document is never dated before the last one of its series: a
    period caught up after later ones were issued (a late import, a correction) is dated on
    the last issue date, not back in time.
    """
    return max(scheduled, last_issued) if last_issued else scheduled
