"""Issue 5's acceptance, as the demo site lives it: November's bank statement (built from the demo's invoices,
a few payments missing, one direct debit returned) imports and matches; the next `cascade tick` sends the
reminders for what is unpaid and only for that; the SEPA batch of the demo's mandates validates against the
pain.008.001.08 XSD; the 2026 FEC re-reads balanced and numbered."""

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone

from cascade.billing.actions import bill_until
from cascade.billing.models import Invoice, InvoiceSend, SendStatus
from cascade.ledger import fec
from cascade.payments import pain008
from cascade.payments.actions import settlements
from cascade.payments.demo import sign_demo_mandates
from cascade.payments.models import Payment, Reminder

DEMO = Path(__file__).resolve().parents[1] / "cascade" / "demo"
TODAY = date(2026, 12, 4)


def _json(*command: str) -> dict:
    out = io.StringIO()
    call_command(*command, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_statement_matches_the_reminders_go_out_the_batch_and_the_fec_pass(site, inbox, tmp_path,
                                                                                     settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    operator = site["operator"]
    # December is issued; the demo's invoices are not e-mailed (its occupants are invented).
    bill_until(TODAY)
    InvoiceSend.objects.filter(status=SendStatus.PENDING).update(status=SendStatus.SKIPPED)

    # November's statement: 96 of its 97 credits matched without anyone, the direct debit returned.
    summary = _json("import_statement", str(DEMO / "releve-2026-11.camt053.xml"), "--organisation", operator.slug)
    assert (summary["credits"], summary["matched_automatically"], summary["proposed"], summary["returned"],
            summary["match_rate"]) == (97, 96, 1, 1, "99.0")
    returned = Payment.objects.get(organisation=operator, source="sepa")
    october = returned.allocations.get().invoice
    assert (october.number, returned.returned_on) == ("F2026-000939", date(2026, 11, 4))

    # What is unpaid on 4 December and at least 7 days late is chased; nothing else is.
    documents = list(Invoice.objects.filter(organisation=operator).select_related("customer"))
    states = settlements(documents, TODAY)
    late = {d.pk for d in documents if d.pk in states and states[d.pk].outstanding > 0
            and (TODAY - d.due_date).days >= 7}
    done = _json("tick", "--today", TODAY.isoformat())
    assert done["issued"] == 0 and done["payment_reminders_failed"] == 0
    reminded = set(Reminder.objects.filter(invoice__organisation=operator).values_list("invoice_id", flat=True))
    assert reminded == late and october.pk in late and len({d.customer_id for d in documents if d.pk in late}) == 3
    # One message per customer and step: a second reminder for each late payer's October, a formal notice for
    # the September documents of the one that was there (two of them, one letter), a second reminder for the
    # October debit returned.
    sent = {(r.invoice.customer_id, r.days) for r in Reminder.objects.select_related("invoice")}
    subjects = [m["Subject"].strip() for _rcpt, m in inbox.messages]
    assert done["payment_reminders"] == len(sent) == len([s for s in subjects if s.startswith(
        ("Relance : ", "Deuxième relance : ", "Mise en demeure de payer : "))]) == 4
    # The letter carries the late penalties and, for a professional, the 40 € fee.
    letter = Reminder.objects.filter(invoice__organisation=operator, kind="letter").first()
    assert letter.recovery_fee == Decimal("40.00") and letter.penalties > 0

    # The SEPA batch of the demo's two mandates.
    collection = sign_demo_mandates(operator, site["alice"], timezone.localdate())
    batch = tmp_path / "prelevements.xml"
    sepa = _json("export_sepa", "--collection-date", collection.isoformat(), "--out", str(batch))
    assert pain008.validation_errors(batch.read_bytes()) == []
    assert sepa["count"] >= 1 and Decimal(sepa["control_sum"]) == sum(
        (p.amount for p in Payment.objects.filter(organisation=operator, source="sepa", received_on=collection)),
        Decimal("0.00"))

    # The 2026 FEC: 18 columns, every entry balanced, numbered continuously per journal.
    call_command("export_fec", "--year", "2026", "--out", str(tmp_path), stdout=(printed := io.StringIO()))
    assert "Ailleurs Coop: no entry in 2026, no FEC" in printed.getvalue()  # an operator with no books
    path = tmp_path / f"{operator.siret[:9]}FEC20261231.txt"
    assert fec.check(path.read_bytes()) == []
    header = path.read_bytes().decode("iso-8859-15").splitlines()[0].split("|")
    assert header == ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
                      "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
                      "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise"]
