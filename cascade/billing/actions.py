"""Issuing invoices: numbering, freezing seller and buyer, audit. One function per action."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cascade import bulk
from cascade.accounts.models import AuditEvent, Organisation
from cascade.places.models import VatRegime
from cascade.text import printable

from . import adjustments, engine, sending
from .models import DocumentKind, Invoice, InvoiceLine, NumberSequence
from .numbering import (
    CREDIT_NOTE_SERIES,
    INVOICE_SERIES,
    PAYMENT_NOTICE_SERIES,
    chronological_date,
    format_number,
    next_number,
)
from .periods import due_date
from .vat import EXEMPTION_MENTION, FRANCHISE_MENTION, totals, vat_breakdown

SERIES = {DocumentKind.INVOICE: INVOICE_SERIES, DocumentKind.CREDIT_NOTE: CREDIT_NOTE_SERIES,
          DocumentKind.PAYMENT_NOTICE: PAYMENT_NOTICE_SERIES}


class BillingError(Exception):
    """Invoices cannot be issued as things stand; the message says what to complete."""


def check_seller(org: Organisation, *, charges_vat: bool = False) -> None:
    """An invoice names its seller with an address and a SIRET, and its VAT number when it charges VAT
    (CGI annexe II, art. 242 nonies A; EN 16931 BR-S-02); an issued invoice cannot be completed
    afterwards, so an incomplete seller issues nothing."""
    required = (("address", org.address), ("SIRET", org.siret), *((("VAT number", org.vat_number),)
                                                                    if charges_vat else ()))
    missing = [label for label, value in required if not (value or "").strip()]
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


def _kind(notices: bool, lines: list[engine.DueLine]) -> str:
    """A payment notice when the period is called by notices (whatever its sign: a negative one is owed to the
    occupant), else an invoice, or a credit note when negative."""
    if notices:
        return DocumentKind.PAYMENT_NOTICE
    return DocumentKind.INVOICE if sum(line.amount for line in lines) >= 0 else DocumentKind.CREDIT_NOTE


class _Earlier:
    """What was issued before for a subscription and period, read when first needed: how the period was first
    called (invoice or notice), which its adjustments follow even if the terms changed since, and the latest
    invoice, which a credit note corrects."""

    def __init__(self, subscription_ids: list[int]):
        self.subscription_ids = subscription_ids
        self.first_kind: dict[tuple[int, date], str] | None = None
        self.latest: dict[tuple[int, date, str], int] = {}

    def _read(self) -> None:
        self.first_kind = {}
        for subscription_id, start, kind, pk in Invoice.objects.filter(
                subscription_id__in=self.subscription_ids,
                kind__in=(DocumentKind.INVOICE, DocumentKind.PAYMENT_NOTICE)).order_by(
                "issue_date", "sequence").values_list("subscription_id", "period_start", "kind", "pk"):
            self.first_kind.setdefault((subscription_id, start), kind)
            self.latest[(subscription_id, start, kind)] = pk

    def notices(self, planned: engine.PlannedInvoice) -> bool:
        """Whether the period is called by payment notices: as it was first billed, else as the terms say."""
        if planned.billed:
            if self.first_kind is None:
                self._read()
            kind = self.first_kind.get((planned.subscription.pk, planned.period.start))
            if kind is not None:
                return kind == DocumentKind.PAYMENT_NOTICE
        return planned.subscription.current_version.payment_notice

    def corrected(self, subscription_id: int, period_start: date, kind: str) -> int | None:
        """The latest document of the period a negative one lowers: an invoice for a credit note, a notice
        for a notice in the occupant's favour."""
        if self.first_kind is None:
            self._read()
        payable = DocumentKind.INVOICE if kind == DocumentKind.CREDIT_NOTE else DocumentKind.PAYMENT_NOTICE
        return self.latest.get((subscription_id, period_start, payable))


class _Numbers:
    """The organisation's counters and last issue dates, read once under its lock, advanced in memory
    as documents are issued, written back with them."""

    def __init__(self, organisation: Organisation):
        self.organisation = organisation
        self.sequences: dict[tuple[str, int], NumberSequence] = {}
        self.last_dates = dict(Invoice.objects.filter(organisation=organisation).values("series").annotate(
            last=Max("issue_date")).values_list("series", "last"))

    def take(self, series: str, scheduled: date) -> tuple[date, int]:
        """The issue date (never before the series' last one) and the next gapless number."""
        issue_date = chronological_date(scheduled, self.last_dates.get(series))
        self.last_dates[series] = issue_date
        key = (series, issue_date.year)
        if key not in self.sequences:
            NumberSequence.objects.get_or_create(organisation=self.organisation, series=series, year=key[1])
            self.sequences[key] = NumberSequence.objects.select_for_update().get(
                organisation=self.organisation, series=series, year=key[1])
        sequence = self.sequences[key]
        sequence.last = next_number(sequence.last or None)
        return issue_date, sequence.last

    def save(self) -> None:
        for sequence in self.sequences.values():
            sequence.save(update_fields=["last"])


@transaction.atomic
def issue_batch(organisation: Organisation, batch: list[engine.PlannedInvoice], *, acting_user=None) -> list[Invoice]:
    """Issue what is still due for each planned document of one organisation, in their order.

    Under the organisation's lock, due minus billed is computed again from what is billed now, so
    runs racing on the same periods cannot both bill them; the documents, their lines, numbers,
    sends and audit rows are written together (a few queries for the whole batch).
    """
    # One issuer at a time per organisation: what is billed and the last dates read below stay true.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    subscription_ids = sorted({p.subscription.pk for p in batch})
    billed = engine.billed_amounts(subscription_ids, period_starts=sorted({p.period.start for p in batch}))
    numbers = _Numbers(organisation)
    seller = seller_snapshot(organisation)
    earlier = _Earlier(subscription_ids)
    invoices, all_lines, labels = [], [], {}
    amendments = engine.amendment_numbers(subscription_ids)
    for planned in batch:
        subscription = planned.subscription
        if billed.fingerprint(subscription.pk, planned.period.start) == planned.billed:
            lines = planned.lines  # nothing was billed for the period since the plan: it still holds
        else:
            labels.setdefault(subscription.pk, engine.Labels(subscription, amendments.get(subscription.pk, {})))
            lines = engine.plan_period(subscription, planned.period, planned.invoice_date, billed,
                                       labels[subscription.pk]).lines
        if not lines:
            continue
        kind = _kind(earlier.notices(planned), lines)
        series = SERIES[kind]
        issue_date, sequence = numbers.take(series, planned.invoice_date)
        excl, vat, incl = totals(vat_breakdown((line.amount, line.vat_rate) for line in lines))
        invoice = Invoice(
            organisation=organisation, customer=subscription.subscriber, place=subscription.place,
            subscription=subscription, kind=kind, series=series, year=issue_date.year, sequence=sequence,
            number=format_number(series, issue_date.year, sequence), issue_date=issue_date,
            due_date=due_date(issue_date, organisation.payment_terms_days, organisation.payment_terms_end_of_month),
            period_start=planned.period.start, period_end=planned.period.end,
            total_excl_vat=excl, total_vat=vat, total_incl_vat=incl,
            vat_mention=vat_mention(subscription.place, lines),
            corrects_id=earlier.corrected(subscription.pk, planned.period.start, kind) if incl < 0 else None,
            seller=seller, buyer=buyer_snapshot(subscription.subscriber))
        # A later document of the batch for the same period sees these lines as billed.
        for line in lines:
            billed.add(subscription.pk, line.period.start, line.component,
                       adjustments.Billed(line.start, line.end, line.amount, line.version))
        invoices.append(invoice)
        all_lines.append(lines)
    if not invoices:
        return []
    numbers.save()
    bulk.insert(invoices)
    ids = dict(Invoice.objects.filter(organisation=organisation, number__in=[i.number for i in invoices]).values_list(
        "number", "pk"))
    for invoice in invoices:
        invoice.pk = ids[invoice.number]
        invoice._state.adding = False
    bulk.insert(
        InvoiceLine(invoice_id=invoice.pk, position=i, subscription_id=invoice.subscription_id,
                    component=line.component, label=line.label, period_start=line.period.start,
                    period_end=line.period.end, covered_start=line.start, covered_end=line.end,
                    version_number=line.version, days=line.days, period_days=line.period.days,
                    amount_excl_vat=line.amount, vat_rate=line.vat_rate)
        for invoice, lines in zip(invoices, all_lines, strict=True) for i, line in enumerate(lines, start=1))
    sending.queue_many(invoices, today=timezone.localdate())
    actor = acting_user if getattr(acting_user, "is_authenticated", False) else None
    bulk.insert(
        AuditEvent(organisation_id=organisation.pk, actor=actor, action="invoice.issued", object_type="billing.invoice",
                   object_id=str(invoice.pk), data={"number": invoice.number,
                                                    "total_incl_vat": str(invoice.total_incl_vat)})
        for invoice in invoices)
    return invoices


@transaction.atomic
def cancel_invoice(invoice: Invoice, *, reason: str, acting_user=None) -> Invoice:
    """Cancel an issued invoice the only lawful way: a credit note of all its lines, naming it.

    The period is then no longer billed, so the next run issues it again as it is due now (with the
    customer's current name and address): that is how an invoice with a wrong mention is corrected.
    """
    organisation = invoice.organisation
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    if invoice.kind not in (DocumentKind.INVOICE, DocumentKind.PAYMENT_NOTICE):
        raise BillingError(_("Only an invoice can be cancelled; a credit note is corrected by an invoice."))
    if invoice.total_excl_vat <= 0:
        raise BillingError(_("%(number)s asks for nothing: there is nothing to cancel.") % {"number": invoice.number})
    reason = " ".join(printable(reason, multiline=False).split())
    if not reason:
        raise BillingError(_("Say why the invoice is cancelled: the credit note states it."))
    credited = sum((c.total_excl_vat for c in invoice.corrections.all()), Decimal("0"))
    if credited <= -invoice.total_excl_vat:
        if invoice.kind == DocumentKind.INVOICE:
            raise BillingError(_("%(number)s is already cancelled by a credit note.") % {"number": invoice.number})
        raise BillingError(_("%(number)s is already cancelled.") % {"number": invoice.number})
    # A notice is cancelled by a notice in the occupant's favour, in its own series (no invoice, no credit note).
    kind = DocumentKind.CREDIT_NOTE if invoice.kind == DocumentKind.INVOICE else DocumentKind.PAYMENT_NOTICE
    what = "la facture" if invoice.kind == DocumentKind.INVOICE else "l’avis d’échéance"
    lines = list(invoice.lines.all())
    numbers = _Numbers(organisation)
    issue_date, sequence = numbers.take(SERIES[kind], timezone.localdate())
    numbers.save()
    excl, vat, incl = totals(vat_breakdown((-line.amount_excl_vat, line.vat_rate) for line in lines))
    credit = Invoice.objects.create(
        organisation=organisation, customer=invoice.customer, place=invoice.place, subscription=invoice.subscription,
        kind=kind, series=SERIES[kind], year=issue_date.year,
        sequence=sequence, number=format_number(SERIES[kind], issue_date.year, sequence),
        issue_date=issue_date,
        due_date=due_date(issue_date, organisation.payment_terms_days, organisation.payment_terms_end_of_month),
        period_start=invoice.period_start, period_end=invoice.period_end, total_excl_vat=excl, total_vat=vat,
        total_incl_vat=incl, vat_mention=invoice.vat_mention, corrects=invoice,
        seller=seller_snapshot(organisation), buyer=invoice.buyer)
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=credit, position=line.position, subscription=line.subscription, component=line.component,
                    label=f"Annulation de {what} {invoice.number} ({reason[:120]}) : {line.label}"[:300],
                    period_start=line.period_start, period_end=line.period_end, covered_start=line.covered_start,
                    covered_end=line.covered_end, version_number=line.version_number, days=line.days,
                    period_days=line.period_days, amount_excl_vat=-line.amount_excl_vat, vat_rate=line.vat_rate)
        for line in lines)
    sending.queue_many([credit], today=timezone.localdate())
    AuditEvent.objects.create(organisation=organisation, actor=acting_user if getattr(
        acting_user, "is_authenticated", False) else None, action="invoice.cancelled", object_type="billing.invoice",
        object_id=str(invoice.pk), data={"number": invoice.number, "credit_note": credit.number,
                                         "reason": reason})
    # What was paid on the cancelled invoice is the customer's credit again (payments.actions.settlements).
    return credit


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
    run = BillingRun(until=until, dry_run=dry_run)
    run.planned = engine.plan(until, organisation_id, run.refused)
    # A payment notice carries no VAT: a subscription that charges VAT needs invoices.
    notices_with_vat = {p.subscription for p in run.planned
                        if p.subscription.current_version.payment_notice and any(ln.vat_rate for ln in p.lines)}
    for subscription in sorted(notices_with_vat, key=lambda s: s.reference):
        run.refused.append(_("%(reference)s (%(subscriber)s): its place charges VAT, so it is billed by invoices, not "
                             "payment notices; change its subscription template.") % {
            "reference": subscription.reference, "subscriber": subscription.subscriber.name})
    run.planned = [p for p in run.planned if p.subscription not in notices_with_vat]
    # A seller that cannot issue valid invoices is left out; the others are billed.
    for seller in {planned.subscription.organisation for planned in run.planned}:
        try:
            check_seller(seller, charges_vat=any(line.vat_rate for p in run.planned if p.subscription.organisation_id
                                                 == seller.pk for line in p.lines))
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
    # One transaction per batch of an organisation's documents, in date order: a run cut short is
    # simply run again (what was issued is billed, and nothing is issued twice).
    for organisation, batch in _batches(run.planned):
        for invoice in issue_batch(organisation, batch, acting_user=acting_user):
            run.issued.append(invoice)
            run.total_excl_vat += invoice.total_excl_vat
            run.total_vat += invoice.total_vat
            run.total_incl_vat += invoice.total_incl_vat
    return run


BATCH = 500


def _batches(planned: list[engine.PlannedInvoice]):
    """Consecutive documents of one organisation, at most BATCH at a time, in the run's order."""
    batch: list[engine.PlannedInvoice] = []
    for item in planned:
        other = batch and item.subscription.organisation_id != batch[0].subscription.organisation_id
        if batch and (len(batch) == BATCH or other):
            yield batch[0].subscription.organisation, batch
            batch = []
        batch.append(item)
    if batch:
        yield batch[0].subscription.organisation, batch
