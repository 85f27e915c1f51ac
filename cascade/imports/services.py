"""Import of an operator's workbook into Cascade: all or nothing, every fault reported.

The reading and validation of the sheets is pure (`workbook.py`); this module turns a clean
reading into organisations, places, resources and subscriptions in one transaction.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from cascade.accounts.actions import unique_slug
from cascade.accounts.audit import record
from cascade.accounts.models import Organisation, OrganisationKind
from cascade.billing import engine
from cascade.billing.models import BilledOutside
from cascade.billing.periods import invoice_date, periods_between
from cascade.places.models import Place, PlaceShare, PriceBasis, Resource, ResourceType, Unit, VatRegime
from cascade.subscriptions.models import (
    ComponentKind,
    Subscription,
    SubscriptionComponent,
    SubscriptionStatus,
    SubscriptionTemplate,
    SubscriptionVersion,
    VersionStatus,
)

from .cells import normalise
from .workbook import Fault, WorkbookReading, is_meeting_room, read_workbook


@dataclass
class ImportReport:
    faults: list[Fault] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    operator: Organisation | None = None
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    clashes: list[Fault] = field(default_factory=list)  # the notes, as faults the interface translates

    @property
    def ok(self) -> bool:
        return not self.faults

    def as_dict(self) -> dict:
        notes = {"notes": self.notes} if self.notes else {}
        return {**self.counts, "dry_run": self.dry_run, "faults": [f.as_dict() for f in self.faults], **notes}


class _Rollback(Exception):
    pass


def import_workbook(source: str | BinaryIO, *, billing_from: date | None = None, dry_run: bool = False,
                    operator: Organisation | None = None, acting_user=None) -> ImportReport:
    """Import the workbook; on any fault nothing is written and the faults are returned."""
    reading = read_workbook(source)
    report = ImportReport(faults=list(reading.faults), dry_run=dry_run)
    clashes = _already_imported(reading, operator)
    if report.faults:
        # The faults are the workbook's own; a clash with the database is told beside them,
        # so that correcting the sheets does not reveal it only on the next try.
        report.notes = [f"{f.problem}: {f.value} (Lieux, row {f.row})" for f in clashes]
        report.clashes = clashes
        return report
    report.faults = clashes
    if report.faults:
        return report
    try:
        with transaction.atomic():
            _import(reading, report, billing_from, operator, acting_user)
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return report


def _already_imported(reading: WorkbookReading, operator: Organisation | None) -> list[Fault]:
    """Places of the workbook that the operator already has in Cascade."""
    if operator is None:
        if reading.operator is None:
            return []
        operator = Organisation.objects.filter(kind=OrganisationKind.OPERATOR, siret=reading.operator.siret).first()
        if operator is None:
            return []
    existing = {_key(name) for name in Place.objects.filter(organisation=operator).values_list("name", flat=True)}
    return [Fault.of("Lieux", row.row, "Nom du lieu", row.name,
                     gettext_noop("place already exists in Cascade (imported before?)"))
            for row in reading.places if _key(row.name) in existing]


def _import(reading: WorkbookReading, report: ImportReport, billing_from: date | None,
            operator: Organisation | None, acting_user) -> None:
    operator = _complete(operator, reading) if operator else _operator(reading)
    report.operator = operator
    organisations, created = _occupants(reading, operator)
    places = _places(reading, operator, organisations)
    resources = _resources(reading, operator, places)
    subscriptions = _subscriptions(reading, operator, places, resources, organisations, billing_from)
    if billing_from:
        _record_billed_outside(subscriptions, billing_from)
    bills = _supplier_bills(reading, operator, places)
    report.counts = {
        "places": len(places),
        "resources": len(resources),
        "occupants": created["occupants"],
        "subscriptions": len(subscriptions),
        "partners": created["partners"],
        "resource_types": len({r.type_id for r in resources.values()}),
        "supplier_bills": bills,
    }
    record("workbook.imported", organisation=operator, actor=acting_user, obj=operator,
           billing_from=billing_from.isoformat() if billing_from else None, **report.counts)


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _operator(reading: WorkbookReading) -> Organisation:
    row = reading.operator
    found = Organisation.objects.filter(kind=OrganisationKind.OPERATOR, siret=row.siret).first()
    if found:
        return found
    return Organisation.objects.create(
        name=row.name, slug=unique_slug(row.name), kind=OrganisationKind.OPERATOR,
        legal_form=row.legal_form, siret=row.siret, vat_number=row.vat_number or "",
        iban=row.iban or "", sepa_creditor_id=row.ics or "", address=row.address or "",
    )


def _complete(operator: Organisation, reading: WorkbookReading) -> Organisation:
    """The organisation importing the workbook takes the Structure sheet's legal data where its
    own is blank (it is the seller of the invoices); what it already has is kept."""
    row = reading.operator
    sheet = {"legal_form": row.legal_form, "siret": row.siret, "vat_number": row.vat_number or "",
             "iban": row.iban or "", "sepa_creditor_id": row.ics or "", "address": row.address or ""}
    blank = [name for name, value in sheet.items() if value and not getattr(operator, name)]
    for name in blank:
        setattr(operator, name, sheet[name])
    if blank:
        operator.save(update_fields=blank)
    return operator


def _operator_keys(reading: WorkbookReading, operator: Organisation) -> set[str]:
    """Names that mean the operator: its own, and the one its Structure sheet gives (they differ
    when an organisation imports a workbook from the browser under the name it chose)."""
    return {_key(operator.name), _key(reading.operator.name)}


def _occupants(reading: WorkbookReading, operator: Organisation) -> tuple[dict[str, Organisation], dict[str, int]]:
    """Occupants, then co-managers named nowhere else (created as partners), by name key, and
    how many were created: one the operator already has (same SIRET, or same name) is reused,
    so that a second workbook of the same operator does not duplicate its occupants."""
    known = list(Organisation.objects.filter(operator=operator))
    by_siret = {org.siret: org for org in known if org.siret}
    by_name = {_key(org.name): org for org in known}
    operator_keys = _operator_keys(reading, operator)
    organisations: dict[str, Organisation] = dict.fromkeys(operator_keys, operator)
    created = {"occupants": 0, "partners": 0}
    for row in reading.occupants:
        found = by_siret.get(row.siret) if row.siret else None
        found = found or by_name.get(_key(row.name))
        if found is None:
            created["occupants"] += 1
            found = Organisation.objects.create(
                name=row.name, slug=unique_slug(row.name), kind=OrganisationKind.OCCUPANT, operator=operator,
                legal_form=row.legal_form or "", siret=row.siret or "", iban=row.iban or "",
                address=row.address or "", email=row.email or "", phone=row.phone or "",
                contact_name=row.contact or "", price_category=row.category,
                is_cooperative_member=row.is_member,
            )
        organisations[_key(row.name)] = found
    for place in reading.places:
        for name, _share in place.co_managers:
            if _key(name) in organisations:
                continue
            partner = by_name.get(_key(name))
            if partner is None:
                created["partners"] += 1
                partner = Organisation.objects.create(
                    name=name, slug=unique_slug(name), kind=OrganisationKind.PARTNER, operator=operator)
            organisations[_key(name)] = partner
    for key in operator_keys:
        del organisations[key]
    return organisations, created


def _places(reading: WorkbookReading, operator: Organisation,
            organisations: dict[str, Organisation]) -> dict[str, Place]:
    places = {}
    operator_keys = _operator_keys(reading, operator)
    for row in reading.places:
        place = Place.objects.create(
            organisation=operator, name=row.name, address=row.address or "", owner_name=row.owner or "",
            convention_start=row.convention_start, convention_end=row.convention_end,
            vat_regime=VatRegime.VAT if row.vat_option else VatRegime.EXEMPT,
            vat_rate=row.vat_rate if row.vat_option else None,
        )
        for name, share in row.co_managers:
            partner = operator if _key(name) in operator_keys else organisations[_key(name)]
            PlaceShare.objects.create(place=place, partner=partner, share=share)
        places[row.name] = place
    return places


def _resource_types(reading: WorkbookReading, operator: Organisation) -> dict[str, ResourceType]:
    """One type per 'Type' of the Espaces sheet, valued by the price grid.

    Vacancy is valued at the grid's highest rate per m², or at the flat price of the
    'Forfait <type>' row for desks, lockers and parking.
    """
    per_m2 = max((p.rent for p in reading.prices if not p.flat), default=Decimal("0"))
    # The reader marks "Forfait <type>" rows as flat, whatever their case.
    flat = {normalise(p.category).removeprefix("forfait").strip(): p.rent for p in reading.prices if p.flat}
    with_surface = {s.type for s in reading.spaces if s.surface is not None}
    types = {}
    for name in dict.fromkeys(s.type for s in reading.spaces):
        is_flat = normalise(name) in flat
        types[name], _ = ResourceType.objects.get_or_create(
            organisation=operator, name=name,
            defaults={
                "unit": Unit.M2 if name in with_surface and not is_flat else Unit.UNIT,
                "rentable": not is_meeting_room(name),
                "reference_price": flat[normalise(name)] if is_flat else per_m2,
                "price_basis": PriceBasis.FLAT if is_flat else PriceBasis.PER_M2,
            },
        )
    return types


def _resources(reading: WorkbookReading, operator: Organisation,
               places: dict[str, Place]) -> dict[tuple[str, str], Resource]:
    types = _resource_types(reading, operator)
    resources: dict[tuple[str, str], Resource] = {}
    # Parents first, so that sub-units can point to them.
    for row in sorted(reading.spaces, key=lambda s: s.parent is not None):
        resources[(row.place, row.reference)] = Resource.objects.create(
            organisation=operator, place=places[row.place], type=types[row.type], reference=row.reference,
            building=row.building or "", floor=row.floor or "", surface=row.surface,
            capacity=row.capacity, accessible=row.accessible,
            parent=resources[(row.place, row.parent)] if row.parent else None,
        )
    return resources


def _subscriptions(reading: WorkbookReading, operator: Organisation, places: dict[str, Place],
                   resources: dict[tuple[str, str], Resource], organisations: dict[str, Organisation],
                   billing_from: date | None) -> list[Subscription]:
    from cascade.contracts.actions import latest_templates, signed_outside
    from cascade.contracts.models import Contract

    subscriptions, conventions, templates = [], [], latest_templates(operator)
    kinds: dict[tuple, SubscriptionTemplate] = {}
    start = Subscription.objects.filter(organisation=operator).count()
    for n, row in enumerate(sorted(reading.occupations, key=lambda o: o.row), start=start + 1):
        subscription = Subscription.objects.create(
            organisation=operator, subscriber=organisations[_key(row.occupant)], place=places[row.place],
            template=kinds.get((row.place, row.frequency, row.term)) or kinds.setdefault(
                (row.place, row.frequency, row.term), _template(operator, places[row.place], row.frequency, row.term)),
            reference=f"OCC-{n:04d}", deposit=row.deposit, billing_from=billing_from,
            # Signed on paper before Cascade: in force as imported.
            status=SubscriptionStatus.ACTIVE,
        )
        version = SubscriptionVersion.objects.create(
            subscription=subscription, number=1, status=VersionStatus.IN_FORCE, in_force_at=timezone.now(),
            effective_from=row.entry, entry_date=row.entry,
            exit_date=row.exit, frequency=row.frequency, term=row.term, note=row.remarks or "",
        )
        version.resources.set([resources[(row.place, ref)] for ref in row.references])
        components = [SubscriptionComponent(version=version, kind=ComponentKind.RENT, monthly_amount=row.rent)]
        if row.fluids:
            components.append(SubscriptionComponent(version=version, kind=ComponentKind.FLUIDS,
                                                    monthly_amount=row.fluids))
        SubscriptionComponent.objects.bulk_create(components)
        # The paper convention, on record: its PDF is drawn, marked as such, when first opened.
        conventions.append(signed_outside(version, templates))
        subscriptions.append(subscription)
    Contract.objects.bulk_create(conventions)
    return subscriptions


def _template(operator: Organisation, place: Place, frequency: str, term: str) -> SubscriptionTemplate:
    """One subscription template per place and billing terms found in the workbook."""
    from cascade.contracts.changes import FREQUENCIES, TERMS

    name = f"{place.name} — facturation {FREQUENCIES[frequency]}, {TERMS[term]}"
    template, _created = SubscriptionTemplate.objects.get_or_create(
        organisation=operator, name=name, defaults={"frequency": frequency, "term": term})
    return template


def _record_billed_outside(subscriptions: list[Subscription], billing_from: date) -> None:
    """Periods invoiced before `billing_from` were billed by hand: mark them billed."""
    rows = []
    for subscription in Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]).select_related(
            "place").prefetch_related("versions__components", "versions__resources"):
        occupied = engine.occupancy(subscription)
        version = subscription.current_version
        for period in periods_between(version.frequency, occupied.start, occupied.end):
            if invoice_date(period, version.term, version.entry_date) >= billing_from:
                break
            rows += [BilledOutside(subscription=subscription, component=line.component,
                                   period_start=period.start, period_end=period.end,
                                   covered_start=line.start, covered_end=line.end, amount_excl_vat=line.amount)
                     for line in engine.due_lines(subscription, period)]
    BilledOutside.objects.bulk_create(rows)


def _supplier_bills(reading: WorkbookReading, operator: Organisation, places: dict[str, Place]) -> int:
    """The Dépenses sheet's bills, for the ledger (posted with everything else by `post_pending`); a bill the
    operator already has (same supplier and number) is not recorded twice."""
    from cascade.ledger.models import SupplierBill

    known = {(_key(name), number.casefold()) for name, number in SupplierBill.objects.filter(
        organisation=operator).values_list("supplier_name", "number")}
    return len(SupplierBill.objects.bulk_create(
        SupplierBill(organisation=operator, supplier_name=row.supplier, place=places[row.place],
                     category=row.category, date=row.date, number=row.number, amount_excl_vat=row.excl_vat,
                     vat_rate=row.vat_rate, amount_vat=row.vat, amount_incl_vat=row.incl_vat, grant=row.grant or "")
        for row in reading.bills if (_key(row.supplier), row.number.casefold()) not in known))


def fault_summary(faults: list[Fault]) -> dict[str, int]:
    by_sheet: dict[str, int] = defaultdict(int)
    for fault in faults:
        by_sheet[fault.sheet] += 1
    return dict(by_sheet)
