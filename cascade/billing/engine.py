"""The billing engine: what is due, minus what was billed, per subscription and period.

Each day of a period is priced by the subscription version in force that day (DESIGN.md §4);
what was billed is read from issued lines and from periods billed outside Cascade. The
difference becomes an invoice (or a credit note when negative). A plan is a pure value: the
same computation serves the preview (`--dry-run`) and the issue.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Prefetch

from cascade.places.models import Resource
from cascade.subscriptions.models import COMPONENT_LABELS, Subscription, SubscriptionVersion

from . import adjustments
from .formatting import format_date_fr, format_eur
from .models import BilledOutside, InvoiceLine
from .periods import MAX_DAYS_BEFORE, Period, invoice_date, months_in, period_containing, periods_between

ZERO = Decimal("0.00")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueLine:
    component: str
    label: str
    period: Period
    days: int
    amount: Decimal
    vat_rate: Decimal | None
    # The days of the period the line covers, half-open, and the version that prices them
    # (None: days no longer occupied, credited).
    start: date | None = None
    end: date | None = None
    version: int | None = None


@dataclass
class PlannedInvoice:
    subscription: Subscription
    period: Period
    invoice_date: date
    lines: list[DueLine] = field(default_factory=list)
    # What was billed for the period when the lines were computed: the lines still hold while it is unchanged.
    billed: tuple = ()

    @property
    def total_excl_vat(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def sort_key(self) -> tuple:
        return (self.invoice_date, self.subscription.subscriber.name, self.subscription.reference,
                self.period.start)


def occupancy(subscription: Subscription) -> Period | None:
    """Days occupied, from the latest version's entry and exit (or the convention's end)."""
    version = subscription.current_version
    if version is None:
        return None
    end = version.end_exclusive(subscription.place)
    return Period(version.entry_date, end) if end > version.entry_date else None


def _version_segments(versions: list[SubscriptionVersion], span: Period) -> list[tuple[SubscriptionVersion, Period]]:
    """Split `span` into the stretches where each version is in force."""
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.number))
    segments = []
    for i, version in enumerate(ordered):
        start = version.effective_from
        end = ordered[i + 1].effective_from if i + 1 < len(ordered) else date.max
        if i == 0:
            start = date.min  # the first version governs everything before the next one
        if end <= start:
            continue  # two versions from the same day: the later one governs it
        part = span.intersect(Period(start, end))
        if part is not None:
            segments.append((version, part))
    return segments


def _period_at(versions: list[SubscriptionVersion], day: date) -> Period:
    """The period holding `day`, cut as the version in force that day cuts them."""
    governing = next(v for v, _part in _version_segments(versions, Period(day, day + timedelta(days=1))))
    return period_containing(governing.frequency, day, governing.anchor)


def stretches_of(subscription: Subscription, period: Period) -> dict[str, list[adjustments.Stretch]]:
    """What is due for the period, per component: the occupied days priced by the version in force."""
    occupied = occupancy(subscription)
    covered = occupied.intersect(period) if occupied else None
    stretches: dict[str, list[adjustments.Stretch]] = defaultdict(list)
    if covered is None:
        return stretches
    for version, part in _version_segments(subscription.versions_in_force, covered):
        months = months_in(version.frequency)
        for component in version.component_items():
            stretches[component.kind].append(adjustments.Stretch(
                part.start, part.end, component.monthly_amount * months, version.number))
    return stretches


class Labels:
    """The words of the lines of one subscription: its spaces, and why a version applies."""

    def __init__(self, subscription: Subscription, amendments: dict[int, int] | None = None):
        """`amendments`: version number → avenant number, when the caller read them for many subscriptions."""
        self.subscription = subscription
        self._versions = {v.number: v for v in subscription.version_items()}
        self._why = amendments

    @property
    def references(self) -> str:
        return ", ".join(sorted(r.reference for r in self.subscription.current_version.resource_items()))

    def monthly(self, version: int | None, component: str) -> Decimal | None:
        found = self._versions.get(version)
        if found is None:
            return None
        return next((c.monthly_amount for c in found.component_items() if c.kind == component), None)

    def why(self, version: int | None) -> str:
        """ "Avenant n° 2 du 15/03/2026": the document that brought the version in (its effective date)."""
        found = self._versions.get(version)
        if found is None or found.number == 1:
            return ""
        if self._why is None:
            self._why = amendment_numbers([self.subscription.pk]).get(self.subscription.pk, {})
        number = self._why.get(found.number)
        what = f"Avenant n° {number}" if number else f"Version {found.number}"
        return f"{what} du {format_date_fr(found.effective_from)}"

    def first(self, component: str, stretch: adjustments.Stretch, period: Period, several: bool) -> str:
        label = (f"{COMPONENT_LABELS[component]} — {self.references} — du {format_date_fr(stretch.start)} au "
                 f"{format_date_fr(stretch.end - timedelta(days=1))}")
        if stretch.days != period.days:
            label += f" ({stretch.days}/{period.days} jours)"
        why = self.why(stretch.version) if several else ""
        return f"{label} — {why}" if why else label

    def adjustment(self, component: str, part: adjustments.Part, period: Period) -> str:
        """ "Avenant n° 2 du 15/03/2026 : redevance d'occupation 340,00 € → 374,00 € par mois du 15/03/2026 au
        31/03/2026 (17/31 jours)": which days, and why."""
        days = f"du {format_date_fr(part.start)} au {format_date_fr(part.end - timedelta(days=1))}"
        if part.days != period.days:
            days += f" ({part.days}/{period.days} jours)"
        name = COMPONENT_LABELS[component][0].lower() + COMPONENT_LABELS[component][1:]
        if part.version is None:
            current = self.subscription.current_version
            why = self.why(current.number)
            if current.exit_date and part.start > current.exit_date:
                reason = f"Sortie au {format_date_fr(current.exit_date)}"
            elif part.end <= current.entry_date:
                reason = f"Entrée au {format_date_fr(current.entry_date)}"
            else:
                reason = "Période non occupée"
            reason += f" ({why[0].lower()}{why[1:]})" if why else ""
            return f"{reason} : {name} — {self.references} — non due {days}"
        why = self.why(part.version) or "Régularisation"
        if part.replaces is None:
            return f"{why} : {name} — {self.references} — jours ajoutés {days}"
        old, new = self.monthly(part.replaces, component), self.monthly(part.version, component)
        if part.replaces == adjustments.OUTSIDE or old is None or new is None or old == new:
            return f"{why} : {name} — {self.references} — {days}"
        return f"{why} : {name} {format_eur(old)} → {format_eur(new)} par mois {days}"


def amendment_numbers(subscription_ids: list[int]) -> dict[int, dict[int, int]]:
    """subscription → {version number → avenant number}, in one query."""
    from cascade.contracts.models import AMENDMENT, Contract

    found: dict[int, dict[int, int]] = defaultdict(dict)
    for subscription_id, version, number in Contract.objects.filter(
            subscription_id__in=subscription_ids, kind=AMENDMENT).exclude(amendment_number=None).values_list(
            "subscription_id", "version__number", "amendment_number"):
        found[subscription_id][version] = number
    return found


def due_lines(subscription: Subscription, period: Period, labels: Labels | None = None) -> list[DueLine]:
    """What the subscription owes for one billing period when nothing was billed for it yet: one
    line per component, or per version when several share the period."""
    labels = labels or Labels(subscription)
    vat_rate = subscription.place.invoice_vat_rate
    lines = []
    for kind, stretches in _in_order(stretches_of(subscription, period)):
        stretches = _merged(stretches)
        for stretch, amount in zip(stretches, adjustments.due_parts(stretches, period.days), strict=True):
            if amount:
                lines.append(DueLine(kind, labels.first(kind, stretch, period, len(stretches) > 1), period,
                                     stretch.days, amount, vat_rate, stretch.start, stretch.end, stretch.version))
    return lines


def _billed_as_due(due: list[adjustments.Stretch], prior: list[adjustments.Billed], period: Period) -> bool:
    """The common case, checked before any day-by-day comparison: the period was billed once, line for line
    as it is due now."""
    merged = _merged(due)
    if len(merged) != len(prior):
        return False
    parts = adjustments.due_parts(merged, period.days)
    return all((b.start, b.end, b.amount) == (s.start, s.end, amount)
               for b, s, amount in zip(prior, merged, parts, strict=True))


def _merged(stretches: list[adjustments.Stretch]) -> list[adjustments.Stretch]:
    """Consecutive stretches at one price as one (versions that changed something else), under the
    later version."""
    merged: list[adjustments.Stretch] = []
    for stretch in stretches:
        if merged and merged[-1].price == stretch.price and merged[-1].end == stretch.start:
            merged[-1] = adjustments.Stretch(merged[-1].start, stretch.end, stretch.price, stretch.version)
        else:
            merged.append(stretch)
    return merged


def _in_order(by_component: dict) -> list:
    """Components in the order of an invoice: the fee (rent) first."""
    return sorted(by_component.items(), key=lambda item: item[0] != "rent")


@dataclass
class Billed:
    """What was already billed, line by line in issue order, by subscription, period start and component."""

    lines: dict[tuple[int, date, str], list[adjustments.Billed]] = field(default_factory=lambda: defaultdict(list))
    components: dict[int, dict[date, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set)))

    def add(self, subscription_id: int, period_start: date, component: str, line: adjustments.Billed) -> None:
        self.lines[(subscription_id, period_start, component)].append(line)
        self.components[subscription_id][period_start].add(component)

    def of(self, subscription_id: int, period_start: date, component: str) -> list[adjustments.Billed]:
        return self.lines.get((subscription_id, period_start, component), [])

    def period_starts(self, subscription_id: int) -> list[date]:
        return list(self.components.get(subscription_id, {}))

    def fingerprint(self, subscription_id: int, period_start: date) -> tuple:
        return tuple((component, tuple(self.of(subscription_id, period_start, component)))
                     for component in sorted(self.components_of(subscription_id, period_start)))

    def components_of(self, subscription_id: int, period_start: date) -> set[str]:
        return self.components.get(subscription_id, {}).get(period_start, set())


def billed_amounts(subscription_ids: list[int] | None = None, period_start: date | None = None,
                   period_starts: list[date] | None = None) -> Billed:
    """What was already billed: periods billed outside Cascade, then issued lines in issue order."""
    billed = Billed()
    fields = ("subscription_id", "period_start", "component", "covered_start", "covered_end", "amount_excl_vat")
    for model, order, version in ((BilledOutside, ("pk",), None), (InvoiceLine, ("invoice_id", "position"),
                                                                    "version_number")):
        rows = model.objects.all()
        if subscription_ids is not None:
            rows = rows.filter(subscription_id__in=subscription_ids)
        if period_start is not None:
            rows = rows.filter(period_start=period_start)
        if period_starts is not None:
            rows = rows.filter(period_start__in=period_starts)
        for row in rows.order_by(*order).values(*fields, *([version] if version else [])):
            billed.add(row["subscription_id"], row["period_start"], row["component"], adjustments.Billed(
                row["covered_start"], row["covered_end"], row["amount_excl_vat"],
                row[version] if version else adjustments.OUTSIDE))
    return billed


def plan_subscription(subscription: Subscription, until: date, billed: Billed,
                      labels: Labels | None = None) -> list[PlannedInvoice]:
    """The periods of the occupancy, and any period billed outside it since (an exit moved
    earlier, an entry moved later): each is planned as due minus billed."""
    version = subscription.current_version
    if version is None:
        return []
    occupied = occupancy(subscription)
    # Each version cuts its own days in periods: a new frequency starts on a day that begins a period
    # in both (subscriptions.actions checks it), so the periods of the versions never overlap.
    versions = subscription.versions_in_force
    periods = {_period_at(versions, start) for start in billed.period_starts(subscription.pk)}
    if occupied is not None:
        # A period starting after `until` + the days invoiced ahead is never due yet.
        horizon = min(occupied.end, until + timedelta(days=min(version.invoice_days_before, MAX_DAYS_BEFORE) + 1))
        if horizon > occupied.start:
            for governing, part in _version_segments(versions, Period(occupied.start, horizon)):
                periods.update(periods_between(governing.frequency, part.start, part.end, governing.anchor))
    plans, labels = [], labels or Labels(subscription)
    for period in sorted(periods, key=lambda p: p.start):
        # A period wholly before the entry is dated as if the occupancy had begun with it.
        entry = version.entry_date if version.entry_date < period.end else period.start
        when = invoice_date(period, version.term, entry, version.invoice_days_before)
        if when > until:
            break
        planned = plan_period(subscription, period, when, billed, labels)
        if planned.lines:
            plans.append(planned)
    return plans


def plan_period(subscription: Subscription, period: Period, when: date, billed: Billed,
                labels: Labels | None = None) -> PlannedInvoice:
    """Due minus billed for one period: the lines still to invoice (none when all is billed).

    A period never billed gets its lines as due; one already billed gets the adjustments that
    bring it to what is due now, each saying which days and why."""
    labels = labels or Labels(subscription)
    planned = PlannedInvoice(subscription, period, when, billed=billed.fingerprint(subscription.pk, period.start))
    stretches = stretches_of(subscription, period)
    gone = billed.components_of(subscription.pk, period.start) - set(stretches)
    vat_rate = subscription.place.invoice_vat_rate
    first = None
    for component, due in _in_order({**stretches, **{c: [] for c in sorted(gone)}}):
        prior = billed.of(subscription.pk, period.start, component)
        if not prior:
            first = first if first is not None else due_lines(subscription, period, labels)
            planned.lines += [line for line in first if line.component == component]
            continue
        if _billed_as_due(due, prior, period):
            continue
        for part in adjustments.adjustments(due, prior, period.start, period.end):
            planned.lines.append(DueLine(component, labels.adjustment(component, part, period), period, part.days,
                                         part.amount, vat_rate, part.start, part.end, part.version))
    return planned


def subscriptions_to_bill(organisation_id: int | None = None):
    # Plain lists (`to_attr`) and one instance per place and seller: 10 000 subscriptions load in a
    # fraction of the memory of a prefetch per relation.
    versions = SubscriptionVersion.objects.prefetch_related(
        Prefetch("components", to_attr="component_list"),
        Prefetch("resources", queryset=Resource.objects.only("id", "reference"), to_attr="resource_list"))
    qs = Subscription.objects.select_related("subscriber").prefetch_related(
        "place", "organisation", Prefetch("versions", queryset=versions, to_attr="version_list"))
    return qs.filter(organisation_id=organisation_id) if organisation_id else qs


def plan(until: date, organisation_id: int | None = None, refused: list[str] | None = None) -> list[PlannedInvoice]:
    """Every invoice due on or before `until`, in the order they must be numbered.

    A subscription whose terms cannot be billed is left out and said in `refused`: the others are billed."""
    subscriptions = list(subscriptions_to_bill(organisation_id))
    billed = billed_amounts([s.pk for s in subscriptions]) if organisation_id else billed_amounts()
    amendments = amendment_numbers([s.pk for s in subscriptions])
    plans = []
    for subscription in subscriptions:
        try:
            plans += plan_subscription(subscription, until, billed,
                                       Labels(subscription, amendments.get(subscription.pk, {})))
        except (ValueError, ArithmeticError) as error:
            logger.exception("subscription %s not billed", subscription.reference)
            if refused is not None:
                refused.append(f"{subscription.organisation.name} — {subscription.reference} "
                               f"({subscription.subscriber.name}): {error}")
    return sorted(plans, key=lambda p: p.sort_key)
