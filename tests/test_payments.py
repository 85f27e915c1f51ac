"""Payments: recorded by hand or imported, they settle the documents named then the oldest; the rest is a
credit; each document shows its state (issued, partly paid, paid, overdue)."""

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from test_billing_run import Site

from cascade.billing.actions import bill_until
from cascade.payments.actions import PaymentError, credit_of, record_payment, settlements
from cascade.payments.models import Allocation, Payment
from cascade.subscriptions.models import Subscription

D = Decimal


@pytest.fixture
def two_invoices(db):
    """Atelier Aubépine owes October (310.00) and November (250.00), bare premises without VAT."""
    essai = Site()
    halle = essai.place("Halle Essai", vat=False)
    october = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 10, 1), exit=date(2026, 10, 31),
                              rent="310.00")
    november = essai.subscribe(halle, "Atelier Aubépine (bis)", "A2", entry=date(2026, 11, 1),
                               exit=date(2026, 11, 30), rent="250.00")
    Subscription.objects.filter(pk=november.pk).update(subscriber=october.subscriber)
    bill_until(date(2026, 11, 1), organisation_id=essai.operator.pk)
    essai.payer = october.subscriber
    return essai


def test_a_transfer_quoting_nothing_settles_the_older_invoice_then_the_younger(two_invoices):
    essai = two_invoices
    older, younger = essai.invoices()
    assert (older.total_incl_vat, younger.total_incl_vat) == (D("310.00"), D("250.00"))
    record_payment(essai.operator, essai.payer, amount=D("500.00"), received_on=date(2026, 11, 5), means="transfer")
    states = settlements([older, younger], today=date(2026, 11, 5))
    assert (states[older.pk].state, states[older.pk].outstanding) == ("paid", D("0.00"))
    assert (states[younger.pk].state, states[younger.pk].paid, states[younger.pk].outstanding) == (
        "partly_paid", D("190.00"), D("60.00"))
    # Left unpaid after its due date, it is overdue.
    assert settlements([younger], today=younger.due_date + timedelta(days=1))[younger.pk].state == "overdue"

    # 100.00 more: more than the 60.00 still owed is refused, unless the rest is kept as a credit.
    with pytest.raises(PaymentError) as refused:
        record_payment(essai.operator, essai.payer, amount=D("100.00"), received_on=date(2026, 11, 20),
                       means="cheque", reference="chèque 1234567")
    assert str(refused.value) == ("100,00\u00a0€ dépasse les 60,00\u00a0€ que doit encore Atelier Aubépine : "
                                  "vérifiez le montant, ou gardez le reste en crédit.")
    assert Payment.objects.filter(payer=essai.payer).count() == 1
    # With it: 60.00 settle November, 40.00 stay as a credit on the occupant's account.
    record_payment(essai.operator, essai.payer, amount=D("100.00"), received_on=date(2026, 11, 20), means="cheque",
                   reference="chèque 1234567", allow_credit=True)
    assert settlements([younger], today=date(2026, 11, 20))[younger.pk].state == "paid"
    assert credit_of(essai.operator, essai.payer) == D("40.00")
    assert sorted(a.amount for a in Allocation.objects.filter(invoice__organisation=essai.operator)) == [
        D("60.00"), D("190.00"), D("310.00")]


def test_a_payment_refused_changes_nothing(two_invoices):
    essai = two_invoices
    older, _younger = essai.invoices()
    for amount, means in ((D("0.00"), "transfer"), (D("-10.00"), "transfer"), (D("10.001"), "transfer"),
                          (D("10.00"), "bitcoin")):
        with pytest.raises(PaymentError):
            record_payment(essai.operator, essai.payer, amount=amount, received_on=date(2026, 11, 5), means=means)
    # Another organisation cannot settle this operator's invoice.
    other = Site("Autre Lieu", "autre-lieu").operator
    with pytest.raises(PaymentError, match="ne règle que des documents"):
        record_payment(other, essai.payer, amount=D("10.00"), received_on=date(2026, 11, 5), means="transfer",
                       invoices=[older])
    record_payment(essai.operator, essai.payer, amount=D("310.00"), received_on=date(2026, 11, 5), means="cash",
                   invoices=[older])
    with pytest.raises(PaymentError, match=f"Il ne reste rien à payer sur {older.number}"):
        record_payment(essai.operator, essai.payer, amount=D("1.00"), received_on=date(2026, 11, 5), means="cash",
                       invoices=[older])
    assert Payment.objects.filter(payer=essai.payer).count() == 1


def _import(path, slug, *args) -> dict:
    out = io.StringIO()
    call_command("import_payments", str(path), "--organisation", slug, "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_payments_received_before_cascade_are_imported_all_or_nothing(two_invoices, tmp_path):
    essai = two_invoices
    older, younger = essai.invoices()
    bad = tmp_path / "paiements.csv"
    bad.write_text("Date;Payeur;Montant;Facture\n"
                   f"05/11/2026;Atelier Aubépine;310,00;{older.number}\n"
                   "31/11/2026;Atelier Aubépine;10,00;\n"
                   "06/11/2026;Inconnu SARL;20,00;\n"
                   "07/11/2026;Atelier Aubépine;-5;F2099-000001\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        _import(bad, essai.operator.slug)
    assert str(error.value).splitlines() == [
        "ligne 3 : date : date inexistante",
        "ligne 4 : payeur : « Inconnu SARL » n’est pas l’un des occupants de l’organisation.",
        "ligne 5 : montant : un paiement est un montant positif.",
        "ligne 5 : facture : aucune facture « F2099-000001 » de Tiers-Lieu Essai."]
    assert not Payment.objects.filter(organisation=essai.operator).exists()

    good = tmp_path / "paiements-novembre.csv"
    good.write_text("Date;Payeur;Montant;Facture\n"
                    f"05/11/2026;atelier aubepine;310,00;{older.number}\n"
                    "08/11/2026;Atelier Aubépine;300,00;\n", encoding="utf-8")
    # 610.00 for 560.00 owed: refused unless the 50.00 left are kept as a credit (--allow-credit).
    with pytest.raises(CommandError) as error:
        _import(good, essai.operator.slug)
    assert str(error.value).splitlines() == [
        "ligne 3 : 300,00\u00a0€ dépasse les 250,00\u00a0€ que doit encore Atelier Aubépine : vérifiez le montant, "
        "ou gardez le reste en crédit."]
    assert not Payment.objects.filter(organisation=essai.operator).exists()
    assert _import(good, essai.operator.slug, "--dry-run", "--allow-credit") == {
        "payments": 2, "amount": "610.00", "allocated": "560.00", "credits": {"Atelier Aubépine": "50.00"},
        "dry_run": True}
    assert not Payment.objects.filter(organisation=essai.operator).exists()
    assert _import(good, essai.operator.slug, "--allow-credit")["payments"] == 2
    states = settlements([older, younger], today=date(2026, 11, 8))
    assert [states[i.pk].state for i in (older, younger)] == ["paid", "paid"]
    # The same file again records nothing.
    with pytest.raises(CommandError, match="ligne 2 : déjà importé"):
        _import(good, essai.operator.slug, "--allow-credit")
    assert Payment.objects.filter(organisation=essai.operator).count() == 2


def test_a_manager_records_a_payment_on_the_invoice_page(alice_client, operator):
    from cascade.billing.models import Invoice

    invoice = Invoice.objects.filter(organisation=operator, kind="invoice", allocations__isnull=True).order_by(
        "issue_date").first()
    page = alice_client.get(reverse("invoice", args=[invoice.pk])).content.decode()
    assert "Enregistrer un paiement" in page
    before = Payment.objects.filter(organisation=operator).count()  # the demo's history
    response = alice_client.post(reverse("invoice_payment", args=[invoice.pk]), {
        "amount": f"{invoice.total_incl_vat}".replace(".", ","), "received_on": "2026-12-01", "means": "transfer",
        "reference": "VIR SEPA"}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "Payée" in page and "VIR SEPA" in page
    response = alice_client.post(reverse("invoice_payment", args=[invoice.pk]), {
        "amount": "abc", "received_on": "2026-12-01", "means": "transfer"}, follow=True)
    assert "montant qui n’est pas un nombre" in response.content.decode()
    response = alice_client.post(reverse("invoice_payment", args=[invoice.pk]), {
        "amount": "10,00", "received_on": "2026-02-31", "means": "transfer"}, follow=True)
    assert "« 2026-02-31 » n’est pas une date." in response.content.decode()
    assert Payment.objects.filter(organisation=operator).count() == before + 1
