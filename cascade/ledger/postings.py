"""The lines of the journal entry each kind of document posts. Pure: plain values in, lines out.

Amounts are signed while an entry is built (positive: debit, negative: credit) and split into
debit and credit at the end, so that a credit note is its invoice with every sign reversed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import chart

ZERO = Decimal("0.00")


class UnbalancedEntry(ValueError):
    """An entry whose debits and credits differ: never posted."""


@dataclass(frozen=True)
class Line:
    account: str
    debit: Decimal
    credit: Decimal
    label: str
    aux_number: str = ""
    aux_label: str = ""
    place: str = ""
    category: str = ""


@dataclass(frozen=True)
class Party:
    """A customer or supplier: its auxiliary account (CompAuxNum) and name."""

    number: str
    name: str


@dataclass(frozen=True)
class Draft:
    """An entry before its number: journal, date, label, supporting document and lines."""

    journal: str
    date: date
    label: str
    piece_ref: str
    piece_date: date
    lines: tuple[Line, ...]


def _line(account: str, signed: Decimal, label: str, **tags: str) -> Line:
    return Line(account, signed if signed > 0 else ZERO, -signed if signed < 0 else ZERO, label, **tags)


def balanced(lines: Iterable[Line]) -> tuple[Line, ...]:
    """The lines without the empty ones, once checked: debits equal credits, to the cent. A document of
    nothing (an adjustment whose lines cancel out) has no line, and posts no entry."""
    lines = tuple(line for line in lines if line.debit or line.credit)
    debit, credit = sum((ln.debit for ln in lines), ZERO), sum((ln.credit for ln in lines), ZERO)
    if debit != credit:
        raise UnbalancedEntry(f"debit {debit} ≠ credit {credit}: {[ln.label for ln in lines]}")
    if any(ln.debit < 0 or ln.credit < 0 or ln.debit != ln.debit.quantize(ZERO) or ln.credit !=
           ln.credit.quantize(ZERO) for ln in lines):
        raise UnbalancedEntry(f"amounts must be positive cents: {lines}")
    return lines


@dataclass(frozen=True)
class RevenueLine:
    """An invoice line as the ledger sees it: its component, net amount (signed) and VAT rate."""

    component: str
    net: Decimal
    vat_rate: Decimal | None


def sale(*, number: str, issue_date: date, customer: Party, place: str, total: Decimal,
         lines: Iterable[RevenueLine], vat: Iterable[tuple[Decimal, Decimal]], payment_notice: bool,
         kind_label: str) -> Draft:
    """An invoice, credit note or payment notice: the customer owes the total (411), the nets are income
    by component, the VAT of each rate is owed to the State (44571). Signs carry a credit note's reversal."""
    label = f"{kind_label} {number} {customer.name}"[:200]
    income: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        account = chart.revenue_account(line.component, vat_charged=line.vat_rate is not None,
                                        payment_notice=payment_notice)
        income[(account, line.component)] = income.get((account, line.component), ZERO) + line.net
    body = [_line(chart.CUSTOMERS, total, label, aux_number=customer.number, aux_label=customer.name, place=place)]
    body += [_line(account, -net, label, place=place, category=component)
             for (account, component), net in income.items()]
    body += [_line(chart.VAT_COLLECTED, -amount, f"{label} TVA {rate:g} %"[:200], place=place)
             for rate, amount in vat]
    return Draft(chart.SALES, issue_date, label, number, issue_date, balanced(body))


def payment(*, reference: str, received_on: date, payer: Party, amount: Decimal, returned: bool = False) -> Draft:
    """Money received from a customer (512 / 411); its return by the bank reverses it."""
    what = "Retour de paiement" if returned else "Paiement"
    label = f"{what} {payer.name}"[:200]
    sign = -1 if returned else 1
    body = [_line(chart.BANK, sign * amount, label),
            _line(chart.CUSTOMERS, -sign * amount, label, aux_number=payer.number, aux_label=payer.name)]
    return Draft(chart.BANK_JOURNAL, received_on, label, reference, received_on, balanced(body))


def deposit_received(*, reference: str, day: date, subscriber: Party, amount: Decimal, place: str) -> Draft:
    """A deposit received is owed back to the occupant: a liability (165), not income."""
    label = f"Dépôt de garantie reçu {subscriber.name}"[:200]
    body = [_line(chart.BANK, amount, label, place=place, category="deposit"),
            _line(chart.DEPOSITS_RECEIVED, -amount, label, aux_number=subscriber.number,
                  aux_label=subscriber.name, place=place, category="deposit")]
    return Draft(chart.BANK_JOURNAL, day, label, reference, day, balanced(body))


def deposit_returned(*, reference: str, day: date, subscriber: Party, amount: Decimal, place: str) -> Draft:
    label = f"Dépôt de garantie restitué {subscriber.name}"[:200]
    body = [_line(chart.DEPOSITS_RECEIVED, amount, label, aux_number=subscriber.number, aux_label=subscriber.name,
                  place=place, category="deposit"),
            _line(chart.BANK, -amount, label, place=place, category="deposit")]
    return Draft(chart.BANK_JOURNAL, day, label, reference, day, balanced(body))


def deposit_retained(*, reference: str, day: date, subscriber: Party, amount: Decimal, place: str,
                     reason: str) -> Draft:
    """What the operator keeps of a deposit (repairs, unpaid sums) becomes its income (758), with the reason."""
    label = f"Dépôt de garantie retenu {subscriber.name} : {reason}"[:200]
    body = [_line(chart.DEPOSITS_RECEIVED, amount, label, aux_number=subscriber.number, aux_label=subscriber.name,
                  place=place, category="deposit"),
            _line(chart.OTHER_INCOME, -amount, label, place=place, category="deposit")]
    return Draft(chart.MISC, day, label, reference, day, balanced(body))


def supplier_bill(*, number: str, day: date, supplier: Party, category: str, place: str, excl_vat: Decimal,
                  vat: Decimal, incl_vat: Decimal) -> Draft:
    """A supplier bill: the expense by category (6xx), the deductible VAT (44566), owed to the supplier (401)."""
    label = f"Facture {supplier.name} {number} {category}"[:200]
    body = [_line(chart.expense_account(category), excl_vat, label, place=place, category=category),
            _line(chart.VAT_DEDUCTIBLE, vat, label, place=place, category=category),
            _line(chart.SUPPLIERS, -incl_vat, label, aux_number=supplier.number, aux_label=supplier.name,
                  place=place, category=category)]
    return Draft(chart.PURCHASES, day, label, number, day, balanced(body))
