"""SEPA direct debit rules, as plain values: the creditor identifier (ICS), the mandate reference
(RUM), the SEPA character set, amounts, and the banks' business days.

No Django here: these rules are tested on their own (tests/test_sepa.py, with hypothesis).
"""

import re
import unicodedata
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

# The Latin character set every SEPA bank accepts (EPC guidelines, "SEPA basic Latin"): other
# characters are transliterated, never dropped silently into "?".
SEPA_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
# What Unicode decomposition does not bring back to basic Latin. "&" becomes "+", as the EPC's
# conversion table has it; quotes become the apostrophe; every other character left becomes a space.
SPECIAL = {"ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d",
           "Ł": "L", "ł": "l", "Þ": "TH", "þ": "th", "Ð": "D", "ð": "d", "ı": "i", "&": "+", "’": "'", "‘": "'",
           "«": "'", "»": "'", "“": "'", "”": "'", '"': "'", "–": "-", "—": "-", "_": "-", "@": "(at)", "°": ".",
           "€": "EUR", "*": ".", "#": "", "!": ".", ";": ",", "=": "-", "%": "pct"}

RUM_MAX = 35
# A RUM is made of the 26 Latin letters (either case), digits, and + ? / - : ( ) . , ' and space,
# and neither starts nor ends with a space nor starts with "/" nor holds "//" (EPC rulebook).
RUM_PATTERN = re.compile(r"[A-Za-z0-9+?/\-:().,' ]{1,35}")
# A French ICS: FR, 2 check digits, a 3-character creditor business code (ZZZ by default), 6 characters.
ICS_PATTERN = re.compile(r"([A-Z]{2})([0-9]{2})([A-Z0-9]{3})([A-Z0-9]{1,28})")

CENT = Decimal("0.01")


class SepaRuleError(ValueError):
    """A value SEPA does not accept; the message (in English, translated by the caller) says why."""


def transliterate(text: str, max_length: int | None = None) -> str:
    """`text` in the SEPA character set, on one line, cut at `max_length` characters."""
    out = []
    for char in unicodedata.normalize("NFC", text or ""):
        if char in SEPA_CHARACTERS:
            out.append(char)
        elif char in SPECIAL:
            out.append(SPECIAL[char])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(base if base and all(c in SEPA_CHARACTERS for c in base) else " ")
    cleaned = " ".join("".join(out).split())
    return cleaned[:max_length].rstrip() if max_length else cleaned


def has_latin_letter(text: str) -> bool:
    """Whether `text` keeps a letter in the SEPA character set (a name written only in another script, or in
    emoji, would be empty in a SEPA message)."""
    return any(c.isalpha() for c in transliterate(text))


def _mod97(alphanumeric: str) -> int:
    return int("".join(str(int(c, 36)) for c in alphanumeric)) % 97


def ics_problem(ics: str) -> str | None:
    """Why `ics` is not a creditor identifier (None when it is one): its format, then its check digits
    (ISO 7064 mod 97-10 on the national identifier, the country code and "00", as for an IBAN; the
    creditor business code is left out of the computation)."""
    compact = "".join((ics or "").split()).upper()
    match = ICS_PATTERN.fullmatch(compact)
    if not match or len(compact) > 35:
        return "format"
    country, digits, _code, national = match.groups()
    if 98 - _mod97(national + country + "00") != int(digits):
        return "check digits"
    return None


def normalise_ics(ics: str) -> str:
    return "".join((ics or "").split()).upper()


def rum_problem(rum: str) -> str | None:
    """Why `rum` is not a mandate reference (None when it is one)."""
    if not rum:
        return "empty"
    if len(rum) > RUM_MAX:
        return "too long"
    if not RUM_PATTERN.fullmatch(rum):
        return "characters"
    if rum != rum.strip() or rum.startswith("/") or "//" in rum:
        return "characters"
    return None


def amount_text(amount: Decimal) -> str:
    """An amount as the XML writes it: two decimals, exact (Decimal, never float)."""
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise SepaRuleError(f"{amount} is not an amount in cents")
    return f"{amount.quantize(CENT):f}"


def easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    j = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * j) // 451
    month = (h + j - 7 * m + 114) // 31
    day = (h + j - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def is_business_day(day: date) -> bool:
    """A TARGET2 day, when banks settle SEPA debits: not a week-end, 1 January, Good Friday, Easter
    Monday, 1 May, 25 or 26 December."""
    if day.weekday() >= 5 or (day.month, day.day) in ((1, 1), (5, 1), (12, 25), (12, 26)):
        return False
    sunday = easter(day.year)
    return day not in (sunday - timedelta(days=2), sunday + timedelta(days=1))


def next_business_day(day: date) -> date:
    """`day` itself when it is a business day, else the first one after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has fewer days."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")
