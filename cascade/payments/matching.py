"""Which open documents a line of a bank statement pays. Pure: no Django.

The rules, in order: 1) an invoice number written in the remittance information names the
documents; 2) otherwise the payer, known by the IBAN it paid from or by its name (compared
without accents, case, punctuation, word order or legal form), owes exactly one document of that
amount; 3) otherwise the best candidates are proposed to the operator, who confirms or dismisses.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# Numbers as billing/numbering.py writes them (F2026-000123), also as people retype them:
# "F 2026 000123", "F-2026-000123", "f2026000123".
_NUMBER = re.compile(r"(?<![A-Z0-9])([A-Z])[\s-]?(\d{4})[\s-]?(\d{6,9})(?!\d)")
# Legal forms and civilities left out of a name when comparing (a bank writes "SARL LA FORGE").
_NOISE = {"sarl", "sas", "sasu", "sa", "eurl", "sci", "scop", "scic", "sccv", "snc", "eirl", "ei", "earl", "gie",
          "association", "asso", "assoc", "ste", "societe", "cie", "et", "m", "mr", "mme", "mlle", "monsieur",
          "madame", "ou", "vir", "virement", "sepa", "de", "du", "des", "la", "le", "les", "l", "d"}


def invoice_numbers(text: str) -> list[str]:
    """The document numbers written in `text`, in the form billing/numbering.py gives them."""
    return list(dict.fromkeys(f"{s}{y}-{int(n):06d}" for s, y, n in _NUMBER.findall(text.upper())))


def name_key(name: str) -> str:
    """A name as compared: "SARL L'ATELIER  CERAMIQUE" and "L'Atelier Céramique" give the same key."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", plain) if w and w not in _NOISE]
    return " ".join(sorted(words))


@dataclass(frozen=True)
class OpenDocument:
    key: int
    number: str
    payer: int
    issue_date: date
    outstanding: Decimal


def only_document_of_amount(amount: Decimal, documents: Sequence[OpenDocument], on: date) -> OpenDocument | None:
    """The one document issued by `on` whose outstanding is `amount`; None when none or several are."""
    found = [d for d in documents if d.outstanding == amount and d.issue_date <= on]
    return found[0] if len(found) == 1 else None


def candidates(amount: Decimal, documents: Sequence[OpenDocument], known_payers: set[int], on: date,
               limit: int = 5) -> list[OpenDocument]:
    """The documents most likely paid by a line nothing matched: the payer's own first, then the exact
    amount, then the closest amounts; documents not yet issued on the day of the line come last."""
    def rank(d: OpenDocument):
        return (d.issue_date > on, d.payer not in known_payers, d.outstanding != amount,
                abs(d.outstanding - amount), d.issue_date, d.number)

    plausible = [d for d in documents if d.payer in known_payers or d.outstanding == amount]
    return sorted(plausible, key=rank)[:limit]


@dataclass(frozen=True)
class Seen:
    """A movement as two statements may each tell it (CAMT and OFX, or two overlapping statements)."""

    booked_on: date
    amount: Decimal
    name: str = ""
    remittance: str = ""
    end_to_end_id: str = ""


def _word_list(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    return [w for w in re.split(r"[^A-Z0-9]+", plain) if w]


def same_movement(a: Seen, b: Seen) -> bool:
    """Whether two statements tell the same movement of the account: same day, same amount, and the same
    counterparty and reference: the end-to-end id of one found in the other, or the remittance text of one
    within the other's (OFX writes the payer's name and the end-to-end id in its memo), the names (when
    both give one) the same, one possibly cut short (OFX keeps 32 characters)."""
    if a.booked_on != b.booked_on or a.amount != b.amount:
        return False
    if a.name and b.name:
        x, y = " ".join(_word_list(a.name)), " ".join(_word_list(b.name))
        if not (x.startswith(y) or y.startswith(x) or name_key(a.name) == name_key(b.name)):
            return False
    text_a, text_b = (_word_list(f"{m.name} {m.remittance} {m.end_to_end_id}") for m in (a, b))
    for one, other in ((a, text_b), (b, text_a)):
        if one.end_to_end_id and _within(_word_list(one.end_to_end_id), other):
            return True
    if a.end_to_end_id and b.end_to_end_id:
        return False
    remit_a, remit_b = _word_list(a.remittance), _word_list(b.remittance)
    if remit_a and remit_b:
        return _within(remit_a, text_b) or _within(remit_b, text_a)
    # One tells no more than the name (or nothing at all): the same payer, day and amount.
    return True


def _within(words: list[str], text: list[str]) -> bool:
    """Whether `words` are written in `text`, one after the other."""
    n = len(words)
    return bool(words) and any(text[i:i + n] == words for i in range(len(text) - n + 1))
