"""Changes of a place's spaces: a resource split into several, several merged into one.

Temporary occupation reshapes buildings: an open space becomes three offices, two
workshops become one. The old resources stay (their validity ends the day before the
change) so that past vacancy, invoices and contracts keep pointing at what existed then.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from cascade.accounts.audit import record
from cascade.subscriptions.models import HOLDING_STATUSES

from .models import Resource, ResourceChange, ResourceType


class ResourceChangeError(ValueError):
    """A split or merge that would lose or contradict what is recorded."""


@dataclass(frozen=True)
class Part:
    """A resource a split creates."""

    reference: str
    surface: Decimal | None = None
    capacity: int | None = None


def _check_changeable(resource: Resource, effective_date: date) -> None:
    if resource.valid_from is not None and effective_date <= resource.valid_from:
        raise ResourceChangeError(
            _("%(ref)s only exists from %(day)s: the change must come after that day.")
            % {"ref": resource.reference, "day": resource.valid_from.strftime("%d/%m/%Y")}
        )
    if not resource.is_valid_on(effective_date):
        raise ResourceChangeError(
            _("%(ref)s no longer exists on %(day)s.")
            % {"ref": resource.reference, "day": effective_date.strftime("%d/%m/%Y")}
        )
    if resource.children.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=effective_date)).exists():
        raise ResourceChangeError(
            _("%(ref)s has sub-units on that date: change the sub-units first.") % {"ref": resource.reference}
        )
    held = resource.subscription_versions.filter(status__in=HOLDING_STATUSES)
    for version in held.select_related("subscription__subscriber", "subscription__place"):
        end = version.end_exclusive(version.subscription.place)
        if end > effective_date:
            raise ResourceChangeError(
                _("%(ref)s is held by %(who)s after %(day)s: end or amend that occupancy first.")
                % {"ref": resource.reference, "who": version.subscription.subscriber.name,
                   "day": (effective_date - timedelta(days=1)).strftime("%d/%m/%Y")}
            )


def _check_new_references(place_id: int, references: list[str]) -> None:
    if any(not r.strip() for r in references):
        raise ResourceChangeError(_("Every new resource needs a reference."))
    if len({r.casefold() for r in references}) != len(references):
        raise ResourceChangeError(_("The new references must differ from each other."))
    taken = Resource.objects.filter(place_id=place_id, reference__in=references).values_list("reference", flat=True)
    if taken:
        raise ResourceChangeError(_("Reference already used in this place: %(refs)s.") % {"refs": ", ".join(taken)})


def _end(resource: Resource, effective_date: date) -> None:
    resource.valid_until = effective_date - timedelta(days=1)
    resource.save(update_fields=["valid_until"])


def _derived(source: Resource, reference: str, effective_date: date, valid_until: date | None, **fields) -> Resource:
    return Resource.objects.create(
        organisation=source.organisation, place=source.place, type=fields.pop("type", source.type),
        reference=reference, building=source.building, floor=source.floor, accessible=source.accessible,
        parent=source.parent, valid_from=effective_date, valid_until=valid_until,
        attributes=dict(source.attributes), **fields,
    )


@transaction.atomic
def split_resource(resource: Resource, parts: list[Part], *, effective_date: date, acting_user=None,
                   note: str = "") -> list[Resource]:
    """End `resource` the day before `effective_date` and create `parts` from that day."""
    resource = Resource.objects.select_for_update().select_related("place", "type").get(pk=resource.pk)
    if len(parts) < 2:
        raise ResourceChangeError(_("A split creates at least two resources."))
    _check_changeable(resource, effective_date)
    _check_new_references(resource.place_id, [p.reference.strip() for p in parts])
    surfaces = [p.surface for p in parts if p.surface is not None]
    if any(s <= 0 for s in surfaces):
        raise ResourceChangeError(_("A surface must be greater than zero."))
    if resource.surface is not None and sum(surfaces, Decimal(0)) > resource.surface:
        raise ResourceChangeError(
            _("The parts measure %(parts)s m², more than the %(whole)s m² of %(ref)s.")
            % {"parts": sum(surfaces), "whole": resource.surface, "ref": resource.reference}
        )
    valid_until = resource.valid_until
    _end(resource, effective_date)
    results = [
        _derived(resource, p.reference.strip(), effective_date, valid_until, surface=p.surface, capacity=p.capacity,
                 reference_price=resource.reference_price)
        for p in parts
    ]
    change = ResourceChange.objects.create(organisation=resource.organisation, kind=ResourceChange.Kind.SPLIT,
                                           effective_date=effective_date, note=note)
    change.sources.add(resource)
    change.results.add(*results)
    record("resource.split", organisation=resource.organisation, actor=acting_user, obj=change,
           source=resource.reference, results=[r.reference for r in results], effective_date=effective_date.isoformat())
    return results


@transaction.atomic
def merge_resources(resources: list[Resource], reference: str, *, effective_date: date, acting_user=None,
                    surface: Decimal | None = None, note: str = "") -> Resource:
    """End `resources` the day before `effective_date`; one resource replaces them from that day.

    The merged surface is the sum of the sources' unless given; the type is the first source's.
    """
    ids = [r.pk for r in resources]
    sources = list(Resource.objects.select_for_update().select_related("place", "type").filter(pk__in=ids)
                   .order_by("reference"))
    if len(sources) < 2:
        raise ResourceChangeError(_("A merge needs at least two resources."))
    if len({s.place_id for s in sources}) > 1:
        raise ResourceChangeError(_("Only resources of the same place can be merged."))
    for source in sources:
        _check_changeable(source, effective_date)
    _check_new_references(sources[0].place_id, [reference.strip()])
    if surface is None and all(s.surface is not None for s in sources):
        surface = sum((s.surface for s in sources), Decimal(0))
    if len({s.valid_until for s in sources}) > 1:
        valid_until = None if any(s.valid_until is None for s in sources) else max(s.valid_until for s in sources)
    else:
        valid_until = sources[0].valid_until
    for source in sources:
        _end(source, effective_date)
    capacities = [s.capacity for s in sources if s.capacity is not None]
    merged = _derived(sources[0], reference.strip(), effective_date, valid_until, surface=surface,
                      capacity=sum(capacities) if capacities else None)
    change = ResourceChange.objects.create(organisation=sources[0].organisation, kind=ResourceChange.Kind.MERGE,
                                           effective_date=effective_date, note=note)
    change.sources.add(*sources)
    change.results.add(merged)
    record("resource.merge", organisation=sources[0].organisation, actor=acting_user, obj=change,
           sources=[s.reference for s in sources], result=merged.reference, effective_date=effective_date.isoformat())
    return merged


# Resource types and the attributes an operator defines ----------------------------------------

ATTRIBUTE_TYPES = ("text", "number", "bool")


@transaction.atomic
def save_resource_type(resource_type: ResourceType, changes: dict, *, acting_user=None) -> None:
    """Change a type's unit, rentable flag, reference price or attribute definitions, audited."""
    before = {name: getattr(resource_type, name) for name in changes}
    for name, value in changes.items():
        setattr(resource_type, name, value)
    resource_type.save(update_fields=list(changes))
    record("resource_type.changed", organisation=resource_type.organisation, actor=acting_user, obj=resource_type,
           before={k: str(v) for k, v in before.items()}, after={k: str(v) for k, v in changes.items()})


@transaction.atomic
def set_attributes(resource: Resource, values: dict, *, acting_user=None) -> None:
    """The resource's values of its type's attributes (keys its type does not define are refused)."""
    known = {a["key"] for a in resource.type.attributes}
    unknown = set(values) - known
    if unknown:
        raise ResourceChangeError(_("Unknown attributes for %(type)s: %(keys)s.")
                                  % {"type": resource.type.name, "keys": ", ".join(sorted(unknown))})
    before = dict(resource.attributes)
    resource.attributes = {**resource.attributes, **values}
    resource.save(update_fields=["attributes"])
    record("resource.attributes_changed", organisation=resource.organisation, actor=acting_user, obj=resource,
           before=before, after=resource.attributes)
