"""Amounts, rates and dates written the French way, for documents and pages.

Typography follows the French CLDR locale: a narrow no-break space (U+202F) groups
thousands, a no-break space (U+00A0) keeps the unit with its number, so "1 234,50 €"
never breaks across lines.
"""

from datetime import date
from decimal import Decimal

from .prorata import round_cents

THOUSANDS = "\u202f"
UNIT_SPACE = "\u00a0"


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    return THOUSANDS.join(
        [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    )


def format_eur(amount: Decimal) -> str:
    """`Decimal("-1234.5")` → `"-1 234,50 €"`, rounded half-up to the cent."""
    cents = round_cents(amount)
    units, decimals = f"{abs(cents):.2f}".split(".")
    sign = "-" if cents < 0 else ""
    return f"{sign}{_group(units)},{decimals}{UNIT_SPACE}€"


def format_percent(rate: Decimal) -> str:
    """`Decimal("20.00")` → `"20 %"`, `Decimal("5.5")` → `"5,5 %"`."""
    text = f"{rate:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')}{UNIT_SPACE}%"


def format_date_fr(day: date) -> str:
    """`date(2025, 2, 1)` → `"01/02/2025"`."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
