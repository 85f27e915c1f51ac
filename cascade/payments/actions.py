"""Recording payments and what they settle. One function per action, atomic and audited."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.models import DocumentKind, Invoice

from .allocation import ZERO, OpenItem, allocate
from .models import Allocation, Means, Payment

# Documents that ask for money; a credit note lowers what the invoice it corrects asks.
PAYABLE = (DocumentKind.INVOICE, DocumentKind.PAYMENT_NOTICE)


class PaymentError(Exception):
    """The payment cannot be recorded as given; the message says why."""


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


def credit_of(organisation: Organisation, payer: Organisation) -> Decimal:
    """What the payer paid and no document took: a credit on its account. A returned payment counts for
    nothing: its money went back."""
    received = Payment.objects.filter(organisation=organisation, payer=payer, returned_on__isnull=True).aggregate(
        s=Sum("amount"))["s"] or ZERO
    allocated = Allocation.objects.filter(payment__organisation=organisation, payment__payer=payer,
                                          payment__returned_on__isnull=True).aggregate(s=Sum("amount"))["s"] or ZERO
    return received - allocated


@transaction.atomic
def record_payment(organisation: Organisation, payer: Organisation, *, amount: Decimal, received_on: date,
                   means: str, reference: str = "", invoices: list[Invoice] = (), source: str = "manual",
                   acting_user=None) -> Payment:
    """Record money received from `payer`: it settles the documents named first, then the oldest open
    ones; what is left stays as a credit on the payer's account."""
    # One allocator at a time per organisation: what is still owed, read below, stays true.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    if means not in Means.values:
        raise PaymentError(_("Unknown means of payment: %(means)s.") % {"means": means})
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise PaymentError(_("A payment is a positive amount in euros and cents, got %(amount)s.") % {"amount": amount})
    if any(i.organisation_id != organisation.pk or i.customer_id != payer.pk for i in invoices):
        raise PaymentError(_("A payment settles only documents its payer received from this organisation."))
    documents = open_documents(organisation, payer, received_on)
    items = [OpenItem(d.pk, d.issue_date, d.number, s.outstanding) for d, s in documents]
    open_ids = {d.pk for d, _s in documents}
    closed = [i.number for i in invoices if i.pk not in open_ids]
    if closed:
        raise PaymentError(_("Nothing is left to pay on %(numbers)s.") % {"numbers": ", ".join(closed)})
    parts, credit = allocate(amount, items, [i.pk for i in invoices])
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
