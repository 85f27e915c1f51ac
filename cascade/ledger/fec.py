"""The FEC (fichier des écritures comptables, art. L47 A and A47 A-1 of the Livre des procédures fiscales)
written and checked. Pure: rows of plain values in, text out.

What the text follows (A47 A-1; BOI-CF-IOR-60-40-20): the 18 fields in their legal order, their names on the
first line, `|` as the field separator (none may appear inside a field), one record per line, dates as
YYYYMMDD, amounts with a comma as decimal separator and no thousands separator, a Debit and a Credit column;
the file is named `<SIREN>FEC<closing date YYYYMMDD>.txt` and encoded in ISO 8859-15, one of the encodings
the article names (characters it lacks, such as ’, are written as their nearest ASCII).
"""

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from cascade.text import printable

COLUMNS = ("JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
           "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
           "ValidDate", "Montantdevise", "Idevise")
ENCODING = "iso8859_15"
SEPARATOR = "|"


class FecError(ValueError):
    """The FEC cannot be written as asked; the message says what to complete."""


@dataclass(frozen=True)
class Record:
    """One line of an entry, as the FEC writes it."""

    journal_code: str
    journal_label: str
    entry_number: str
    entry_date: date
    account: str
    account_label: str
    aux_number: str
    aux_label: str
    piece_ref: str
    piece_date: date
    label: str
    debit: Decimal
    credit: Decimal
    valid_date: date


def siren_of(siret: str) -> str:
    digits = "".join(c for c in (siret or "") if c.isdigit())
    if len(digits) < 9:
        raise FecError("the organisation has no SIRET: the FEC is named after its SIREN (the first 9 digits); "
                       "set the SIRET on its page")
    return digits[:9]


def file_name(siret: str, closing: date) -> str:
    return f"{siren_of(siret)}FEC{closing:%Y%m%d}.txt"


_SUBSTITUTES = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u202f": " ",
                "\u00a0": " ", "|": "/", "\t": " ", "\r": " ", "\n": " "}


def _text(value: str) -> str:
    value = "".join(_SUBSTITUTES.get(c, c) for c in (value or ""))
    try:
        value.encode(ENCODING)
    except UnicodeEncodeError:
        # A letter the encoding lacks becomes its unaccented form, else "?": never silently nothing.
        value = "".join(c if c.encode(ENCODING, "ignore") else
                        unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode() or "?" for c in value)
    return printable(value, multiline=False).strip()


def amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def day(value: date | None) -> str:
    return f"{value:%Y%m%d}" if value else ""


def write(records: Iterable[Record]) -> bytes:
    """The FEC's content, header first, records in the order given."""
    lines = [SEPARATOR.join(COLUMNS)]
    for r in records:
        fields = (_text(r.journal_code), _text(r.journal_label), _text(r.entry_number), day(r.entry_date),
                  _text(r.account), _text(r.account_label), _text(r.aux_number), _text(r.aux_label),
                  _text(r.piece_ref), day(r.piece_date), _text(r.label), amount(r.debit), amount(r.credit), "", "",
                  day(r.valid_date), "", "")
        lines.append(SEPARATOR.join(fields))
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)


def _amount(text: str) -> Decimal:
    if "." in text or not text:
        raise InvalidOperation
    return Decimal(text.replace(",", "."))


def check(content: bytes) -> list[str]:
    """What is wrong with a FEC's content, by line: columns, dates, amounts, balance and numbering of
    each entry (EcritureNum continuous from 1 in each journal); empty when it is sound."""
    problems: list[str] = []
    lines = content.decode(ENCODING).splitlines()
    if not lines or tuple(lines[0].split(SEPARATOR)) != COLUMNS:
        return ["line 1: the header is not the 18 field names of A47 A-1 in their order"]
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for n, line in enumerate(lines[1:], start=2):
        fields = line.split(SEPARATOR)
        if len(fields) != len(COLUMNS):
            problems.append(f"line {n}: {len(fields)} fields instead of {len(COLUMNS)}")
            continue
        row = dict(zip(COLUMNS, fields, strict=True))
        for name in ("EcritureDate", "PieceDate", "ValidDate"):
            try:
                datetime.strptime(row[name], "%Y%m%d")
            except ValueError:
                problems.append(f"line {n}: {name} {row[name]!r} is not a date YYYYMMDD")
        for name in ("JournalCode", "JournalLib", "EcritureNum", "CompteNum", "CompteLib", "PieceRef",
                     "EcritureLib"):
            if not row[name]:
                problems.append(f"line {n}: {name} is empty")
        if not row["CompteNum"][:3].isdigit():
            problems.append(f"line {n}: CompteNum {row['CompteNum']!r} does not start with 3 digits")
        try:
            debit, credit = _amount(row["Debit"]), _amount(row["Credit"])
        except InvalidOperation:
            problems.append(f"line {n}: amounts {row['Debit']!r} / {row['Credit']!r} are not written 1234,56")
            continue
        total = totals[(row["JournalCode"], row["EcritureNum"])]
        total[0] += debit
        total[1] += credit
    numbers: dict[str, list[int]] = defaultdict(list)
    for (journal, number), (debit, credit) in totals.items():
        if debit != credit:
            problems.append(f"entry {journal} {number}: debit {amount(debit)} ≠ credit {amount(credit)}")
        numbers[journal].append(int(number) if number.isdigit() else 0)
    for journal, found in numbers.items():
        if sorted(found) != list(range(1, len(found) + 1)):
            problems.append(f"journal {journal}: EcritureNum is not continuous from 1")
    return problems
