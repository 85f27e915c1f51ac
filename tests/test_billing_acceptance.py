"""Issue 4's acceptance, end to end as an operator lives it: an amendment raising the fee from a day in
the past, signed online today, is billed by the next `cascade tick` as exactly its adjustment invoice,
numbered, e-mailed, a Factur-X that passes the official validators; an exit signed the same way gives
the credit note back."""

import io
import json
from datetime import date
from decimal import Decimal

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader
from test_signing_flow import OCCUPANT_EMAIL, _link, create_subscription, send, send_convention, sign_as

from cascade.billing import facturx
from cascade.billing.actions import bill_until
from cascade.billing.models import DocumentKind, Invoice, InvoiceSend, SendStatus
from cascade.contracts.models import Contract

__all__ = ["send"]  # the fixture, used by name

OPERATOR_EMAIL = "alice@tremplin.example.org"


def _sign(alice_client, contract, inbox, send) -> None:
    send_convention(alice_client, contract, send)
    sign_as(Client(), _link(inbox, OCCUPANT_EMAIL), inbox, OCCUPANT_EMAIL, "Inès Barbier", send)
    sign_as(Client(), _link(inbox, OPERATOR_EMAIL), inbox, OPERATOR_EMAIL, "Alice Martin", send)


def _amend(alice_client, subscription, send, **terms) -> None:
    space = subscription.current_version.resources.get()
    response = send(alice_client.post, reverse("amend_subscription", args=[subscription.pk]), {
        "entry_date": "2026-12-01", "exit_date": "2027-06-30", "resources": [space.pk], "rent": "420,00",
        "fluids": "45,00", "frequency": "monthly", "term": "advance", **terms})
    assert response.status_code == 302


def _tick(today: str) -> dict:
    out = io.StringIO()
    call_command("tick", "--today", today, "--json", stdout=out)
    return json.loads(out.getvalue())


def _only_document_for(inbox, subscription) -> tuple[Invoice, bytes]:
    """The one document e-mailed to the occupant since the inbox was cleared, and its PDF."""
    (message,) = [m for rcpt, m in inbox.messages if rcpt == [OCCUPANT_EMAIL]]
    attachment = next(message.iter_attachments())
    invoice = Invoice.objects.get(subscription=subscription, number=attachment.get_filename().removesuffix(".pdf"))
    return invoice, attachment.get_content()


def test_a_past_amendment_signed_today_is_billed_by_the_next_tick_and_an_exit_credited(
        alice_client, operator, inbox, send):
    # The demo's own December documents first, left unsent: this test follows one occupant.
    bill_until(date(2026, 12, 4))
    InvoiceSend.objects.filter(status=SendStatus.PENDING).update(status=SendStatus.SKIPPED)
    subscription = create_subscription(alice_client, operator, send)
    _sign(alice_client, Contract.objects.get(subscription=subscription), inbox, send)
    assert _tick("2026-12-04")["issued"] == 1  # December: 420.00 + 45.00
    december = Invoice.objects.get(subscription=subscription)
    assert december.total_excl_vat == Decimal("465.00")

    # The fee goes to 441.00 from 2 December, agreed and signed on the 4th.
    _amend(alice_client, subscription, send, effective_from="2026-12-02", rent="441,00")
    amendment = Contract.objects.get(subscription=subscription, kind="avenant")
    _sign(alice_client, amendment, inbox, send)
    inbox.messages.clear()
    assert _tick("2026-12-04")["issued"] == 1
    adjustment, pdf = _only_document_for(inbox, subscription)
    # 21.00 a month more for 30 of December's 31 days: 20.3225… → 20.32.
    assert (adjustment.kind, adjustment.sequence, adjustment.total_excl_vat) == (
        DocumentKind.INVOICE, december.sequence + 1, Decimal("20.32"))
    (line,) = adjustment.lines.all()
    assert line.label == ("Avenant n° 1 du 02/12/2026 : redevance d'occupation 420,00\u00a0€ → 441,00\u00a0€ par mois "
                          "du 02/12/2026 au 31/12/2026 (30/31 jours)")
    xml = PdfReader(io.BytesIO(pdf)).attachments["factur-x.xml"][0]
    assert facturx.validate(xml) == []
    assert _tick("2026-12-04")["issued"] == 0  # nothing twice

    # The occupant leaves on 20 December (avenant n° 2): the days paid after it come back.
    _amend(alice_client, subscription, send, effective_from="2026-12-05", rent="441,00", exit_date="2026-12-20")
    _sign(alice_client, Contract.objects.get(subscription=subscription, amendment_number=2), inbox, send)
    inbox.messages.clear()
    assert _tick("2026-12-05")["issued"] == 1
    credit, pdf = _only_document_for(inbox, subscription)
    # Due for December: fee 1 day at 420.00 + 19 days at 441.00 = 283.838… → 283.84 against 440.32 billed;
    # fluids 20 days of 45.00 = 29.03 against 45.00 billed: −156.48 − 15.97 = −172.45.
    assert (credit.kind, credit.total_excl_vat, credit.corrects) == (
        DocumentKind.CREDIT_NOTE, Decimal("-172.45"), adjustment)
    assert sorted(line.amount_excl_vat for line in credit.lines.all()) == [Decimal("-156.48"), Decimal("-15.97")]
    xml = PdfReader(io.BytesIO(pdf)).attachments["factur-x.xml"][0]
    assert facturx.validate(xml) == []
