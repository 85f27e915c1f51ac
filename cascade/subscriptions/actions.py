"""Subscriptions and their versions: creating one, proposing a change (an amendment), putting a
signed version in force, and changing a subscription template. One function per action.

A version is never edited once its contract is sent: any change of amounts, resources, dates or
terms is a new version with an effective date, whose contract (an avenant) must be signed before
billing follows it.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.places.models import Place, Resource

from .models import (
    HOLDING_STATUSES,
    ComponentKind,
    ContractKind,
    DocumentStatus,
    Subscription,
    SubscriptionComponent,
    SubscriptionStatus,
    SubscriptionTemplate,
    SubscriptionVersion,
    VersionStatus,
)


class SubscriptionError(Exception):
    """The change cannot be made as asked; the message says what to correct."""


@dataclass
class TermsInput:
    """The terms of a version as a manager enters them."""

    entry_date: date
    exit_date: date | None
    frequency: str
    term: str
    resources: list[Resource]
    amounts: dict[str, Decimal]  # component kind → monthly amount excl. VAT
    circumstances: str = ""
    note: str = ""
    effective_from: date | None = None  # defaults to the entry date for a first version


@dataclass
class TemplateChange:
    """What a change of subscription template does to one subscription."""

    subscription: Subscription
    terms: TermsInput | None
    changes: list = field(default_factory=list)  # contracts.changes.Change
    skipped: str = ""


def _frequency_change_problems(subscription: Subscription, current: SubscriptionVersion,
                               terms: TermsInput) -> list[str]:
    """Periods already billed stay as they were cut: a new frequency starts on a day that begins a period
    under both frequencies, once the periods billed are over (else they would be billed again)."""
    from cascade.billing.periods import period_containing

    day = terms.effective_from or terms.entry_date
    last = max(filter(None, (subscription.invoice_lines.aggregate(end=Max("period_end"))["end"],
                             subscription.billed_outside.aggregate(end=Max("period_end"))["end"])))
    starts_both = all(period_containing(frequency, day, current.anchor).start == day
                      for frequency in (current.frequency, terms.frequency))
    if day < last or not starts_both:
        return [_("A new billing frequency starts on a day that begins a period under both frequencies (the first "
                  "day of a quarter, from months to quarters), after the periods already invoiced (the last one ends "
                  "on %(end)s).")
                % {"end": (last - timedelta(days=1)).strftime("%d/%m/%Y")}]
    return []


def _billed(subscription: Subscription | None) -> bool:
    return subscription is not None and (subscription.invoice_lines.exists() or subscription.billed_outside.exists())


def _check_terms(place: Place, terms: TermsInput, *, subscription: Subscription | None, kind: str,
                 template: SubscriptionTemplate | None = None) -> None:
    problems = []
    template = template or (subscription.template if subscription else None)
    if template is not None and template.payment_notice and place.invoice_vat_rate:
        problems.append(_("%(place)s charges VAT: its occupants are billed by invoices, and the template %(template)s "
                          "calls by payment notices.") % {"place": place, "template": template})
    current = subscription.current_version if subscription is not None else None
    if current is not None and terms.frequency != current.frequency and _billed(subscription):
        problems += _frequency_change_problems(subscription, current, terms)
    if terms.exit_date and terms.exit_date < terms.entry_date:
        problems.append(_("The exit date is before the entry date."))
    if terms.entry_date < place.convention_start or terms.entry_date > place.convention_end:
        problems.append(_("The entry date must fall within the owner's convention (%(start)s – %(end)s).")
                        % {"start": place.convention_start.strftime("%d/%m/%Y"),
                           "end": place.convention_end.strftime("%d/%m/%Y")})
    if terms.exit_date and terms.exit_date > place.convention_end:
        problems.append(_("The exit date is after the end of the owner's convention (%(end)s).")
                        % {"end": place.convention_end.strftime("%d/%m/%Y")})
    if not terms.resources:
        problems.append(_("Choose at least one space."))
    for resource in terms.resources:
        if resource.place_id != place.pk:
            problems.append(_("%(ref)s is not a space of %(place)s.") % {"ref": resource.reference, "place": place})
        elif not resource.type.rentable:
            problems.append(_("%(ref)s is shared, not rented (%(type)s).") % {"ref": resource.reference,
                                                                              "type": resource.type.name})
    if terms.amounts.get(ComponentKind.RENT) is None:
        problems.append(_("The occupancy fee is required (0 for a free occupancy)."))
    if any(amount is not None and amount < 0 for amount in terms.amounts.values()):
        problems.append(_("Amounts cannot be negative."))
    last_day = terms.exit_date or place.convention_end
    if terms.effective_from and not terms.entry_date <= terms.effective_from <= last_day:
        problems.append(_("The effective date must fall within the occupancy (%(start)s – %(end)s).")
                        % {"start": terms.entry_date.strftime("%d/%m/%Y"), "end": last_day.strftime("%d/%m/%Y")})
    if kind == ContractKind.PRECARIOUS and not terms.circumstances.strip():
        problems.append(_("A precarious agreement states the circumstances that justify it (art. L145-5-1 Code de "
                          "commerce): describe them."))
    problems += _overlaps(terms, subscription)
    if problems:
        raise SubscriptionError(" ".join(problems))


def _overlaps(terms: TermsInput, subscription: Subscription | None) -> list[str]:
    """Spaces already held by another subscription on some of the same days."""
    last = terms.exit_date or date.max
    others = SubscriptionVersion.objects.filter(
        resources__in=terms.resources, status__in=HOLDING_STATUSES,
    ).filter(Q(exit_date__isnull=True) | Q(exit_date__gte=terms.entry_date), entry_date__lte=last).select_related(
        "subscription__subscriber", "subscription__place")
    if subscription is not None:
        others = others.exclude(subscription=subscription)
    problems = []
    for version in others.prefetch_related("resources").distinct():
        # What another subscription holds: its version in force, and the one being signed (which
        # may still be refused, so it frees nothing before it is in force). An older version in
        # force, replaced by a later one, holds nothing any more.
        other = version.subscription
        if version.status == VersionStatus.IN_FORCE and version.pk != other.current_version.pk:
            continue
        taken = sorted({r.reference for r in version.resources.all()} & {r.reference for r in terms.resources})
        until = version.exit_date or version.subscription.place.convention_end
        problems.append(_("%(refs)s: held by %(who)s (%(ref)s) from %(start)s to %(end)s.") % {
            "refs": ", ".join(taken), "who": version.subscription.subscriber, "ref": version.subscription.reference,
            "start": version.entry_date.strftime("%d/%m/%Y"), "end": until.strftime("%d/%m/%Y")})
    return problems


def _create_version(subscription: Subscription, number: int, terms: TermsInput) -> SubscriptionVersion:
    template = subscription.template
    anchor = terms.entry_date if template and template.anniversary else None
    previous = subscription.latest_version if number > 1 else None
    if previous is not None and _billed(subscription):
        anchor = previous.anchor  # periods already billed keep their grid (calendar or anniversary)
    version = SubscriptionVersion.objects.create(
        subscription=subscription, number=number, status=VersionStatus.DRAFT,
        effective_from=terms.effective_from or terms.entry_date, entry_date=terms.entry_date,
        exit_date=terms.exit_date, frequency=terms.frequency, term=terms.term, note=terms.note,
        circumstances=terms.circumstances,
        # Anniversary periods run from the entry date; the template says which, and the invoice day.
        anchor=anchor,
        invoice_days_before=template.invoice_days_before if template else 0,
        payment_notice=template.payment_notice if template else False)
    version.resources.set(terms.resources)
    SubscriptionComponent.objects.bulk_create(
        SubscriptionComponent(version=version, kind=kind, monthly_amount=amount)
        for kind, amount in terms.amounts.items() if amount is not None and (amount or kind == ComponentKind.RENT))
    return version


def _next_reference(organisation: Organisation) -> str:
    numbers = [int(ref[4:]) for ref in Subscription.objects.filter(
        organisation=organisation, reference__regex=r"^OCC-[0-9]+$").values_list("reference", flat=True)]
    return f"OCC-{max(numbers, default=0) + 1:04d}"


@transaction.atomic
def create_subscription(organisation: Organisation, *, subscriber: Organisation, place: Place,
                        template: SubscriptionTemplate | None, terms: TermsInput, deposit: Decimal | None = None,
                        acting_user=None):
    """A new subscription, pending, with its first version and the draft of its convention."""
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    if place.organisation_id != organisation.pk:
        raise SubscriptionError(_("This place is not managed by %(org)s.") % {"org": organisation})
    _check_terms(place, terms, subscription=None, kind=template.contract_kind if template else ContractKind.TEMPORARY,
                 template=template)
    subscription = Subscription.objects.create(
        organisation=organisation, subscriber=subscriber, place=place, template=template,
        reference=_next_reference(organisation), deposit=deposit, status=SubscriptionStatus.PENDING)
    version = _create_version(subscription, 1, terms)
    record("subscription.created", organisation=organisation, actor=acting_user, obj=subscription,
           reference=subscription.reference, subscriber=subscriber.name)
    return subscription, _document(version, acting_user)


def _document(version: SubscriptionVersion, acting_user):
    """The version's document; a template that cannot draw it undoes the whole action."""
    from cascade.contracts.actions import ContractError, generate_contract

    try:
        return generate_contract(version, acting_user=acting_user)
    except ContractError as error:
        raise SubscriptionError(str(error)) from error


def kind_of(subscription: Subscription) -> str:
    return subscription.template.contract_kind if subscription.template else ContractKind.TEMPORARY


def check_still_free(version: SubscriptionVersion) -> None:
    """Refuse to send a version whose spaces someone else took since it was drawn."""
    problems = _overlaps(terms_from_version(version), version.subscription)
    if problems:
        raise SubscriptionError(" ".join(problems))


def terms_from_version(version: SubscriptionVersion) -> TermsInput:
    return TermsInput(
        entry_date=version.entry_date, exit_date=version.exit_date, frequency=version.frequency, term=version.term,
        resources=list(version.resources.select_related("type")),
        amounts={c.kind: c.monthly_amount for c in version.components.all()},
        circumstances=version.circumstances, note=version.note)


@transaction.atomic
def propose_version(subscription: Subscription, terms: TermsInput, *, acting_user=None):
    """A new version with its effective date and its document: an avenant that lists what changes
    when a version is in force, a new convention otherwise (after a refusal, say)."""
    from cascade.contracts.changes import differences
    from cascade.contracts.context import version_terms

    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise SubscriptionError(_("This subscription was cancelled."))
    if subscription.open_version is not None:
        raise SubscriptionError(_("Version %(n)s is still being prepared or signed: finish or cancel it first.")
                                % {"n": subscription.open_version.number})
    current = subscription.current_version
    if current is not None:
        if terms.effective_from is None:
            raise SubscriptionError(_("An amendment needs its effective date."))
        if not differences(version_terms(current), _as_terms(terms)):
            raise SubscriptionError(_("Nothing changes: the new terms are those in force."))
    _check_terms(subscription.place, terms, subscription=subscription, kind=kind_of(subscription))
    number = max((v.number for v in subscription.versions.all()), default=0) + 1
    version = _create_version(subscription, number, terms)
    record("subscription.version_proposed", organisation=subscription.organisation, actor=acting_user,
           obj=subscription, version=number, effective_from=version.effective_from.isoformat())
    return _document(version, acting_user)


def _as_terms(terms: TermsInput):
    from cascade.contracts.changes import Terms
    from cascade.subscriptions.models import COMPONENT_LABELS

    order = sorted(terms.amounts, key=lambda kind: kind != ComponentKind.RENT)
    return Terms(entry_date=terms.entry_date, exit_date=terms.exit_date, frequency=terms.frequency,
                 term=terms.term, resources=tuple(sorted(r.reference for r in terms.resources)),
                 amounts=tuple((COMPONENT_LABELS[k], terms.amounts[k]) for k in order
                               if terms.amounts[k] is not None and (terms.amounts[k] or k == ComponentKind.RENT)),
                 circumstances=terms.circumstances)


def documents_complete(subscription: Subscription) -> bool:
    """The latest file sent for each document its template requires is valid."""
    from .documents import document_states

    return all(upload is not None and upload.status == DocumentStatus.VALID
               for _requirement, upload in document_states(subscription))


@transaction.atomic
def activate_if_ready(subscription: Subscription, *, acting_user=None) -> bool:
    """Put the signed version in force: at once for an amendment, once every required document
    is valid for a first version. True when a version came into force."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    version = subscription.versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()
    if version is None:
        return False
    first = not subscription.versions.filter(status=VersionStatus.IN_FORCE).exists()
    if first and not documents_complete(subscription):
        return False
    version.status, version.in_force_at = VersionStatus.IN_FORCE, timezone.now()
    version.save(update_fields=["status", "in_force_at"])
    if subscription.status != SubscriptionStatus.ACTIVE:
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.save(update_fields=["status"])
    record("subscription.version_in_force", organisation=subscription.organisation, actor=acting_user,
           obj=subscription, version=version.number, effective_from=version.effective_from.isoformat())
    return True


@transaction.atomic
def cancel_subscription(subscription: Subscription, *, acting_user=None) -> None:
    """Give up a subscription that never came into force (its convention was never signed)."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.versions.filter(status__in=(VersionStatus.IN_FORCE, VersionStatus.SIGNED)).exists():
        raise SubscriptionError(_("A signed subscription is ended by an amendment that sets its exit date."))
    if subscription.versions.filter(status=VersionStatus.TO_SIGN).exists():
        raise SubscriptionError(_("Cancel its signature request first."))
    subscription.versions.filter(status=VersionStatus.DRAFT).update(status=VersionStatus.CANCELLED)
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.save(update_fields=["status"])
    record("subscription.cancelled", organisation=subscription.organisation, actor=acting_user, obj=subscription)


# ---------------------------------------------------------------- subscription templates


def _template_terms(template: SubscriptionTemplate, subscription: Subscription, effective_from: date,
                    frequency: str, term: str, fluids_per_m2: Decimal | None) -> TermsInput:
    terms = terms_from_version(subscription.current_version)
    terms.frequency, terms.term, terms.effective_from = frequency, term, effective_from
    if fluids_per_m2 is not None:
        surface = sum((r.surface for r in terms.resources if r.surface is not None), Decimal("0"))
        terms.amounts[ComponentKind.FLUIDS] = (surface * fluids_per_m2).quantize(Decimal("0.01"))
    return terms


def template_change_plan(template: SubscriptionTemplate, *, effective_from: date, frequency: str, term: str,
                         fluids_per_m2: Decimal | None) -> list[TemplateChange]:
    """The amendment each subscription using the template would get (the preview)."""
    from cascade.contracts.changes import differences
    from cascade.contracts.context import version_terms

    plan = []
    subscriptions = template.subscriptions.exclude(status=SubscriptionStatus.CANCELLED).select_related(
        "subscriber", "place").prefetch_related("versions__components", "versions__resources__type")
    for subscription in subscriptions.order_by("reference"):
        current = subscription.current_version
        if current is None:
            plan.append(TemplateChange(subscription, None, skipped=_("not in force yet")))
            continue
        last_day = current.exit_date or subscription.place.convention_end
        if last_day < effective_from:
            plan.append(TemplateChange(subscription, None, skipped=_("ended before the effective date")))
            continue
        if subscription.open_version is not None:
            plan.append(TemplateChange(subscription, None, skipped=_("another version is being signed")))
            continue
        terms = _template_terms(template, subscription, max(effective_from, current.entry_date), frequency, term,
                                fluids_per_m2)
        changes = differences(version_terms(current), _as_terms(terms))
        try:
            _check_terms(subscription.place, terms, subscription=subscription, kind=kind_of(subscription))
        except SubscriptionError as error:
            plan.append(TemplateChange(subscription, None, skipped=str(error)))
            continue
        plan.append(TemplateChange(subscription, terms, changes, "" if changes else _("nothing changes")))
    return plan


@transaction.atomic
def change_template(template: SubscriptionTemplate, *, effective_from: date, frequency: str, term: str,
                    fluids_per_m2: Decimal | None, acting_user=None) -> list:
    """Save the template's new terms and generate the amendment of every subscription concerned."""
    plan = template_change_plan(template, effective_from=effective_from, frequency=frequency, term=term,
                                fluids_per_m2=fluids_per_m2)
    template.frequency, template.term, template.fluids_per_m2 = frequency, term, fluids_per_m2
    template.save(update_fields=["frequency", "term", "fluids_per_m2"])
    contracts = [propose_version(item.subscription, item.terms, acting_user=acting_user)
                 for item in plan if item.changes]
    record("subscription_template.changed", organisation=template.organisation, actor=acting_user, obj=template,
           effective_from=effective_from.isoformat(), amendments=len(contracts))
    return contracts


def ending_between(organisation: Organisation, start: date, end: date):
    """Subscriptions in force whose occupancy ends between the two dates (inclusive)."""
    found = []
    for subscription in Subscription.objects.filter(organisation=organisation, status=SubscriptionStatus.ACTIVE) \
            .select_related("subscriber", "place").prefetch_related("versions"):
        version = subscription.current_version
        last = version.end_exclusive(subscription.place) - timedelta(days=1)
        if start <= last <= end:
            found.append((subscription, last))
    return sorted(found, key=lambda pair: pair[1])
