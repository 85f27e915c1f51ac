"""Deposits (dépôt de garantie): called on the entry day by `cascade tick`, received, held as a liability
(165), then returned (165 / 512) or retained with a reason (165 / 758) at exit; each step audited and posted."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from test_billing_run import Site

from cascade.accounts.models import AuditEvent, Membership, Role
from cascade.ledger.models import Entry
from cascade.ledger.posting import post_pending
from cascade.payments.deposits import (
    DepositError,
    call_deposit,
    call_due_deposits,
    receive_deposit,
    retain_deposit,
    return_deposit,
)
from cascade.payments.models import Deposit

D = Decimal


@pytest.fixture
def occupancy(db):
    essai = Site()
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 2), rent="438.00")
    subscription.deposit = D("876.00")
    subscription.status = "active"
    subscription.save()
    return subscription


def _lines(entry: Entry) -> list[tuple]:
    return [(ln.account, ln.debit, ln.credit) for ln in entry.lines.order_by("position")]


def test_a_deposit_is_called_on_the_entry_day_once(occupancy):
    operator = occupancy.organisation
    assert call_due_deposits(date(2026, 3, 1), operator) == 0  # not entered yet
    assert call_due_deposits(date(2026, 3, 20), operator) == 1
    assert call_due_deposits(date(2026, 3, 21), operator) == 0
    deposit = Deposit.objects.get(subscription=occupancy)
    assert (deposit.amount, deposit.called_on, deposit.state, deposit.held) == (D("876.00"), date(2026, 3, 2),
                                                                              "called", 0)
    assert post_pending(occupancy.organisation) == 0  # a call is no money: nothing to post
    with pytest.raises(DepositError, match="est déjà appelé"):
        call_deposit(occupancy, called_on=date(2026, 3, 2))


def test_tick_calls_the_deposits_and_posts_the_ledger(occupancy, inbox):
    out = io.StringIO()
    call_command("tick", "--today", "2026-03-02", "--json", stdout=out)
    done = json.loads(out.getvalue())
    assert done["deposits_called"] >= 1 and Deposit.objects.get(subscription=occupancy).called_on == date(2026, 3, 2)
    # The invoice issued by the same pass is posted by it.
    assert done["posted"] >= 1 and Entry.objects.filter(invoice__subscription=occupancy).count() == 1


def test_received_held_partly_retained_with_its_reason_then_returned(occupancy):
    deposit = call_deposit(occupancy, called_on=date(2026, 3, 2))
    with pytest.raises(DepositError, match="n’a pas été reçu"):
        return_deposit(deposit, returned_on=date(2026, 3, 3))
    deposit = receive_deposit(deposit, received_on=date(2026, 3, 5))
    assert (deposit.state, deposit.held) == ("held", D("876.00"))
    post_pending(occupancy.organisation)
    received = Entry.objects.get(source=f"deposit-received:{deposit.pk}")
    assert (received.journal, received.date, received.piece_ref) == ("BQ", date(2026, 3, 5), "DG-OCC-0001")
    assert _lines(received) == [("512", D("876.00"), D("0.00")), ("165", D("0.00"), D("876.00"))]

    with pytest.raises(DepositError, match="le motif est obligatoire"):
        retain_deposit(deposit, retained_on=date(2026, 9, 30), amount=D("200.00"), reason="  ")
    with pytest.raises(DepositError, match="Seuls 876,00"):
        retain_deposit(deposit, retained_on=date(2026, 9, 30), amount=D("900.00"), reason="Dégâts")
    deposit = retain_deposit(deposit, retained_on=date(2026, 9, 30), amount=D("200.00"),
                             reason="Peinture du bureau A1 à refaire")
    deposit = return_deposit(deposit, returned_on=date(2026, 10, 2))
    assert (deposit.state, deposit.held, deposit.returned_amount) == ("retained", D("0.00"), D("676.00"))
    assert post_pending(occupancy.organisation) == 2
    retained = Entry.objects.get(source=f"deposit-retained:{deposit.pk}")
    assert retained.journal == "OD" and "Peinture du bureau A1 à refaire" in retained.label
    assert _lines(retained) == [("165", D("200.00"), D("0.00")), ("758", D("0.00"), D("200.00"))]
    returned = Entry.objects.get(source=f"deposit-returned:{deposit.pk}")
    assert _lines(returned) == [("165", D("676.00"), D("0.00")), ("512", D("0.00"), D("676.00"))]
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="deposit.").order_by("pk")] == [
        "deposit.called", "deposit.received", "deposit.retained", "deposit.returned"]
    with pytest.raises(DepositError, match="Plus rien de ce dépôt n’est détenu"):
        return_deposit(deposit, returned_on=date(2026, 10, 3))


def test_the_subscription_page_returns_and_retains_with_a_reason(occupancy, django_user_model):
    user = django_user_model.objects.create_user(username="dana@essai.example.org", password="x")
    Membership.objects.create(user=user, organisation=occupancy.organisation, role=Role.ACCOUNTANT)
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(user)
    page = reverse("subscription", args=[occupancy.pk])
    assert "pas encore appelé" in client.get(page).content.decode()
    client.post(reverse("deposit_call", args=[occupancy.pk]))
    deposit = Deposit.objects.get(subscription=occupancy)
    client.post(reverse("deposit_update", args=[deposit.pk]), {"action": "receive", "day": "2026-03-05"})
    html = client.get(page).content.decode()
    assert "Conserver" in html and "Montant (tout : 876,00\u00a0€)" in html and ">Restituer</button>" in html
    response = client.post(reverse("deposit_update", args=[deposit.pk]),
                           {"action": "retain", "amount": "150,00", "reason": ""}, follow=True)
    assert "Indiquez pourquoi le dépôt est conservé" in response.content.decode()
    response = client.post(reverse("deposit_update", args=[deposit.pk]),
                           {"action": "retain", "amount": "150,00", "reason": "Clés non rendues",
                            "day": "2026-09-30"}, follow=True)
    assert "Dépôt conservé." in response.content.decode()
    deposit.refresh_from_db()
    assert (deposit.retained_amount, deposit.retained_reason, deposit.held) == (D("150.00"), "Clés non rendues",
                                                                                D("726.00"))
