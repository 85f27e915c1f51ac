"""Recording payments and what they settle. One function per action, atomic and audited."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
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
    """Each payable document's settlement (paid by allocations, credited by the credit notes naming it).

    The allocations of a returned payment (a direct debit the payer's bank sent back) settle nothing."""
    ids = [i.pk for i in invoices]
    paid = dict(Allocation.objects.filter(invoice_id__in=ids, payment__returned_on__isnull=True).values("invoice_id")
                .annotate(s=Sum("amount")).values_list("invoice_id", "s"))
    # Credit notes, and the notices in the occupant's favour that cancel a notice.
    credited = dict(Invoice.objects.filter(corrects_id__in=ids, total_incl_vat__lt=0).values(
        "corrects_id").annotate(s=Sum("total_incl_vat")).values_list("corrects_id", "s"))
    found = {}
    for invoice in invoices:
        if invoice.kind not in PAYABLE or invoice.total_incl_vat <= 0:
            continue
        p, c = paid.get(invoice.pk) or ZERO, -(credited.get(invoice.pk) or ZERO)
        outstanding = max(invoice.total_incl_vat - p - c, ZERO)
        if outstanding == 0:
            state = "paid"
        elif invoice.due_date < today:
            state = "overdue"
        else:
            state = "partly_paid" if p > 0 else "issued"
        found[invoice.pk] = Settlement(invoice.total_incl_vat, p, c, outstanding, state)
    return found


def open_documents(organisation: Organisation, payer: Organisation, today: date) -> list[tuple[Invoice, Settlement]]:
    """The payer's documents from `organisation` with something still to pay, oldest first."""
    documents = list(Invoice.objects.filter(organisation=organisation, customer=payer, kind__in=PAYABLE,
                                            total_incl_vat__gt=0).order_by("issue_date", "number"))
    found = settlements(documents, today)
    return [(d, found[d.pk]) for d in documents if found[d.pk].outstanding > 0]


def held_credits(organisation: Organisation, payer: Organisation) -> dict[Payment, Decimal]:
    """What each of the payer's payments still holds, oldest first: its amount less what documents took.

    A document takes at most what it still asks (its total less its credit notes): what its allocations
    paid beyond (an invoice paid, then cancelled by a credit note) is again the payer's credit, held by
    the latest allocations. A returned payment holds nothing: its money went back."""
    payments = list(Payment.objects.filter(organisation=organisation, payer=payer, returned_on__isnull=True)
                    .order_by("received_on", "pk"))
    held = {p.pk: p.amount for p in payments}
    allocations = list(Allocation.objects.filter(payment_id__in=held).select_related("invoice").order_by("pk"))
    credited = dict(Invoice.objects.filter(corrects_id__in={a.invoice_id for a in allocations},
                                           total_incl_vat__lt=0).values("corrects_id")
                    .annotate(s=Sum("total_incl_vat")).values_list("corrects_id", "s"))
    asks = {a.invoice_id: max(a.invoice.total_incl_vat + (credited.get(a.invoice_id) or ZERO), ZERO)
            for a in allocations}
    for allocation in allocations:
        taken = min(allocation.amount, asks[allocation.invoice_id])
        asks[allocation.invoice_id] -= taken
        held[allocation.payment_id] -= taken
    return {p: held[p.pk] for p in payments if held[p.pk] > 0}


def credit_of(organisation: Organisation, payer: Organisation) -> Decimal:
    """What the payer paid and no document took: a credit on its account (held_credits)."""
    return sum(held_credits(organisation, payer).values(), ZERO)


def owed_by(organisation: Organisation, payer: Organisation, today: date) -> Decimal:
    """What the payer still owes `organisation`: the outstanding of its open documents."""
    return sum((s.outstanding for _d, s in open_documents(organisation, payer, today)), ZERO)


@transaction.atomic
def apply_credits(organisation: Organisation | None = None, *, payer: Organisation | None = None,
                  today: date | None = None, acting_user=None) -> int:
    """Each payer's credit settles its open documents, oldest first, from its oldest payments that still
    hold some (new allocations, audited); the number of allocations made. Run by `cascade tick` before
    the reminders, and when an invoice is cancelled, so that no one is chased for what a credit covers."""
    today = today or timezone.localdate()
    payments = Payment.objects.filter(returned_on__isnull=True)
    if organisation is not None:
        payments = payments.filter(organisation=organisation)
    if payer is not None:
        payments = payments.filter(payer=payer)
    made = 0
    pairs = sorted(set(payments.values_list("organisation_id", "payer_id")))
    organisations = Organisation.objects.in_bulk({o for o, _p in pairs} | {p for _o, p in pairs})
    for organisation_id, payer_id in pairs:
        seller, payer = organisations[organisation_id], organisations[payer_id]
        Organisation.objects.select_for_update().filter(pk=organisation_id).exists()
        held = held_credits(seller, payer)
        if not held:
            continue
        documents = open_documents(seller, payer, today)
        if not documents:
            continue
        items = [OpenItem(d.pk, d.issue_date, d.number, s.outstanding) for d, s in documents]
        numbers = {d.pk: d.number for d, _s in documents}
        for payment, amount in held.items():
            parts, _left = allocate(amount, items)
            if not parts:
                break
            Allocation.objects.bulk_create(Allocation(payment=payment, invoice_id=key, amount=part)
                                           for key, part in parts)
            made += len(parts)
            taken = dict(parts)
            items = [OpenItem(i.key, i.issue_date, i.number, i.outstanding - taken.get(i.key, ZERO)) for i in items
                     if i.outstanding > taken.get(i.key, ZERO)]
            record("payment.credit_applied", organisation=seller, actor=acting_user, obj=payment,
                   payer=payer.name, settles={numbers[k]: str(p) for k, p in parts})
            if not items:
                break
    return made


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
