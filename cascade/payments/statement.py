"""A customer's account with one organisation (relevé de compte): what it was asked, what it paid, its balance.

The balance is what the documents asked (invoices and payment notices count for their total, credit notes
and notices in the customer's favour against it) minus the payments received: positive, the customer owes
it; negative, it is a credit in its favour. The period is half-open [start, end) like every period here.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from cascade.accounts.models import Organisation
from cascade.billing.models import Invoice

from .models import Means, Payment

ZERO = Decimal("0.00")
LABELS = {"invoice": "Facture", "credit_note": "Avoir", "payment_notice": "Avis d’échéance"}


@dataclass(frozen=True)
class Row:
    day: date
    label: str
    debit: Decimal
    credit: Decimal
    balance: Decimal


@dataclass
class Statement:
    seller: dict
    customer: dict
    start: date
    end: date
    made_on: date
    opening: Decimal
    rows: list[Row] = field(default_factory=list)

    @property
    def debits(self) -> Decimal:
        return sum((r.debit for r in self.rows), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((r.credit for r in self.rows), ZERO)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debits - self.credits


def balance(organisation: Organisation, customer: Organisation, before: date | None = None) -> Decimal:
    """What the customer owes the organisation (negative: a credit), counting what happened before `before`."""
    documents = Invoice.objects.filter(organisation=organisation, customer=customer)
    payments = Payment.objects.filter(organisation=organisation, payer=customer)
    if before is not None:
        documents, payments = documents.filter(issue_date__lt=before), payments.filter(received_on__lt=before)
    asked = documents.aggregate(s=Sum("total_incl_vat"))["s"] or ZERO
    paid = payments.aggregate(s=Sum("amount"))["s"] or ZERO
    # A payment its bank sent back (a direct debit rejected) is owed again from the day of the return.
    returned = Payment.objects.filter(organisation=organisation, payer=customer, returned_on__isnull=False)
    if before is not None:
        returned = returned.filter(returned_on__lt=before)
    return asked - paid + (returned.aggregate(s=Sum("amount"))["s"] or ZERO)


def statement_of(organisation: Organisation, customer: Organisation, start: date, end: date,
                 made_on: date) -> Statement:
    """The customer's account over [start, end)."""
    from cascade.billing.actions import buyer_snapshot, seller_snapshot

    opening = balance(organisation, customer, before=start)
    entries = []
    for document in Invoice.objects.filter(organisation=organisation, customer=customer, issue_date__gte=start,
                                           issue_date__lt=end).order_by("issue_date", "number"):
        total = document.total_incl_vat
        label = f"{LABELS[document.kind]} {document.number}"
        if document.corrects_id:
            label += f" (corrige {document.corrects.number})"
        entries.append((document.issue_date, 0, label, max(total, ZERO), max(-total, ZERO)))
    means = dict(Means.choices)
    for payment in Payment.objects.filter(organisation=organisation, payer=customer, received_on__gte=start,
                                          received_on__lt=end).order_by("received_on", "pk"):
        label = f"Paiement reçu ({means[payment.means]})"
        if payment.reference:
            label += f" — {payment.reference}"
        entries.append((payment.received_on, 1, label, ZERO, payment.amount))
    for payment in Payment.objects.filter(organisation=organisation, payer=customer, returned_on__gte=start,
                                          returned_on__lt=end).order_by("returned_on", "pk"):
        label = f"Paiement rejeté par la banque ({payment.return_reason})" if payment.return_reason else \
            "Paiement rejeté par la banque"
        if payment.reference:
            label += f" — {payment.reference}"
        entries.append((payment.returned_on, 2, label, payment.amount, ZERO))
    statement = Statement(seller_snapshot(organisation), buyer_snapshot(customer), start, end, made_on, opening)
    running = opening
    for day, _order, label, debit, credit in sorted(entries, key=lambda e: (e[0], e[1])):
        running += debit - credit
        statement.rows.append(Row(day, label, debit, credit, running))
    return statement
