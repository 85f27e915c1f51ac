"""Billing under terms that change in awkward ways, and under bad data: the engine keeps billing exactly
what is due, says what it cannot bill, and never stops the whole run for one subscription."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from test_billing_acceptance import _amend, _sign, _tick
from test_billing_run import Site, _reprice, _spaced, text_of
from test_signing_flow import _page, create_subscription, send

from cascade.billing import facturx
from cascade.billing.actions import BillingError, bill_until, cancel_invoice
from cascade.billing.documents import invoice_data, invoice_pdf
from cascade.billing.exports import as_xlsx, invoice_rows
from cascade.billing.models import DocumentKind, Invoice, InvoiceSend, SendStatus
from cascade.contracts.models import Contract
from cascade.payments.actions import settlements
from cascade.subscriptions.forms import SubscriptionTemplateForm
from cascade.subscriptions.models import SubscriptionTemplate

__all__ = ["send"]  # the fixture, used by name


@pytest.fixture
def essai(site):
    return Site()


def test_two_amendments_from_the_same_day_the_later_one_governs(essai):
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    essai.bill(date(2026, 3, 1))
    _reprice(subscription, 2, date(2026, 3, 16), "400.00")
    _reprice(subscription, 3, date(2026, 3, 16), "372.00")
    assert essai.bill(date(2026, 3, 31))["issued"] == 1
    adjustment = essai.invoices().last()
    # 62.00 a month more for 16 of March's 31 days: 32.00 (version 2 never priced a day).
    assert adjustment.total_excl_vat == Decimal("32.00")
    assert [line.version_number for line in adjustment.lines.all()] == [3]


def test_months_then_quarters_from_the_first_day_of_a_quarter(essai):
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 11, 1), rent="310.00")
    essai.bill(date(2026, 12, 31))
    _reprice(subscription, 2, date(2027, 1, 1), "310.00")
    subscription.versions.filter(number=2).update(frequency="quarterly")
    essai.bill(date(2027, 4, 1))
    assert [(i.period_start, i.period_end, i.total_excl_vat) for i in essai.invoices()] == [
        (date(2026, 11, 1), date(2026, 12, 1), Decimal("310.00")),
        (date(2026, 12, 1), date(2027, 1, 1), Decimal("310.00")),
        (date(2027, 1, 1), date(2027, 4, 1), Decimal("930.00")),
        (date(2027, 4, 1), date(2027, 7, 1), Decimal("930.00"))]
    assert essai.bill(date(2027, 4, 1))["issued"] == 0


def test_one_subscription_that_cannot_be_billed_does_not_stop_the_others(essai):
    halle = essai.place("Halle Essai", vat=False)
    broken = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    essai.subscribe(halle, "Collectif Brique", "A2", entry=date(2026, 3, 1), rent="250.00")
    broken.versions.update(frequency="weekly")  # not a frequency Cascade knows: corrupt data
    run = bill_until(date(2026, 3, 31), organisation_id=essai.operator.pk)
    assert [(i.customer.name, i.total_excl_vat) for i in run.issued] == [("Collectif Brique", Decimal("250.00"))]
    assert len(run.refused) == 1
    assert run.refused[0].startswith("Tiers-Lieu Essai — OCC-0001 (Atelier Aubépine): ")


def test_control_characters_never_reach_a_document(essai, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    halle = essai.place("Halle Essai", vat=True)
    subscription = essai.subscribe(halle, "Atelier\x07 Aubépine\x1b", "A1", entry=date(2026, 3, 1), rent="310.00")
    subscription.subscriber.siret = "67981318885416"
    subscription.subscriber.save()
    essai.bill(date(2026, 3, 31))
    invoice = essai.invoices().get()
    credit = cancel_invoice(invoice, reason="adresse\x00 erronée\x0b\n")
    assert credit.lines.first().label.startswith("Annulation de la facture F2026-000001 (adresse erronée) : ")
    for document in (invoice, credit):
        assert "Atelier Aubépine" in _spaced(text_of(invoice_pdf(document)))
        assert facturx.validate(facturx.cii_xml(invoice_data(document))) == []
    sheet = load_workbook(io.BytesIO(as_xlsx("Factures", ["Client"], [[r[4]] for r in invoice_rows(
        [invoice])]))).active
    assert sheet["A2"].value == "Atelier  Aubépine "


def test_adjustments_follow_how_the_period_was_first_called(essai):
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    essai.bill(date(2026, 3, 1))
    # The template moves to payment notices; a price change from 16 March is signed afterwards.
    subscription.versions.update(payment_notice=True)
    _reprice(subscription, 2, date(2026, 3, 16), "372.00")
    subscription.versions.filter(number=2).update(payment_notice=True)
    essai.bill(date(2026, 4, 1))
    assert [(i.kind, i.period_start, i.total_excl_vat) for i in essai.invoices().order_by("pk")] == [
        (DocumentKind.INVOICE, date(2026, 3, 1), Decimal("310.00")),
        (DocumentKind.INVOICE, date(2026, 3, 1), Decimal("32.00")),  # March was invoiced: so is its adjustment
        (DocumentKind.PAYMENT_NOTICE, date(2026, 4, 1), Decimal("372.00")),
    ]


def test_invoice_days_before_is_bounded(essai):
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    subscription.versions.update(invoice_days_before=32_000)  # written past the form, by hand
    # Read as 90 days: up to June, whose invoice is dated 3 March (April and May: never before the entry).
    assert essai.bill(date(2026, 3, 31))["issued"] == 4
    assert [(i.period_start, i.issue_date) for i in essai.invoices()] == [
        (date(2026, 3, 1), date(2026, 3, 1)), (date(2026, 4, 1), date(2026, 3, 1)),
        (date(2026, 5, 1), date(2026, 3, 1)), (date(2026, 6, 1), date(2026, 3, 3))]
    form = SubscriptionTemplateForm({"name": "Ateliers", "contract_kind": "temporary", "invoice_days_before": 91},
                                    instance=SubscriptionTemplate(organisation=essai.operator))
    assert form.errors["invoice_days_before"] == ["Assurez-vous que cette valeur est inférieure ou égale à 90."]


def test_payment_notices_are_refused_where_vat_is_charged(essai):
    halle = essai.place("Halle Essai", vat=True)
    taxed = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    essai.subscribe(halle, "Collectif Brique", "A2", entry=date(2026, 3, 1), rent="250.00")
    template = SubscriptionTemplate.objects.create(organisation=essai.operator, name="Ateliers")
    taxed.template = template
    taxed.save()
    taxed.versions.update(payment_notice=True)
    run = bill_until(date(2026, 3, 31), organisation_id=essai.operator.pk)
    assert [i.customer.name for i in run.issued] == ["Collectif Brique"]
    assert run.refused == ["OCC-0001 (Atelier Aubépine) : son lieu facture la TVA : il est facturé par des factures, "
                           "pas par des avis d’échéance ; changez son modèle de souscription."]
    form = SubscriptionTemplateForm({"name": "Ateliers", "contract_kind": "temporary", "invoice_days_before": 0,
                                     "payment_notice": "on"}, instance=template)
    assert form.errors["payment_notice"] == [
        "Un avis d’échéance ne porte pas de TVA, et Halle Essai facturent la TVA : leurs occupants reçoivent des "
        "factures."]


def test_billing_after_today_needs_to_be_asked(site):
    later = date.fromordinal(timezone.localdate().toordinal() + 40)
    with pytest.raises(CommandError, match=r"--until: .* is after today .*--dry-run, or pass --allow-future"):
        call_command("bill", "--until", later.isoformat(), stdout=io.StringIO())
    call_command("bill", "--until", later.isoformat(), "--dry-run", stdout=io.StringIO())


def test_a_payment_notice_is_cancelled_by_a_notice_in_the_occupants_favour(essai, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    subscription.versions.update(payment_notice=True)
    essai.bill(date(2026, 3, 31))
    notice = essai.invoices().get()
    cancelled = cancel_invoice(notice, reason="erreur de montant")
    assert (cancelled.kind, cancelled.number, cancelled.corrects, cancelled.total_incl_vat) == (
        DocumentKind.PAYMENT_NOTICE, "E2026-000002", notice, Decimal("-310.00"))
    assert cancelled.lines.first().label.startswith("Annulation de l’avis d’échéance E2026-000001 (erreur de montant)")
    assert settlements([notice], date(2026, 3, 2))[notice.pk].outstanding == Decimal("0.00")
    with pytest.raises(BillingError, match=r"^E2026-000001 est déjà annulé\.$"):
        cancel_invoice(notice, reason="deux fois")
    with pytest.raises(BillingError, match=r"^E2026-000002 ne demande rien : il n’y a rien à annuler\.$"):
        cancel_invoice(cancelled, reason="un avis en faveur")


# Through the pages, as an operator changes the terms of a subscription already billed ----------


def test_frequency_and_period_grid_stay_once_billed(alice_client, operator, inbox, send):
    bill_until(date(2026, 12, 4))
    InvoiceSend.objects.filter(status=SendStatus.PENDING).update(status=SendStatus.SKIPPED)
    subscription = create_subscription(alice_client, operator, send)
    subscription.template = SubscriptionTemplate.objects.create(organisation=operator, name="Ateliers mensuels")
    subscription.save()
    _sign(alice_client, Contract.objects.get(subscription=subscription), inbox, send)
    assert _tick("2026-12-04")["issued"] == 1
    # Quarterly from 15 December: refused, December is billed as a month.
    space = subscription.current_version.resources.get()
    response = send(alice_client.post, reverse("amend_subscription", args=[subscription.pk]), {
        "entry_date": "2026-12-01", "exit_date": "2027-06-30", "resources": [space.pk], "rent": "420,00",
        "fluids": "45,00", "frequency": "quarterly", "term": "advance", "effective_from": "2026-12-15"})
    assert response.status_code == 400, _page(response)
    assert ("Une nouvelle périodicité de facturation commence un jour qui ouvre une période dans les deux "
            "périodicités (le premier jour d’un trimestre, des mois aux trimestres), après les périodes déjà "
            "facturées (la dernière se termine le 31/12/2026).") in _page(response)
    # Anniversary periods chosen on the template afterwards: the billed calendar grid is kept.
    SubscriptionTemplate.objects.filter(pk=subscription.template_id).update(anniversary=True)
    _amend(alice_client, subscription, send, effective_from="2026-12-02", rent="441,00")
    assert subscription.versions.get(number=2).anchor is None
    _sign(alice_client, Contract.objects.get(subscription=subscription, kind="avenant"), inbox, send)
    assert _tick("2026-12-04")["issued"] == 1
    assert Invoice.objects.filter(subscription=subscription).order_by("sequence").last().total_excl_vat == Decimal(
        "20.32")
