"""E-mailing issued invoices and credit notes to the customer's billing addresses: each document once,
retried after a failure, every attempt recorded.

A send is queued in the transaction that issues the document (actions.issue_batch). `send_due`
(run by `cascade tick`) claims each due send with a conditional UPDATE, so two ticks running at once
never both send it; a failure is retried later (15 min, 1 h, 4 h, 12 h), then given up and shown.
A document of a period long past (a catch-up) is not e-mailed by itself: a manager sends it from its
page.
"""

from datetime import date, datetime, timedelta

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from cascade import bulk
from cascade.accounts.audit import record
from cascade.accounts.models import Organisation

from .documents import invoice_pdf
from .models import DocumentKind, Invoice, InvoiceSend, SendStatus

RETRY_AFTER = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(hours=12)]
# A claim older than this is a sender that died: the send may be taken again.
STALE_CLAIM = timedelta(minutes=10)
# Documents dated more than this before the day they are issued are catch-ups, not e-mailed by themselves.
CATCH_UP = timedelta(days=7)
CATCH_UP_NOTE = "catch-up of a past period: send it from the invoice's page"


def recipients(customer: Organisation) -> list[str]:
    """The customer's billing addresses, or its e-mail."""
    addresses = [a.strip() for a in customer.billing_emails.split(",") if a.strip()]
    return addresses or ([customer.email] if customer.email else [])


def queue_many(invoices: list[Invoice], today: date) -> None:
    """Record that the documents are to be e-mailed (or why one will not be, by itself)."""
    bulk.insert(
        InvoiceSend(invoice_id=invoice.pk, status=SendStatus.SKIPPED, last_error=CATCH_UP_NOTE)
        if invoice.issue_date < today - CATCH_UP else InvoiceSend(invoice_id=invoice.pk)
        for invoice in invoices)


def _message(invoice: Invoice, to: list[str]) -> EmailMessage:
    context = {"invoice": invoice, "credit_note": invoice.kind == DocumentKind.CREDIT_NOTE,
               "notice": invoice.kind == DocumentKind.PAYMENT_NOTICE}
    subject = " ".join(render_to_string("billing/email/invoice_subject.txt", context).split())
    message = EmailMessage(subject, render_to_string("billing/email/invoice.txt", context), None, to,
                           reply_to=[invoice.seller["email"]] if invoice.seller.get("email") else None)
    message.attach(f"{invoice.number}.pdf", invoice_pdf(invoice), "application/pdf")
    return message


def _claim(send: InvoiceSend, now: datetime) -> bool:
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - STALE_CLAIM)
    return bool(InvoiceSend.objects.filter(free, pk=send.pk, status=SendStatus.PENDING).update(claimed_at=now))


def send_one(send: InvoiceSend, now: datetime) -> bool:
    """E-mail one claimed document; True when sent."""
    invoice = send.invoice
    to = recipients(invoice.customer)
    if not to:
        InvoiceSend.objects.filter(pk=send.pk).update(status=SendStatus.NO_ADDRESS, claimed_at=None,
                                                      last_error="the customer has no e-mail address")
        record("invoice.not_sent", organisation=invoice.organisation, obj=invoice, number=invoice.number,
               reason="no address")
        return False
    try:
        _message(invoice, to).send()
    except Exception as error:  # whatever the mail server or the network says, the send is retried
        attempts = send.attempts + 1
        given_up = attempts > len(RETRY_AFTER)
        InvoiceSend.objects.filter(pk=send.pk).update(
            attempts=attempts, claimed_at=None, last_error=str(error)[:1000],
            status=SendStatus.FAILED if given_up else SendStatus.PENDING,
            next_attempt_at=None if given_up else now + RETRY_AFTER[attempts - 1])
        record("invoice.send_failed", organisation=invoice.organisation, obj=invoice, number=invoice.number,
               attempt=attempts, error=str(error)[:200], to=to)
        return False
    InvoiceSend.objects.filter(pk=send.pk).update(status=SendStatus.SENT, sent_at=now, recipients=to,
                                                  attempts=send.attempts + 1, claimed_at=None, last_error="")
    record("invoice.sent", organisation=invoice.organisation, obj=invoice, number=invoice.number, to=to)
    return True


def send_due(now: datetime | None = None) -> dict[str, int]:
    """Send every document due to be e-mailed; the counts of what happened."""
    now = now or timezone.now()
    done = {"sent": 0, "send_failed": 0}
    due = InvoiceSend.objects.filter(status=SendStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).select_related(
        "invoice__customer", "invoice__organisation").order_by("pk")
    for send in due:
        if _claim(send, now):
            done["sent" if send_one(send, now) else "send_failed"] += 1
    return done


@transaction.atomic
def send_again(invoice: Invoice, *, acting_user=None) -> None:
    """A manager asks for the document to be e-mailed (again): it goes with the next tick."""
    send, _created = InvoiceSend.objects.select_for_update().get_or_create(invoice=invoice)
    send.status, send.next_attempt_at, send.claimed_at, send.last_error = SendStatus.PENDING, None, None, ""
    send.save(update_fields=["status", "next_attempt_at", "claimed_at", "last_error"])
    record("invoice.send_requested", organisation=invoice.organisation, actor=acting_user, obj=invoice,
           number=invoice.number)
