"""A customer's account: documents, payments, credit and balance on a page, and the statement of account
(relevé de compte) as a PDF for a date range, read back to check its balances."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from test_payments import two_invoices  # noqa: F401 (a fixture, used below)
from test_reminders import pdf_text

from cascade.accounts.models import Membership, Role
from cascade.billing.actions import bill_until, cancel_invoice
from cascade.payments.actions import record_payment, reverse_payment
from cascade.payments.documents import render_statement
from cascade.payments.statement import balance, statement_of

D = Decimal


@pytest.fixture(autouse=True)
def files_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def account(two_invoices):  # noqa: F811 (the fixture of test_payments)
    """Atelier Aubépine: October 310.00 and November 250.00; 500.00 paid on 05/11; its neighbour owes 99.00."""
    essai = two_invoices
    halle = essai.invoices().first().place
    essai.neighbour = essai.subscribe(halle, "Voisin", "A3", entry=date(2026, 11, 1), exit=date(2026, 11, 30),
                                      rent="99.00").subscriber
    bill_until(date(2026, 11, 1), organisation_id=essai.operator.pk)
    essai.customer = essai.payer
    record_payment(essai.operator, essai.customer, amount=D("500.00"), received_on=date(2026, 11, 5),
                   means="transfer", reference="VIR AUBEPINE")
    return essai


def _client(email: str, organisation, role=Role.MEMBER) -> Client:
    user = get_user_model().objects.create_user(email, email, "x")
    Membership.objects.create(user=user, organisation=organisation, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_the_statement_of_a_period_starts_from_the_balance_before_it(account):
    essai = account
    whole = statement_of(essai.operator, essai.customer, date(2026, 10, 1), date(2026, 12, 1), date(2026, 12, 4))
    assert [(r.day, r.debit, r.credit, r.balance) for r in whole.rows] == [
        (date(2026, 10, 1), D("310.00"), D("0.00"), D("310.00")),
        (date(2026, 11, 1), D("250.00"), D("0.00"), D("560.00")),
        (date(2026, 11, 5), D("0.00"), D("500.00"), D("60.00"))]
    november = statement_of(essai.operator, essai.customer, date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 4))
    assert (november.opening, november.debits, november.credits, november.closing) == (
        D("310.00"), D("250.00"), D("500.00"), D("60.00"))
    assert balance(essai.operator, essai.customer) == D("60.00")


def test_the_pdf_says_the_same(account):
    essai = account
    client = _client("compta@essai.example.org", essai.operator, Role.ACCOUNTANT)
    url = reverse("occupant_statement", args=[essai.customer.pk])
    response = client.get(url, {"start": "2026-11-01", "end": "2026-11-30"})
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Relevé de compte" in text and "du 01/11/2026 au 30/11/2026" in text
    assert "Atelier Aubépine" in text and "Voisin" not in text
    assert "01/11/2026 Solde au début de la période 310,00 €" in text
    assert "Paiement reçu (virement) — VIR AUBEPINE 500,00 € 60,00 €" in text
    assert "Totaux de la période 250,00 € 500,00 €" in text
    assert "30/11/2026 Solde dû 60,00 €" in text


def test_a_payment_returned_by_the_bank_is_owed_again_from_the_day_of_the_return(account):
    essai = account
    payment = essai.customer.payments_made.get()
    reverse_payment(payment, on=date(2026, 11, 9), reason="AM04")
    assert balance(essai.operator, essai.customer, before=date(2026, 11, 9)) == D("60.00")
    assert balance(essai.operator, essai.customer) == D("560.00")
    november = statement_of(essai.operator, essai.customer, date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 4))
    assert [(r.day, r.label, r.debit, r.credit, r.balance) for r in november.rows][-1] == (
        date(2026, 11, 9), "Paiement rejeté par la banque (AM04) — VIR AUBEPINE", D("500.00"), D("0.00"),
        D("560.00"))
    assert november.closing == D("560.00")
    client = _client("compta@essai.example.org", essai.operator, Role.ACCOUNTANT)
    page = client.get(reverse("occupant_account", args=[essai.customer.pk])).content.decode()
    assert "retourné le 09/11/2026" in page


def test_a_credit_note_and_an_overpayment_leave_a_balance_in_the_customers_favour(account):
    essai = account
    _october, november = essai.invoices().filter(customer=essai.customer)
    cancel_invoice(november, reason="départ anticipé")
    record_payment(essai.operator, essai.customer, amount=D("20.00"), received_on=date(2026, 11, 20), means="cash",
                   allow_credit=True)
    # 310 + 250 − 250 − 500 − 20 = −210.00
    assert balance(essai.operator, essai.customer) == D("-210.00")
    statement = statement_of(essai.operator, essai.customer, date(2026, 1, 1), date(2027, 1, 1), date(2026, 12, 4))
    text = pdf_text(render_statement(statement))
    assert f"(corrige {november.number})" in text
    assert "Solde en votre faveur -210,00 €" in text


def test_the_account_page_for_the_operator_and_for_the_customer_itself(account):
    essai = account
    manager = _client("gestion@essai.example.org", essai.operator, Role.MANAGER)
    page = manager.get(reverse("occupant_account", args=[essai.customer.pk])).content.decode()
    assert "Compte — " in page and "VIR AUBEPINE" in page
    assert 'id="balance">60,00\u00a0€' in page and 'id="outstanding">60,00\u00a0€' in page

    # A member of the occupant sees its own account and statement, not its neighbour's.
    member = _client("atelier@aubepine.example.org", essai.customer)
    assert member.get(reverse("occupant_account", args=[essai.customer.pk])).status_code == 200
    assert member.get(reverse("occupant_statement", args=[essai.customer.pk])).status_code == 200
    assert member.get(reverse("occupant_account", args=[essai.neighbour.pk])).status_code == 404
    assert member.get(reverse("occupant_statement", args=[essai.neighbour.pk])).status_code == 404
