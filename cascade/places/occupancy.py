"""From the database to the pure vacancy rules: spaces and occupancies of a place."""

from datetime import date, timedelta

from cascade.subscriptions.models import Subscription

from . import vacancy
from .models import Place


def spaces_and_occupancies(place: Place) -> tuple[list[vacancy.Space], list[vacancy.Occupancy]]:
    """The place's spaces, valid only while the owner's convention lends the place (a space
    cannot be vacant, nor its vacancy cost anything, before or after it), and their occupancies."""
    lent_from, lent_until = place.convention_start, place.convention_end + timedelta(days=1)
    spaces = [
        vacancy.Space(
            id=r.pk, reference=r.reference, surface=r.surface,
            valid_from=max(r.valid_from or lent_from, lent_from),
            valid_until=min(r.valid_end_exclusive or lent_until, lent_until),
            rentable=r.type.rentable, parent_id=r.parent_id, monthly_reference_price=r.monthly_reference_price,
        )
        for r in place.resources.select_related("type")
    ]
    occupancies = []
    subscriptions = Subscription.objects.filter(place=place).select_related("subscriber").prefetch_related(
        "versions__resources")
    for subscription in subscriptions:
        version = subscription.current_version
        if version is None:
            continue
        end = version.end_exclusive(place)
        for resource in version.resources.all():
            occupancies.append(vacancy.Occupancy(resource.pk, version.entry_date, end,
                                                 subscription.subscriber.name))
    return spaces, occupancies


def place_vacancy(place: Place, day: date) -> dict:
    """The figures of `cascade vacancy` for one place and day."""
    spaces, occupancies = spaces_and_occupancies(place)
    snap = vacancy.snapshot(spaces, occupancies, day)
    return {
        "place": place.name,
        "resources": snap.resources,
        "occupied": snap.occupied,
        "vacancy_rate_count": snap.rate_count,
        "vacancy_rate_surface": snap.rate_surface,
        "vacancy_cost_month": vacancy.vacancy_cost_for_month(spaces, occupancies, day),
    }


def month_starts(start: date, end: date) -> list[date]:
    months, day = [], start.replace(day=1)
    while day < end:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months
