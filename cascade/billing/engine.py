"""The billing engine: what is due, minus what was billed, per subscription and period.

Each day of a period is priced by the subscription version in force that day (DESIGN.md §4);
what was billed is read from issued lines and from periods billed outside Cascade. The
difference becomes an invoice (or a credit note when negative). A plan is a pure value: the
same computation serves the preview (`--dry-run`) and the issue.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from cascade.subscriptions.models import COMPONENT_LABELS, Subscription, SubscriptionVersion

from .formatting import format_date_fr
from .models import BilledOutside, InvoiceLine
from .periods import Period, invoice_date, months_in, period_containing, periods_between
from .prorata import prorate_stretches

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DueLine:
    component: str
    label: str
    period: Period
    days: int
    amount: Decimal
    vat_rate: Decimal | None


@dataclass
class PlannedInvoice:
    subscription: Subscription
    period: Period
    invoice_date: date
    lines: list[DueLine] = field(default_factory=list)

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
        part = span.intersect(Period(start, end))
        if part is not None:
            segments.append((version, part))
    return segments


def due_lines(subscription: Subscription, period: Period) -> list[DueLine]:
    """What the subscription owes for one billing period, one line per component."""
    occupied = occupancy(subscription)
    covered = occupied.intersect(period) if occupied else None
    if covered is None:
        return []
    versions = subscription.versions_in_force
    current = versions[-1]
    vat_rate = subscription.place.invoice_vat_rate
    references = ", ".join(sorted(r.reference for r in current.resources.all()))
    stretches: dict[str, list[tuple[Decimal, int]]] = defaultdict(list)
    for version, part in _version_segments(versions, covered):
        months = months_in(version.frequency)
        for component in version.components.all():
            stretches[component.kind].append((component.monthly_amount * months, part.days))
    amounts = {kind: prorate_stretches(parts, period.days) for kind, parts in stretches.items()}
    lines = []
    for kind, amount in amounts.items():
        label = f"{COMPONENT_LABELS[kind]} — {references} — du {format_date_fr(covered.start)} au " \
                f"{format_date_fr(covered.end - timedelta(days=1))}"
        if covered.days != period.days:
            label += f" ({covered.days}/{period.days} jours)"
        lines.append(DueLine(kind, label, period, covered.days, amount, vat_rate))
    return sorted(lines, key=lambda line: line.component != "rent")


@dataclass
class Billed:
    """What was already billed, by subscription, period start and component."""

    amounts: dict[tuple[int, date, str], Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    components: dict[int, dict[date, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set)))

    def add(self, subscription_id: int, period_start: date, component: str, amount: Decimal) -> None:
        self.amounts[(subscription_id, period_start, component)] += amount
        self.components[subscription_id][period_start].add(component)

    def amount(self, subscription_id: int, period_start: date, component: str) -> Decimal:
        return self.amounts.get((subscription_id, period_start, component), ZERO)

    def period_starts(self, subscription_id: int) -> list[date]:
        return list(self.components.get(subscription_id, {}))

    def components_of(self, subscription_id: int, period_start: date) -> set[str]:
        return self.components.get(subscription_id, {}).get(period_start, set())


def billed_amounts(subscription_ids: list[int] | None = None, period_start: date | None = None) -> Billed:
    """What was already billed: issued lines and periods billed outside Cascade."""
    billed = Billed()
    for model in (InvoiceLine, BilledOutside):
        rows = model.objects.all()
        if subscription_ids is not None:
            rows = rows.filter(subscription_id__in=subscription_ids)
        if period_start is not None:
            rows = rows.filter(period_start=period_start)
        for row in rows.values("subscription_id", "period_start", "component").annotate(
                total=Sum("amount_excl_vat")):
            billed.add(row["subscription_id"], row["period_start"], row["component"], row["total"])
    return billed


def plan_subscription(subscription: Subscription, until: date,
                      billed: Billed) -> list[PlannedInvoice]:
    """The periods of the occupancy, and any period billed outside it since (an exit moved
    earlier, an entry moved later): each is planned as due minus billed."""
    version = subscription.current_version
    if version is None:
        return []
    occupied = occupancy(subscription)
    periods = {period_containing(version.frequency, start) for start in billed.period_starts(subscription.pk)}
    if occupied is not None:
        periods.update(periods_between(version.frequency, occupied.start, occupied.end))
    plans = []
    for period in sorted(periods, key=lambda p: p.start):
        # A period wholly before the entry is dated as if the occupancy had begun with it.
        entry = version.entry_date if version.entry_date < period.end else period.start
        when = invoice_date(period, version.term, entry)
        if when > until:
            break
        planned = plan_period(subscription, period, when, billed)
        if planned.lines:
            plans.append(planned)
    return plans


def plan_period(subscription: Subscription, period: Period, when: date,
                billed: Billed) -> PlannedInvoice:
    """Due minus billed for one period: the lines still to invoice (none when all is billed)."""
    planned = PlannedInvoice(subscription, period, when)
    due = {line.component: line for line in due_lines(subscription, period)}
    gone = sorted(billed.components_of(subscription.pk, period.start) - set(due))
    for component in [*due, *gone]:
        line = due.get(component) or _nothing_due(subscription, period, component)
        difference = line.amount - billed.amount(subscription.pk, period.start, component)
        if difference:
            planned.lines.append(DueLine(component, line.label, period, line.days, difference,
                                         line.vat_rate))
    return planned


def _nothing_due(subscription: Subscription, period: Period, component: str) -> DueLine:
    """The line of a component billed for a period that is no longer occupied."""
    references = ", ".join(sorted(r.reference for r in subscription.current_version.resources.all()))
    label = (f"{COMPONENT_LABELS[component]} — {references} — du {format_date_fr(period.start)} au "
             f"{format_date_fr(period.last_day)} : période non occupée")
    return DueLine(component, label, period, 0, ZERO, subscription.place.invoice_vat_rate)


def subscriptions_to_bill(organisation_id: int | None = None):
    qs = Subscription.objects.select_related("place", "subscriber", "organisation").prefetch_related(
        "versions__components", "versions__resources")
    return qs.filter(organisation_id=organisation_id) if organisation_id else qs


def plan(until: date, organisation_id: int | None = None) -> list[PlannedInvoice]:
    """Every invoice due on or before `until`, in the order they must be numbered."""
    subscriptions = list(subscriptions_to_bill(organisation_id))
    billed = billed_amounts([s.pk for s in subscriptions]) if organisation_id else billed_amounts()
    plans = [p for s in subscriptions for p in plan_subscription(s, until, billed)]
    return sorted(plans, key=lambda p: p.sort_key)
