"""A bank statement as read from a file, whatever its format (CAMT.053 or OFX). Pure: no Django.

`read_statement(data)` detects the format from the content, not from the file name, and returns a
`BankFile`; a file that cannot be read whole raises `StatementFileError` naming where it breaks, so
that nothing is imported from half a file.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from schwifty import IBAN
from schwifty.exceptions import InvalidBBANChecksum, InvalidChecksumDigits, SchwiftyException


def _(message: str) -> str:
    """Marks a problem text for the French catalogue; the page translates it (`StatementFileError.translated`)."""
    return message


class StatementFileError(Exception):
    """The file is not a statement that can be read whole: `where` it breaks and the `problem` (English,
    with %(name)s fields filled from `params`)."""

    def __init__(self, where: str, problem: str, **params):
        self.where, self.problem, self.params = where, problem, params
        super().__init__(self.translated(lambda text: text))

    def translated(self, gettext) -> str:
        message = gettext(self.problem) % self.params
        return gettext(_("%(where)s: %(problem)s")) % {"where": self.where, "problem": message} if self.where \
            else message


@dataclass(frozen=True)
class Transaction:
    """One movement on the account: an entry, or one transaction of a batch entry."""

    # The bank's identity of the movement, unique on the account (AcctSvcrRef, OFX FITID…).
    key: str
    booked_on: date
    # Signed: positive for money received (CRDT), negative for money leaving the account (DBIT).
    amount: Decimal
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    end_to_end_id: str = ""
    bank_reference: str = ""
    # ISO 20022 Domain/Family/SubFamily ("PMNT/RCDT/ESCT"), or the OFX TRNTYPE.
    bank_code: str = ""
    # A direct debit returned or rejected by the payer's bank (CAMT RtrInf, family IDDT/UPDD on a debit).
    is_return: bool = False
    return_reason: str = ""
    # Where it is in the file, for messages ("Ntry 3/TxDtls 2", "STMTTRN 4 (l. 41)").
    position: str = ""

    @property
    def is_credit(self) -> bool:
        return self.amount > 0

    @property
    def is_direct_debit_collection(self) -> bool:
        return "/IDDT/" in f"/{self.bank_code}/" and self.amount > 0


@dataclass(frozen=True)
class BankFile:
    format: str
    account_iban: str
    statement_id: str
    sequence: str
    from_date: date | None
    to_date: date | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    transactions: tuple[Transaction, ...]


# What an amount column holds (DecimalField max_digits=14, decimal_places=2): below a thousand billion euros.
AMOUNT_LIMIT = Decimal("1000000000000.00")


def checked_amount(raw: str, where: str) -> Decimal:
    """The amount written `raw`, in euros and at most two decimals, finite and below AMOUNT_LIMIT; else
    StatementFileError naming `where`."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise StatementFileError(where, _("%(amount)r is not an amount in euros and cents"), amount=raw)
    if abs(value) >= AMOUNT_LIMIT:
        raise StatementFileError(where, _("%(amount)s is too large an amount: a movement is below 1 000 000 000 "
                                          "000.00 €"), amount=raw)
    if value != value.quantize(Decimal("0.01")):
        raise StatementFileError(where, _("%(amount)r has more than two decimals: not an amount in euros and "
                                          "cents"), amount=raw)
    return value.quantize(Decimal("0.01"))


def checked_dates(statement: "BankFile", today: date) -> list[str]:
    """The movements booked after `today` or outside the period the statement declares, as StatementFileError
    texts (English; `translated` by the caller): a statement only books what has happened in its period."""
    faults = []
    for tx in statement.transactions:
        if tx.booked_on > today:
            faults.append(StatementFileError(tx.position, _("booked on %(day)s, after today (%(today)s): a statement "
                                                            "only books what has happened"),
                                             day=f"{tx.booked_on:%d/%m/%Y}", today=f"{today:%d/%m/%Y}"))
        elif (statement.from_date and tx.booked_on < statement.from_date) or (
                statement.to_date and tx.booked_on > statement.to_date):
            faults.append(StatementFileError(
                tx.position, _("booked on %(day)s, outside the statement's period (%(start)s – %(end)s)"),
                day=f"{tx.booked_on:%d/%m/%Y}", start=f"{statement.from_date:%d/%m/%Y}" if statement.from_date
                else "…", end=f"{statement.to_date:%d/%m/%Y}" if statement.to_date else "…"))
    return faults


def checked_iban(value: str, where: str) -> str:
    """The IBAN compact, or StatementFileError when its check digits or the bank's key are wrong."""
    try:
        return IBAN(value, validate_bban=True).compact
    except (InvalidChecksumDigits, InvalidBBANChecksum):
        raise StatementFileError(where, _("the IBAN %(iban)s has a bad checksum"), iban=value) from None
    except SchwiftyException:
        raise StatementFileError(where, _("%(iban)s is not an IBAN"), iban=value) from None


def read_statement(data: bytes) -> BankFile:
    """The statement in `data`, CAMT.053 (XML with a camt.053 namespace) or OFX (1.x SGML or 2.x XML)."""
    from . import camt053, ofx

    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"camt.053" in head:
        return camt053.parse(data)
    if head.startswith(b"OFXHEADER") or b"<OFX>" in head.upper() or b"<?OFX" in head.upper():
        return ofx.parse(data)
    if not head:
        raise StatementFileError("", _("the file is empty"))
    raise StatementFileError("", _("not a CAMT.053 or OFX statement (no camt.053 namespace, no OFX header)"))
