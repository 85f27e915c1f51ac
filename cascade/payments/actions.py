"""Recording payments and what they settle. One function per action, atomic and audited."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.formatting import format_eur
from cascade.billing.models import DocumentKind, Invoice

from .allocation import ZERO, OpenItem, allocate
from .models import Allocation, Means, Payment

# Documents that ask for money; a credit note lowers what the invoice it corrects asks.
PAYABLE = (DocumentKind.INVOICE, DocumentKind.PAYMENT_NOTICE)


class PaymentError(Exception):
    """The payment cannot be recorded as given; the message says why."""


# What an amount column holds (max_digits=14, two decimals): beyond, PostgreSQL refuses it and SQLite
# stores it wrong.
MAX_AMOUNT = Decimal("999999999999.99")


def check_amount(amount: Decimal) -> Decimal:
    """`amount`, or PaymentError when it is beyond what an amount column holds."""
    if abs(amount) > MAX_AMOUNT:
        raise PaymentError(_("%(amount)s is too large: an amount is at most %(max)s.") % {
            "amount": format_eur(amount), "max": format_eur(MAX_AMOUNT)})
    return amount


EARLIEST = date(2000, 1, 1)


def check_received_on(received_on: date, today: date) -> date:
    """`received_on`, or PaymentError when a payment cannot have been received that day (after today,
    or before 2000: a mistyped year)."""
    if received_on > today:
        raise PaymentError(_("The payment date %(day)s is in the future: record a payment once received.") % {
            "day": received_on.strftime("%d/%m/%Y")})
    if received_on < EARLIEST:
        raise PaymentError(_("The payment date %(day)s is before 2000: check the year.") % {
            "day": received_on.strftime("%d/%m/%Y")})
    return received_on


@dataclass(frozen=True)
class Settlement:
    """What a document asks, what settled it, what it still asks, and its state on a day."""

    total: Decimal
    paid: Decimal
    credited: Decimal
    outstanding: Decimal
    state: str


STATES = {"issued": gettext_lazy("issued"), "partly_paid": gettext_lazy("partly paid"), "paid": gettext_lazy("paid"),
          "overdue": gettext_lazy("overdue")}


def settlements(invoices: list[Invoice], today: date) -> dict[int, Settlement]:
    """Each payable document's settlement, read from its payer's whole account with the organisation.

    A document asks its total less the credit notes (or notices in the occupant's favour) naming it. Each
    payment settles first the documents its allocations name, never more than its amount nor more than a
    document still asks; a returned payment (a direct debit the payer's bank sent back) settles nothing.
    What is left (money not taken, credit notes beyond what their document asked or naming none) is the
    payer's credit, which settles its open documents oldest first. So what the documents still ask, less
    the credit, is always the account's balance."""
    pairs = {(i.organisation_id, i.customer_id) for i in invoices}
    found: dict[int, Settlement] = {}
    for account in _accounts(pairs, today).values():
        found.update(account.settlements)
    return {i.pk: found[i.pk] for i in invoices if i.pk in found}


@dataclass
class _Account:
    settlements: dict[int, Settlement]
    credit: Decimal


def _accounts(pairs: set[tuple[int, int]], today: date) -> dict[tuple[int, int], _Account]:
    """The accounts of these (organisation, customer) pairs: a few queries whatever their number."""
    if not pairs:
        return {}
    organisations, customers = {o for o, _c in pairs}, {c for _o, c in pairs}
    documents = defaultdict(list)
    for document in Invoice.objects.filter(organisation_id__in=organisations, customer_id__in=customers).only(
            "pk", "organisation_id", "customer_id", "kind", "total_incl_vat", "corrects_id", "issue_date",
            "number", "due_date").order_by("issue_date", "number"):
        if (document.organisation_id, document.customer_id) in pairs:
            documents[(document.organisation_id, document.customer_id)].append(document)
    payments = defaultdict(dict)
    for pk, organisation_id, payer_id, amount in Payment.objects.filter(
            organisation_id__in=organisations, payer_id__in=customers, returned_on__isnull=True).values_list(
            "pk", "organisation_id", "payer_id", "amount"):
        if (organisation_id, payer_id) in pairs:
            payments[(organisation_id, payer_id)][pk] = amount
    held = {pk: amount for by_payment in payments.values() for pk, amount in by_payment.items()}
    allocations = defaultdict(list)
    for payment_id, invoice_id, amount, organisation_id, payer_id in Allocation.objects.filter(
            payment_id__in=held).order_by("pk").values_list("payment_id", "invoice_id", "amount",
                                                           "payment__organisation_id", "payment__payer_id"):
        allocations[(organisation_id, payer_id)].append((payment_id, invoice_id, amount))
    return {pair: _account(documents[pair], payments[pair], allocations[pair], today) for pair in pairs}


def _account(documents: list[Invoice], payments: dict[int, Decimal], allocations: list[tuple], today: date
             ) -> _Account:
    payable = [d for d in documents if d.kind in PAYABLE and d.total_incl_vat > 0]
    ids = {d.pk for d in payable}
    credited: dict[int, Decimal] = defaultdict(lambda: ZERO)
    pool = ZERO  # what the payer has to its credit
    for document in documents:
        if document.total_incl_vat < 0:
            if document.corrects_id in ids:
                credited[document.corrects_id] -= document.total_incl_vat
            else:
                pool -= document.total_incl_vat
    asks = {}
    for document in payable:
        asks[document.pk] = document.total_incl_vat - credited[document.pk]
        if asks[document.pk] < 0:
            pool -= asks[document.pk]  # credit notes beyond what the document asked
            asks[document.pk] = ZERO
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    left = dict(payments)
    for payment_id, invoice_id, amount in allocations:
        if invoice_id not in asks:
            continue
        taken = min(amount, asks[invoice_id], left[payment_id])
        asks[invoice_id] -= taken
        left[payment_id] -= taken
        paid[invoice_id] += taken
    pool += sum(left.values(), ZERO)
    for document in payable:
        taken = min(pool, asks[document.pk])
        asks[document.pk] -= taken
        paid[document.pk] += taken
        pool -= taken
    found = {}
    for document in payable:
        outstanding = asks[document.pk]
        if outstanding == 0:
            state = "paid"
        elif document.due_date < today:
            state = "overdue"
        else:
            state = "partly_paid" if paid[document.pk] > 0 else "issued"
        found[document.pk] = Settlement(document.total_incl_vat, paid[document.pk], credited[document.pk],
                                        outstanding, state)
    return _Account(found, pool)


def open_documents(organisation: Organisation, payer: Organisation, today: date) -> list[tuple[Invoice, Settlement]]:
    """The payer's documents from `organisation` with something still to pay, oldest first."""
    documents = list(Invoice.objects.filter(organisation=organisation, customer=payer, kind__in=PAYABLE,
                                            total_incl_vat__gt=0).order_by("issue_date", "number"))
    found = settlements(documents, today)
    return [(d, found[d.pk]) for d in documents if found[d.pk].outstanding > 0]


def credit_of(organisation: Organisation, payer: Organisation) -> Decimal:
    """What the payer has to its credit once its open documents are settled: money no document took,
    credit notes beyond what their document asked."""
    return _accounts({(organisation.pk, payer.pk)}, timezone.localdate())[(organisation.pk, payer.pk)].credit


@transaction.atomic
def record_payment(organisation: Organisation, payer: Organisation, *, amount: Decimal, received_on: date,
                   means: str, reference: str = "", invoices: list[Invoice] = (), source: str = "manual",
                   allow_credit: bool = False, acting_user=None) -> Payment:
    """Record money received from `payer`: it settles the documents named first, then the oldest open
    ones; what is left stays as a credit on the payer's account, only if `allow_credit` (a payment larger
    than all the payer owes is otherwise refused: more often a typo than an advance)."""
    # One allocator at a time per organisation: what is still owed, read below, stays true.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    if means not in Means.values:
        raise PaymentError(_("Unknown means of payment: %(means)s.") % {"means": means})
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise PaymentError(_("A payment is a positive amount in euros and cents, got %(amount)s.") % {"amount": amount})
    check_amount(amount)
    if any(i.organisation_id != organisation.pk or i.customer_id != payer.pk for i in invoices):
        raise PaymentError(_("A payment settles only documents its payer received from this organisation."))
    documents = open_documents(organisation, payer, received_on)
    items = [OpenItem(d.pk, d.issue_date, d.number, s.outstanding) for d, s in documents]
    open_ids = {d.pk for d, _s in documents}
    closed = [i.number for i in invoices if i.pk not in open_ids]
    if closed:
        raise PaymentError(_("Nothing is left to pay on %(numbers)s.") % {"numbers": ", ".join(closed)})
    parts, credit = allocate(amount, items, [i.pk for i in invoices])
    if credit > 0 and not allow_credit:
        raise PaymentError(_("%(amount)s exceeds the %(owed)s that %(payer)s still owes: check the amount, or keep "
                             "the rest as a credit.") % {
            "amount": format_eur(amount), "owed": format_eur(amount - credit), "payer": payer.name})
    payment = Payment.objects.create(organisation=organisation, payer=payer, amount=amount, received_on=received_on,
                                     means=means, reference=reference.strip()[:140], source=source,
                                     recorded_by=acting_user if getattr(acting_user, "is_authenticated", False)
                                     else None)
    Allocation.objects.bulk_create(Allocation(payment=payment, invoice_id=key, amount=part) for key, part in parts)
    numbers = {d.pk: d.number for d, _s in documents}
    record("payment.recorded", organisation=organisation, actor=acting_user, obj=payment, amount=str(amount),
           payer=payer.name, means=means, settles={numbers[k]: str(p) for k, p in parts}, credit=str(credit))
    return payment



@transaction.atomic
def reverse_payment(payment: Payment, *, on: date, reason: str, acting_user=None) -> Payment:
    """The payer's bank returned or rejected this direct debit on `on`: the documents it settled are
    open again (overdue when their due date is past), and its amount is no longer a credit."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.returned_on is not None:
        raise PaymentError(_("This payment was already returned on %(day)s.") % {"day": payment.returned_on})
    if on < payment.received_on:
        raise PaymentError(_("A payment cannot come back before it was received (%(day)s).") % {
            "day": payment.received_on})
    payment.returned_on, payment.return_reason = on, reason.strip()[:140]
    payment.save(update_fields=["returned_on", "return_reason"])
    record("payment.returned", organisation=payment.organisation, actor=acting_user, obj=payment,
           amount=str(payment.amount), payer=payment.payer.name, reference=payment.reference, returned_on=str(on),
           reason=payment.return_reason,
           reopens=[a.invoice.number for a in payment.allocations.select_related("invoice")])
    return payment
