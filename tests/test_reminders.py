"""Reminders: the dunning plan sends each step once on its day, stops when paid or disputed, keeps the
history on the invoice's page; the formal notice letter claims penalties to the cent and, from a
professional only, the 40 € recovery fee."""

import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader
from test_billing_run import Site

from cascade.accounts.models import AuditEvent, Membership, Organisation, Role
from cascade.billing.actions import bill_until
from cascade.billing.models import Invoice
from cascade.billing.sending import recipients
from cascade.payments.actions import record_payment, settlements
from cascade.payments.models import Allocation, DunningPlan, Payment, Reminder, ReminderStatus
from cascade.payments.reminders import (
    DunningError,
    StepInput,
    dispute,
    ensure_plan,
    lift_dispute,
    send_reminders,
    update_plan,
)
from cascade.subscriptions.models import Subscription, SubscriptionVersion
from conftest import DEMO_DAY
from conftest import body_of as body_with_crlf

D = Decimal
SIRET = "35600000000048"


@pytest.fixture(autouse=True)
def files_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def others_quiet(db):
    """The organisations already there (the demo, when another test built it) are not chased by this test's
    passes: only what the test builds is."""
    DunningPlan.objects.bulk_create(DunningPlan(organisation=o, enabled=False)
                                    for o in Organisation.objects.filter(dunning_plan__isnull=True))


def _essai(*, siret: str = SIRET, email: str = "compta@aubepine.example.org", rent: str = "1000.00") -> Site:
    """Atelier Aubépine owes October: one invoice of `rent` without VAT, due on 31/10/2026."""
    essai = Site()
    essai.operator.iban, essai.operator.email = "FR7630006000011234567890189", "gestion@essai.example.org"
    essai.operator.save()
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 10, 1),
                                   exit=date(2026, 10, 31), rent=rent)
    customer = subscription.subscriber
    customer.siret, customer.email, customer.address = siret, email, "3 rue des Lilas\n93100 Montreuil"
    customer.save()
    bill_until(date(2026, 10, 1), organisation_id=essai.operator.pk)
    essai.customer = customer
    essai.invoice = essai.invoices().get()
    return essai


def _body(message) -> str:
    return body_with_crlf(message).replace("\r\n", "\n")


def _day(invoice, days: int) -> date:
    return invoice.due_date + timedelta(days=days)


def pdf_text(pdf: bytes) -> str:
    """The PDF's text read back (pypdf: poppler's pdftotext is not on every machine), spaces made plain."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def test_the_plan_sends_each_step_once_on_its_day(others_quiet, inbox, tmp_path):
    essai = _essai()
    invoice = essai.invoice
    assert (invoice.number, invoice.due_date, invoice.total_incl_vat) == ("F2026-000001", date(2026, 10, 31),
                                                                         D("1000.00"))
    # Before day 7 nothing; the default plan is created for the operator on the first pass.
    assert send_reminders(_day(invoice, 6)) == {"payment_reminders": 0, "payment_reminders_failed": 0}
    plan = DunningPlan.objects.get(organisation=essai.operator)
    assert [(s.days, s.kind) for s in plan.steps.all()] == [(7, "friendly"), (21, "formal"), (45, "letter")]

    sent_on = {}
    for days in range(7, 80):
        if send_reminders(_day(invoice, days))["payment_reminders"]:
            sent_on[days] = inbox.messages[-1]
    assert list(sent_on) == [7, 21, 45]
    assert [rcpt for rcpt, _m in inbox.messages] == [["compta@aubepine.example.org"]] * 3

    friendly, formal, letter = (sent_on[d][1] for d in (7, 21, 45))
    assert friendly["Subject"] == "Relance : F2026-000001"
    assert ("il reste 1\u202f000,00\u00a0€ à régler :\n– F2026-000001 du 01/10/2026, échue le 31/10/2026 : "
            "1\u202f000,00\u00a0€ restant dus\n") in _body(friendly)
    assert "FR7630006000011234567890189" in _body(friendly)
    assert friendly["Reply-To"] == "gestion@essai.example.org"
    assert list(friendly.iter_attachments()) == []
    assert formal["Subject"] == "Deuxième relance : F2026-000001"
    assert "Malgré notre relance, 1\u202f000,00\u00a0€ restent impayés :" in _body(formal)

    # Day 45: 1000.00 × 12.15 % × 45 / 365 = 14.979… → 14.98 €, and the 40 € fee: 1 054,98 € claimed.
    assert letter["Subject"] == "Mise en demeure de payer : F2026-000001"
    assert "mise en demeure de payer 1\u202f054,98\u00a0€" in _body(letter)
    attachment, = letter.iter_attachments()
    assert attachment.get_filename() == "mise-en-demeure-2026-12-15.pdf"
    text = pdf_text(attachment.get_content())
    assert "Mise en demeure de payer — F2026-000001" in text
    assert "Facture F2026-000001 du 01/10/2026 31/10/2026 1 000,00 € 1 000,00 € 45 14,98 € 40,00 €" in text
    assert "Total réclamé : 1 054,98 €" in text
    assert "au taux de 12,15 % l’an" in text

    history = list(Reminder.objects.filter(invoice=invoice).order_by("days"))
    assert [(r.days, r.day, r.days_late, r.status, r.outstanding, r.penalties, r.recovery_fee) for r in history] == [
        (7, date(2026, 11, 7), 7, "sent", D("1000.00"), D("2.33"), D("40.00")),
        (21, date(2026, 11, 21), 21, "sent", D("1000.00"), D("6.99"), D("40.00")),
        (45, date(2026, 12, 15), 45, "sent", D("1000.00"), D("14.98"), D("40.00"))]
    assert AuditEvent.objects.filter(action="invoice.reminded", object_id=str(invoice.pk)).count() == 3


def test_a_paid_invoice_is_not_chased_and_a_partly_paid_one_for_what_is_left(others_quiet, inbox):
    essai = _essai()
    invoice = essai.invoice
    send_reminders(_day(invoice, 7))
    record_payment(essai.operator, essai.customer, amount=D("400.00"), received_on=_day(invoice, 10),
                   means="transfer")
    send_reminders(_day(invoice, 21))
    assert Reminder.objects.get(invoice=invoice, days=21).outstanding == D("600.00")
    assert "600,00\u00a0€ restent impayés" in _body(inbox.messages[-1][1])

    record_payment(essai.operator, essai.customer, amount=D("600.00"), received_on=_day(invoice, 30),
                   means="cheque")
    for days in range(30, 100, 5):
        assert send_reminders(_day(invoice, days))["payment_reminders"] == 0
    assert list(Reminder.objects.filter(invoice=invoice).values_list("days", flat=True)) == [7, 21]
    assert len(inbox.messages) == 2


def test_reminders_stop_while_disputed_and_resume_with_the_step_due(others_quiet, inbox):
    essai = _essai()
    invoice = essai.invoice
    alice = get_user_model().objects.create_user("alice@essai.example.org", "alice@essai.example.org", "x")
    send_reminders(_day(invoice, 7))
    found = dispute(invoice, reason="Les travaux promis ne sont pas faits", acting_user=alice)
    with pytest.raises(DunningError, match="F2026-000001 est déjà contestée"):
        dispute(invoice, reason="encore", acting_user=alice)
    lift_dispute(invoice, acting_user=alice)
    with pytest.raises(DunningError, match="F2026-000001 n’est pas contestée"):
        lift_dispute(invoice, acting_user=alice)
    with pytest.raises(DunningError, match="Dites pourquoi le document est contesté"):
        dispute(invoice, reason=" ", acting_user=alice)
    dispute(invoice, reason="Les travaux promis ne sont pas faits", acting_user=alice)
    for days in range(8, 50):
        assert send_reminders(_day(invoice, days))["payment_reminders"] == 0
    # Lifted on day 50: the letter (the latest step that applies) goes, not the formal e-mail skipped.
    lift_dispute(invoice, acting_user=alice)
    assert send_reminders(_day(invoice, 50))["payment_reminders"] == 1
    assert list(Reminder.objects.filter(invoice=invoice).values_list("days", flat=True)) == [7, 45]
    assert Reminder.objects.get(invoice=invoice, days=45).penalties == D("16.64")  # 1000 × 12.15 % × 50/365
    actions = list(AuditEvent.objects.filter(object_id=str(invoice.pk), action__startswith="invoice.dis")
                   .order_by("pk").values_list("action", "actor__email"))
    assert actions == [("invoice.disputed", alice.email), ("invoice.dispute_lifted", alice.email),
                       ("invoice.disputed", alice.email), ("invoice.dispute_lifted", alice.email)]
    assert found.reason == "Les travaux promis ne sont pas faits"


def test_a_customer_late_on_several_documents_gets_one_message_and_one_letter(others_quiet, inbox):
    essai = _essai()
    second = essai.subscribe(essai.invoice.place, "Atelier Aubépine (bis)", "A2", entry=date(2026, 11, 1),
                             exit=date(2026, 11, 30), rent="500.00")
    Subscription.objects.filter(pk=second.pk).update(subscriber=essai.customer)
    bill_until(date(2026, 11, 1), organisation_id=essai.operator.pk)
    _october, november = essai.invoices()
    assert (november.number, november.due_date) == ("F2026-000002", date(2026, 12, 1))
    # On 15/01/2027 October is 76 days late, November 45: both due the letter, in one message.
    assert send_reminders(date(2027, 1, 15)) == {"payment_reminders": 1, "payment_reminders_failed": 0}
    (_rcpt, message), = inbox.messages
    assert " ".join(message["Subject"].split()) == "Mise en demeure de payer : F2026-000001, F2026-000002"
    assert "1\u202f500,00\u00a0€ restent impayés" in _body(message)
    attachment, = message.iter_attachments()
    text = pdf_text(attachment.get_content())
    # 1000 × 12.15 % × 76 / 365 = 25.298… → 25.30; 500 × 12.15 % × 45 / 365 = 7.489… → 7.49; 2 × 40 €.
    assert "Totaux 1 500,00 € 32,79 € 80,00 €" in text and "Total réclamé : 1 612,79 €" in text
    history = Reminder.objects.order_by("invoice__number")
    assert [(r.invoice.number, r.days, r.days_late, r.penalties) for r in history] == [
        ("F2026-000001", 45, 76, D("25.30")), ("F2026-000002", 45, 45, D("7.49"))]


def test_an_invoice_found_long_overdue_gets_only_the_latest_step(others_quiet, inbox):
    essai = _essai()
    assert send_reminders(_day(essai.invoice, 200)) == {"payment_reminders": 1, "payment_reminders_failed": 0}
    assert list(Reminder.objects.values_list("days", flat=True)) == [45]
    assert send_reminders(_day(essai.invoice, 201))["payment_reminders"] == 0


def test_a_consumer_owes_neither_the_commercial_penalties_nor_the_40_euro_fee(others_quiet, inbox, tmp_path):
    """A buyer without SIREN or SIRET is a consumer: L441-10 and D441-5 are rules between professionals."""
    essai = _essai(siret="")
    send_reminders(_day(essai.invoice, 45))
    reminder = Reminder.objects.get()
    assert (reminder.penalties, reminder.recovery_fee, reminder.amount_claimed) == (D("0.00"), D("0.00"),
                                                                                   D("1000.00"))
    attachment, = inbox.messages[-1][1].iter_attachments()
    text = pdf_text(attachment.get_content())
    assert "40,00" not in text and "Indemnité forfaitaire" not in text
    assert "intérêts au taux légal à compter de la présente" in text


def test_credit_notes_are_never_chased_and_payment_notices_are(others_quiet, inbox):
    from cascade.billing.actions import cancel_invoice

    essai = _essai()
    cancel_invoice(essai.invoice, reason="erreur")
    assert send_reminders(_day(essai.invoice, 45))["payment_reminders"] == 0
    assert not Reminder.objects.exists()

    # A rent called by payment notices: the notice is chased like an invoice.
    notices = Site("Bailleur Essai", "bailleur-essai")
    subscription = notices.subscribe(notices.place("Maison", vat=False), "Jeanne Martin", "M1",
                                     entry=date(2026, 10, 1), exit=date(2026, 10, 31), rent="450.00")
    SubscriptionVersion.objects.filter(subscription=subscription).update(payment_notice=True)
    Organisation.objects.filter(pk=subscription.subscriber_id).update(email="jeanne@example.org")
    bill_until(date(2026, 10, 1), organisation_id=notices.operator.pk)
    notice = notices.invoices().get()
    assert (notice.kind, notice.number) == ("payment_notice", "E2026-000001")
    assert send_reminders(_day(notice, 7))["payment_reminders"] == 1
    body = _body(inbox.only("jeanne@example.org"))
    assert "– E2026-000001 du 01/10/2026, échue le 31/10/2026 : 450,00\u00a0€ restant dus" in body
    assert "IBAN" not in body  # the seller has none: the line is left out


def test_without_address_the_reminder_is_shown_not_sent(others_quiet, inbox):
    essai = _essai(email="")
    assert send_reminders(_day(essai.invoice, 7)) == {"payment_reminders": 0, "payment_reminders_failed": 1}
    assert Reminder.objects.get().status == ReminderStatus.NO_ADDRESS
    assert inbox.messages == []


def test_the_tick_sends_the_reminders(others_quiet, inbox):
    essai = _essai()
    out = io.StringIO()
    call_command("tick", "--today", _day(essai.invoice, 7).isoformat(), "--json", stdout=out)
    done = json.loads(out.getvalue())
    assert (done["payment_reminders"], done["payment_reminders_failed"]) == (1, 0)


def test_a_manager_edits_the_plan(others_quiet):
    essai = _essai()
    plan = ensure_plan(essai.operator)
    with pytest.raises(DunningError) as error:
        update_plan(essai.operator, enabled=True, late_penalty_rate=D("12.15"), steps=[
            StepInput(10, "friendly", "Relance {numero}", "Bonjour"), StepInput(10, "formal", "X", "Y")])
    assert str(error.value) == ("étape 1 : variable inconnue {numero} (connues : {number}, {documents}, {customer}, "
                                "{seller}, {issue_date}, {due_date}, {total}, {outstanding}, {days_late}, {penalties}, "
                                "{recovery_fee}, {amount_claimed}, {iban}) — deux étapes le même jour")
    assert plan.steps.count() == 3
    update_plan(essai.operator, enabled=True, late_penalty_rate=D("10.00"), steps=[
        StepInput(30, "letter", "Mise en demeure {number}", "Voir la lettre : {amount_claimed}")])
    send_reminders(_day(essai.invoice, 30))
    # 1000 × 10 % × 30 / 365 = 8.219… → 8.22 €
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.penalties, reminder.body) == ("letter", D("8.22"),
                                                                  "Voir la lettre : 1\u202f048,22\u00a0€")


def test_the_invoice_page_shows_the_history_and_the_letter(site, others_quiet, inbox, alice_client):
    essai = _essai()
    Membership.objects.create(user=site["alice"], organisation=essai.operator, role=Role.MANAGER)
    send_reminders(_day(essai.invoice, 7))
    send_reminders(_day(essai.invoice, 45))
    page = alice_client.get(reverse("invoice", args=[essai.invoice.pk])).content.decode()
    assert "Relances" in page and "07/11/2026" in page and "15/12/2026" in page
    letter = Reminder.objects.get(invoice=essai.invoice, days=45)
    assert reverse("reminder_pdf", args=[letter.pk]) in page
    response = alice_client.get(reverse("reminder_pdf", args=[letter.pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")

    response = alice_client.post(reverse("invoice_dispute", args=[essai.invoice.pk]),
                                 {"reason": "Montant contesté"}, follow=True)
    assert "Contestée" in response.content.decode() and "Montant contesté" in response.content.decode()
    response = alice_client.post(reverse("invoice_dispute", args=[essai.invoice.pk]), {"lift": "1"}, follow=True)
    assert "La contestation est levée : les relances reprennent" in response.content.decode()


def test_on_the_demo_the_tick_chases_what_is_unpaid_and_only_that(site, inbox):
    """Issue 5's done-when: after billing, the reminders go out for what is unpaid (`cascade tick`)."""
    operator = site["operator"]
    invoices = list(Invoice.objects.filter(organisation=operator).select_related("customer"))
    # The demo's history is paid but by two late payers (and a direct debit returned in November).
    open_ = settlements(invoices, DEMO_DAY)
    late = [i for i in invoices if i.due_date <= DEMO_DAY - timedelta(days=7) and i.pk in open_
            and open_[i.pk].outstanding > 0]
    assert len({i.customer_id for i in late}) == 2
    payer = late[0].customer
    for invoice in [i for i in late if i.customer_id == payer.pk]:
        record_payment(operator, payer, amount=open_[invoice.pk].outstanding, received_on=DEMO_DAY,
                       means="transfer", invoices=[invoice])
    chased = {i.customer_id for i in late if i.customer_id != payer.pk}
    with_address = {c.pk for c in Organisation.objects.filter(pk__in=chased) if recipients(c)}

    out = io.StringIO()
    call_command("tick", "--today", DEMO_DAY.isoformat(), "--json", stdout=out)
    done = json.loads(out.getvalue())
    # One message per customer and step: a customer late on several months gets one for its documents due the
    # letter, one for those due the formal e-mail…
    messages = {(r.invoice.customer_id, r.days) for r in Reminder.objects.select_related("invoice")}
    assert (done["payment_reminders"], done["payment_reminders_failed"]) == (
        len([m for m in messages if m[0] in with_address]), len([m for m in messages if m[0] not in with_address]))
    subjects = ("Relance : ", "Deuxième relance : ", "Mise en demeure de payer : ")
    assert len([m for _r, m in inbox.messages if m["Subject"].startswith(subjects)]) == done["payment_reminders"]
    assert {customer for customer, _days in messages} == chased
    assert not Reminder.objects.filter(invoice__customer=payer).exists()
    assert Reminder.objects.count() == len([i for i in late if i.customer_id != payer.pk])
    reminded = {rcpt for rcpts, _m in inbox.messages for rcpt in rcpts}
    assert not reminded & set(recipients(payer))
    # Again the same day: nothing more.
    call_command("tick", "--today", DEMO_DAY.isoformat(), "--json", stdout=(out := io.StringIO()))
    assert json.loads(out.getvalue())["payment_reminders"] == 0


def test_the_plan_page(db, client):
    essai = _essai()
    manager = get_user_model().objects.create_user("gestion@essai.example.org", "gestion@essai.example.org", "x")
    Membership.objects.create(user=manager, organisation=essai.operator, role=Role.MANAGER)
    client.force_login(manager)
    url = reverse("dunning_plan", args=[essai.operator.pk])
    page = client.get(url).content.decode()
    assert "Relances — Tiers-Lieu Essai" in page and 'value="45"' in page and "{amount_claimed}" in page
    form = {"rows": "3", "enabled": "1", "late_penalty_rate": "12,40",
            "days_1": "10", "kind_1": "friendly", "subject_1": "Relance {number}", "body_1": "Reste {outstanding}",
            "days_2": "40", "kind_2": "letter", "subject_2": "Mise en demeure {number}", "body_2": "{montant}",
            "days_3": ""}
    page = client.post(url, form, follow=True).content.decode()
    assert "étape 2 : variable inconnue {montant}" in page
    assert list(DunningPlan.objects.get(organisation=essai.operator).steps.values_list("days", flat=True)) == [
        7, 21, 45]
    form["body_2"] = "Voir la lettre jointe : {amount_claimed}"
    page = client.post(url, form, follow=True).content.decode()
    assert "Le plan de relance est enregistré." in page
    plan = DunningPlan.objects.get(organisation=essai.operator)
    assert plan.late_penalty_rate == D("12.40")
    assert list(plan.steps.values_list("days", "kind")) == [(10, "friendly"), (40, "letter")]
    assert AuditEvent.objects.filter(action="dunning.plan_updated", actor=manager).count() == 1


def test_recording_the_reminders_due_takes_a_few_queries_whatever_the_number_of_documents(site):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cascade.payments.reminders import ensure_plans, record_due

    # The demo as if nobody had paid anything but October's direct debit.
    Allocation.objects.filter(payment__source="import").delete()
    Payment.objects.filter(source="import").delete()
    ensure_plans()
    with CaptureQueriesContext(connection) as queries:
        recorded = record_due(DEMO_DAY)
    # 1 959 documents of the demo: a handful of queries per 500 documents, not one per document.
    assert recorded == Invoice.objects.filter(due_date__lte=DEMO_DAY - timedelta(days=7)).count() - 1 == 1959
    assert len(queries) <= 60
