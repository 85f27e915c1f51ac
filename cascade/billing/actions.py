"""Issuing invoices: numbering, freezing seller and buyer, audit. One function per action."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.places.models import VatRegime

from . import engine, sending
from .models import DocumentKind, Invoice, InvoiceLine, NumberSequence
from .numbering import chronological_date, format_number, next_number
from .vat import EXEMPTION_MENTION, FRANCHISE_MENTION, totals, vat_breakdown

SERIES = {DocumentKind.INVOICE: "F", DocumentKind.CREDIT_NOTE: "A"}


class BillingError(Exception):
    """Invoices cannot be issued as things stand; the message says what to complete."""


def check_seller(org: Organisation) -> None:
    """An invoice names its seller with an address and a SIRET (CGI annexe II, art. 242 nonies A);
    an issued invoice cannot be completed afterwards, so an incomplete seller issues nothing."""
    missing = [label for label, value in (("address", org.address), ("SIRET", org.siret)) if not value.strip()]
    if missing:
        raise BillingError(f"{org.name}: the {' and '.join(missing)} of the seller must be set before invoicing "
                           f"(the organisation's page in the admin); nothing was issued for it")


def seller_snapshot(org: Organisation) -> dict:
    return {"name": org.name, "legal_form": org.legal_form, "address": org.address, "siret": org.siret,
            "vat_number": org.vat_number, "iban": org.iban, "email": org.email, "registration": org.registration,
            "vat_on_debits": org.vat_on_debits}


def vat_mention(place, lines) -> str:
    """The mention an exempt line needs: the franchise en base, or the rent of bare premises."""
    if all(line.vat_rate is not None for line in lines):
        return ""
    return FRANCHISE_MENTION if place.vat_regime == VatRegime.FRANCHISE else EXEMPTION_MENTION


def buyer_snapshot(org: Organisation) -> dict:
    return {"name": org.name, "legal_form": org.legal_form, "address": org.address, "siret": org.siret,
            "email": org.email, "contact": org.contact_name}


def _take_number(organisation: Organisation, series: str, year: int) -> int:
    """Next gapless number; the row lock serialises concurrent issuers of the same series."""
    NumberSequence.objects.get_or_create(organisation=organisation, series=series, year=year)
    sequence = NumberSequence.objects.select_for_update().get(organisation=organisation, series=series,
                                                              year=year)
    sequence.last = next_number(sequence.last or None)
    sequence.save(update_fields=["last"])
    return sequence.last


@transaction.atomic
def issue_invoice(planned: engine.PlannedInvoice, *, acting_user=None) -> Invoice | None:
    """Issue what is still due for one subscription and period; None when nothing is left.

    The due-minus-billed difference is computed again under the organisation's lock, so two
    runs racing on the same period cannot both bill it.
    """
    subscription = planned.subscription
    organisation = subscription.organisation
    # One issuer at a time per organisation: what is billed and the last date read below stay true.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    billed = engine.billed_amounts([subscription.pk], period_start=planned.period.start)
    lines = engine.plan_period(subscription, planned.period, planned.invoice_date, billed).lines
    if not lines:
        return None
    kind = DocumentKind.INVOICE if sum(line.amount for line in lines) >= 0 else DocumentKind.CREDIT_NOTE
    series = SERIES[kind]
    issue_date = chronological_date(planned.invoice_date, Invoice.objects.filter(
        organisation=organisation, series=series).aggregate(last=Max("issue_date"))["last"])
    year = issue_date.year
    sequence = _take_number(organisation, series, year)
    groups = vat_breakdown((line.amount, line.vat_rate) for line in lines)
    excl, vat, incl = totals(groups)
    corrects = None
    if kind == DocumentKind.CREDIT_NOTE:
        corrects = (Invoice.objects.filter(subscription=subscription, period_start=planned.period.start,
                                           kind=DocumentKind.INVOICE).order_by("-issue_date", "-sequence").first())
    invoice = Invoice.objects.create(
        organisation=organisation, customer=subscription.subscriber, place=subscription.place,
        subscription=subscription, kind=kind, series=series, year=year, sequence=sequence,
        number=format_number(series, year, sequence), issue_date=issue_date,
        due_date=issue_date + timedelta(days=organisation.payment_terms_days),
        period_start=planned.period.start, period_end=planned.period.end,
        total_excl_vat=excl, total_vat=vat, total_incl_vat=incl,
        vat_mention=vat_mention(subscription.place, lines), corrects=corrects,
        seller=seller_snapshot(organisation), buyer=buyer_snapshot(subscription.subscriber),
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, position=i, subscription=subscription, component=line.component,
                    label=line.label, period_start=line.period.start, period_end=line.period.end,
                    covered_start=line.start, covered_end=line.end, version_number=line.version,
                    days=line.days, period_days=line.period.days, amount_excl_vat=line.amount,
                    vat_rate=line.vat_rate)
        for i, line in enumerate(lines, start=1)
    )
    record("invoice.issued", organisation=organisation, actor=acting_user, obj=invoice,
           number=invoice.number, total_incl_vat=str(incl))
    sending.queue(invoice, today=timezone.localdate())
    return invoice


@dataclass
class BillingRun:
    until: date
    dry_run: bool
    planned: list[engine.PlannedInvoice] = field(default_factory=list)
    issued: list[Invoice] = field(default_factory=list)
    total_excl_vat: Decimal = Decimal("0.00")
    total_vat: Decimal = Decimal("0.00")
    total_incl_vat: Decimal = Decimal("0.00")
    refused: list[str] = field(default_factory=list)  # sellers left out, and why

    def as_dict(self) -> dict:
        return {"issued": len(self.issued) if not self.dry_run else len(self.planned),
                "total_excl_vat": f"{self.total_excl_vat:.2f}", "total_vat": f"{self.total_vat:.2f}",
                "total_incl_vat": f"{self.total_incl_vat:.2f}"}


def bill_until(until: date, *, organisation_id: int | None = None, dry_run: bool = False,
               acting_user=None) -> BillingRun:
    """Issue, in date order, every invoice whose invoice date is on or before `until`."""
    run = BillingRun(until=until, dry_run=dry_run, planned=engine.plan(until, organisation_id))
    # A seller that cannot issue valid invoices is left out; the others are billed.
    for seller in {planned.subscription.organisation for planned in run.planned}:
        try:
            check_seller(seller)
        except BillingError as error:
            run.refused.append(str(error))
            run.planned = [p for p in run.planned if p.subscription.organisation_id != seller.pk]
    if dry_run:
        for planned in run.planned:
            excl, vat, incl = totals(vat_breakdown((ln.amount, ln.vat_rate) for ln in planned.lines))
            run.total_excl_vat += excl
            run.total_vat += vat
            run.total_incl_vat += incl
        return run
    # One transaction per document: a run cut short is simply run again.
    for planned in run.planned:
        invoice = issue_invoice(planned, acting_user=acting_user)
        if invoice is not None:
            run.issued.append(invoice)
            run.total_excl_vat += invoice.total_excl_vat
            run.total_vat += invoice.total_vat
            run.total_incl_vat += invoice.total_incl_vat
    return run
