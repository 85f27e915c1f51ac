"""cascade.bulk.insert writes what bulk_create would, on SQLite and on PostgreSQL."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from cascade import bulk
from cascade.accounts.models import AuditEvent, Organisation, OrganisationKind
from cascade.billing.models import DocumentKind, Invoice, InvoiceSend, SendStatus


def test_insert_writes_dates_decimals_json_choices_and_times_as_bulk_create(db):
    seller = Organisation.objects.create(name="Vendeur", slug="vendeur", kind=OrganisationKind.OPERATOR)
    buyer = Organisation.objects.create(name="Crèche Les Écureuils", slug="creche", kind=OrganisationKind.OCCUPANT)
    fields = dict(organisation=seller, customer=buyer, kind=DocumentKind.CREDIT_NOTE, series="A", year=2027,
                  issue_date=datetime(2027, 1, 31).date(), due_date=datetime(2027, 3, 31).date(),
                  period_start=datetime(2027, 1, 1).date(), period_end=datetime(2027, 2, 1).date(),
                  total_excl_vat=Decimal("-321.50"), total_vat=Decimal("-64.30"), total_incl_vat=Decimal("-385.80"),
                  seller={"name": "Vendeur", "iban": None}, buyer={"name": "Crèche Les Écureuils", "lines": [1, 2]})
    assert bulk.insert([Invoice(sequence=1, number="A2027-000001", **fields)]) == 1
    Invoice.objects.bulk_create([Invoice(sequence=2, number="A2027-000002", **fields)])
    inserted, created = Invoice.objects.filter(organisation=seller).order_by("sequence")
    columns = [f.attname for f in Invoice._meta.concrete_fields if f.attname not in ("id", "sequence", "number",
                                                                                         "created_at")]
    assert [getattr(inserted, c) for c in columns] == [getattr(created, c) for c in columns]
    assert (inserted.kind, inserted.total_vat, inserted.buyer["lines"]) == ("credit_note", Decimal("-64.30"), [1, 2])
    assert abs((inserted.created_at - created.created_at).total_seconds()) < 60

    paris = datetime(2027, 1, 31, 23, 30, tzinfo=ZoneInfo("Europe/Paris"))
    bulk.insert([InvoiceSend(invoice=inserted, status=SendStatus.SKIPPED, next_attempt_at=paris,
                             recipients=["a@b.example.org"])])
    send = InvoiceSend.objects.get(invoice=inserted)
    assert (send.status, send.next_attempt_at, send.recipients, send.attempts) == (
        "skipped", paris, ["a@b.example.org"], 0)
    bulk.insert([AuditEvent(organisation=seller, action="invoice.issued", data={"total": "12.30"})])
    assert AuditEvent.objects.get(organisation=seller, action="invoice.issued").data == {"total": "12.30"}
    assert bulk.insert([]) == 0
