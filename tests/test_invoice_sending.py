"""Issued invoices are e-mailed by `cascade tick` to the customer's billing addresses, PDF (Factur-X)
attached, through a real SMTP server on loopback: once each, retried after a failure, logged."""

import io
import json
import socket
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader
from test_billing_run import Site

from cascade.accounts.models import AuditEvent
from cascade.billing import sending
from cascade.billing.actions import bill_until
from cascade.billing.models import InvoiceSend, SendStatus


@pytest.fixture
def essai(site, settings, tmp_path):
    """A new operator next to the demo site; the demo is billed up to today first, its invoices left
    unsent (they are the demo's history), so that a pass concerns this operator only."""
    settings.MEDIA_ROOT = tmp_path
    bill_until(timezone.localdate())
    InvoiceSend.objects.filter(status=SendStatus.PENDING).update(status=SendStatus.SKIPPED)
    return Site()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _subscribe(essai, name: str, **contact):
    halle = essai.place("Halle Essai", vat=True, end=date(2027, 6, 30)) if not essai.operator.places.exists() \
        else essai.operator.places.get()
    subscription = essai.subscribe(halle, name, f"R{essai._count + 1}", entry=date(2026, 11, 1), rent="300.00")
    for field, value in contact.items():
        setattr(subscription.subscriber, field, value)
    subscription.subscriber.save()
    return subscription


def test_tick_issues_what_is_due_and_e_mails_it_once(essai, inbox):
    _subscribe(essai, "Atelier Aubépine", email="contact@aubepine.example.org",
               billing_emails="compta@aubepine.example.org, tresorier@aubepine.example.org")
    out = io.StringIO()
    call_command("tick", "--json", stdout=out)
    done = json.loads(out.getvalue())
    # November (a catch-up, dated more than a week ago: not e-mailed by itself) and December.
    assert done["issued"] == 2 and done["sent"] == 1
    # (The demo's managers get their alerts before conventions end: not this test's business.)
    invoices_sent = [(rcpt, m) for rcpt, m in inbox.messages if "aubepine" in rcpt[0]]
    (rcpt, message), = invoices_sent
    assert rcpt == ["compta@aubepine.example.org", "tresorier@aubepine.example.org"]
    december = essai.invoices().get(period_start=date(2026, 12, 1))
    assert message["Subject"].strip() == f"Facture {december.number} — {essai.operator.name}"
    attachment = next(message.iter_attachments())
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    assert attachment.get_filename() == f"{december.number}.pdf" and "factur-x.xml" in reader.attachments
    november = essai.invoices().get(period_start=date(2026, 11, 1))
    assert november.send.status == SendStatus.SKIPPED
    assert december.send.status == SendStatus.SENT and december.send.recipients == rcpt
    assert AuditEvent.objects.filter(action="invoice.sent", object_id=str(december.pk)).count() == 1
    # Again: nothing more is issued nor sent.
    call_command("tick", "--json", stdout=(out := io.StringIO()))
    assert json.loads(out.getvalue()) | {"end_notices": 0} == {
        "issued": 0, "sent": 0, "send_failed": 0, "payment_reminders": 0, "payment_reminders_failed": 0, "reminded": 0,
        "expired": 0, "end_notices": 0, "mandates_lapsed": 0, "prenotifications": 0, "deposits_called": 0, "posted": 0}
    assert len([rcpt for rcpt, _m in inbox.messages if "aubepine" in rcpt[0]]) == 1
    # A manager sends the catch-up from the invoice's page: it goes with the next pass.
    sending.send_again(november)
    assert sending.send_due()["sent"] == 1
    last = inbox.messages[-1][1]["Subject"].strip()
    assert last == f"Facture {november.number} — {essai.operator.name}"


def test_a_failed_send_is_retried_later_then_given_up(essai, inbox, settings):
    _subscribe(essai, "Atelier Aubépine", email="contact@aubepine.example.org")
    call_command("bill", "--until", timezone.localdate().isoformat(), stdout=io.StringIO())
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _closed_port()  # the mail server is down
    now = timezone.now()
    assert sending.send_due(now) == {"sent": 0, "send_failed": 1}
    send = InvoiceSend.objects.get(status=SendStatus.PENDING)
    assert send.attempts == 1 and send.next_attempt_at == now + timedelta(minutes=15) and send.last_error
    assert sending.send_due(now + timedelta(minutes=5)) == {"sent": 0, "send_failed": 0}  # not yet
    for attempt, delay in enumerate([15, 60, 240, 720], start=1):
        now += timedelta(minutes=delay)
        assert sending.send_due(now) == {"sent": 0, "send_failed": 1}, attempt
    send.refresh_from_db()
    assert (send.status, send.attempts) == (SendStatus.FAILED, 5)
    assert AuditEvent.objects.filter(action="invoice.send_failed", object_id=str(send.invoice_id)).count() == 5
    # Asked again once the server is back: sent, once.
    settings.EMAIL_PORT = working_port
    sending.send_again(send.invoice)
    assert sending.send_due(now) == {"sent": 1, "send_failed": 0}
    assert len(inbox.messages) == 1


def test_a_customer_without_address_is_reported_and_a_claimed_send_is_not_taken_twice(essai, inbox):
    subscription = _subscribe(essai, "Sans Adresse")
    call_command("bill", "--until", timezone.localdate().isoformat(), stdout=io.StringIO())
    assert sending.send_due() == {"sent": 0, "send_failed": 1}
    assert InvoiceSend.objects.get(invoice__customer=subscription.subscriber, invoice__period_start=date(2026, 12, 1)
                                   ).status == SendStatus.NO_ADDRESS
    sending.send_again(subscription.invoices.get(period_start=date(2026, 12, 1)))
    send = InvoiceSend.objects.get(status=SendStatus.PENDING)
    now = timezone.now()
    assert sending._claim(send, now) is True
    assert sending._claim(send, now) is False  # another sender running at the same time
    assert sending._claim(send, now + sending.STALE_CLAIM + timedelta(seconds=1)) is True  # the first one died
    assert inbox.messages == []


def test_a_template_with_payment_notices_e_mails_notices_not_invoices(essai, inbox):
    from test_billing_run import _leave_early

    from cascade.billing.models import DocumentKind

    essai.place("Halle Essai", vat=False)  # bare premises let without VAT: no invoice needed
    subscription = _subscribe(essai, "Atelier Aubépine", email="contact@aubepine.example.org")
    subscription.versions.update(payment_notice=True)
    call_command("tick", "--json", stdout=(out := io.StringIO()))
    assert json.loads(out.getvalue())["issued"] == 2
    notices = list(essai.invoices())
    assert [(n.number, n.kind, n.period_start, n.total_incl_vat) for n in notices] == [
        ("E2026-000001", DocumentKind.PAYMENT_NOTICE, date(2026, 11, 1), Decimal("300.00")),
        ("E2026-000002", DocumentKind.PAYMENT_NOTICE, date(2026, 12, 1), Decimal("300.00"))]
    (rcpt, message), = [(rcpt, m) for rcpt, m in inbox.messages if "aubepine" in rcpt[0]]
    assert rcpt == ["contact@aubepine.example.org"]
    assert message["Subject"].strip() == f"Avis d’échéance E2026-000002 — {essai.operator.name}"
    assert "n’est pas une facture" in message.get_body(("plain",)).get_content()
    attachment = next(message.iter_attachments())
    pdf = attachment.get_content()
    assert PdfReader(io.BytesIO(pdf)).attachments == {}  # no Factur-X: a notice is not an invoice
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Avis d’échéance" in text and "DESTINATAIRE" in text and "n’est pas une facture" in text

    # The occupant leaves on 10 December: the days after are given back by a notice in its favour.
    _leave_early(subscription, date(2026, 12, 10))
    subscription.versions.update(payment_notice=True)
    assert bill_until(date(2026, 12, 31), organisation_id=essai.operator.pk).as_dict()["issued"] == 1
    credit = essai.invoices().last()
    # 300.00 for 21 of 31 days: 203.23, no VAT; it lowers December's notice.
    assert (credit.number, credit.kind, credit.total_excl_vat, credit.total_incl_vat, credit.corrects) == (
        "E2026-000003", DocumentKind.PAYMENT_NOTICE, Decimal("-203.23"), Decimal("-203.23"), notices[1])
    assert bill_until(date(2026, 12, 31), organisation_id=essai.operator.pk).as_dict()["issued"] == 0
