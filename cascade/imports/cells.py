"""Parsers for the cell values of a hand-kept French spreadsheet.

Each parser takes what openpyxl gives for a cell (str, int, float, datetime, None) and returns
a clean Python value, or raises `CellError` with a short problem text that an import report
can show next to the cell. Nothing here imports Django.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from schwifty import IBAN
from schwifty.exceptions import (
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)
from stdnum.eu import at_02, vat
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import siret as stdnum_siret


def _(message: str) -> str:
    """Marks a problem text for the French catalogue (makemessages extracts `_("…")`).

    The texts stay English here, in the command's output and in its JSON; the import report
    page translates them (`Fault.translated`). This module imports nothing from Django.
    """
    return message


REQUIRED = _("required value missing")
# A full sentence per noun, so that each can be translated whole.
NOT_A_NUMBER = {
    "amount": _("amount that is not a number"), "share": _("share that is not a number"),
    "rate": _("rate that is not a number"), "surface": _("surface that is not a number"),
    "capacity": _("capacity that is not a number"), "value": _("value that is not a number"),
}
NOT_A_WHOLE_NUMBER = {"capacity": _("capacity that is not a whole number"),
                      "value": _("value that is not a whole number")}

# Spaces that spreadsheets (and French number formats) put inside values.
_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")
_UNIT = re.compile(r"\s*(€|eur|euros?|m²|m2)\s*$", re.IGNORECASE)
_GROUPED = re.compile(r"\d{1,3}( \d{3})+")
_DOT_GROUPED = re.compile(r"\d{1,3}(\.\d{3})+")
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_REFERENCE = re.compile(r"[^\W_][\w./-]*")
_REFERENCE_SEPARATORS = re.compile(r"[,;\s]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_SHARE = re.compile(r"(?P<name>.+?)\s*\((?P<share>[^()]*?)%\s*\)")

# Excel keeps 15 significant digits; more than that in a float is binary noise.
_EXCEL_DIGITS = 15

_YES = {"oui", "o", "x", "yes", "y", "true", "vrai", "1"}
_NO = {"non", "n", "no", "false", "faux", "0", "-"}


class CellError(ValueError):
    """A cell value that cannot be used, with a short English problem text."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def text(v: object) -> str | None:
    """Stripped text with inner whitespace (no-break spaces included) collapsed; blank -> None."""
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, datetime | date):
        return display(v)
    cleaned = _SPACES.sub(" ", str(v)).strip()
    return cleaned or None


def display(v: object) -> str:
    """The cell as a person reads it in the sheet, for import reports."""
    if v is None:
        return ""
    if isinstance(v, datetime | date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def is_blank(v: object) -> bool:
    return text(v) is None


def _required_text(v: object) -> str:
    cleaned = text(v)
    if cleaned is None:
        raise CellError(REQUIRED)
    return cleaned


def decimal_fr(v: object, *, noun: str = "amount") -> Decimal:
    """A number written the French way: '1 250,50', '1\u202f264,00', '150,00 €', '146 m²'.

    Floats go through str() (never float arithmetic) and are trimmed to the 15 significant
    digits a spreadsheet keeps. A single '.' with no ',' is read as a decimal point.
    """
    problem = NOT_A_NUMBER[noun]
    if isinstance(v, bool):
        raise CellError(problem)
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise CellError(problem)
        number = Decimal(str(v))
        if len(number.as_tuple().digits) > _EXCEL_DIGITS:
            number = Decimal(format(v, f".{_EXCEL_DIGITS}g"))
        return number
    if isinstance(v, Decimal):
        return v
    raw = _required_text(v)
    cleaned = _UNIT.sub("", raw).replace("\u2212", "-")
    sign = ""
    if cleaned[:1] in "+-":
        sign, cleaned = cleaned[:1], cleaned[1:].strip()
    integer, comma, fraction = cleaned.partition(",")
    if comma:
        if _GROUPED.fullmatch(integer) or _DOT_GROUPED.fullmatch(integer):
            integer = integer.replace(" ", "").replace(".", "")
        if "," in fraction or "." in fraction:
            raise CellError(problem)
        cleaned = f"{integer}.{fraction}"
    elif _GROUPED.fullmatch(cleaned.partition(".")[0]):
        whole, dot, rest = cleaned.partition(".")
        cleaned = whole.replace(" ", "") + dot + rest
    elif _DOT_GROUPED.fullmatch(cleaned) and cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    cleaned = sign + cleaned
    if not _PLAIN.fullmatch(cleaned):
        raise CellError(problem)
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        raise CellError(problem) from None


def integer(v: object, *, noun: str = "value") -> int:
    """A whole number ('12', 12, 12.0, '12,0')."""
    number = decimal_fr(v, noun=noun)
    if number != number.to_integral_value():
        raise CellError(NOT_A_WHOLE_NUMBER[noun])
    return int(number)


def date_fr(v: object) -> date:
    """A date: a real date cell, 'dd/mm/yyyy' (also '.' or '-') or ISO 'yyyy-mm-dd'.

    Never month first: '12/31/2026' is the 12th of a 31st month, which does not exist.
    """
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if not isinstance(v, str):
        raise CellError(REQUIRED if v is None else _("value that is not a date"))
    raw = _required_text(v)
    if m := _ISO.fullmatch(raw):
        year, month, day = (int(g) for g in m.groups())
    elif m := _DAY_FIRST.fullmatch(raw):
        day, month, year = (int(g) for g in m.groups())
    else:
        raise CellError(_("value that is not a date"))
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(_("date that does not exist")) from None


def yes_no(v: object) -> bool:
    """'oui', 'Oui', 'x', 'yes', 'true', 1 -> True; 'non', 'no', blank -> False."""
    if isinstance(v, bool):
        return v
    word = text(v)
    if word is None:
        return False
    word = word.casefold()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise CellError(_("value that is neither yes nor no"))


def reference(v: object) -> str:
    """A space reference, stripped and upper-cased: ' a-os1-p07 ' -> 'A-OS1-P07'."""
    ref = _required_text(v).upper()
    if not _REFERENCE.fullmatch(ref):
        raise CellError(_("malformed space reference"))
    return ref


def reference_list(v: object) -> tuple[str, ...]:
    """Several references in one cell: 'A-101, A-102', 'a-205;A-206', 'B-003  B-004'."""
    raw = _required_text(v)
    refs = tuple(reference(part) for part in _REFERENCE_SEPARATORS.split(raw) if part)
    if not refs:
        raise CellError(REQUIRED)
    if len(set(refs)) != len(refs):
        raise CellError(_("space reference repeated in the cell"))
    return refs


def siret(v: object) -> str:
    """A SIRET: 14 digits (spaces allowed) with a valid Luhn check digit."""
    # A SIRET typed into a number cell loses its leading zeros.
    raw = str(v).zfill(14) if isinstance(v, int) and not isinstance(v, bool) else v
    digits = _SPACES.sub("", _required_text(raw))
    if not (digits.isdigit() and len(digits) == 14):
        raise CellError(_("SIRET that is not 14 digits"))
    try:
        return stdnum_siret.validate(digits)
    except InvalidChecksum:
        raise CellError(_("SIRET with a wrong check digit")) from None
    except ValidationError:
        raise CellError(_("malformed SIRET")) from None


def iban(v: object) -> str:
    """An IBAN, checked (checksum and, for France, the RIB key); returned compact."""
    raw = _required_text(v)
    try:
        return IBAN(raw, validate_bban=True).compact
    except InvalidChecksumDigits:
        raise CellError(_("IBAN with a wrong checksum")) from None
    except InvalidBBANChecksum:
        raise CellError(_("IBAN with a wrong bank account key")) from None
    except InvalidLength:
        raise CellError(_("IBAN with a wrong length")) from None
    except InvalidCountryCode:
        raise CellError(_("IBAN with an unknown country code")) from None
    except SchwiftyException:
        raise CellError(_("malformed IBAN")) from None


def vat_number(v: object) -> str:
    """An EU VAT number ('FR21439206400'), compact, with its check digits verified."""
    try:
        return vat.validate(_required_text(v))
    except InvalidChecksum:
        raise CellError(_("VAT number with a wrong check digit")) from None
    except ValidationError:
        raise CellError(_("malformed VAT number")) from None


def creditor_id(v: object) -> str:
    """A SEPA creditor identifier (ICS in France, 'FR60ZZZ406524'), compact and checked."""
    try:
        return at_02.validate(_required_text(v))
    except InvalidChecksum:
        raise CellError(_("ICS with a wrong check digit")) from None
    except ValidationError:
        raise CellError(_("malformed ICS")) from None


def email(v: object) -> str:
    """An e-mail address, checked pragmatically (one '@', a dotted domain, no spaces)."""
    address = _required_text(v)
    if not _EMAIL.fullmatch(address):
        raise CellError(_("malformed e-mail address"))
    local, _at, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def percent_shares(v: object) -> list[tuple[str, Decimal]]:
    """Named shares: 'Collectif Tremplin (60 %) ; Association Entraide Voltaire (40 %)'.

    A single name without a percentage holds 100 %. Shares must add up to 100 %.
    """
    raw = _required_text(v)
    parts = [part.strip() for part in re.split(r"[;\n]", raw) if part.strip()]
    if len(parts) == 1 and "%" not in parts[0]:
        return [(parts[0], Decimal(100))]
    shares: list[tuple[str, Decimal]] = []
    for part in parts:
        m = _SHARE.fullmatch(part)
        if not m:
            raise CellError(_("share without a percentage, as in 'Name (60 %)'"))
        share = decimal_fr(m["share"], noun="share")
        if not Decimal(0) < share <= Decimal(100):
            raise CellError(_("share outside 0 to 100 %"))
        shares.append((m["name"].strip(), share))
    names = [name.casefold() for name, _share in shares]
    if len(set(names)) != len(names):
        raise CellError(_("organisation named twice in the shares"))
    if sum(share for _name, share in shares) != Decimal(100):
        raise CellError(_("shares that do not add up to 100 %"))
    return shares


def normalise(v: object) -> str:
    """A key for comparing names and headers: case-folded, no accents, single spaces."""
    cleaned = text(v) or ""
    decomposed = unicodedata.normalize("NFKD", cleaned.replace("\u2019", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare.casefold()).strip()
